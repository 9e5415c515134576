"""The derived table: the store's current raw readings through the assay calculators.

One function, :func:`derive_table`, produces the tidy table (``nocilab.schema.DERIVED``)
that statistics and reports read: one row per animal x assay x study day x outcome,
with the animal's preparation, donor unit, arm, sex and cage attached.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nocilab import schema
from nocilab.assays.registry import derive_readings, get_assay
from nocilab.errors import AssayError, Problem, StoredReadingProblems
from nocilab.model import Study


def readings_frame(observations: pd.DataFrame, assay: str) -> pd.DataFrame:
    """One assay's current observations as readings: animal, study_day, trial + quantities."""
    return _readings(observations, assay)[0]


def _readings(observations: pd.DataFrame, assay: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The readings of one assay and, aligned with them, the observation id of each value.

    Each quantity is one column whatever the stored kind of its values: a number quantity
    holding a text (a store written before values were checked) stays a text, for the
    assay's checks to report; a text quantity holding a number gets it as text.
    """
    sub = observations[observations["assay"] == assay]
    keys = ["animal", "study_day", "trial"]
    if sub.empty:
        return pd.DataFrame(columns=keys), pd.DataFrame()
    kinds = {q.name: q.kind for q in get_assay(assay).quantities}
    text = sub["value_text"].astype(object)
    value = text.where(text.notna(), sub["value_num"].astype(object))
    if len(sub) <= _FEW:
        wide, ids = _pivot_few(sub, value, keys)
    else:
        wide = (sub.assign(value=value)
                .pivot_table(index=keys, columns="quantity", values="value", aggfunc="first"))
        if "observation_id" in sub:
            ids = sub.pivot_table(index=keys, columns="quantity", values="observation_id",
                                  aggfunc="first").reindex(index=wide.index)
        else:
            ids = pd.DataFrame(index=wide.index)
        wide = wide.reset_index()
    wide.columns.name = None
    for q in wide.columns.difference(keys):
        col = wide[q]
        if kinds.get(q) == "text":
            wide[q] = col.map(lambda v: str(int(v)) if isinstance(v, float) and v.is_integer()
                              else v)
            continue
        num = pd.to_numeric(col, errors="coerce")
        wide[q] = num if not (num.isna() & col.notna()).any() else col
    return wide, ids.reset_index(drop=True)


_FEW = 64
"""Up to this many observations are pivoted by :func:`_pivot_few` (the frame's pivot
costs milliseconds whatever its size: too much for one animal's page at the bench)."""


def _pivot_few(sub: pd.DataFrame, value: pd.Series,
               keys: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two pivots of :func:`_readings` for a few rows, in plain Python: the first
    value of each reading and quantity (keys as columns) and the first observation id
    (index aligned with the values), with the pivots' rows, columns and dtypes."""
    has_ids = "observation_id" in sub
    oids = sub["observation_id"].tolist() if has_ids else [None] * len(sub)
    values: dict[tuple, dict[str, object]] = {}
    first_id: dict[tuple, dict[str, object]] = {}
    for a, d, t, q, v, oid in zip(sub["animal"], sub["study_day"], sub["trial"],
                                  sub["quantity"], value.tolist(), oids, strict=True):
        first_id.setdefault((a, d, t), {}).setdefault(q, oid)
        if v is None or (isinstance(v, float) and v != v):
            continue  # "first" skips missing values; a reading without any is dropped
        values.setdefault((a, d, t), {}).setdefault(q, v)
    index = sorted(values)
    names = sorted({q for c in values.values() for q in c})
    wide = pd.DataFrame({
        **{k: pd.Series([i[n] for i in index], dtype=sub[k].dtype)
           for n, k in enumerate(keys)},
        **{q: pd.Series([values[i].get(q, np.nan) for i in index], dtype=object)
           for q in names}})
    if not has_ids:
        return wide, pd.DataFrame(index=range(len(index)))
    every = sorted({q for c in first_id.values() for q in c})
    complete = all(len(c) == len(every) for c in first_id.values())
    ids = pd.DataFrame({q: pd.Series([first_id[i].get(q, np.nan) for i in index],
                                     dtype="int64" if complete else "float64")
                        for q in every}, index=range(len(index)))
    ids.columns.name = "quantity"
    return wide, ids


def _located(problems: list, readings: pd.DataFrame, ids: pd.DataFrame, assay: str) -> list[Problem]:
    """The assay's cell problems named by observation id, animal, day, assay and quantity."""
    out = []
    for p in problems:
        row = readings.loc[p.index]
        oid = None
        if p.quantity in ids.columns and pd.notna(ids.at[p.index, p.quantity]):
            oid = int(ids.at[p.index, p.quantity])
        elif len(ids.columns):
            present = ids.loc[p.index].dropna()
            oid = int(present.iloc[0]) if len(present) else None
        what = f"{assay} {p.quantity}"
        reading = f"animal {row['animal']}, day {row['study_day']}, {what}, trial {row['trial']}"
        where = reading if oid is None else f"observation {oid} ({reading})"
        value = p.value.item() if isinstance(p.value, np.generic) else p.value
        out.append(Problem(where, p.why, value))
    return out


def derive_observations(observations: pd.DataFrame, study: Study, *,
                        assignments: pd.DataFrame | None = None) -> pd.DataFrame:
    """Derive values from a frame of observations (``nocilab.schema.OBSERVATIONS``).

    ``assignments`` (columns animal, preparation, donor, arm) says which preparation,
    donor unit and arm each animal has; by default the study file's. While a study is
    blinded these hold codes (see :func:`nocilab.design.blinding.assignments`).

    Raises
    ------
    StoredReadingProblems
        Readings that the assays refuse (a store written before every value was
        checked), every one named by observation id, animal, study day, assay and
        quantity; nothing is derived.
    """
    out = []
    problems: list[Problem] = []
    body_weight = None
    for assay in sorted(set(observations["assay"])):
        if assay not in study.schedule:
            continue
        readings, ids = _readings(observations, assay)
        settings = study.assays[assay]
        if assay == "grip" and getattr(settings, "per_body_weight", False):
            if body_weight is None:
                body_weight = _body_weight(observations, study)
            readings = readings.merge(body_weight, on=["animal", "study_day"], how="left")
        try:
            values = derive_readings(assay, readings, settings)
        except AssayError:
            found = get_assay(assay).check(readings, settings)
            if not found:
                raise
            problems += _located(found, readings, ids, assay)
            continue
        values.insert(2, "assay", assay)
        out.append(values)
    if problems:
        raise StoredReadingProblems(str(study.path), problems)
    if not out:
        return schema.empty(schema.DERIVED)
    derived = pd.concat(out, ignore_index=True)
    animals = study.animal_table()[["animal", "donor", "preparation", "arm", "sex", "cage"]]
    if assignments is not None:
        animals = animals.drop(columns=["donor", "preparation", "arm"]).merge(
            assignments[["animal", "donor", "preparation", "arm"]], on="animal", how="left")
    derived = derived.merge(animals, on="animal", how="left")
    derived["study_day"] = derived["study_day"].astype(int)
    derived["bound"] = derived["bound"].astype(float)
    derived = schema.validate(derived, schema.DERIVED, table="derived")
    return derived.sort_values(["assay", "outcome", "animal", "study_day"], kind="stable").reset_index(drop=True)


def _body_weight(observations: pd.DataFrame, study: Study) -> pd.DataFrame:
    """Body weight per animal and day: the day's weighing, else the nearest earlier one,
    else the weight in the study file."""
    bw = observations[(observations["assay"] == "body_weight") & (observations["quantity"] == "weight_g")]
    days = sorted(set(observations["study_day"]))
    animals = study.animal_table()[["animal", "weight_g"]]
    grid = pd.MultiIndex.from_product([animals["animal"], days], names=["animal", "study_day"]).to_frame(index=False)
    if not bw.empty:
        daily = bw.groupby(["animal", "study_day"], as_index=False)["value_num"].mean()
        grid = grid.merge(daily, on=["animal", "study_day"], how="left")
        grid["value_num"] = grid.groupby("animal")["value_num"].ffill()
    else:
        grid["value_num"] = np.nan
    grid = grid.merge(animals, on="animal", how="left")
    grid["weight_g"] = grid["value_num"].fillna(grid["weight_g"])
    return grid[["animal", "study_day", "weight_g"]]


def derive_table(study: Study, store) -> pd.DataFrame:
    """The derived table of a study: every current reading in ``store`` derived.

    While the study is blinded (allocated by ``nocilab allocate`` and not yet
    unblinded) ``preparation`` and ``donor`` hold vial codes and ``arm`` is
    ``'blinded'``: the derived table never reveals the allocation.

    Parameters
    ----------
    study
        The loaded study file (settings, schedule, animals).
    store
        An open :class:`nocilab.store.Store`.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`nocilab.schema.DERIVED` plus ``n_trials`` and ``note``. After
        the behavioural rows come the laboratory ones (:func:`nocilab.lab.lab_derived_rows`:
        ``serum_igg`` ``human_igg_ug_per_ml``, ``cytokines`` ``il6_pg_per_ml`` ...,
        ``clearance`` ``half_life_days``), read from the plates not excluded.
    """
    from nocilab.design.blinding import assignments
    from nocilab.lab import lab_derived_rows

    assign = assignments(study, store, reveal=True)
    derived = derive_observations(store.observations(), study, assignments=assign)
    wells = store.plate_wells()
    if wells.empty:
        return derived
    lab = lab_derived_rows(study, wells, None, None, assign)
    if lab.empty:
        return derived
    return pd.concat([derived, lab], ignore_index=True)
