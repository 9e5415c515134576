"""The one check every write of raw readings passes: import, correction, deletion, web form.

:func:`validate_readings` takes the study, the store's observations and the candidate
changes, and returns the rows to write or raises
:class:`~nocilab.errors.ReadingProblems` listing every problem at once;
:func:`check_readings` does the same and returns the problems instead (the importer adds
them to the problems of the file's layout).

Candidates
----------
One row per raw value to write (:data:`CANDIDATE_COLUMNS`; only what an action needs):

- ``action``: ``insert`` (the default when the column is absent), ``correct`` or
  ``delete``;
- ``observation_id``: the stored observation a correction or deletion replaces;
- ``animal``, ``study_day``, ``assay``, ``trial``, ``quantity``: the reading, for an
  insert (a correction or deletion keeps those of the observation it replaces);
- ``raw``: the value as typed or read (text or number), for an insert or correction;
- ``reason``: why; required to correct or delete;
- ``where`` (optional): how a message names the candidate (``file, sheet, row,
  column``; default ``observation 12`` or ``new reading 3``), and ``_animal_where``,
  ``_day_where``, ``_trial_where`` for the cells of its keys.

The checks, the same whatever writes
------------------------------------
- keys: the animal is in the study file (or is its blinding code), the assay is in the
  schedule, the study day is a whole number in that assay's schedule, the trial a whole
  number from 1;
- the value: a raw quantity of the assay; a number for a numeric quantity (with a
  decimal point), a text for a text quantity; not empty and not a missing marker;
- a reading given twice, an insert of a reading already stored, a correction or
  deletion of an observation that is not current (already corrected or deleted), a
  correction that changes nothing, a correction or deletion without a reason;
- the assay's own checks (range, cut-off, filament set, X/O alphabet, up-down rule,
  required quantities) on every reading touched, *as it will be after the change*:
  the stored quantities of the same reading (e.g. the ``last_filament`` beside a
  corrected ``xo_series``) are checked together with the new ones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nocilab.assays.registry import get_assay
from nocilab.errors import AssayError, Problem, ReadingProblems
from nocilab.ingest.files import is_blank
from nocilab.model import Study

ACTIONS = ("insert", "correct", "delete")
CANDIDATE_COLUMNS = ("action", "observation_id", "animal", "study_day", "assay", "trial",
                     "quantity", "raw", "reason", "where")
"""Columns of a candidates frame (see the module docstring)."""

OBSERVATION_ROWS = ("animal", "study_day", "assay", "trial", "quantity", "value_num",
                    "value_text")
VALIDATED_COLUMNS = ("action", "observation_id") + OBSERVATION_ROWS + ("reason",)
"""Columns of the rows :func:`validate_readings` returns, in the order of the
candidates: ``observation_id`` is the observation replaced (NA for an insert);
``value_num`` / ``value_text`` as they are to be stored."""

_KEY = ["animal", "study_day", "assay", "trial", "quantity"]
_READING = ["animal", "study_day", "assay", "trial"]
_WHERE = ("_animal_where", "_day_where", "_trial_where")


def validate_readings(study: Study, stored: pd.DataFrame | None, candidates: pd.DataFrame,
                      *, source: str, animal_codes: dict[str, str] | None = None
                      ) -> pd.DataFrame:
    """Check candidate readings against the study and the store; return the rows to write.

    Parameters
    ----------
    study : Study
        The loaded study file (animals, schedule, assay settings).
    stored : DataFrame or None
        The store's observations: ``Store.observations(current_only=False)`` (every
        version, so that a correction of a superseded observation names its current
        version) or only the current ones; None for an empty store.
    candidates : DataFrame
        The changes, in the columns of :data:`CANDIDATE_COLUMNS` (module docstring).
    source : str
        What the candidates are, for the message (a file, ``correction of observation
        12``).
    animal_codes : dict, optional
        Blinding codes -> animal ids: sheets written blind may name animals by code.

    Returns
    -------
    DataFrame
        Columns :data:`VALIDATED_COLUMNS`, one row per candidate, values typed.

    Raises
    ------
    ReadingProblems
        Listing every problem found; nothing may then be written.
    """
    rows, problems = check_readings(study, stored, candidates, animal_codes=animal_codes)
    if problems:
        raise ReadingProblems(source, problems)
    if rows.empty:
        raise ReadingProblems(source, [Problem(source, "no readings to write")])
    return rows


def check_readings(study: Study, stored: pd.DataFrame | None, candidates: pd.DataFrame, *,
                   animal_codes: dict[str, str] | None = None
                   ) -> tuple[pd.DataFrame, list[Problem]]:
    """:func:`validate_readings` returning ``(rows, problems)`` instead of raising."""
    problems: list[Problem] = []
    versions, current = _stored(stored)
    c = _normalised(candidates, problems)
    if c.empty:
        return _empty_rows(), problems
    edits = c["action"] != "insert"
    resolved = _resolve_edits(c[edits], versions, problems)
    inserts = c[~edits].copy()
    inserts["animal"] = _as_text(inserts["animal"])
    if animal_codes:
        inserts["animal"] = inserts["animal"].map(lambda a: animal_codes.get(a, a))
    deletes = resolved[resolved["action"] == "delete"]
    writes = pd.concat([inserts, resolved[resolved["action"] == "correct"]], ignore_index=True)
    writes = _check_keys(writes, study, problems)
    writes = _parse_values(writes, study, problems)
    writes = _refuse_repeats(writes, current, set(deletes["observation_id"]), problems)
    _check_state(writes, deletes, current, study, problems)
    out = pd.concat([writes, deletes], ignore_index=True).sort_values("_pos")
    out["value_num"] = pd.to_numeric(out["value_num"], errors="coerce").astype(float)
    out["observation_id"] = out["observation_id"].astype("Int64")
    out["study_day"] = out["study_day"].astype(np.int64)
    out["trial"] = out["trial"].astype(np.int64)
    return out[list(VALIDATED_COLUMNS)].reset_index(drop=True), problems


# -- inputs ---------------------------------------------------------------------------

def _empty_rows() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in VALIDATED_COLUMNS})


def _stored(stored: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(every version known, the current ones), each with the observation columns."""
    cols = list(OBSERVATION_ROWS) + ["observation_id"]
    if stored is None or stored.empty:
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
        return empty, empty
    versions = stored.copy()
    if "superseded_by" not in versions:
        versions["superseded_by"] = pd.NA
    if "deleted" not in versions:
        versions["deleted"] = False
    dead = versions["superseded_by"].notna() | versions["deleted"].astype(bool)
    return versions, versions.loc[~dead, cols]


def _normalised(candidates: pd.DataFrame, problems: list[Problem]) -> pd.DataFrame:
    """Candidates with every column present, default actions and locations, bad actions out."""
    c = candidates.reset_index(drop=True).copy()
    for col in CANDIDATE_COLUMNS:
        if col not in c:
            c[col] = None
    c["action"] = c["action"].astype(object).where(c["action"].notna(), "insert")
    c["action"] = c["action"].map(lambda a: str(a).strip().lower())
    default = [f"observation {o}" if a != "insert" else f"new reading {i + 1}"
               for i, (a, o) in enumerate(zip(c["action"], c["observation_id"], strict=True))]
    c["_default_where"] = c["where"].isna().to_numpy()
    c["where"] = c["where"].astype(object).where(c["where"].notna(), pd.Series(default))
    for col in _WHERE:
        if col not in c:
            c[col] = c["where"]
        c[col] = c[col].astype(object).where(c[col].notna() & (c[col] != ""), c["where"])
    c["_pos"] = np.arange(len(c))
    c.loc[c["action"] == "insert", "observation_id"] = None
    bad = ~c["action"].isin(ACTIONS)
    for where, action in c.loc[bad, ["where", "action"]].itertuples(index=False):
        problems.append(Problem(where, "action must be one of " + ", ".join(ACTIONS), action))
    return c[~bad].astype({"where": object})


def _as_text(raw: pd.Series) -> pd.Series:
    """Cells as trimmed text; whole floats from spreadsheets lose their '.0'."""
    def one(v: object) -> str:
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v).strip()
    return raw.astype(object).map(one)


def _as_int(raw: pd.Series) -> pd.Series:
    num = pd.to_numeric(_as_text(raw).str.replace("+", "", regex=False), errors="coerce")
    ok = num.notna() & np.isfinite(num) & (num == np.round(num))
    return num.where(ok)


# -- corrections and deletions --------------------------------------------------------

def _resolve_edits(edits: pd.DataFrame, versions: pd.DataFrame,
                   problems: list[Problem]) -> pd.DataFrame:
    """Corrections and deletions of current observations, with the stored keys filled in."""
    out = edits.copy()
    out["old_num"] = np.nan
    out["old_text"] = pd.Series([None] * len(out), index=out.index, dtype=object)
    if out.empty:
        return out
    by_id = versions.set_index("observation_id")
    successor = {int(k): int(v) for k, v in by_id["superseded_by"].dropna().items()}
    pred = {v: k for k, v in successor.items()}
    keep = pd.Series(True, index=out.index)
    seen: dict[int, str] = {}
    for i, (label, n) in enumerate(zip(out.index, _as_int(out["observation_id"]), strict=True)):
        r = out.loc[label]
        doing = "corrected" if r["action"] == "correct" else "deleted"
        why = _not_current(n, by_id, successor, pred, seen, doing)
        if why is not None:
            problems.append(Problem(r["where"], why, r["observation_id"] if n != n else None))
            keep.iloc[i] = False
            continue
        n = int(n)
        row = by_id.loc[n]
        for col in _READING + ["quantity"]:
            out.at[label, col] = row[col]
        out.at[label, "observation_id"] = n
        out.at[label, "old_num"] = row["value_num"]
        out.at[label, "old_text"] = None if pd.isna(row["value_text"]) else row["value_text"]
        if r["_default_where"]:
            where = (f"observation {n} (animal {row['animal']}, day {row['study_day']}, "
                     f"{row['assay']} {row['quantity']}, trial {row['trial']})")
            for col in ("where",) + _WHERE:
                out.at[label, col] = where
        seen[n] = out.at[label, "where"]
        if not isinstance(r["reason"], str) or not r["reason"].strip():
            # reported, and the change still checked: every problem at once
            problems.append(Problem(out.at[label, "where"], f"a reason is required: say why it "
                                    f"is {doing} (the reason is kept in the audit trail)"))
    out = out[keep].copy()
    out["reason"] = out["reason"].map(lambda x: x.strip() if isinstance(x, str) else None)
    out["value_num"] = np.nan  # a correction's come from its raw value; a deletion has none
    out["value_text"] = pd.Series([None] * len(out), index=out.index, dtype=object)
    return out


def _not_current(n: float, by_id: pd.DataFrame, successor: dict[int, int],
                 pred: dict[int, int], seen: dict[int, str], doing: str) -> str | None:
    """Why observation ``n`` cannot be corrected or deleted, or None when it can."""
    if n != n:
        return "the observation id must be a whole number (see `nocilab observations`)"
    n = int(n)
    if n not in by_id.index:
        return f"there is no observation {n}"
    if bool(by_id.at[n, "deleted"]):
        return f"this is the deletion record of observation {pred.get(n, '?')}; it cannot be {doing}"
    if n in successor:
        end = n
        while end in successor:
            end = successor[end]
        if bool(by_id.at[end, "deleted"]):
            return f"it was deleted (deletion record {end}); it cannot be {doing}"
        return (f"it was already corrected: its current version is observation {end}; "
                f"that one can be {doing}")
    if n in seen:
        return f"it is changed twice here (first at {seen[n]})"
    return None


# -- keys and values ------------------------------------------------------------------

def _check_keys(c: pd.DataFrame, study: Study, problems: list[Problem]) -> pd.DataFrame:
    """Readings whose animal, assay, day and trial are the study's; the rest reported."""
    if c.empty:
        return c
    c = c.copy()
    c["assay"] = c["assay"].astype(str).str.strip()
    unknown = ~c["animal"].isin(set(study.animal_ids))
    for where, val in c.loc[unknown, ["_animal_where", "animal"]].drop_duplicates().itertuples(index=False):
        problems.append(Problem(where, "unknown animal: not in the study file", val))
    for name in c["assay"].unique():
        sel = c["assay"] == name
        if name not in study.schedule:
            problems.append(Problem(c.loc[sel, "where"].iloc[0],
                                    "assay is not in the study's schedule; scheduled assays are "
                                    + ", ".join(sorted(study.schedule)), name))
            c = c[~sel]
            continue
        try:
            get_assay(name)
        except AssayError as exc:
            problems.append(Problem(c.loc[sel, "where"].iloc[0], str(exc), name))
            c = c[~sel]
    day = _as_int(c["study_day"])
    for where, val in c.loc[day.isna(), ["_day_where", "study_day"]].drop_duplicates().itertuples(index=False):
        problems.append(Problem(where, "study day must be a whole number (negative for baselines)", val))
    trial = _as_int(c["trial"])
    bad_trial = trial.isna() | (trial < 1)
    for where, val in c.loc[bad_trial, ["_trial_where", "trial"]].drop_duplicates().itertuples(index=False):
        problems.append(Problem(where or "trial", "trial must be a whole number from 1", val))
    c = c[day.notna() & ~bad_trial].copy()
    if c.empty:
        return c
    c["study_day"] = day[c.index].astype(int)
    c["trial"] = trial[c.index].astype(int)
    scheduled = pd.Series([d in study.schedule.get(a, ()) for a, d in zip(
        c["assay"], c["study_day"], strict=True)], index=c.index)
    for where, a, d in c.loc[~scheduled, ["_day_where", "assay", "study_day"]].drop_duplicates(
            ["_day_where", "assay", "study_day"]).itertuples(index=False):
        days = ", ".join(map(str, study.schedule.get(a, ())))
        problems.append(Problem(where, f"day {d} is not in the schedule of {a} (days {days})", d))
    return c[scheduled]


def _parse_values(c: pd.DataFrame, study: Study, problems: list[Problem]) -> pd.DataFrame:
    """Values typed by their quantity's kind (number or text); bad ones reported."""
    if c.empty:
        return c.assign(value_num=pd.Series(dtype=float), value_text=pd.Series(dtype=object))
    c = c.copy()
    c["value_num"] = np.nan
    c["value_text"] = pd.Series([None] * len(c), index=c.index, dtype=object)
    keep = pd.Series(True, index=c.index)
    empty = is_blank(c["raw"].astype(object))
    for where, action in c.loc[empty, ["where", "action"]].itertuples(index=False):
        problems.append(Problem(where, "no value: to remove a reading delete it "
                                "(`nocilab delete`)" if action == "correct" else
                                "no value (empty or a missing marker): leave the reading out"))
    keep &= ~empty
    for (a, q), sel in c[~empty].groupby(["assay", "quantity"]).groups.items():
        assay = get_assay(a)
        spec = assay.quantity(q)
        if spec is None:
            names = ", ".join(x.name for x in assay.quantities)
            problems.append(Problem(c.loc[sel[0], "where"], f"{a} has no raw quantity {q!r}; "
                                    f"expected {names}", q))
            keep[sel] = False
            continue
        raw = c.loc[sel, "raw"]
        text = _as_text(raw)
        if spec.kind == "number":
            num = pd.to_numeric(text, errors="coerce")
            bad = num.isna().to_numpy()
            for where, val in c.loc[sel[bad], ["where", "raw"]].itertuples(index=False):
                hint = " (use a point as decimal separator)" if isinstance(val, str) and "," in val else ""
                problems.append(Problem(where, f"{q} must be a number{hint}", val))
            c.loc[sel, "value_num"] = num.to_numpy(dtype=float)
            keep[sel[bad]] = False
        else:
            c.loc[sel, "value_text"] = text.to_numpy(dtype=object)
    return c[keep]


def _refuse_repeats(c: pd.DataFrame, current: pd.DataFrame, replaced: set,
                    problems: list[Problem]) -> pd.DataFrame:
    """Drop and report readings given twice, inserts already stored, corrections that
    change nothing."""
    if c.empty:
        return c
    dup = c.duplicated(_KEY, keep=False)
    for _, grp in c[dup].groupby(_KEY):
        first = grp["where"].iloc[0]
        for where, val in grp[["where", "raw"]].iloc[1:].itertuples(index=False):
            problems.append(Problem(where, f"duplicate reading: the same animal, day, assay, "
                                    f"trial and quantity as {first}", val))
    c = c[~c.duplicated(_KEY, keep="first")]
    ins = c[c["action"] == "insert"]
    if not current.empty and not ins.empty:
        live = current[~current["observation_id"].isin(replaced)]
        m = ins.reset_index().merge(live[_KEY + ["observation_id"]].astype({"study_day": int, "trial": int}),
                                    on=_KEY, how="inner", suffixes=("", "_stored"))
        for where, oid, val in m[["where", "observation_id_stored", "raw"]].itertuples(index=False):
            problems.append(Problem(where, f"this reading is already in the store (observation "
                                    f"{oid}); change it with `nocilab correct`, not by importing again", val))
        c = c.drop(index=m["index"])
    fix = c["action"] == "correct"
    if fix.any():
        same_num = (c["value_num"] == c["old_num"]) | (c["value_num"].isna() & c["old_num"].isna())
        same_text = c["value_text"].fillna("\0") == c["old_text"].fillna("\0")
        same = fix & same_num & same_text
        for where, val in c.loc[same, ["where", "raw"]].itertuples(index=False):
            problems.append(Problem(where, "the correction does not change the stored value", val))
        c = c[~same]
    return c


# -- the readings as they will be -----------------------------------------------------

def _check_state(writes: pd.DataFrame, deletes: pd.DataFrame, current: pd.DataFrame,
                 study: Study, problems: list[Problem]) -> None:
    """The assays' checks on each touched reading with the stored values it keeps."""
    touched = pd.concat([writes[_READING], deletes[_READING]], ignore_index=True)
    if touched.empty:
        return
    touched = touched.astype({"study_day": int, "trial": int}).drop_duplicates()
    replaced = set(writes["observation_id"].dropna()) | set(deletes["observation_id"].dropna())
    kept = current[~current["observation_id"].isin(replaced)]
    if not kept.empty:
        kept = kept.astype({"study_day": int, "trial": int}).merge(touched, on=_READING)
    parts = [writes[_KEY + ["value_num", "value_text", "where"]]]
    if not kept.empty:
        labels = [f"observation {o} (animal {a}, day {d}, {s} {q}, trial {t}; stored)"
                  for o, a, d, s, q, t in kept[["observation_id", "animal", "study_day", "assay",
                                                "quantity", "trial"]].itertuples(index=False)]
        kept = kept.assign(where=labels, value_text=kept["value_text"].astype(object))
        parts.append(kept[_KEY + ["value_num", "value_text", "where"]])
    cells = pd.concat(parts, ignore_index=True)
    stored_where = set(kept["where"]) if not kept.empty else set()
    for a, sub in cells.groupby("assay"):
        if a not in study.schedule:
            continue  # a deletion of a reading of an assay no longer scheduled
        assay = get_assay(a)
        wide = readings_with_locations(sub, kinds={q.name: q.kind for q in assay.quantities})
        for q in (q.name for q in assay.quantities if q.required):
            if q not in wide.columns:
                wide[q] = None
            for _, r in wide[wide[q].isna()].iterrows():
                problems.append(Problem(r["_where_any"], f"{a} reading of animal {r['animal']}, "
                                        f"day {r['study_day']}, trial {r['trial']} lacks {q}"))
        found = []
        for p in assay.check(wide, study.assays[a]):
            loc = wide.at[p.index, f"_where_{p.quantity}"] if f"_where_{p.quantity}" in wide else None
            where = loc if isinstance(loc, str) else wide.at[p.index, "_where_any"]
            key = (a,) + tuple(wide.loc[p.index, ["animal", "study_day", "trial"]])
            found.append((where, p.why, _plain(p.value), key if where in stored_where else None))
        # a problem found in a stored value: the change made it one; say which change
        hints = _hints({k for *_, k in found if k is not None}, writes, deletes, kept)
        problems += [Problem(where, why + hints.get(k, ""), value) for where, why, value, k in found]


def _hints(readings: set[tuple], writes: pd.DataFrame, deletes: pd.DataFrame,
           kept: pd.DataFrame) -> dict[tuple, str]:
    """Per reading (assay, animal, day, trial): what the change does to its stored values,
    said after a problem found in one of them (the stored value was fine)."""
    keys = ["assay", "animal", "study_day", "trial"]
    if not readings:
        return {}
    wanted = pd.DataFrame(sorted(readings), columns=keys)

    def only(frame: pd.DataFrame) -> pd.DataFrame:
        if frame.empty:
            return frame
        return frame.astype({"study_day": int, "trial": int}).merge(wanted, on=keys)

    writes, deletes, kept = only(writes), only(deletes), only(kept)

    def ids(frame: pd.DataFrame) -> dict[tuple, str]:
        if frame.empty:
            return {}
        frame = frame.dropna(subset=["observation_id"])
        return {k: ", ".join(str(int(x)) for x in v)
                for k, v in frame.groupby(keys)["observation_id"]}

    out: dict[tuple, str] = {}
    left = ids(kept)
    for k, gone in ids(deletes).items():
        if k in left:
            many = "s" if "," in left[k] else ""
            out[k] = (f"; deleting observation {gone} would leave this reading incomplete: "
                      f"delete observation{many} {left[k]} with it")
    if not writes.empty:
        for k, grp in writes.groupby(keys):
            out.setdefault(k, "; this stored value disagrees with the new "
                           + " and ".join(f"{q} at {where}" for q, where in
                                          zip(grp["quantity"], grp["where"], strict=True)))
    return out


def readings_with_locations(cells: pd.DataFrame, *, kinds: dict[str, str]) -> pd.DataFrame:
    """One assay's cells pivoted to readings (one row per animal x day x trial).

    ``cells`` has animal, study_day, trial, quantity, value_num, value_text and where;
    the result has one column per quantity and ``_where_Q`` per quantity, plus
    ``_where_any`` (the first located cell of the reading). A numeric quantity
    (``kinds``) holding a text stays text, for the assay's check to report.
    """
    keys = ["animal", "study_day", "trial"]
    text = cells["value_text"].astype(object)
    value = text.where(text.notna(), cells["value_num"].astype(object))
    values = cells.assign(value=value)
    wide = values.pivot_table(index=keys, columns="quantity", values="value", aggfunc="first")
    where = values.pivot_table(index=keys, columns="quantity", values="where", aggfunc="first")
    where.columns = [f"_where_{q}" for q in where.columns]
    out = pd.concat([wide, where], axis=1).reset_index()
    out.columns.name = None
    first = where.iloc[:, 0]
    for col in where.columns[1:]:
        first = first.fillna(where[col])
    out["_where_any"] = first.to_numpy()
    for q in wide.columns:
        if kinds.get(q) == "number":
            num = pd.to_numeric(out[q], errors="coerce")
            if not (num.isna() & out[q].notna()).any():
                out[q] = num
    return out


def _plain(value: object) -> object:
    """NumPy scalars as Python values, so messages never show ``np.float64(...)``."""
    return value.item() if isinstance(value, np.generic) else value
