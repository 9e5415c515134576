"""Schema migrations: Alembic from code, shipped in the package, up and down."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import sqlalchemy as sa
from _store_helpers import make_readings, sha
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import nocilab.store
from nocilab.errors import StoreError
from nocilab.store import GENESIS_HASH, Store, head_revision, migrate_url
from nocilab.store._migrate import MIGRATIONS_DIR, alembic_config, known_revisions
from nocilab.store._tables import metadata

STORE_TABLES = {"alembic_version", "audit_events", "audit_head", "imports", "observations",
                "study_meta"}
"""Tables of the first revision; later revisions (other layers) add their own."""


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _scalar(url: str, sql: str):
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql(sql).one()
    finally:
        engine.dispose()


def test_migrations_ship_inside_the_package():
    package = Path(nocilab.store.__file__).resolve().parent
    assert MIGRATIONS_DIR == package / "migrations"
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "script.py.mako").is_file()
    revisions = known_revisions()
    assert revisions[0] == "0001_initial"
    assert head_revision() == revisions[-1]
    files = sorted(p.stem for p in (MIGRATIONS_DIR / "versions").glob("[0-9]*.py"))
    assert files == revisions  # named NNNN_name, revision id = file name, in order
    assert not list(package.rglob("alembic.ini"))


def test_alembic_upgrade_head_on_an_empty_database(store_url):
    command.upgrade(alembic_config(url=store_url), "head")
    assert _tables(store_url) >= STORE_TABLES
    assert _scalar(store_url, "SELECT version_num FROM alembic_version") == (head_revision(),)
    assert _scalar(store_url, "SELECT id, last_event_id, last_hash FROM audit_head") == (
        1, 0, GENESIS_HASH)
    with Store.open(store_url, create=False) as s:  # the store accepts it as it is
        assert s.schema_revision() == head_revision() and s.verify_audit().ok


def test_first_revision_creates_the_store_tables_and_open_upgrades_the_rest(store_url):
    command.upgrade(alembic_config(url=store_url), "0001_initial")
    assert _tables(store_url) == STORE_TABLES
    with Store.open(store_url, create=False) as s:
        assert s.schema_revision() == head_revision()


def test_migrated_schema_matches_the_table_definitions(store_url):
    migrate_url(store_url)
    engine = sa.create_engine(store_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_second_open_changes_nothing(sqlite_url):
    with Store.open(sqlite_url) as s:
        s.import_observations(make_readings(5), file_name="a.csv", file_sha256=sha("a"),
                              actor="jk")
    path = Path(sa.make_url(sqlite_url).database)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with Store.open(sqlite_url) as s:
        assert s.schema_revision() == head_revision()
        assert len(s.observations()) == 5
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_reopen_keeps_data_and_revision(store_url):
    for _ in range(2):
        with Store.open(store_url) as s:
            assert s.schema_revision() == head_revision()
    with Store.open(store_url) as s:
        s.set_meta("study_id", "S1", actor="jk")
    with Store.open(store_url) as s:
        assert s.get_meta("study_id") == "S1"


def test_downgrade_to_base_and_up_again(store_url):
    Store.open(store_url).close()
    migrate_url(store_url, "base", down=True)
    assert _tables(store_url) == {"alembic_version"}
    with Store.open(store_url) as s:  # an emptied store is upgraded again on open
        assert s.schema_revision() == head_revision()
        s.import_observations(make_readings(2), file_name="a.csv", file_sha256=sha("a"),
                              actor="jk")
        assert s.verify_audit().ok
    assert _tables(store_url) >= STORE_TABLES


def test_migrate_url_refuses_a_newer_database(sqlite_url):
    Store.open(sqlite_url).close()
    engine = sa.create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0002_future'")
    engine.dispose()
    with pytest.raises(StoreError, match="newer nocilab"):
        migrate_url(sqlite_url, "base", down=True)


def test_offline_sql_can_be_generated(capsys):
    command.upgrade(alembic_config(url="postgresql://"), "head", sql=True)
    sql = capsys.readouterr().out
    assert "CREATE TABLE observations" in sql and "CREATE TABLE audit_events" in sql
