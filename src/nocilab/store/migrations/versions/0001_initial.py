"""initial: observations, imports, the audit chain and study metadata

Revision ID: 0001_initial
Revises:
Create Date: 2026-05-09

- ``imports``: one row per imported file; ``file_sha256`` is unique, so a file is
  imported once.
- ``observations``: raw readings. A correction inserts a new row and points the old
  row's ``superseded_by`` at it; a deletion inserts a tombstone (``deleted`` true).
  Current readings: ``superseded_by IS NULL AND NOT deleted``.
- ``audit_events``: the append-only hash chain (see ``nocilab.store._audit``).
- ``audit_head``: one row, the id and hash of the last event (starts at the genesis).
- ``study_meta``: key/value text (study id, notes), written through audited calls.

Ids are assigned by the store inside its write transaction, so no id column has a
sequence or autoincrement.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS_HASH = "0" * 64  # frozen here: migrations never import code that may change


def upgrade() -> None:
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("n_rows", sa.Integer, nullable=False),
        sa.Column("imported_by", sa.Text, nullable=False),
        sa.Column("imported_at", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_imports"),
        sa.UniqueConstraint("file_sha256", name="uq_imports_file_sha256"),
    )
    op.create_table(
        "observations",
        sa.Column("id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("animal", sa.Text, nullable=False),
        sa.Column("study_day", sa.Integer, nullable=False),
        sa.Column("assay", sa.Text, nullable=False),
        sa.Column("trial", sa.Integer, nullable=False),
        sa.Column("quantity", sa.Text, nullable=False),
        sa.Column("value_num", sa.Float, nullable=True),
        sa.Column("value_text", sa.Text, nullable=True),
        sa.Column("import_id", sa.Integer, nullable=True),
        sa.Column("entered_by", sa.Text, nullable=False),
        sa.Column("entered_at", sa.Text, nullable=False),
        sa.Column("superseded_by", sa.Integer, nullable=True),
        sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("id", name="pk_observations"),
        sa.ForeignKeyConstraint(
            ["import_id"], ["imports.id"], name="fk_observations_import_id_imports"
        ),
        sa.ForeignKeyConstraint(
            ["superseded_by"], ["observations.id"],
            name="fk_observations_superseded_by_observations",
        ),
    )
    op.create_index(
        "ix_observations_assay_animal_study_day",
        "observations",
        ["assay", "animal", "study_day"],
    )
    op.create_index("ix_observations_superseded_by", "observations", ["superseded_by"])
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("entity", sa.Text, nullable=False),
        sa.Column("entity_id", sa.Text, nullable=False),
        sa.Column("before", sa.Text, nullable=True),
        sa.Column("after", sa.Text, nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
    )
    op.create_index(
        "ix_audit_events_entity_entity_id", "audit_events", ["entity", "entity_id"]
    )
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("last_event_id", sa.Integer, nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_head"),
    )
    op.bulk_insert(head, [{"id": 1, "last_event_id": 0, "last_hash": GENESIS_HASH}])
    op.create_table(
        "study_meta",
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_study_meta"),
    )


def downgrade() -> None:
    op.drop_table("study_meta")
    op.drop_table("audit_head")
    op.drop_index("ix_audit_events_entity_entity_id", table_name="audit_events")
    op.drop_table("audit_events")
    op.drop_index("ix_observations_superseded_by", table_name="observations")
    op.drop_index("ix_observations_assay_animal_study_day", table_name="observations")
    op.drop_table("observations")
    op.drop_table("imports")
