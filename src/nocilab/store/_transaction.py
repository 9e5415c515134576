"""The store's write transaction: one writer at a time, appending to the audit chain.

Why ids are assigned here and not by the database
-------------------------------------------------
An audit event must name the row it writes, and a bulk import writes many rows at once.
Reading ids back from a bulk insert is not portable (``INSERT ... RETURNING`` in bulk
keeps parameter order on PostgreSQL but not reliably on SQLite, where SQLAlchemy falls
back to one statement per row). Instead every write transaction first takes the
store's write lock, and ids are then allocated as ``max(id) + 1`` within it:

- SQLite: the connection begins with ``BEGIN IMMEDIATE`` (see ``_engine``), which takes
  the database's write lock at once; readers are not blocked.
- PostgreSQL: the first statement is ``SELECT ... FROM audit_head WHERE id = 1 FOR
  UPDATE``; a second writer waits on that row until the first commits, and (at READ
  COMMITTED) then sees the first writer's rows in its own ``max(id)``.

Every writer goes through this class, so ids never collide and audit events can be
hashed (their ids are part of the hash) before they are inserted. Rows are never
removed by the store, so ids are never reused.
"""

from __future__ import annotations

import numbers
import operator
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from nocilab.errors import StoreError
from nocilab.store import _tables as t
from nocilab.store._audit import STORE_ENTITIES, canonical_json, event_hash, utc_now

EventSpec = tuple[str, str, str, str, str | None, str | None, str | None]
"""(action, entity, entity_id, actor, before_json, after_json, reason)."""


def bulk_insert(conn: Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert many rows with the driver's ``executemany``.

    The INSERT is compiled once by SQLAlchemy for the connection's dialect (so the SQL
    and its parameter style are the dialect's own), and the rows go to the driver as
    they are, skipping SQLAlchemy's per-row parameter processing, which would otherwise
    take most of the time of a large import. Values must be plain ``int``, ``float``,
    ``str``, ``bool`` or None, which every driver accepts as they are.
    """
    if not rows:
        return
    keys = list(rows[0])
    compiled = table.insert().compile(dialect=conn.dialect, column_keys=keys)
    if compiled.positional:
        pick = operator.itemgetter(*(compiled.positiontup or ()))
        params: Sequence[Any] = [pick(r) for r in rows]
    else:
        params = rows
    conn.exec_driver_sql(str(compiled), params)  # type: ignore[arg-type]


def require_text(value: Any, name: str) -> str:
    """``value`` as a non-empty, stripped string, or StoreError naming ``name``."""
    if not isinstance(value, str) or not value.strip():
        raise StoreError(f"{name} must be a non-empty text, got {value!r}")
    return value.strip()


def to_json(value: Any, name: str) -> str | None:
    """Canonical JSON text of ``value`` (None stays None), or StoreError naming ``name``."""
    if value is None:
        return None
    try:
        return canonical_json(value)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"{name} cannot be recorded in the audit trail as JSON: {exc}") from exc


class Transaction:
    """A write transaction of a :class:`~nocilab.store.Store`.

    Obtained from ``with store.transaction() as tx:``; everything written through it
    (store calls given ``tx=tx``, :meth:`append_event`, statements on
    :attr:`connection`) commits together when the block ends, or not at all if it
    raises.

    Attributes
    ----------
    connection : sqlalchemy.engine.Connection
        The connection of the transaction, for layers that keep their own tables. The
        store's own tables must only be written through the store's methods.
    """

    def __init__(self, connection: Connection, owner: object):
        self.connection = connection
        self._owner = owner
        self._open = True
        row = connection.execute(
            sa.select(t.audit_head.c.last_event_id, t.audit_head.c.last_hash)
            .where(t.audit_head.c.id == 1)
            .with_for_update()
        ).one_or_none()
        if row is None:
            raise StoreError("the store's audit_head row is missing; the audit chain is "
                             "damaged (run verify_audit) and nothing can be written")
        self._last_id: int = int(row[0])
        self._last_hash: str = str(row[1])
        self._start_id = self._last_id

    # -- events ---------------------------------------------------------------------

    def append_event(
        self,
        action: str,
        entity: str,
        entity_id: int | str,
        *,
        actor: str,
        before: Any = None,
        after: Any = None,
        reason: str | None = None,
    ) -> int:
        """Append one audit event; returns its id.

        Parameters
        ----------
        action : str
            What happened, e.g. ``"allocate"``, ``"unblind"``.
        entity : str
            The kind of thing it happened to, e.g. ``"allocation"``. The store's own
            entities (``observation``, ``import``, ``meta``) are written only by the
            store's methods.
        entity_id : int or str
            Which one (stored as text).
        actor : str
            Who did it.
        before, after : JSON-serialisable, optional
            The state before and after (None: no such state).
        reason : str, optional
            Why.
        """
        if entity in STORE_ENTITIES:
            raise StoreError(f"audit events about {entity!r} are written by the store itself; "
                             "use its methods (import_observations, correct_observation ...)")
        return self._append_event(action, entity, entity_id, actor=actor, before=before,
                                  after=after, reason=reason)

    def _append_event(self, action: str, entity: str, entity_id: int | str, *, actor: str,
                      before: Any, after: Any, reason: str | None) -> int:
        spec = (
            require_text(action, "action"),
            require_text(entity, "entity"),
            _entity_id(entity_id),
            require_text(actor, "actor"),
            to_json(before, "before"),
            to_json(after, "after"),
            None if reason is None else str(reason),
        )
        return self._append_many([spec])[0]

    def _append_many(self, specs: Sequence[EventSpec], *, at: str | None = None) -> list[int]:
        """Hash and insert events in one pass; all share the time ``at`` (default now)."""
        self._check_open()
        if not specs:
            return []
        at = at or utc_now()
        rows: list[dict[str, Any]] = []
        prev, next_id = self._last_hash, self._last_id + 1
        for action, entity, entity_id, actor, before, after, reason in specs:
            h = event_hash(prev, next_id, at, actor, action, entity, entity_id,
                           before, after, reason)
            rows.append({"id": next_id, "at": at, "actor": actor, "action": action,
                         "entity": entity, "entity_id": entity_id, "before": before,
                         "after": after, "reason": reason, "prev_hash": prev, "hash": h})
            prev, next_id = h, next_id + 1
        bulk_insert(self.connection, t.audit_events, rows)
        first = self._last_id + 1
        self._last_id, self._last_hash = next_id - 1, prev
        return list(range(first, next_id))

    # -- ids and closing ------------------------------------------------------------

    def next_id(self, table: sa.Table) -> int:
        """The next free id of one of the store's tables (valid under the write lock)."""
        self._check_open()
        top = self.connection.execute(sa.select(sa.func.max(table.c.id))).scalar()
        return 1 if top is None else int(top) + 1

    def _finish(self) -> None:
        """Record the new chain head (called just before commit)."""
        if self._last_id != self._start_id:
            self.connection.execute(
                t.audit_head.update()
                .where(t.audit_head.c.id == 1)
                .values(last_event_id=self._last_id, last_hash=self._last_hash)
            )
        self._open = False

    def _close(self) -> None:
        self._open = False

    def _check_open(self) -> None:
        if not self._open:
            raise StoreError("this transaction has ended; open a new one with "
                             "store.transaction()")

    def belongs_to(self, owner: object) -> bool:
        return self._owner is owner


def _entity_id(value: int | str) -> str:
    if isinstance(value, str):
        text = value.strip()
    elif isinstance(value, numbers.Integral) and not isinstance(value, bool):
        text = str(int(value))
    else:
        raise StoreError(f"entity_id must be an integer or a text, got {value!r}")
    if not text:
        raise StoreError("entity_id must not be empty")
    return text
