"""The derived table: the store's current raw readings through the assay calculators.

One function, :func:`derive_table`, produces the tidy table (``nocilab.schema.DERIVED``)
that statistics and reports read: one row per animal x assay x study day x outcome,
with the animal's preparation, donor unit, arm, sex and cage attached.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nocilab import schema
from nocilab.assays.registry import derive_readings
from nocilab.model import Study


def readings_frame(observations: pd.DataFrame, assay: str) -> pd.DataFrame:
    """One assay's current observations as readings: animal, study_day, trial + quantities."""
    sub = observations[observations["assay"] == assay]
    keys = ["animal", "study_day", "trial"]
    if sub.empty:
        return pd.DataFrame(columns=keys)
    num = sub[sub["value_num"].notna()]
    txt = sub[sub["value_num"].isna() & sub["value_text"].notna()]
    parts = []
    if not num.empty:
        parts.append(num.pivot_table(index=keys, columns="quantity", values="value_num", aggfunc="first"))
    if not txt.empty:
        parts.append(txt.pivot(index=keys, columns="quantity", values="value_text"))
    wide = pd.concat(parts, axis=1).reset_index()
    wide.columns.name = None
    return wide


def derive_observations(observations: pd.DataFrame, study: Study, *,
                        assignments: pd.DataFrame | None = None) -> pd.DataFrame:
    """Derive values from a frame of observations (``nocilab.schema.OBSERVATIONS``).

    ``assignments`` (columns animal, preparation, donor, arm) says which preparation,
    donor unit and arm each animal has; by default the study file's. While a study is
    blinded these hold codes (see :func:`nocilab.design.blinding.assignments`).
    """
    out = []
    body_weight = None
    for assay in sorted(set(observations["assay"])):
        if assay not in study.schedule:
            continue
        readings = readings_frame(observations, assay)
        settings = study.assays[assay]
        if assay == "grip" and getattr(settings, "per_body_weight", False):
            if body_weight is None:
                body_weight = _body_weight(observations, study)
            readings = readings.merge(body_weight, on=["animal", "study_day"], how="left")
        values = derive_readings(assay, readings, settings)
        values.insert(2, "assay", assay)
        out.append(values)
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
        Columns of :data:`nocilab.schema.DERIVED` plus ``n_trials`` and ``note``.
    """
    from nocilab.design.blinding import assignments

    return derive_observations(store.observations(), study,
                               assignments=assignments(study, store, reveal=True))
