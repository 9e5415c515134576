"""Schema versions: Alembic run from code, with the migrations shipped in the package.

The Alembic configuration is built here (no ``alembic.ini``): ``script_location`` is
the ``migrations`` folder next to this module, which is package data of the wheel.
Functions that take a connection run inside the caller's transaction.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from nocilab.errors import StoreError
from nocilab.store._engine import WRITE_OPTION, make_engine, parse_url, shown

MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")


def alembic_config(*, connection: Connection | None = None, url: str | None = None) -> Config:
    """An Alembic ``Config`` for the store's migrations.

    Give ``connection`` (inside a transaction) to migrate through it, or ``url`` to let
    the migration environment open its own.
    """
    if not (MIGRATIONS_DIR / "env.py").is_file():
        raise StoreError(f"the store's migrations are missing from {MIGRATIONS_DIR}; "
                         "the nocilab installation is incomplete")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@lru_cache(maxsize=1)
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest schema revision this software knows (e.g. ``"0001_initial"``)."""
    head = _script().get_current_head()
    if head is None:  # pragma: no cover - the package always ships a revision
        raise StoreError("the store's migrations folder holds no revision")
    return head


def known_revisions() -> list[str]:
    """Every revision this software knows, oldest first."""
    return [s.revision for s in reversed(list(_script().walk_revisions()))]


def current_revision(connection: Connection) -> str | None:
    """The revision a database is at, or None when it has no version table (or none set)."""
    return MigrationContext.configure(connection).get_current_revision()


def check_not_newer(revision: str | None, where: str) -> None:
    """Raise StoreError when ``revision`` is unknown to this software (a newer database)."""
    if revision is not None and revision not in known_revisions():
        raise StoreError(
            f"{where} has schema revision {revision!r}, which this version of nocilab does "
            f"not know (newest known: {head_revision()!r}): it was written by a newer "
            "nocilab; upgrade the software to open it"
        )


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Run ``alembic upgrade`` through ``connection`` (in the caller's transaction)."""
    command.upgrade(alembic_config(connection=connection), revision)


def downgrade(connection: Connection, revision: str) -> None:
    """Run ``alembic downgrade`` through ``connection`` (``"base"`` removes every table)."""
    command.downgrade(alembic_config(connection=connection), revision)


def migrate_url(url: str | os.PathLike[str], revision: str = "head", *,
                down: bool = False) -> None:
    """Upgrade (or, with ``down``, downgrade) the database at ``url`` in one transaction."""
    parsed = parse_url(url)
    engine = make_engine(parsed)
    try:
        with engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                check_not_newer(current_revision(conn), shown(parsed))
                (downgrade if down else upgrade)(conn, revision)
    finally:
        engine.dispose()
