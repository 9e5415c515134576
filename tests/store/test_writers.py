"""Writers of one process to one SQLite file take turns: none of them meets SQLite's
lock, so none waits in its busy handler or sees "database is locked"."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import event

from nocilab.errors import StoreError
from nocilab.store import Store, _engine


def _impatient(store: Store) -> None:
    """SQLite connections of ``store`` that give up on its lock after 1 ms."""
    @event.listens_for(store.engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA busy_timeout = 1")

    store.engine.dispose()  # the pooled connections are opened again, impatient


def test_writers_of_one_file_take_turns(tmp_path):
    """Twelve threads on two stores of one file: with a 1 ms busy timeout a single
    collision at SQLite's lock would fail a write; every write is stored once."""
    path = tmp_path / "s.sqlite"
    stores = [Store.open(path), Store.open(path)]
    for s in stores:
        _impatient(s)
    errors: list[BaseException] = []
    start = threading.Barrier(12)

    def write(i: int) -> None:
        store = stores[i % 2]
        start.wait()
        try:
            for k in range(10):
                with store.transaction() as tx:
                    store.add_observation(f"m{i:02d}", k, "grip", 1, "force_g",
                                          value_num=float(k), actor=f"u{i}", tx=tx)
                    store.observations(animal=f"m{i:02d}", tx=tx)  # reads under the lock
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(12)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors[:3]
    with stores[0] as s:
        obs = s.observations()
        assert sorted(obs["observation_id"]) == list(range(1, 121))
        assert s.verify_audit().ok
    stores[1].close()


def test_a_writer_waits_its_turn_and_gives_up_after_the_busy_timeout(tmp_path, monkeypatch):
    monkeypatch.setattr(_engine, "SQLITE_BUSY_TIMEOUT_S", 0.2)
    path = tmp_path / "s.sqlite"
    with Store.open(path) as first, Store.open(path) as second:
        holding, release = threading.Event(), threading.Event()

        def hold() -> None:
            with first.transaction() as tx:
                first.add_observation("m1", 0, "grip", 1, "force_g", value_num=1.0,
                                      actor="a", tx=tx)
                holding.set()
                release.wait(5)

        th = threading.Thread(target=hold)
        th.start()
        holding.wait(5)
        with pytest.raises(StoreError, match="another write has held it for more than 0.2 s"):
            second.add_observation("m2", 0, "grip", 1, "force_g", value_num=2.0, actor="b")
        release.set()
        th.join()
        second.add_observation("m2", 0, "grip", 1, "force_g", value_num=2.0, actor="b")
        assert second.observations()["animal"].tolist() == ["m1", "m2"]
        assert second.verify_audit().ok


def test_a_transaction_inside_a_transaction_meets_sqlites_lock_as_before(tmp_path,
                                                                         monkeypatch):
    """The turn is the thread's: a second transaction opened inside the first does not
    wait on it forever but fails at SQLite's lock, naming the store."""
    monkeypatch.setattr(_engine, "SQLITE_BUSY_TIMEOUT_S", 0.05)
    with Store.open(tmp_path / "s.sqlite") as store:
        _impatient(store)
        with store.transaction() as tx:
            store.add_observation("m1", 0, "grip", 1, "force_g", value_num=1.0, actor="a",
                                  tx=tx)
            with pytest.raises(StoreError, match="cannot write to the store .*locked"):
                store.add_observation("m2", 0, "grip", 1, "force_g", value_num=2.0,
                                      actor="b")
        assert store.observations()["animal"].tolist() == ["m1"]


def test_stores_in_memory_and_on_postgresql_need_no_turns(tmp_path):
    with Store.open("sqlite://") as a, Store.open("sqlite://") as b:
        assert _engine._WRITERS[a.engine] is not _engine._WRITERS[b.engine]
    with Store.open(tmp_path / "x.sqlite") as a, Store.open(tmp_path / "." / "x.sqlite") as b:
        assert _engine._WRITERS[a.engine] is _engine._WRITERS[b.engine]
