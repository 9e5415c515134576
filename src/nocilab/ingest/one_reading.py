"""One new reading typed in: the checks of :mod:`nocilab.ingest.validate` without frames.

:func:`check_reading` is :func:`~nocilab.ingest.validate.check_readings` for the few
cells of a reading entered by hand (the bench's forms): the same checks, run in plain
Python on those cells and the stored readings of the same animal, with only the assay's
own check (range, cut-off, filament set, X/O alphabet, up-down rule) run on a one-row
frame, as ``check_readings`` runs it. When every check passes it returns exactly the
rows ``check_readings`` would. When any check fails, or a cell is not a plain insert, it
returns what ``check_readings`` returns for the same candidates: every problem is found
and worded in one place, and a refused reading costs the frame's time, not a kept one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from nocilab.assays.registry import get_assay
from nocilab.errors import AssayError, Problem
from nocilab.ingest.files import is_missing_marker
from nocilab.ingest.validate import VALIDATED_COLUMNS, check_readings
from nocilab.model import Study

__all__ = ["check_reading"]

_CELL_KEYS = frozenset(("animal", "study_day", "assay", "trial", "quantity", "raw", "where",
                        "_animal_where", "_day_where", "_trial_where"))
_WHERE = ("_animal_where", "_day_where", "_trial_where")


def check_reading(study: Study, stored: pd.DataFrame | None,
                  cells: Sequence[Mapping[str, Any]], *,
                  animal_codes: dict[str, str] | None = None
                  ) -> tuple[pd.DataFrame, list[Problem]]:
    """:func:`~nocilab.ingest.validate.check_readings` of new cells, fast when they pass.

    Parameters
    ----------
    study : Study
        The loaded study file.
    stored : DataFrame or None
        The store's observations of the animal (and assay) of the cells, every version or
        the current ones; readings of other animals may be left out, as no check of a new
        reading looks at them.
    cells : sequence of mappings
        One per raw value, with the keys of a candidates frame of an insert: ``animal``,
        ``study_day``, ``assay``, ``trial``, ``quantity``, ``raw`` and optionally
        ``where``, ``_animal_where``, ``_day_where``, ``_trial_where``.
    animal_codes : dict, optional
        Blinding codes -> animal ids.

    Returns
    -------
    (DataFrame, list of Problem)
        As :func:`~nocilab.ingest.validate.check_readings` returns them.
    """
    rows = _passing_rows(study, stored, cells, animal_codes or {})
    if rows is None:
        return check_readings(study, stored, pd.DataFrame(list(cells)),
                              animal_codes=animal_codes)
    return _frame(rows), []


# -- the plain checks -----------------------------------------------------------------

def _text(value: Any) -> str:
    """A cell as trimmed text, as ``validate._as_text`` makes it."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _numbers(texts: list[str]) -> list[Any]:
    """Texts as numbers by pandas' own parser (NaN where not a number), as the frame's
    checks read them: the same texts are numbers on both paths."""
    if not texts:
        return []
    return pd.to_numeric(pd.Series(texts, dtype=object), errors="coerce").tolist()


def _is_whole(value: Any) -> bool:
    return (isinstance(value, int | float | np.integer | np.floating)
            and not isinstance(value, bool) and math.isfinite(value)
            and float(value) == round(float(value)))


def _passing_rows(study: Study, stored: pd.DataFrame | None,
                  cells: Sequence[Mapping[str, Any]],
                  animal_codes: dict[str, str]) -> list[dict[str, Any]] | None:
    """The rows to write when every check passes, else None (the frame's checks decide)."""
    if not cells or any(set(c) - _CELL_KEYS for c in cells):
        return None
    known = set(study.animal_ids)
    out: list[dict[str, Any]] = []
    parsed: list[tuple[str, Any, str, Any, str, str, str, str]] = []
    for i, c in enumerate(cells):
        where = c.get("where")
        if not isinstance(where, str):
            where = f"new reading {i + 1}"
        animal = _text(c.get("animal"))
        animal = animal_codes.get(animal, animal)
        if animal not in known:
            return None
        assay = str(c.get("assay")).strip()
        if assay not in study.schedule:
            return None
        quantity = c.get("quantity")
        if not isinstance(quantity, str):
            return None
        try:
            spec = get_assay(assay).quantity(quantity)
        except AssayError:
            return None
        if spec is None:
            return None
        raw = c.get("raw")
        if not isinstance(raw, str | int | float) or isinstance(raw, bool) \
                or is_missing_marker(raw):
            return None
        parsed.append((animal, c.get("study_day"), assay, c.get("trial"), quantity,
                       spec.kind, where, _text(raw)))
    # numbers read as the frame's checks read them: all days, all trials, and each
    # quantity's values parsed together
    days = _numbers([_text(p[1]).replace("+", "") for p in parsed])
    trials = _numbers([_text(p[3]).replace("+", "") for p in parsed])
    values: list[Any] = [None] * len(parsed)
    groups: dict[tuple[str, str], list[int]] = {}
    for i, p in enumerate(parsed):
        if p[5] == "number":
            groups.setdefault((p[2], p[4]), []).append(i)
    for members in groups.values():
        for i, v in zip(members, _numbers([parsed[i][7] for i in members]), strict=True):
            values[i] = v
    seen: set[tuple[Any, ...]] = set()
    for (animal, _d, assay, _t, quantity, kind, where, text), day, trial, value in zip(
            parsed, days, trials, values, strict=True):
        if not _is_whole(day) or not _is_whole(trial) or trial < 1:
            return None
        day, trial = int(day), int(trial)
        if day not in study.schedule.get(assay, ()):
            return None
        if kind == "number":
            if not isinstance(value, int | float) or value != value:
                return None
            value_num, value_text = float(value), None
        else:
            value_num, value_text = math.nan, text
        key = (animal, day, assay, trial, quantity)
        if key in seen:
            return None
        seen.add(key)
        out.append({"action": "insert", "observation_id": None, "animal": animal,
                    "study_day": day, "assay": assay, "trial": trial, "quantity": quantity,
                    "value_num": value_num, "value_text": value_text, "reason": None,
                    "_where": where})
    kept = _current(stored, {k[:4] for k in seen})
    if any(k in kept for k in seen):
        return None  # already stored: a problem the frame's checks name
    if not _assay_checks(study, out, kept):
        return None
    for r in out:
        del r["_where"]
    return out


def _current(stored: pd.DataFrame | None,
             readings: set[tuple[Any, ...]]) -> dict[tuple[Any, ...], tuple[Any, Any, int]]:
    """Current stored values of the touched readings: key -> (value_num, value_text, id)."""
    if stored is None or stored.empty:
        return {}
    n = len(stored)
    superseded = (stored["superseded_by"].isna().to_numpy() if "superseded_by" in stored
                  else np.ones(n, dtype=bool))
    live = ~stored["deleted"].astype(bool).to_numpy() if "deleted" in stored \
        else np.ones(n, dtype=bool)
    current = superseded & live
    out = {}
    for ok, a, d, s, t, q, vn, vt, oid in zip(
            current, stored["animal"], stored["study_day"], stored["assay"], stored["trial"],
            stored["quantity"], stored["value_num"], stored["value_text"],
            stored["observation_id"], strict=True):
        if ok and (a, int(d), s, int(t)) in readings:
            out[(a, int(d), s, int(t), q)] = (vn, vt, int(oid))
    return out


def _assay_checks(study: Study, rows: list[dict[str, Any]],
                  kept: dict[tuple[Any, ...], tuple[Any, Any, int]]) -> bool:
    """Whether each touched reading, with the stored values it keeps, has every required
    quantity and passes its assay's own check (run on a frame, as the frame's checks do)."""
    for assay_name in sorted({r["assay"] for r in rows}):
        assay = get_assay(assay_name)
        kinds = {q.name: q.kind for q in assay.quantities}
        readings: dict[tuple[Any, ...], dict[str, tuple[Any, str]]] = {}
        for r in rows:
            if r["assay"] == assay_name:
                value = r["value_text"] if r["value_text"] is not None else r["value_num"]
                readings.setdefault((r["animal"], r["study_day"], r["trial"]), {})[
                    r["quantity"]] = (value, r["_where"])
        for (a, d, s, t, q), (vn, vt, oid) in kept.items():
            if s == assay_name:
                value = vn if pd.isna(vt) else vt
                if pd.isna(value):
                    return False  # a stored cell without a value: left to the frame
                reading = readings.setdefault((a, d, t), {})
                if q in reading:
                    return False  # a value given twice: left to the frame
                reading[q] = (value, f"observation {oid} (animal {a}, day {d}, {s} {q}, "
                                     f"trial {t}; stored)")
        for values in readings.values():
            if any(q.required and q.name not in values for q in assay.quantities):
                return False
        if assay.check(_wide(readings, kinds), study.assays[assay_name]):
            return False
    return True


def _wide(readings: dict[tuple[Any, ...], dict[str, tuple[Any, str]]],
          kinds: dict[str, str]) -> pd.DataFrame:
    """The readings as ``validate.readings_with_locations`` pivots them (one row each)."""
    keys = sorted(readings)
    quantities = sorted({q for v in readings.values() for q in v})
    data: dict[str, list[Any]] = {"animal": [k[0] for k in keys],
                                  "study_day": [k[1] for k in keys],
                                  "trial": [k[2] for k in keys]}
    for q in quantities:
        data[q] = [readings[k][q][0] if q in readings[k] else np.nan for k in keys]
    for q in quantities:
        data[f"_where_{q}"] = [readings[k][q][1] if q in readings[k] else np.nan
                               for k in keys]
    data["_where_any"] = [readings[k][min(readings[k])][1] for k in keys]
    wide = pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in data.items()})
    wide["study_day"] = wide["study_day"].astype(np.int64)
    wide["trial"] = wide["trial"].astype(np.int64)
    for q in quantities:
        if kinds.get(q) == "number":
            num = pd.to_numeric(wide[q], errors="coerce")
            if not (num.isna() & wide[q].notna()).any():
                wide[q] = num
    return wide


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The rows in the columns and dtypes of ``check_readings``' result."""
    out = pd.DataFrame({c: pd.Series([r[c] for r in rows], dtype=object)
                        for c in VALIDATED_COLUMNS})
    out["value_num"] = out["value_num"].astype(float)
    out["observation_id"] = out["observation_id"].astype("Int64")
    out["study_day"] = out["study_day"].astype(np.int64)
    out["trial"] = out["trial"].astype(np.int64)
    return out
