"""Verifying the store: the audit chain, then the tables against the chain.

What :func:`verify` detects
---------------------------
1. In ``audit_events``: a changed field of any event (its hash no longer matches), a
   removed event (a gap in the ids, or the chain head names a later event), an inserted
   or reordered event (ids out of sequence or ``prev_hash`` not the previous hash), a
   removed tail (``audit_head`` names events that are gone), an event appended without
   the store (``audit_head`` does not cover it).
2. In the store's tables, by replaying the events: the state of every ``observations``,
   ``imports`` and ``study_meta`` row, of the allocation tables (runs, encrypted
   keys, codes, unblindings), of the ``users`` table and of the plate and binding tables
   (their digests recomputed), must be exactly what the
   events say - every field, including ``superseded_by`` and ``deleted``. So a value changed in place, a row
   inserted or deleted behind the store's back, or a correction unlinked, is found and
   named with the event it contradicts. The events themselves must also agree with
   each other (a correction's ``before`` is the reading as the earlier events left it).

What it cannot detect
---------------------
The hash is a plain SHA-256, not keyed: someone who can write the database and rewrites
the chain consistently from the changed event onwards (recomputing every later hash and
the head) leaves a chain that verifies. Only a head hash recorded outside the database
(reports state :attr:`AuditReport.head_hash`) exposes that: compare it with the current
head. Likewise a database file replaced by an older copy verifies on its own.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from nocilab.store import _tables as t
from nocilab.store._audit import (
    GENESIS_HASH,
    AuditEvent,
    AuditReport,
    ChainBreak,
    check_chain,
    events_from_rows,
)

Finding = tuple[int | None, str]  # (event id or None, why)


def verify(conn: Connection) -> AuditReport:
    """Check the chain and replay it against the tables (see the module docstring)."""
    a, h = t.audit_events, t.audit_head
    events = events_from_rows(
        conn.execute(sa.select(*(a.c[c] for c in t.AUDIT_COLUMNS)).order_by(a.c.id)).all()
    )
    head_row = conn.execute(
        sa.select(h.c.last_event_id, h.c.last_hash).where(h.c.id == 1)
    ).one_or_none()
    head = None if head_row is None else (int(head_row[0]), str(head_row[1]))
    head_hash = events[-1].hash if events else GENESIS_HASH
    broken = check_chain(events, head=head)
    if broken is None:
        from nocilab.store._allocation import replay_findings
        from nocilab.store._labdata import replay_findings as lab_findings
        from nocilab.store._users import replay_findings as user_findings

        broken = _first(_observations(conn, events) + _imports(conn, events)
                        + _meta(conn, events) + replay_findings(conn, events)
                        + user_findings(conn, events) + lab_findings(conn, events))
    if broken is not None:
        return AuditReport(False, len(events), broken.event_id, broken.why, head_hash)
    return AuditReport(True, len(events), None, "", head_hash)


def _first(findings: list[Finding]) -> ChainBreak | None:
    """The finding earliest in the chain; findings no event accounts for come last."""
    if not findings:
        return None
    eid, why = min(findings, key=lambda f: (f[0] is None, f[0] or 0, f[1]))
    return ChainBreak(eid, why)


def _load(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _about(events: Iterable[AuditEvent], entity: str) -> Iterable[AuditEvent]:
    return (ev for ev in events if ev.entity == entity)


# -- observations --------------------------------------------------------------------

def _observations(conn: Connection, events: list[AuditEvent]) -> list[Finding]:
    fields = t.OBSERVATION_FIELDS
    pick = operator.itemgetter(*fields)
    expected: dict[int, list[Any]] = {}  # row id -> [*fields, superseded_by]
    last: dict[int, int] = {}  # row id -> last event that touched it
    for ev in _about(events, "observation"):
        before, after = _load(ev.before), _load(ev.after)
        if not isinstance(after, dict) or not isinstance(after.get("id"), int):
            return [(ev.id, "its 'after' does not hold an observation with an id")]
        new_id = after["id"]
        if ev.entity_id != str(new_id):
            return [(ev.id, f"its entity_id {ev.entity_id!r} is not the id of the "
                            f"observation it records ({new_id})")]
        if new_id in expected:
            return [(ev.id, f"it records observation {new_id} a second time")]
        if ev.action == "insert":
            if before is not None:
                return [(ev.id, "an insert event must not have a 'before'")]
        elif ev.action in ("correct", "delete"):
            old_id = before.get("id") if isinstance(before, dict) else None
            if not isinstance(old_id, int) or old_id not in expected:
                return [(ev.id, f"it supersedes observation {old_id}, which no earlier "
                                "event created")]
            old = expected[old_id]
            if old[-1] is not None:
                return [(ev.id, f"it supersedes observation {old_id}, which event "
                                f"{last[old_id]} had already superseded")]
            if old[:-1] != [before.get(f) for f in fields]:
                return [(ev.id, f"its 'before' is not observation {old_id} as the earlier "
                                "events left it")]
            if after.get("deleted") is not (ev.action == "delete"):
                return [(ev.id, f"a {ev.action} event with deleted={after.get('deleted')!r}")]
            old[-1] = new_id
            last[old_id] = ev.id
        else:
            return [(ev.id, f"unknown action {ev.action!r} for an observation")]
        try:
            expected[new_id] = [*pick(after), None]
        except KeyError as exc:
            return [(ev.id, f"its 'after' lacks the field {exc.args[0]!r}")]
        last[new_id] = ev.id
    o = t.observations
    columns = (*fields, "superseded_by")
    actual = {r[0]: r for r in conn.execute(sa.select(*(o.c[c] for c in columns))).all()}
    return _compare("observations", "observation", expected, actual, last, columns)


# -- imports and study metadata ------------------------------------------------------

def _imports(conn: Connection, events: list[AuditEvent]) -> list[Finding]:
    expected: dict[int, list[Any]] = {}
    last: dict[int, int] = {}
    for ev in _about(events, "import"):
        after = _load(ev.after)
        if ev.action != "import" or not isinstance(after, dict) \
                or not isinstance(after.get("id"), int) or ev.entity_id != str(after["id"]):
            return [(ev.id, "it is not a well-formed import event")]
        expected[after["id"]] = [after.get(f) for f in t.IMPORT_FIELDS]
        last[after["id"]] = ev.id
    i = t.imports
    actual = {r[0]: r for r in conn.execute(
        sa.select(*(i.c[c] for c in t.IMPORT_FIELDS))).all()}
    return _compare("imports", "import", expected, actual, last, t.IMPORT_FIELDS)


def _meta(conn: Connection, events: list[AuditEvent]) -> list[Finding]:
    expected: dict[str, list[Any]] = {}
    last: dict[str, int] = {}
    for ev in _about(events, "meta"):
        before, after = _load(ev.before), _load(ev.after)
        if ev.action != "set" or not isinstance(after, dict) or after.get("key") != ev.entity_id:
            return [(ev.id, "it is not a well-formed meta event")]
        prior = expected.get(ev.entity_id)
        if before != (None if prior is None else {"key": prior[0], "value": prior[1]}):
            return [(ev.id, f"its 'before' is not study_meta {ev.entity_id!r} as the earlier "
                            "events left it")]
        expected[ev.entity_id] = [after["key"], after.get("value")]
        last[ev.entity_id] = ev.id
    m = t.study_meta
    actual = {r[0]: r for r in conn.execute(sa.select(m.c.key, m.c.value)).all()}
    return _compare("study_meta", "meta", expected, actual, last, ("key", "value"))


def _compare(table: str, entity: str, expected: dict[Any, list[Any]],
             actual: Mapping[Any, Sequence[Any]], last: dict[Any, int],
             fields: Sequence[str]) -> list[Finding]:
    """One finding per row whose stored state differs from the replayed one.

    ``expected`` and ``actual`` map a row's key to its values in the order of ``fields``.
    """
    out: list[Finding] = []
    for key, exp in expected.items():
        row = actual.get(key)
        if row is None:
            out.append((last[key], f"{table} row {key!r} is missing, though audit event "
                                   f"{last[key]} records it"))
        elif list(row) != exp:
            f, have, want = next((f, a, e) for f, a, e in zip(fields, row, exp, strict=True)
                                 if a != e)
            out.append((last[key], f"{table} row {key!r} does not match the audit trail: "
                                   f"{f} is {have!r} but audit event {last[key]} "
                                   f"leaves it {want!r}"))
    for key in actual.keys() - expected.keys():
        out.append((None, f"{table} row {key!r} has no audit event about this {entity}: "
                          "it was written behind the store's back"))
    return out
