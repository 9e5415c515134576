"""Checking cells against the study: every bad cell is found, none is let through.

Takes the *cells* frame of :mod:`nocilab.ingest.layouts` and returns the observation
rows to store, or the complete list of problems: unknown animal, assay not in the
study, day not in the schedule, trial not a positive whole number, a number that is
not a number, a series with characters other than X/O, a value beyond the cut-off
(the assays' own checks), a reading given twice in the file, a reading already in the
store.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nocilab.assays.registry import get_assay
from nocilab.errors import AssayError, Problem
from nocilab.model import Study

OBSERVATION_ROWS = ("animal", "study_day", "assay", "trial", "quantity", "value_num", "value_text")


def _as_text(raw: pd.Series) -> pd.Series:
    """Cells as trimmed text; whole floats from spreadsheets lose their '.0'."""
    def one(v: object) -> str:
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v).strip()
    return raw.map(one)


def _as_int(raw: pd.Series) -> pd.Series:
    num = pd.to_numeric(_as_text(raw).str.replace("+", "", regex=False), errors="coerce")
    ok = num.notna() & (num == np.round(num))
    return num.where(ok)


def check_cells(cells: pd.DataFrame, study: Study, *, existing: pd.DataFrame | None = None,
                animal_codes: dict[str, str] | None = None
                ) -> tuple[pd.DataFrame, list[Problem]]:
    """Validate cells; return (observation rows, problems).

    ``existing`` holds the store's current observations (animal, study_day, assay,
    trial, quantity, observation_id) to refuse readings already there.
    ``animal_codes`` maps blinding codes to animal ids: sheets written by blinded
    experimenters may name animals by their codes.
    """
    problems: list[Problem] = []
    if cells.empty:
        return pd.DataFrame(columns=list(OBSERVATION_ROWS)), problems
    c = cells.copy()
    c["animal"] = _as_text(c["animal"])
    if animal_codes:
        c["animal"] = c["animal"].map(lambda a: animal_codes.get(a, a))
    c["assay"] = c["assay"].astype(str).str.strip()

    # animals
    known_animals = set(study.animal_ids)
    bad = ~c["animal"].isin(known_animals)
    for where, val in c.loc[bad, ["_animal_where", "animal"]].drop_duplicates().itertuples(index=False):
        problems.append(Problem(where, "unknown animal: not in the study file", val))

    # assays
    assays: dict[str, object] = {}
    for name in c["assay"].unique():
        if name not in study.schedule:
            sel = c["assay"] == name
            problems.append(Problem(c.loc[sel, "where"].iloc[0],
                                    "assay is not in the study's schedule; scheduled assays are "
                                    + ", ".join(sorted(study.schedule)), name))
            continue
        try:
            assays[name] = get_assay(name)
        except AssayError as exc:
            problems.append(Problem(c.loc[c["assay"] == name, "where"].iloc[0], str(exc), name))
    c = c[c["assay"].isin(assays)]

    # days and trials
    day = _as_int(c["study_day"])
    for where, val in c.loc[day.isna(), ["_day_where", "study_day"]].drop_duplicates().itertuples(index=False):
        problems.append(Problem(where, "study day must be a whole number (negative for baselines)", val))
    trial = _as_int(c["trial"])
    bad_trial = trial.isna() | (trial < 1)
    for where, val in c.loc[bad_trial, ["_trial_where", "trial"]].drop_duplicates().itertuples(index=False):
        problems.append(Problem(where or "trial", "trial must be a whole number from 1", val))
    c["study_day"] = day
    c["trial"] = trial
    c = c[day.notna() & ~bad_trial]
    if not c.empty:
        c["study_day"] = c["study_day"].astype(int)
        c["trial"] = c["trial"].astype(int)
        scheduled = pd.Series(
            [d in study.schedule.get(a, ()) for a, d in zip(c["assay"], c["study_day"])], index=c.index)
        for (where, a, d) in c.loc[~scheduled, ["_day_where", "assay", "study_day"]].drop_duplicates(
                ["_day_where", "assay", "study_day"]).itertuples(index=False):
            days = ", ".join(map(str, study.schedule.get(a, ())))
            problems.append(Problem(where, f"day {d} is not in the schedule of {a} (days {days})", d))
        c = c[scheduled]

    # values by quantity kind
    c["value_num"] = np.nan
    c["value_text"] = None
    keep = pd.Series(True, index=c.index)
    for (a, q), sel in c.groupby(["assay", "quantity"]).groups.items():
        spec = assays[a].quantity(q)  # type: ignore[attr-defined]
        if spec is None:
            names = ", ".join(x.name for x in assays[a].quantities)  # type: ignore[attr-defined]
            problems.append(Problem(c.loc[sel[0], "where"], f"{a} has no raw quantity {q!r}; "
                                    f"expected {names}", q))
            keep[sel] = False
            continue
        raw = c.loc[sel, "raw"]
        if spec.kind == "number":
            text = _as_text(raw)
            num = pd.to_numeric(text, errors="coerce")
            bad = num.isna()
            for where, val in c.loc[sel][bad.to_numpy()][["where", "raw"]].itertuples(index=False):
                hint = " (use a point as decimal separator)" if isinstance(val, str) and "," in val else ""
                problems.append(Problem(where, f"{q} must be a number{hint}", val))
            c.loc[sel, "value_num"] = num.to_numpy()
            keep[sel[bad.to_numpy()]] = False
        else:
            c.loc[sel, "value_text"] = _as_text(raw).to_numpy()
    c = c[keep]

    # the same reading twice in the file
    key = ["animal", "study_day", "assay", "trial", "quantity"]
    dup = c.duplicated(key, keep=False)
    for _, grp in c[dup].groupby(key):
        first = grp["where"].iloc[0]
        for where, val in grp[["where", "raw"]].iloc[1:].itertuples(index=False):
            problems.append(Problem(where, f"duplicate reading: the same animal, day, assay and "
                                    f"trial as {first}", val))
    c = c[~c.duplicated(key, keep="first")]

    # already in the store
    if existing is not None and not existing.empty and not c.empty:
        ex = existing[key + ["observation_id"]]
        m = c.reset_index().merge(ex, on=key, how="inner")
        for where, oid, val in m[["where", "observation_id", "raw"]].itertuples(index=False):
            problems.append(Problem(where, f"this reading is already in the store (observation "
                                    f"{oid}); change it with `nocilab correct`, not by importing again", val))

    # the assays' own checks on whole readings
    for a, sub in c.groupby("assay"):
        assay = assays[a]
        settings = study.assays[a]
        wide = _readings(sub)
        required = [q.name for q in assay.quantities if q.required]  # type: ignore[attr-defined]
        for q in required:
            if q not in wide.columns:
                wide[q] = None
        for q in required:
            missing = wide[q].isna()
            for _, r in wide[missing].iterrows():
                problems.append(Problem(r["_where_any"], f"{a} reading of animal {r['animal']}, "
                                        f"day {r['study_day']}, trial {r['trial']} lacks {q}"))
        for p in assay.check(wide, settings):  # type: ignore[attr-defined]
            loc_col = f"_where_{p.quantity}"
            where = wide.at[p.index, loc_col] if loc_col in wide.columns and isinstance(
                wide.at[p.index, loc_col], str) else wide.at[p.index, "_where_any"]
            problems.append(Problem(where, p.why, p.value))

    rows = c[list(OBSERVATION_ROWS)].reset_index(drop=True)
    return rows, problems


def _readings(sub: pd.DataFrame) -> pd.DataFrame:
    """Pivot one assay's cells to readings: one row per animal x day x trial."""
    keys = ["animal", "study_day", "trial"]
    values = sub.assign(value=np.where(sub["value_text"].notna(), sub["value_text"], sub["value_num"]))
    wide = values.pivot_table(index=keys, columns="quantity", values="value", aggfunc="first")
    where = sub.pivot_table(index=keys, columns="quantity", values="where", aggfunc="first")
    where.columns = [f"_where_{q}" for q in where.columns]
    out = pd.concat([wide, where], axis=1).reset_index()
    out.columns.name = None
    first = where.iloc[:, 0]
    for col in where.columns[1:]:  # the first located cell of each reading
        first = first.fillna(where[col])
    out["_where_any"] = first.to_numpy()
    for q in wide.columns:
        kind_num = sub.loc[sub["quantity"] == q, "value_num"].notna().any()
        if kind_num:
            out[q] = pd.to_numeric(out[q], errors="coerce")
    return out
