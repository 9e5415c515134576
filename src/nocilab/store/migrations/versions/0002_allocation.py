"""allocation: randomised allocation runs, the encrypted key, public codes, unblindings

Revision ID: 0002_allocation
Revises: 0001_initial
Create Date: 2026-05-10

- ``allocation_runs``: one row per allocation; the newest is in force. No seed (it is
  inside the encrypted key until unblinding).
- ``allocation_keys``: the allocation key as AES-GCM ciphertext with its KDF parameters,
  salt, nonce and associated data.
- ``allocation_codes``: animal id, animal code, vial code (public; no arm or donor).
- ``unblindings``: who opened a key, when, why, and the opened key.

See ``nocilab.store._allocation``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_allocation"
down_revision: str | Sequence[str] | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "allocation_runs",
        sa.Column("id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("study_id", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("method", sa.Text, nullable=False),
        sa.Column("n_candidates", sa.Integer, nullable=False),
        sa.Column("covariates", sa.Text, nullable=False),
        sa.Column("imbalance_before", sa.Float, nullable=True),
        sa.Column("imbalance_after", sa.Float, nullable=True),
        sa.Column("order_seed", sa.Text, nullable=False),
        sa.Column("forced_reason", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_allocation_runs"),
    )
    op.create_table(
        "allocation_keys",
        sa.Column("run_id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("cipher", sa.Text, nullable=False),
        sa.Column("kdf", sa.Text, nullable=False),
        sa.Column("salt", sa.LargeBinary, nullable=False),
        sa.Column("nonce", sa.LargeBinary, nullable=False),
        sa.Column("associated_data", sa.Text, nullable=False),
        sa.Column("ciphertext", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("run_id", name="pk_allocation_keys"),
        sa.ForeignKeyConstraint(["run_id"], ["allocation_runs.id"],
                                name="fk_allocation_keys_run_id_allocation_runs"),
    )
    op.create_table(
        "allocation_codes",
        sa.Column("run_id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("animal", sa.Text, nullable=False),
        sa.Column("animal_code", sa.Text, nullable=False),
        sa.Column("vial_code", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "animal", name="pk_allocation_codes"),
        sa.ForeignKeyConstraint(["run_id"], ["allocation_runs.id"],
                                name="fk_allocation_codes_run_id_allocation_runs"),
        sa.UniqueConstraint("run_id", "animal_code", name="uq_allocation_codes_run_id"),
    )
    op.create_table(
        "unblindings",
        sa.Column("run_id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("unblinded_by", sa.Text, nullable=False),
        sa.Column("unblinded_at", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("key_json", sa.Text, nullable=False),
        sa.Column("key_sha256", sa.String(64), nullable=False),
        sa.Column("event_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("run_id", name="pk_unblindings"),
        sa.ForeignKeyConstraint(["run_id"], ["allocation_runs.id"],
                                name="fk_unblindings_run_id_allocation_runs"),
    )


def downgrade() -> None:
    op.drop_table("unblindings")
    op.drop_table("allocation_codes")
    op.drop_table("allocation_keys")
    op.drop_table("allocation_runs")
