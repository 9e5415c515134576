"""Writing observations: bulk import, single readings, corrections and deletions.

Every function here runs inside a :class:`~nocilab.store._transaction.Transaction` and
writes exactly one audit event per row it creates:

- ``import``  (entity ``import``): the new ``imports`` row in ``after``;
- ``insert``  (entity ``observation``): the new reading in ``after``;
- ``correct`` (entity ``observation``): the superseded reading in ``before``, the new
  one in ``after``;
- ``delete``  (entity ``observation``): the deleted reading in ``before``, the tombstone
  in ``after``.

``entity_id`` is always the id of the row the event creates; ``before["id"]`` names the
row it supersedes. ``before``/``after`` hold the fields of
:data:`~nocilab.store._tables.OBSERVATION_FIELDS` (``superseded_by`` follows from the
events themselves).
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from nocilab.errors import SchemaError, StoreError
from nocilab.store import _tables as t
from nocilab.store._audit import canonical_json, utc_now
from nocilab.store._transaction import EventSpec, Transaction, bulk_insert, require_text

READING_COLUMNS = ("animal", "study_day", "assay", "trial", "quantity", "value_num",
                   "value_text")
"""Columns a frame given to ``import_observations`` must have."""

OPTIONAL_COLUMNS = ("entered_by", "entered_at")
"""Optional columns: who took a reading and when (default: the importer, the import time)."""

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SHOW = 5  # offending rows named in an error message


@dataclass(frozen=True)
class ImportResult:
    """The outcome of :meth:`Store.import_observations`.

    ``import_id`` is the ``imports`` row of the file (the earlier one when
    ``already_imported``); ``n_inserted`` the observations written by this call.
    """

    import_id: int
    n_inserted: int
    already_imported: bool


# -- bulk import ---------------------------------------------------------------------

def import_observations(tx: Transaction, rows: pd.DataFrame, *, file_name: str,
                        file_sha256: str, actor: str, detail: str = "") -> ImportResult:
    """Write one file's readings, its ``imports`` row and their audit events."""
    actor = require_text(actor, "actor")
    file_name = require_text(file_name, "file_name")
    sha = str(file_sha256).strip().lower()
    if not _SHA256.match(sha):
        raise StoreError(f"file_sha256 of {file_name!r} must be 64 hexadecimal digits, "
                         f"got {file_sha256!r}")
    if not isinstance(detail, str):
        raise StoreError(f"detail must be a text, got {detail!r}")
    cols = _reading_columns(rows, source=file_name)
    conn = tx.connection
    earlier = conn.execute(
        sa.select(t.imports.c.id).where(t.imports.c.file_sha256 == sha)
    ).scalar()
    if earlier is not None:
        return ImportResult(int(earlier), 0, True)

    _refuse_stored_keys(tx, cols, source=file_name)
    now = utc_now()
    n = len(rows)
    import_id = tx.next_id(t.imports)
    import_row = {"id": import_id, "file_name": file_name, "file_sha256": sha,
                  "detail": detail, "n_rows": n, "imported_by": actor, "imported_at": now}
    conn.execute(t.imports.insert(), [import_row])
    specs: list[EventSpec] = [
        ("import", "import", str(import_id), actor, None, canonical_json(import_row), None)
    ]
    if n:
        first = tx.next_id(t.observations)
        entered_by = cols["entered_by"] or [actor] * n
        entered_at = cols["entered_at"] or [now] * n
        obs = [
            {"id": first + i, "animal": a, "study_day": d, "assay": s, "trial": tr,
             "quantity": q, "value_num": vn, "value_text": vt, "import_id": import_id,
             "entered_by": eb or actor, "entered_at": ea or now, "deleted": False}
            for i, (a, d, s, tr, q, vn, vt, eb, ea) in enumerate(zip(
                cols["animal"], cols["study_day"], cols["assay"], cols["trial"],
                cols["quantity"], cols["value_num"], cols["value_text"], entered_by,
                entered_at, strict=True))
        ]
        bulk_insert(conn, t.observations, obs)
        specs += [("insert", "observation", str(o["id"]), actor, None, canonical_json(o), None)
                  for o in obs]
    tx._append_many(specs, at=now)
    return ImportResult(import_id, n, False)


_KEY = ("animal", "study_day", "assay", "trial", "quantity")


def _refuse_stored_keys(tx: Transaction, cols: dict[str, list[Any]], *, source: str) -> None:
    """Refuse readings whose key is held twice in ``cols`` or by a current reading.

    A reading is identified by animal, study day, assay, trial and quantity; a second
    value for it is a correction, never a new reading. Checked under the transaction's
    write lock, so two imports running at once cannot both add the same reading.
    """
    keys = list(zip(*(cols[k] for k in _KEY), strict=True))
    if not keys:
        return
    seen: set[tuple] = set()
    for key in keys:
        if key in seen:
            raise StoreError(f"{source}: the reading {_describe(key)} is given twice")
        seen.add(key)
    o = t.observations
    animals = sorted({k[0] for k in keys})
    assays = sorted({k[2] for k in keys})
    for start in range(0, len(animals), 500):  # bounded IN lists
        stmt = (sa.select(o.c.id, *(o.c[k] for k in _KEY))
                .where(o.c.superseded_by.is_(None), o.c.deleted.is_(False),
                       o.c.animal.in_(animals[start:start + 500]), o.c.assay.in_(assays)))
        for row in tx.connection.execute(stmt):
            key = tuple(row[1:])
            if key in seen:
                raise StoreError(f"{source}: the reading {_describe(key)} is already stored "
                                 f"(observation {row[0]}); correct it instead of adding it again")


def _describe(key: tuple) -> str:
    animal, day, assay, trial, quantity = key
    return f"{assay} {quantity} of animal {animal!r} on day {day}, trial {trial}"


# -- single readings -----------------------------------------------------------------

def add_observation(tx: Transaction, *, animal: str, study_day: int, assay: str,
                    trial: int, quantity: str, value_num: float | None,
                    value_text: str | None, actor: str, entered_by: str | None,
                    entered_at: str | None, reason: str | None) -> int:
    """Insert one reading typed in by hand; returns its id."""
    cols = _plain_reading(animal=animal, study_day=study_day, assay=assay, trial=trial,
                          quantity=quantity, value_num=value_num, value_text=value_text,
                          entered_by=entered_by, entered_at=entered_at)
    if cols is None:  # a value of another type: checked (and refused) as a frame's row
        frame = pd.DataFrame([{
            "animal": animal, "study_day": study_day, "assay": assay, "trial": trial,
            "quantity": quantity, "value_num": np.nan if value_num is None else value_num,
            "value_text": value_text, "entered_by": entered_by, "entered_at": entered_at,
        }])
        cols = _reading_columns(frame, source="the observation")
    actor = require_text(actor, "actor")
    _refuse_stored_keys(tx, cols, source="the observation")
    now = utc_now()
    row = {
        "id": tx.next_id(t.observations), "import_id": None, "deleted": False,
        **{c: cols[c][0] for c in READING_COLUMNS},
        "entered_by": (cols["entered_by"] or [None])[0] or actor,
        "entered_at": (cols["entered_at"] or [None])[0] or now,
    }
    tx.connection.execute(t.observations.insert(), [row])
    tx._append_many([("insert", "observation", str(row["id"]), actor, None,
                      canonical_json(row), _optional_reason(reason))], at=now)
    return int(row["id"])


def correct_observation(tx: Transaction, observation_id: int, *, value_num: float | None,
                        value_text: str | None, actor: str, reason: str) -> int:
    """Supersede a current reading by a corrected one; returns the new id."""
    actor = require_text(actor, "actor")
    reason = require_text(reason, f"the reason for correcting observation {observation_id}")
    old = _current_row(tx, observation_id, doing="corrected")
    vn = _check_value_num(value_num, observation_id)
    if value_text is not None and not isinstance(value_text, str):
        raise StoreError(f"value_text of the correction of observation {observation_id} "
                         f"must be a text, got {value_text!r}")
    if vn is None and value_text is None:
        raise StoreError(f"the correction of observation {observation_id} gives neither "
                         "value_num nor value_text; to remove the reading use "
                         "delete_observation")
    if vn == old["value_num"] and value_text == old["value_text"]:
        raise StoreError(f"the correction of observation {observation_id} does not change "
                         f"it (value_num {vn!r}, value_text {value_text!r})")
    return _supersede(tx, old, action="correct", value_num=vn, value_text=value_text,
                      deleted=False, actor=actor, reason=reason)


def delete_observation(tx: Transaction, observation_id: int, *, actor: str,
                       reason: str) -> int:
    """Supersede a current reading by a tombstone; returns the tombstone's id."""
    actor = require_text(actor, "actor")
    reason = require_text(reason, f"the reason for deleting observation {observation_id}")
    old = _current_row(tx, observation_id, doing="deleted")
    return _supersede(tx, old, action="delete", value_num=None, value_text=None,
                      deleted=True, actor=actor, reason=reason)


def _supersede(tx: Transaction, old: dict[str, Any], *, action: str,
               value_num: float | None, value_text: str | None, deleted: bool,
               actor: str, reason: str) -> int:
    now = utc_now()
    new = {**old, "id": tx.next_id(t.observations), "value_num": value_num,
           "value_text": value_text, "import_id": None, "entered_by": actor,
           "entered_at": now, "deleted": deleted}
    conn = tx.connection
    conn.execute(t.observations.insert(), [new])
    conn.execute(t.observations.update().where(t.observations.c.id == old["id"])
                 .values(superseded_by=new["id"]))
    tx._append_many([(action, "observation", str(new["id"]), actor, canonical_json(old),
                      canonical_json(new), reason)], at=now)
    return int(new["id"])


def _current_row(tx: Transaction, observation_id: int, *, doing: str) -> dict[str, Any]:
    """The row of a current observation, or StoreError naming its current successor."""
    obs = t.observations
    if isinstance(observation_id, bool) or not isinstance(observation_id, int | np.integer):
        raise StoreError(f"observation id must be an integer, got {observation_id!r}")
    oid = int(observation_id)
    conn = tx.connection
    row = conn.execute(sa.select(obs).where(obs.c.id == oid)).mappings().one_or_none()
    if row is None:
        raise StoreError(f"there is no observation {oid}")
    if row["deleted"]:
        pred = conn.execute(sa.select(obs.c.id).where(obs.c.superseded_by == oid)).scalar()
        raise StoreError(f"observation {oid} is the deletion record of observation {pred}; "
                         f"it cannot be {doing}")
    if row["superseded_by"] is not None:
        end, end_deleted = oid, False
        nxt: int | None = row["superseded_by"]
        while nxt is not None:
            end = int(nxt)
            nxt, end_deleted = conn.execute(
                sa.select(obs.c.superseded_by, obs.c.deleted).where(obs.c.id == end)
            ).one()
        if end_deleted:
            raise StoreError(f"observation {oid} was deleted (deletion record {end}); "
                             f"it cannot be {doing}")
        raise StoreError(f"observation {oid} was already corrected: its current version is "
                         f"observation {end}; that one can be {doing}")
    return {f: row[f] for f in t.OBSERVATION_FIELDS}


def _optional_reason(reason: str | None) -> str | None:
    if reason is None:
        return None
    if not isinstance(reason, str):
        raise StoreError(f"reason must be a text, got {reason!r}")
    return reason.strip() or None


def _check_value_num(value: Any, observation_id: int) -> float | None:
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"value_num of the correction of observation {observation_id} "
                         f"must be a number, got {value!r}") from exc
    if math.isnan(v):
        return None
    if math.isinf(v):
        raise StoreError(f"value_num of the correction of observation {observation_id} "
                         f"must be finite, got {value!r}")
    return v


_WHOLE_MAX = 2**53  # whole numbers a float holds exactly


def _plain_reading(*, animal: Any, study_day: Any, assay: Any, trial: Any, quantity: Any,
                   value_num: Any, value_text: Any, entered_by: Any,
                   entered_at: Any) -> dict[str, list[Any]] | None:
    """One reading's columns as :func:`_reading_columns` returns them for its one-row
    frame, when every value is of a plain type and passes; None otherwise.

    The fast path of a single reading: plain Python instead of a frame. Only values that
    :func:`_reading_columns` accepts unchanged are taken; anything else (a number as
    text, a bool, NaN, an infinite value, a blank key ...) returns None, and the frame's
    checks then refuse it in their own words.
    """
    for text in (animal, assay, quantity):
        if not isinstance(text, str) or not text.strip():
            return None
    for whole in (study_day, trial):
        if type(whole) is not int or abs(whole) > _WHOLE_MAX:
            return None
    if value_num is not None:
        if type(value_num) is int and abs(value_num) <= _WHOLE_MAX:
            value_num = float(value_num)
        elif type(value_num) is not float or not math.isfinite(value_num):
            return None
    if value_text is not None and not isinstance(value_text, str):
        return None
    if value_num is None and value_text is None:
        return None
    if entered_by is not None and not isinstance(entered_by, str):
        return None
    if entered_at is not None and not isinstance(entered_at, str):
        return None
    return {"animal": [animal], "study_day": [study_day], "assay": [assay], "trial": [trial],
            "quantity": [quantity], "value_num": [value_num], "value_text": [value_text],
            "entered_by": [entered_by], "entered_at": [None if entered_at is None
                                                       else entered_at.strip() or None]}


# -- checking a frame of readings ----------------------------------------------------

def _reading_columns(rows: pd.DataFrame, *, source: str) -> dict[str, list[Any]]:
    """The columns of ``rows`` as lists of plain Python values, checked.

    Raises SchemaError naming the column and the first offending rows (by index label).
    Optional columns that are absent come back as empty lists.
    """
    if not isinstance(rows, pd.DataFrame):
        raise SchemaError(f"observations to import from {source} must be a DataFrame, "
                          f"got {type(rows).__name__}")
    missing = [c for c in READING_COLUMNS if c not in rows.columns]
    if missing:
        raise SchemaError(f"observations to import from {source} lack column(s) "
                          f"{', '.join(missing)}; expected {', '.join(READING_COLUMNS)}")
    out: dict[str, list[Any]] = {}
    for c in ("animal", "assay", "quantity"):
        out[c] = _text(rows, c, source, required=True)
    for c in ("study_day", "trial"):
        out[c] = _whole(rows, c, source)
    out["value_num"] = _number(rows, "value_num", source)
    out["value_text"] = _text(rows, "value_text", source, required=False)
    out["entered_by"] = (_text(rows, "entered_by", source, required=False)
                         if "entered_by" in rows.columns else [])
    out["entered_at"] = (_time(rows, "entered_at", source)
                         if "entered_at" in rows.columns else [])
    empty = [i for i, (vn, vt) in enumerate(zip(out["value_num"], out["value_text"],
                                                strict=True)) if vn is None and vt is None]
    if empty:
        raise SchemaError(f"observations to import from {source}: "
                          f"{_rows(rows, empty)} have neither value_num nor value_text")
    return out


def _rows(rows: pd.DataFrame, positions: list[int]) -> str:
    labels = [repr(rows.index[i]) for i in positions[:_SHOW]]
    more = f" and {len(positions) - _SHOW} more" if len(positions) > _SHOW else ""
    return f"row(s) with index {', '.join(labels)}{more}"


def _text(rows: pd.DataFrame, col: str, source: str, *, required: bool) -> list[Any]:
    s = rows[col]
    na = s.isna().to_numpy()
    values = s.astype(object).tolist()
    out = [None if m else v for v, m in zip(values, na, strict=True)]
    bad = [i for i, v in enumerate(out) if v is not None and not isinstance(v, str)]
    if bad:
        raise SchemaError(f"observations to import from {source}: column {col!r} must hold "
                          f"text; {_rows(rows, bad)} hold e.g. {out[bad[0]]!r}")
    if required:
        blank = [i for i, v in enumerate(out) if v is None or not v.strip()]
        if blank:
            raise SchemaError(f"observations to import from {source}: column {col!r} is "
                              f"empty in {_rows(rows, blank)}")
    return out


def _whole(rows: pd.DataFrame, col: str, source: str) -> list[int]:
    s = rows[col]
    if len(s) and (pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s)):
        raise SchemaError(f"observations to import from {source}: column {col!r} must hold "
                          f"whole numbers, has dtype {s.dtype}")
    arr = s.to_numpy(dtype=float, na_value=np.nan)
    bad = np.flatnonzero(~np.isfinite(arr) | (arr != np.round(arr))).tolist()
    if bad:
        raise SchemaError(f"observations to import from {source}: column {col!r} must hold "
                          f"whole numbers; {_rows(rows, bad)} hold e.g. {s.iloc[bad[0]]!r}")
    return [int(v) for v in arr.tolist()]


def _number(rows: pd.DataFrame, col: str, source: str) -> list[float | None]:
    s = rows[col]
    if pd.api.types.is_bool_dtype(s):
        raise SchemaError(f"observations to import from {source}: column {col!r} must hold "
                          f"numbers, has dtype {s.dtype}")
    if pd.api.types.is_numeric_dtype(s):
        arr = s.to_numpy(dtype=float, na_value=np.nan)
    else:  # object column: numbers and missing values only, no texts
        na = s.isna().to_numpy()
        values = s.astype(object).tolist()
        bad = [i for i, (v, m) in enumerate(zip(values, na, strict=True))
               if not m and (isinstance(v, bool) or not isinstance(v, numbers.Real))]
        if bad:
            raise SchemaError(f"observations to import from {source}: column {col!r} must "
                              f"hold numbers; {_rows(rows, bad)} hold e.g. {values[bad[0]]!r}")
        arr = np.array([np.nan if m else float(v) for v, m in zip(values, na, strict=True)],
                       dtype=float)
    inf = np.flatnonzero(np.isinf(arr)).tolist()
    if inf:
        raise SchemaError(f"observations to import from {source}: column {col!r} must hold "
                          f"finite numbers; {_rows(rows, inf)} are infinite")
    return [None if v != v else v for v in arr.tolist()]


def _time(rows: pd.DataFrame, col: str, source: str) -> list[str | None]:
    out: list[str | None] = []
    for i, v in enumerate(rows[col].astype(object).tolist()):
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
            out.append(None)
        elif isinstance(v, str):
            out.append(v.strip() or None)
        elif isinstance(v, datetime):
            out.append(v.isoformat())
        else:
            raise SchemaError(f"observations to import from {source}: column {col!r} must "
                              f"hold times (ISO text or datetime); {_rows(rows, [i])} holds "
                              f"{v!r}")
    return out
