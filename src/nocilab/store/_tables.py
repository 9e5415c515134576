"""The store's tables as SQLAlchemy Core objects: the schema at the newest migration.

The migrations in ``migrations/versions`` create these tables; a test checks that the
migrated database and this module agree (Alembic's ``compare_metadata``). Change both
together: a new migration and the matching edit here.

Ids of ``imports``, ``observations`` and ``audit_events`` are assigned by the store
inside its write transaction (see ``_transaction``), not by a database sequence, so the
same code serves SQLite and PostgreSQL and audit events can name the rows they write.
"""

from __future__ import annotations

import sqlalchemy as sa

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING)

imports = sa.Table(
    "imports",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("file_name", sa.Text, nullable=False),
    sa.Column("file_sha256", sa.String(64), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("n_rows", sa.Integer, nullable=False),
    sa.Column("imported_by", sa.Text, nullable=False),
    sa.Column("imported_at", sa.Text, nullable=False),
    sa.UniqueConstraint("file_sha256"),
)

observations = sa.Table(
    "observations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("animal", sa.Text, nullable=False),
    sa.Column("study_day", sa.Integer, nullable=False),
    sa.Column("assay", sa.Text, nullable=False),
    sa.Column("trial", sa.Integer, nullable=False),
    sa.Column("quantity", sa.Text, nullable=False),
    sa.Column("value_num", sa.Float, nullable=True),
    sa.Column("value_text", sa.Text, nullable=True),
    sa.Column("import_id", sa.Integer, sa.ForeignKey("imports.id"), nullable=True),
    sa.Column("entered_by", sa.Text, nullable=False),
    sa.Column("entered_at", sa.Text, nullable=False),
    sa.Column("superseded_by", sa.Integer, sa.ForeignKey("observations.id"), nullable=True),
    sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index(None, "assay", "animal", "study_day"),
    sa.Index(None, "superseded_by"),
)

audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
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
    sa.Index(None, "entity", "entity_id"),
)

audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("last_event_id", sa.Integer, nullable=False),
    sa.Column("last_hash", sa.String(64), nullable=False),
)

study_meta = sa.Table(
    "study_meta",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

AUDIT_COLUMNS = (
    "id", "at", "actor", "action", "entity", "entity_id",
    "before", "after", "reason", "prev_hash", "hash",
)

OBSERVATION_FIELDS = (
    "id", "animal", "study_day", "assay", "trial", "quantity", "value_num", "value_text",
    "import_id", "entered_by", "entered_at", "deleted",
)
"""The fields of an observation recorded in its audit event's ``after`` (and ``before``)."""

IMPORT_FIELDS = ("id", "file_name", "file_sha256", "detail", "n_rows", "imported_by",
                 "imported_at")
