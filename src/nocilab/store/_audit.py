"""The audit chain: how an event is serialised and hashed, and how a chain is checked.

Every change the store makes is one row of the ``audit_events`` table. The rows form a
hash chain: each row's ``hash`` covers the previous row's hash and every other field of
the row, so that editing, removing, inserting or reordering rows breaks the chain at the
first row touched.

Serialisation (version 1)
-------------------------
A row has the fields ``id`` (integer), ``at`` (UTC time, ISO 8601 text), ``actor``,
``action``, ``entity``, ``entity_id`` (all text), ``before`` and ``after`` (JSON text
exactly as stored, or null) and ``reason`` (text or null). Its hash is::

    payload = JSON array [id, at, actor, action, entity, entity_id, before, after, reason]
    hash    = lower-case hex SHA-256 of the UTF-8 bytes of  prev_hash + "\\n" + payload

where the payload is written without any whitespace (separators ``,`` and ``:``), null
as ``null``, the id as a decimal integer, and every text as a JSON string in which only
``"``, ``\\`` and the control characters U+0000-U+001F are escaped (``\\n``, ``\\r``,
``\\t``, ``\\b``, ``\\f``, otherwise ``\\u00xx`` in lower-case hex); all other
characters, non-ASCII included, are written as themselves. This is what Python's
``json.dumps(payload, ensure_ascii=False, separators=(",", ":"))`` produces. ``before``
and ``after`` enter the payload as the stored texts (strings), not re-serialised, so a
verifier never has to reproduce their formatting. (The store writes them canonically:
keys sorted, no whitespace, non-ASCII as itself, no NaN or infinity.)

``prev_hash`` is the ``hash`` of the row whose id is one less; the first row has id 1
and chains from :data:`GENESIS_HASH`, 64 zeros. Ids increase by exactly 1.

The table ``audit_head`` holds one row with the id and hash of the last event. It is
written in the same transaction as the events, so removing events from the end of the
chain (which leaves a valid shorter chain) is caught too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring as _esc  # json's own string escaping
from typing import Any

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first event."""

SERIALISATION_VERSION = 1

STORE_ENTITIES = ("observation", "import", "meta", "plate", "binding")
"""Entities written by the store itself; other layers append events about their own."""


def utc_now() -> str:
    """The current UTC time as ISO 8601 text with microseconds and ``+00:00``."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def canonical_json(value: Any) -> str:
    """``value`` as canonical JSON text: keys sorted, no whitespace, UTF-8 as itself.

    Raises ``ValueError`` for NaN or infinite numbers (they have no JSON form) and
    ``TypeError`` for values JSON cannot hold.
    """
    return _CANONICAL.encode(value)


def event_hash(
    prev_hash: str,
    event_id: int,
    at: str,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    before: str | None,
    after: str | None,
    reason: str | None,
) -> str:
    """The hash of one event, chained from ``prev_hash`` (see the module docstring)."""
    # Equal to json.dumps([...], ensure_ascii=False, separators=(",", ":")), written out
    # because bulk imports hash one event per reading (the tests check the equality).
    payload = ",".join((
        str(int(event_id)), _esc(at), _esc(actor), _esc(action), _esc(entity),
        _esc(entity_id), _nesc(before), _nesc(after), _nesc(reason),
    ))
    return hashlib.sha256(f"{prev_hash}\n[{payload}]".encode()).hexdigest()


def _nesc(text: str | None) -> str:
    return "null" if text is None else _esc(text)


@dataclass(frozen=True)
class AuditEvent:
    """One row of ``audit_events``; ``before`` and ``after`` are the stored JSON texts."""

    id: int
    at: str
    actor: str
    action: str
    entity: str
    entity_id: str
    before: str | None
    after: str | None
    reason: str | None
    prev_hash: str
    hash: str

    def expected_hash(self, prev_hash: str | None = None) -> str:
        """The hash this row should carry, chained from ``prev_hash`` (default: its own)."""
        return event_hash(
            self.prev_hash if prev_hash is None else prev_hash,
            self.id, self.at, self.actor, self.action, self.entity, self.entity_id,
            self.before, self.after, self.reason,
        )


@dataclass(frozen=True)
class AuditReport:
    """The outcome of :meth:`Store.verify_audit`.

    Attributes
    ----------
    ok : bool
        True when the chain verifies and the store's tables match it.
    n_events : int
        Number of events in the chain.
    first_broken_id : int or None
        The audit event at which verification first fails: the edited, misplaced or
        first missing event, or the event a table row no longer agrees with. None when
        ``ok``, and for a table row that no event accounts for at all (``why`` names it).
    why : str
        What was found, naming the event, table and row ("" when ``ok``).
    head_hash : str
        Hash of the last event (:data:`GENESIS_HASH` for an empty chain). Recording it
        outside the database (a report states it) lets a later check detect a chain
        that was rewritten as a whole, which no check inside the database can.
    """

    ok: bool
    n_events: int
    first_broken_id: int | None
    why: str
    head_hash: str

    def render(self) -> str:
        """One line for a person to read."""
        if self.ok:
            return f"audit chain of {self.n_events} events verifies (head {self.head_hash[:16]})"
        where = "" if self.first_broken_id is None else f" at event {self.first_broken_id}"
        return f"audit verification failed{where}: {self.why}"


@dataclass(frozen=True)
class ChainBreak:
    """Where and why a chain check failed."""

    event_id: int | None
    why: str


def check_chain(
    events: Sequence[AuditEvent], *, head: tuple[int, str] | None
) -> ChainBreak | None:
    """Check ids, links and hashes of ``events`` (ordered by id) against each other.

    ``head`` is the (last_event_id, last_hash) pair of ``audit_head``, or None when that
    row is missing. Returns the first break found, or None when the chain is intact.
    """
    prev_id, prev_hash = 0, GENESIS_HASH
    for ev in events:
        if ev.id != prev_id + 1:
            if ev.id <= prev_id:
                why = f"event ids are out of order: {ev.id} follows {prev_id}"
            elif ev.id == prev_id + 2:
                why = f"event {prev_id + 1} is missing (ids jump from {prev_id} to {ev.id})"
            else:
                why = (f"events {prev_id + 1} to {ev.id - 1} are missing "
                       f"(ids jump from {prev_id} to {ev.id})")
            return ChainBreak(ev.id, why)
        if ev.prev_hash != prev_hash:
            what = "the genesis value" if prev_id == 0 else f"the hash of event {prev_id}"
            return ChainBreak(
                ev.id,
                f"its prev_hash does not match {what}: an event before it was removed, "
                "inserted, reordered or rewritten",
            )
        if ev.hash != ev.expected_hash():
            return ChainBreak(
                ev.id,
                "its hash does not match its content: a field of this event was changed",
            )
        prev_id, prev_hash = ev.id, ev.hash
    if head is None:
        return ChainBreak(None, "the audit_head row is missing")
    head_id, head_hash = head
    if head_id > prev_id:
        missing = (f"event {prev_id + 1} is missing" if head_id == prev_id + 1
                   else f"events {prev_id + 1} to {head_id} are missing")
        return ChainBreak(
            prev_id + 1,
            f"{missing}: the chain head records event {head_id} but the last event is "
            f"{prev_id}",
        )
    if head_id < prev_id:
        return ChainBreak(
            head_id + 1,
            f"events {head_id + 1} to {prev_id} are not covered by the chain head "
            f"(it records event {head_id}): they were written behind the store's back",
        )
    if head_hash != prev_hash:
        return ChainBreak(
            prev_id if prev_id else None,
            f"the chain head's hash does not match the hash of event {prev_id}: "
            "the last event or the head was rewritten",
        )
    return None


def events_from_rows(rows: Iterable[Sequence[Any]]) -> list[AuditEvent]:
    """Build events from rows in the column order of :class:`AuditEvent`."""
    return [AuditEvent(*row) for row in rows]
