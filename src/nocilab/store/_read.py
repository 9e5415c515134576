"""Reading the store into tidy DataFrames with fixed columns and dtypes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from nocilab.errors import StoreError
from nocilab.schema import OBSERVATIONS
from nocilab.store import _tables as t

_DTYPES = {"str": "object", "int": "int64", "float": "float64", "datetime": "object"}

OBSERVATION_COLUMNS: dict[str, str] = {**{c: _DTYPES[k] for c, k in OBSERVATIONS.items()},
                                       "observation_id": "int64"}
"""Columns of ``Store.observations()``: ``nocilab.schema.OBSERVATIONS`` + observation_id."""

VERSION_COLUMNS: dict[str, str] = {**OBSERVATION_COLUMNS, "import_id": "Int64",
                                   "superseded_by": "Int64", "deleted": "bool"}
"""Columns of ``Store.observations(current_only=False)``."""

HISTORY_COLUMNS: dict[str, str] = {**VERSION_COLUMNS, "action": "object", "reason": "object"}
"""Columns of ``Store.history()``: every version, with the action that wrote it and why."""

IMPORT_COLUMNS: dict[str, str] = {
    "import_id": "int64", "file_name": "object", "file_sha256": "object",
    "detail": "object", "n_rows": "int64", "imported_by": "object", "imported_at": "object",
}

AUDIT_COLUMNS: dict[str, str] = {
    "event_id": "int64", "at": "object", "actor": "object", "action": "object",
    "entity": "object", "entity_id": "object", "before": "object", "after": "object",
    "reason": "object", "prev_hash": "object", "hash": "object",
}


def frame(rows: Sequence[Any], columns: dict[str, str]) -> pd.DataFrame:
    """A DataFrame from result rows in the order of ``columns``, with those dtypes.

    Text columns keep pandas' default text dtype; a missing text is pandas' missing
    value. Numeric columns get the dtype given (``Int64`` where a value may be absent).
    """
    names = list(columns)
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=d) for c, d in columns.items()})
    out = pd.DataFrame.from_records([tuple(r) for r in rows], columns=names)
    for c, d in columns.items():
        if d != "object":
            out[c] = out[c].astype(d)
    return out


def _obs_select(columns: dict[str, str]) -> sa.Select[Any]:
    o = t.observations
    cols = [o.c.id.label("observation_id") if c == "observation_id" else o.c[c]
            for c in columns if c not in ("action", "reason")]
    return sa.select(*cols)


def observations(conn: Connection, *, current_only: bool, assay: str | None,
                 animal: str | None = None, study_day: int | None = None) -> pd.DataFrame:
    o = t.observations
    columns = OBSERVATION_COLUMNS if current_only else VERSION_COLUMNS
    q = _obs_select(columns).order_by(o.c.id)
    if current_only:
        q = q.where(o.c.superseded_by.is_(None), o.c.deleted.is_(sa.false()))
    if assay is not None:
        q = q.where(o.c.assay == assay)
    if animal is not None:
        q = q.where(o.c.animal == animal)
    if study_day is not None:
        q = q.where(o.c.study_day == int(study_day))
    return frame(conn.execute(q).all(), columns)


def history(conn: Connection, observation_id: int) -> pd.DataFrame:
    o = t.observations
    oid = int(observation_id)
    row = conn.execute(sa.select(o.c.superseded_by).where(o.c.id == oid)).one_or_none()
    if row is None:
        raise StoreError(f"there is no observation {oid}")
    ids = [oid]
    while True:  # back to the first version
        pred = conn.execute(sa.select(o.c.id).where(o.c.superseded_by == ids[0])).scalar()
        if pred is None:
            break
        ids.insert(0, int(pred))
    nxt = row[0]
    while nxt is not None:  # forward to the current version (or tombstone)
        ids.append(int(nxt))
        nxt = conn.execute(sa.select(o.c.superseded_by).where(o.c.id == ids[-1])).scalar()
    versions = {r.observation_id: r for r in conn.execute(
        _obs_select(VERSION_COLUMNS).where(o.c.id.in_(ids))).all()}
    a = t.audit_events
    why = {int(eid): (act, reason) for eid, act, reason in conn.execute(
        sa.select(a.c.entity_id, a.c.action, a.c.reason)
        .where(a.c.entity == "observation", a.c.entity_id.in_([str(i) for i in ids]))
    ).all()}
    rows = [(*versions[i], *why.get(i, (None, None))) for i in ids]
    return frame(rows, HISTORY_COLUMNS)


def imports(conn: Connection) -> pd.DataFrame:
    i = t.imports
    q = sa.select(i.c.id, i.c.file_name, i.c.file_sha256, i.c.detail, i.c.n_rows,
                  i.c.imported_by, i.c.imported_at).order_by(i.c.id)
    return frame(conn.execute(q).all(), IMPORT_COLUMNS)


def audit_events(conn: Connection, *, entity: str | None,
                 entity_id: int | str | None) -> pd.DataFrame:
    a = t.audit_events
    q = sa.select(*(a.c[c] for c in t.AUDIT_COLUMNS)).order_by(a.c.id)
    if entity is not None:
        q = q.where(a.c.entity == entity)
    if entity_id is not None:
        q = q.where(a.c.entity_id == str(entity_id))
    return frame(conn.execute(q).all(), AUDIT_COLUMNS)
