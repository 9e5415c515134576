"""The audit chain: the documented hashing, and tampering found by verify_audit.

Tampering is done behind the store's back: plain ``sqlite3`` on the file (or plain SQL
on the PostgreSQL server), as someone editing the database by hand would.
"""

from __future__ import annotations

import hashlib
import json
import re

import pytest
import sqlalchemy as sa
from _store_helpers import make_readings, run_sql, sha

from nocilab.store import GENESIS_HASH, Store, event_hash


def documented_hash(prev: str, row: dict) -> str:
    """The hash as the module docstring of nocilab.store._audit specifies it."""
    payload = json.dumps(
        [row["event_id"], row["at"], row["actor"], row["action"], row["entity"],
         row["entity_id"], row["before"], row["after"], row["reason"]],
        ensure_ascii=False, separators=(",", ":"),
    )
    return hashlib.sha256((prev + "\n" + payload).encode("utf-8")).hexdigest()


def test_event_hash_matches_a_value_computed_by_sha256sum():
    # printf '%s\n%s' "$(printf '0%.0s' {1..64})" '[1,"2026-01-05T09:00:00.000000+00:00",
    #   "Zoë","correct","observation","17","{\"id\":3}",
    #   "{\"id\":17,\"note\":\"a \\\"b\\\"\"}","line1\nline2 ✓"]' | sha256sum
    h = event_hash(GENESIS_HASH, 1, "2026-01-05T09:00:00.000000+00:00", "Zoë", "correct",
                   "observation", "17", '{"id":3}', '{"id":17,"note":"a \\"b\\""}',
                   "line1\nline2 ✓")
    assert h == "a23e5139f532667d6e1122b7653f7af05605305e2db5d97c30b285f411a35359"
    assert GENESIS_HASH == "0" * 64


@pytest.mark.parametrize("text", [
    "plain", 'quote " and \\ backslash', "tab\tnew\nline\r\x00\x1f\x7f", "ünï çødé ✓ 🐭",
    "\u2028\u2029", "</script>", "",
])
def test_event_hash_equals_the_json_dumps_definition(text):
    row = {"event_id": 12, "at": text, "actor": text, "action": "set", "entity": "meta",
           "entity_id": text, "before": None, "after": text, "reason": None}
    assert event_hash("ab" * 32, 12, text, text, "set", "meta", text, None, text, None) == \
        documented_hash("ab" * 32, row)


def test_stored_chain_follows_the_documented_serialisation(store_url):
    with Store.open(store_url) as s:
        rows = make_readings(4).assign(animal=["Zoë's", 'm"2', "m\n3", "m4"])
        s.import_observations(rows, file_name="ü.csv", file_sha256=sha("u"), actor="Ånna")
        s.correct_observation(2, value_num=0.1 + 0.2, actor="bo", reason="why\nnot")
        s.set_meta("note", "🐭", actor="bo")
        events = s.audit_events()
    prev = GENESIS_HASH
    for row in events.astype(object).where(events.notna(), None).to_dict("records"):
        assert row["prev_hash"] == prev
        assert row["hash"] == documented_hash(prev, row)
        for text in (row["before"], row["after"]):  # canonical JSON as stored
            if text is not None:
                assert text == json.dumps(json.loads(text), sort_keys=True,
                                          separators=(",", ":"), ensure_ascii=False)
        prev = row["hash"]
    assert json.loads(events["after"].iloc[-2])["value_num"] == 0.1 + 0.2


# -- tampering -----------------------------------------------------------------------

def _build(url: str) -> str:
    """A store with 10 events: 1 import, 2-7 insert obs 1-6, 8 correct obs 2 -> 7,
    9 set meta, 10 delete obs 4 (tombstone 8). Returns the head hash."""
    with Store.open(url) as s:
        s.import_observations(make_readings(6), file_name="d.csv", file_sha256=sha("d"),
                              actor="jk")
        assert s.correct_observation(2, value_num=50.0, actor="bo", reason="typo") == 7
        s.set_meta("study_id", "S1", actor="jk")
        assert s.delete_observation(4, actor="bo", reason="excluded") == 8
        report = s.verify_audit()
    assert report.ok and report.n_events == 10 and report.first_broken_id is None
    return report.head_hash


def _verify(url: str):
    with Store.open(url, create=False) as s:
        return s.verify_audit()


TAMPERING = {
    "audit field edited": (
        ["UPDATE audit_events SET actor = 'mallory' WHERE id = 3"],
        3, "hash does not match its content"),
    "audit after edited": (
        ["UPDATE audit_events SET after = replace(after, '\"trial\":', '\"trial\": ') "
         "WHERE id = 5"],
        5, "hash does not match its content"),
    "correction's before edited": (
        ["UPDATE audit_events SET before = replace(before, '\"deleted\":false', "
         "'\"deleted\":true') WHERE id = 8"],
        8, "hash does not match its content"),
    "audit row deleted": (
        ["DELETE FROM audit_events WHERE id = 4"],
        5, r"event 4 is missing \(ids jump from 3 to 5\)"),
    "two audit rows deleted": (
        ["DELETE FROM audit_events WHERE id IN (4, 5)"],
        6, "events 4 to 5 are missing"),
    "last audit row deleted": (
        ["DELETE FROM audit_events WHERE id = 10"],
        10, "event 10 is missing: the chain head records event 10 but the last event is 9"),
    "audit rows reordered": (
        ["UPDATE audit_events SET id = -1 WHERE id = 6",
         "UPDATE audit_events SET id = 6 WHERE id = 7",
         "UPDATE audit_events SET id = 7 WHERE id = -1"],
        6, "prev_hash does not match the hash of event 5"),
    "chain head removed": (
        ["DELETE FROM audit_head"],
        None, "audit_head row is missing"),
    "observation value edited in place": (
        ["UPDATE observations SET value_num = 1.5 WHERE id = 3"],
        4, r"observations row 3 does not match the audit trail: value_num is 1\.5 but "
           r"audit event 4 leaves it"),
    "correction unlinked": (
        ["UPDATE observations SET superseded_by = NULL WHERE id = 2"],
        8, "observations row 2 .* superseded_by is None but audit event 8 leaves it 7"),
    "deletion undone": (
        ["UPDATE observations SET deleted = FALSE WHERE id = 8"],
        10, "observations row 8 .* deleted is False but audit event 10 leaves it True"),
    "observation inserted behind the store": (
        ["INSERT INTO observations (id, animal, study_day, assay, trial, quantity, "
         "value_num, entered_by, entered_at, deleted) VALUES "
         "(100, 'm99', 1, 'grip', 1, 'force_g', 5.0, 'x', 'now', FALSE)"],
        None, "observations row 100 has no audit event"),
    "observation removed behind the store": (
        ["DELETE FROM observations WHERE id = 5"],
        6, "observations row 5 is missing, though audit event 6 records it"),
    "import row edited": (
        ["UPDATE imports SET n_rows = 5"],
        1, "imports row 1 does not match the audit trail: n_rows is 5"),
    "metadata edited": (
        ["UPDATE study_meta SET value = 'S2'"],
        9, "study_meta row 'study_id' does not match the audit trail: value is 'S2'"),
    "earliest table mismatch is named": (
        ["UPDATE observations SET value_num = 1.5 WHERE id = 3",
         "UPDATE imports SET n_rows = 5"],
        1, "imports row 1"),
    "chain breaks are named before table mismatches": (
        ["UPDATE observations SET value_num = 1.5 WHERE id = 3",
         "UPDATE audit_events SET reason = 'none' WHERE id = 9"],
        9, "hash does not match"),
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_tampering_is_found_and_located(store_url, case):
    statements, first_broken, why = TAMPERING[case]
    _build(store_url)
    run_sql(store_url, *statements)
    report = _verify(store_url)
    assert not report.ok
    assert report.first_broken_id == first_broken
    assert re.search(why, report.why), report.why
    assert report.render().startswith("audit verification failed")


def test_event_appended_behind_the_store_is_found(store_url):
    head = _build(store_url)
    h = event_hash(head, 11, "2026-01-01T00:00:00+00:00", "mallory", "allocate",
                   "allocation", "m1", None, '{"arm":"A"}', None)
    run_sql(store_url,
            "INSERT INTO audit_events (id, at, actor, action, entity, entity_id, after, "
            f"prev_hash, hash) VALUES (11, '2026-01-01T00:00:00+00:00', 'mallory', "
            f"'allocate', 'allocation', 'm1', '{{\"arm\":\"A\"}}', '{head}', '{h}')")
    report = _verify(store_url)
    assert (report.ok, report.first_broken_id) == (False, 11)
    assert "not covered by the chain head" in report.why


def test_consistent_rewrite_of_the_whole_chain_needs_the_recorded_head(store_url):
    """The limit of an unkeyed chain: a full, consistent rewrite verifies on its own;
    only the head hash recorded earlier (e.g. in a report) shows it."""
    recorded_head = _build(store_url)
    run_sql(store_url, "UPDATE audit_events SET actor = 'mallory' WHERE id = 3")
    engine = sa.create_engine(store_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT id, at, actor, action, entity, entity_id, before, after, reason "
            "FROM audit_events ORDER BY id")).all()
    engine.dispose()
    prev, statements = GENESIS_HASH, []
    for r in rows:
        h = event_hash(prev, *r)
        statements.append(f"UPDATE audit_events SET prev_hash = '{prev}', hash = '{h}' "
                          f"WHERE id = {r[0]}")
        prev = h
    statements.append(f"UPDATE audit_head SET last_hash = '{prev}'")
    run_sql(store_url, *statements)
    report = _verify(store_url)
    assert report.ok
    assert report.head_hash != recorded_head


def test_clean_store_verifies_and_reports_its_head(store_url):
    with Store.open(store_url) as s:
        empty = s.verify_audit()
        assert (empty.ok, empty.n_events, empty.head_hash) == (True, 0, GENESIS_HASH)
        assert "0 events verifies" in empty.render()
    head = _build(store_url)
    report = _verify(store_url)
    assert report.ok and report.head_hash == head and report.why == ""
