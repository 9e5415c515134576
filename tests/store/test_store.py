"""The store's write and read paths on real databases (SQLite files; PostgreSQL if given)."""

from __future__ import annotations

import json
import threading

import numpy as np
import pandas as pd
import pytest
from _store_helpers import make_readings, run_sql, sha, vf_readings

from nocilab.errors import SchemaError, StoreError
from nocilab.schema import OBSERVATIONS
from nocilab.store import GENESIS_HASH, ImportResult, Store, head_revision

READING = ["animal", "study_day", "assay", "trial", "quantity", "value_num", "value_text"]


@pytest.fixture
def store(store_url):
    with Store.open(store_url) as s:
        yield s


def _import(store, rows, name="day.csv", actor="jk"):
    return store.import_observations(rows, file_name=name, file_sha256=sha(name), actor=actor)


# -- import and read back ------------------------------------------------------------

def test_import_and_read_back(store):
    rows = pd.concat([make_readings(30), vf_readings()], ignore_index=True)
    result = _import(store, rows, actor="anna")
    assert result == ImportResult(import_id=1, n_inserted=32, already_imported=False)

    obs = store.observations()
    assert list(obs.columns) == [*OBSERVATIONS, "observation_id"]
    assert obs["observation_id"].tolist() == list(range(1, 33))
    pd.testing.assert_frame_equal(
        obs[READING].astype(object).where(obs[READING].notna(), None),
        rows[READING].astype(object).where(rows[READING].notna(), None),
    )
    assert obs["study_day"].dtype == np.int64 and obs["value_num"].dtype == np.float64
    assert set(obs["entered_by"]) == {"anna"}

    imp = store.imports()
    assert imp.loc[0, ["import_id", "file_name", "n_rows", "imported_by"]].tolist() == [
        1, "day.csv", 32, "anna"]
    assert imp.loc[0, "file_sha256"] == sha("day.csv")
    assert (obs["entered_at"] == imp.loc[0, "imported_at"]).all()

    ev = store.audit_events()
    assert len(ev) == 33
    assert ev["event_id"].tolist() == list(range(1, 34))
    assert ev.loc[0, ["action", "entity", "entity_id"]].tolist() == ["import", "import", "1"]
    assert set(ev.loc[1:, "action"]) == {"insert"}
    after = json.loads(ev.loc[32, "after"])  # the last reading, as recorded
    assert after == {"id": 32, "animal": "m01", "study_day": 0, "assay": "von_frey",
                     "trial": 1, "quantity": "last_filament", "value_num": 3.61,
                     "value_text": None, "import_id": 1, "entered_by": "anna",
                     "entered_at": imp.loc[0, "imported_at"], "deleted": False}
    assert ev.loc[0, "prev_hash"] == GENESIS_HASH
    assert store.verify_audit().ok


def test_import_keeps_who_and_when_a_reading_was_taken(store):
    rows = make_readings(3).assign(entered_by=["bo", None, "cy"],
                                   entered_at=["2026-01-05T09:00:00+00:00", None, None])
    _import(store, rows, actor="anna")
    obs = store.observations()
    assert obs["entered_by"].tolist() == ["bo", "anna", "cy"]
    assert obs.loc[0, "entered_at"] == "2026-01-05T09:00:00+00:00"
    assert obs.loc[1, "entered_at"] == store.imports().loc[0, "imported_at"]


def test_second_import_of_the_same_file_writes_nothing(store):
    first = _import(store, make_readings(10))
    head = store.verify_audit().head_hash
    again = store.import_observations(make_readings(10, seed=5), file_name="renamed.csv",
                                      file_sha256=sha("day.csv").upper(), actor="bo")
    assert again == ImportResult(import_id=first.import_id, n_inserted=0,
                                 already_imported=True)
    assert len(store.observations()) == 10
    assert len(store.imports()) == 1
    assert len(store.audit_events()) == 11
    assert store.verify_audit().head_hash == head


def test_two_files_continue_ids_and_chain(store):
    _import(store, make_readings(5), name="a.csv")
    r = _import(store, make_readings(4, seed=1, first_day=5), name="b.csv")
    assert r.import_id == 2
    obs = store.observations(current_only=False)
    assert obs["observation_id"].tolist() == list(range(1, 10))
    assert obs["import_id"].tolist() == [1] * 5 + [2] * 4
    report = store.verify_audit()
    assert report.ok and report.n_events == 11


def test_empty_file_is_recorded(store):
    r = _import(store, make_readings(0))
    assert r.n_inserted == 0 and not r.already_imported
    assert store.imports()["n_rows"].tolist() == [0]
    assert store.observations().empty


@pytest.mark.parametrize(("change", "match"), [
    (lambda f: f.drop(columns=["trial"]), "lack column.*trial"),
    (lambda f: f.assign(study_day=f["study_day"] + 0.5), "'study_day' must hold whole"),
    (lambda f: f.assign(study_day=["a"] * len(f)), "'study_day' must hold whole"),
    (lambda f: f.assign(animal=[None] + ["m1"] * (len(f) - 1)), "'animal' is empty.*index 0"),
    (lambda f: f.assign(animal=[7] * len(f)), "'animal' must hold text"),
    (lambda f: f.assign(value_num=["12"] * len(f)), "'value_num' must hold numbers"),
    (lambda f: f.assign(value_num=[np.inf] * len(f)), "finite"),
    (lambda f: f.assign(value_num=np.nan), "neither value_num nor value_text"),
    (lambda f: f.assign(entered_at=[3] * len(f)), "'entered_at' must hold times"),
])
def test_malformed_rows_are_rejected_and_nothing_is_written(store, change, match):
    with pytest.raises(SchemaError, match=match):
        _import(store, change(make_readings(4)))
    assert store.imports().empty and store.audit_events().empty


def test_bad_file_hash_and_actor_are_rejected(store):
    with pytest.raises(StoreError, match="64 hexadecimal"):
        store.import_observations(make_readings(2), file_name="x.csv", file_sha256="abc",
                                  actor="jk")
    with pytest.raises(StoreError, match="actor"):
        store.import_observations(make_readings(2), file_name="x.csv",
                                  file_sha256=sha("x"), actor=" ")


def test_observations_filtered_by_assay(store):
    _import(store, pd.concat([make_readings(6), vf_readings()], ignore_index=True))
    vf = store.observations(assay="von_frey")
    assert vf["observation_id"].tolist() == [7, 8]
    assert store.observations(assay="grip").empty
    assert list(store.observations(assay="grip").columns) == [*OBSERVATIONS,
                                                              "observation_id"]


# -- corrections and deletions -------------------------------------------------------

def test_correction_keeps_the_old_value_retrievable(store):
    _import(store, make_readings(5))
    old_value = store.observations().loc[1, "value_num"]
    new_id = store.correct_observation(2, value_num=99.5, actor="bo", reason="typo in sheet")
    assert new_id == 6

    current = store.observations()
    assert 2 not in current["observation_id"].tolist()
    assert current.set_index("observation_id").loc[6, "value_num"] == 99.5
    assert len(current) == 5

    every = store.observations(current_only=False).set_index("observation_id")
    assert every.loc[2, "value_num"] == old_value
    assert every.loc[2, "superseded_by"] == 6
    assert pd.isna(every.loc[6, "superseded_by"]) and pd.isna(every.loc[6, "import_id"])
    assert list(every.columns[-3:]) == ["import_id", "superseded_by", "deleted"]

    for any_id in (2, 6):
        h = store.history(any_id)
        assert h["observation_id"].tolist() == [2, 6]
        assert h["value_num"].tolist() == [old_value, 99.5]
        assert h["action"].tolist() == ["insert", "correct"]
        assert h["reason"].tolist()[1] == "typo in sheet"
        assert h["entered_by"].tolist() == ["jk", "bo"]

    ev = store.audit_events(entity="observation", entity_id=6)
    assert len(ev) == 1
    assert json.loads(ev.loc[0, "before"])["value_num"] == old_value
    assert json.loads(ev.loc[0, "after"])["value_num"] == 99.5
    assert store.verify_audit().ok


def test_correcting_a_superseded_reading_names_its_current_version(store):
    _import(store, make_readings(3))
    second = store.correct_observation(1, value_num=1.0, actor="bo", reason="r1")
    with pytest.raises(StoreError, match=rf"observation 1 was already corrected: its "
                                         rf"current version is observation {second}"):
        store.correct_observation(1, value_num=2.0, actor="bo", reason="r2")
    third = store.correct_observation(second, value_num=2.0, actor="bo", reason="r2")
    with pytest.raises(StoreError, match=rf"current version is observation {third}"):
        store.correct_observation(1, value_num=3.0, actor="bo", reason="r3")
    assert store.history(1)["value_num"].tolist()[1:] == [1.0, 2.0]


def test_deletion_leaves_a_tombstone(store):
    _import(store, make_readings(3))
    tomb = store.delete_observation(3, actor="bo", reason="animal excluded at day 0")
    assert store.observations()["observation_id"].tolist() == [1, 2]
    h = store.history(3)
    assert h["observation_id"].tolist() == [3, tomb]
    assert h["deleted"].tolist() == [False, True]
    assert h["action"].tolist() == ["insert", "delete"]
    assert pd.isna(h.loc[1, "value_num"])
    with pytest.raises(StoreError, match=rf"observation 3 was deleted \(deletion record {tomb}\)"):
        store.correct_observation(3, value_num=1.0, actor="bo", reason="r")
    with pytest.raises(StoreError, match="was deleted"):
        store.delete_observation(3, actor="bo", reason="again")
    with pytest.raises(StoreError, match=rf"observation {tomb} is the deletion record of "
                                         "observation 3"):
        store.correct_observation(tomb, value_num=1.0, actor="bo", reason="r")
    assert store.verify_audit().ok


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_corrections_and_deletions_need_a_reason(store, reason):
    _import(store, make_readings(2))
    with pytest.raises(StoreError, match="reason for correcting observation 1"):
        store.correct_observation(1, value_num=5.0, actor="bo", reason=reason)
    with pytest.raises(StoreError, match="reason for deleting observation 1"):
        store.delete_observation(1, actor="bo", reason=reason)
    assert len(store.audit_events()) == 3


def test_corrections_that_change_nothing_or_give_no_value_are_rejected(store):
    _import(store, make_readings(2))
    value = float(store.observations().loc[0, "value_num"])
    with pytest.raises(StoreError, match="does not change"):
        store.correct_observation(1, value_num=value, actor="bo", reason="r")
    with pytest.raises(StoreError, match="neither value_num nor value_text"):
        store.correct_observation(1, actor="bo", reason="r")
    with pytest.raises(StoreError, match="no observation 99"):
        store.correct_observation(99, value_num=1.0, actor="bo", reason="r")
    with pytest.raises(StoreError, match="no observation 99"):
        store.history(99)


def test_text_reading_can_be_corrected(store):
    _import(store, vf_readings())
    new = store.correct_observation(1, value_text="OOXOXX", actor="bo", reason="misread")
    assert store.history(new)["value_text"].tolist() == ["OOXOXO", "OOXOXX"]


def test_add_observation_by_hand(store):
    oid = store.add_observation("m03", 7, "grip", 1, "force_g", value_num=88.0, actor="cy",
                                reason="sheet lost, value from lab book")
    assert oid == 1
    obs = store.observations()
    assert obs.loc[0, ["animal", "study_day", "assay", "trial", "value_num", "entered_by"]
                   ].tolist() == ["m03", 7, "grip", 1, 88.0, "cy"]
    assert store.history(1)["reason"].tolist() == ["sheet lost, value from lab book"]
    with pytest.raises(SchemaError, match="'animal' must hold text"):
        store.add_observation(3, 7, "grip", 1, "force_g", value_num=1.0, actor="cy")
    assert store.verify_audit().ok


# -- transactions, events of other layers, metadata ----------------------------------

def test_transaction_commits_together_or_not_at_all(store):
    with pytest.raises(RuntimeError, match="stop"):
        with store.transaction() as tx:
            store.add_observation("m1", 0, "grip", 1, "force_g", value_num=1.0, actor="a",
                                  tx=tx)
            tx.append_event("annotate", "note", "m1", actor="a", after={"arm": "A"})
            raise RuntimeError("stop")
    assert store.observations().empty and store.audit_events().empty
    assert store.verify_audit().ok

    with store.transaction() as tx:
        store.add_observation("m1", 0, "grip", 1, "force_g", value_num=1.0, actor="a", tx=tx)
        eid = store.append_event("annotate", "note", "m1", actor="a",
                                 after={"arm": "A"}, reason="block 1", tx=tx)
    assert eid == 2
    ev = store.audit_events(entity="note")
    assert ev.loc[0, ["action", "entity_id", "after", "reason"]].tolist() == [
        "annotate", "m1", '{"arm":"A"}', "block 1"]
    assert store.verify_audit().ok
    with pytest.raises(StoreError, match="transaction has ended"):
        tx.append_event("annotate", "note", "m2", actor="a")


def test_events_about_store_entities_are_reserved(store):
    with pytest.raises(StoreError, match="written by the store itself"):
        store.append_event("insert", "observation", 1, actor="a", after={})
    with pytest.raises(StoreError, match="cannot be recorded in the audit trail as JSON"):
        store.append_event("annotate", "note", 1, actor="a", after={"x": float("nan")})


def test_transaction_of_another_store_is_refused(store_url, tmp_path):
    with Store.open(store_url) as a, Store.open(tmp_path / "other.sqlite") as b:
        with a.transaction() as tx:
            with pytest.raises(StoreError, match="another store"):
                b.set_meta("k", "v", actor="x", tx=tx)


def test_meta_is_audited(store):
    assert store.get_meta("study_id") is None
    assert store.get_meta("study_id", "none") == "none"
    store.set_meta("study_id", "FMS-2026-01", actor="jk")
    store.set_meta("study_id", "FMS-2026-01", actor="jk")  # unchanged: no event
    store.set_meta("study_id", "FMS-2026-02", actor="jk", reason="renumbered")
    assert store.get_meta("study_id") == "FMS-2026-02"
    ev = store.audit_events(entity="meta")
    assert ev["action"].tolist() == ["set", "set"]
    assert json.loads(ev.loc[1, "before"]) == {"key": "study_id", "value": "FMS-2026-01"}
    assert store.verify_audit().ok


def test_concurrent_writers_get_distinct_ids_and_one_chain(store_url):
    Store.open(store_url).close()
    errors: list[BaseException] = []

    def write(who: str) -> None:
        try:
            with Store.open(store_url) as s:
                for k in range(15):
                    s.add_observation(who, k, "grip", 1, "force_g", value_num=float(k),
                                      actor=who)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in ("a", "b", "c")]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    with Store.open(store_url) as s:
        obs = s.observations()
        assert sorted(obs["observation_id"]) == list(range(1, 46))
        assert obs.groupby("animal").size().to_dict() == {"a": 15, "b": 15, "c": 15}
        report = s.verify_audit()
        assert report.ok and report.n_events == 45


# -- opening -------------------------------------------------------------------------

def test_open_creates_and_reopens(store_url):
    with Store.open(store_url) as s:
        _import(s, make_readings(3))
        assert s.schema_revision() == head_revision()
    with Store.open(store_url, create=False) as s:
        assert len(s.observations()) == 3


def test_open_errors_speak_plainly(tmp_path):
    missing = tmp_path / "nope.sqlite"
    with pytest.raises(StoreError, match=f"no store at {missing}: the file does not exist"):
        Store.open(f"sqlite:///{missing}", create=False)
    assert not missing.exists()
    with pytest.raises(StoreError, match="the folder .*absent.* does not exist"):
        Store.open(tmp_path / "absent" / "s.sqlite")
    with pytest.raises(StoreError, match="not a database URL"):
        Store.open("no url here")
    with pytest.raises(StoreError, match="no database driver"):
        Store.open("nosuchdb://host/db")
    junk = tmp_path / "junk.sqlite"
    junk.write_text("this is not a database\n" * 100)
    with pytest.raises(StoreError, match="cannot open the store .*junk.sqlite"):
        Store.open(junk)
    with pytest.raises(StoreError, match="is a folder"):
        Store.open(tmp_path)


def test_open_refuses_foreign_empty_and_newer_databases(store_url, tmp_path):
    run_sql(store_url, "CREATE TABLE samples (id INTEGER PRIMARY KEY, name TEXT)")
    with pytest.raises(StoreError, match="not a nocilab store: it holds the table.*samples"):
        Store.open(store_url)

    empty = tmp_path / "empty.sqlite"
    empty.touch()
    with pytest.raises(StoreError, match="holds no nocilab store.*create=True"):
        Store.open(empty, create=False)

    newer = tmp_path / "newer.sqlite"
    Store.open(newer).close()
    run_sql(f"sqlite:///{newer}", "UPDATE alembic_version SET version_num = '0099_future'")
    with pytest.raises(StoreError, match="'0099_future'.*newer nocilab"):
        Store.open(newer)


def test_closed_store_refuses_work(store_url):
    s = Store.open(store_url)
    s.close()
    s.close()
    assert "closed" in repr(s)
    with pytest.raises(StoreError, match="is closed"):
        s.observations()
    with pytest.raises(StoreError, match="is closed"):
        s.set_meta("k", "v", actor="a")


def test_in_memory_store():
    with Store.open("sqlite://") as s:
        _import(s, make_readings(4))
        assert len(s.observations()) == 4 and s.verify_audit().ok


def test_a_reading_already_stored_is_refused_inside_the_transaction(store):
    # the ingest layer names duplicate cells first; the store refuses them as well, under
    # its write lock, so two imports running at once cannot both add one reading
    _import(store, make_readings(6), name="a.csv")
    n_events = len(store.audit_events())
    again = make_readings(8, seed=3, first_day=-1)  # rows 0-5 repeat a.csv's keys
    with pytest.raises(StoreError, match=r"animal 'm00' on day -1, trial 1 is already stored "
                                         r"\(observation 1\); correct it"):
        _import(store, again, name="b.csv")
    with pytest.raises(StoreError, match="given twice"):
        _import(store, pd.concat([make_readings(2, first_day=9)] * 2), name="c.csv")
    with pytest.raises(StoreError, match="already stored"):
        store.add_observation("m01", -1, "paw_pressure", 1, "force_g", value_num=1.0, actor="a")
    assert len(store.audit_events()) == n_events and len(store.observations()) == 6
    # a deleted reading may be entered again; a corrected one is found under its new id
    store.delete_observation(2, actor="a", reason="wrong mouse")
    store.add_observation("m01", -1, "paw_pressure", 1, "force_g", value_num=99.0, actor="a")
    new = store.correct_observation(3, value_num=1.0, actor="a", reason="typo")
    with pytest.raises(StoreError, match=f"observation {new}"):
        store.add_observation("m02", -1, "paw_pressure", 1, "force_g", value_num=1.0, actor="a")
    assert store.verify_audit().ok
