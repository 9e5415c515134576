"""Engines for store URLs: SQLite files get explicit transactions and foreign keys.

SQLite through Python's ``sqlite3`` does not begin transactions the way the store needs
(it leaves DDL outside them and takes the write lock late). The engine therefore turns
the driver's own transaction handling off and emits ``BEGIN`` itself: ``BEGIN
IMMEDIATE`` for a connection marked as a writer (execution option ``nocilab_write``),
so that a writer holds the database's write lock from its first statement and two
writers never both read the same chain head. PostgreSQL needs none of this; there the
writer locks the ``audit_head`` row instead (``SELECT ... FOR UPDATE``).

Writers of one process to one SQLite database also take turns before they begin
(:func:`one_writer`, a lock per database file): a writer that finds the database's lock
taken by another SQLite connection waits in SQLite's busy handler, which polls with
growing sleeps (up to 100 ms each) and ends in "database is locked"; twenty web requests
writing at once would spend their time there. Waiting on a lock of the process instead,
each writer starts the moment the one before it commits. Writers of other processes (a
``nocilab import`` beside the server) still meet at SQLite's lock and its busy timeout.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import StaticPool

from nocilab.errors import StoreError

WRITE_OPTION = "nocilab_write"
SQLITE_BUSY_TIMEOUT_S = 60.0


def parse_url(url: str | os.PathLike[str]) -> URL:
    """A SQLAlchemy URL from a URL string, or from a path to a SQLite file."""
    if isinstance(url, os.PathLike):
        return URL.create("sqlite", database=str(Path(url)))
    try:
        return sa.make_url(url)
    except ArgumentError as exc:
        raise StoreError(
            f"{url!r} is not a database URL; expected e.g. 'sqlite:///study/store.sqlite' "
            "or 'postgresql+psycopg://user@host/dbname'"
        ) from exc


def shown(url: URL) -> str:
    """The URL as text with any password hidden."""
    return url.render_as_string(hide_password=True)


def sqlite_file(url: URL) -> Path | None:
    """The file of a SQLite URL, or None for other databases and in-memory SQLite."""
    if url.get_backend_name() != "sqlite":
        return None
    db = url.database or ""
    if db in ("", ":memory:") or db.startswith("file:"):
        return None
    return Path(db)


def make_engine(url: URL) -> Engine:
    """Create the engine for ``url``, with the SQLite transaction handling described above."""
    kwargs: dict[str, Any] = {}
    is_sqlite = url.get_backend_name() == "sqlite"
    if is_sqlite and sqlite_file(url) is None:
        # one shared connection, or every connection would see its own empty database
        kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    elif is_sqlite:
        # a writer waits this long for another writer (a large import) to commit
        kwargs.update(connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
    try:
        engine = sa.create_engine(url, **kwargs)
    except NoSuchModuleError as exc:
        raise StoreError(
            f"no database driver for {shown(url)}; for PostgreSQL install "
            "nocilab[postgres] (psycopg)"
        ) from exc
    except (ModuleNotFoundError, ImportError) as exc:
        raise StoreError(f"the database driver for {shown(url)} is not installed: {exc}") from exc
    if is_sqlite:
        _sqlite_listeners(engine)
        _WRITERS[engine] = _writer_lock(url)
    return engine


_WRITERS: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
"""The writers' lock of each SQLite engine: shared by the engines of one file."""
_FILE_WRITERS: dict[Path, threading.RLock] = {}
_FILE_WRITERS_GUARD = threading.Lock()


def _writer_lock(url: URL) -> threading.RLock:
    path = sqlite_file(url)
    if path is None:  # in memory: the engine's own database
        return threading.RLock()
    key = path.resolve()
    with _FILE_WRITERS_GUARD:
        return _FILE_WRITERS.setdefault(key, threading.RLock())


@contextmanager
def one_writer(engine: Engine, where: str) -> Iterator[None]:
    """Take this process's turn to write to the SQLite database of ``engine``.

    Held from before the transaction begins until it has committed or rolled back;
    re-entrant, so a writer that opens a second transaction inside its first meets
    SQLite's own lock as before. Does nothing for other databases. Raises StoreError
    when the turn has not come within SQLite's busy timeout.
    """
    lock = _WRITERS.get(engine)
    if lock is None:
        yield
        return
    if not lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_S):
        raise StoreError(f"cannot write to the store {where}: another write has held it "
                         f"for more than {SQLITE_BUSY_TIMEOUT_S:g} s")
    try:
        yield
    finally:
        lock.release()


def _sqlite_listeners(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the engine emits BEGIN itself
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        writer = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")
