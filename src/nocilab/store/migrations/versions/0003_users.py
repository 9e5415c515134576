"""users: accounts of the people who use a study (the web app and ``nocilab users``)

Revision ID: 0003_users
Revises: 0002_allocation
Create Date: 2026-05-12

- ``users``: one row per account: username (unique), role (admin, experimenter,
  analyst or viewer), the argon2 hash of the password, a disabled flag, who created it
  and when. Rows are never removed: an account that must no longer be used is disabled.

Every change of a row is an audit event (entity ``user``); see ``nocilab.store._users``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_users"
down_revision: str | Sequence[str] | None = "0002_allocation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = ("admin", "experimenter", "analyst", "viewer")  # frozen here, as in the model


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("username", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
        sa.CheckConstraint("role IN ({})".format(", ".join(f"'{r}'" for r in ROLES)),
                           name="ck_users_role"),
    )


def downgrade() -> None:
    op.drop_table("users")
