"""Baseline handling: raw values, change or percent of baseline, or baseline as covariate.

An animal's baseline is the mean of its values on the baseline days (study days before
the first injection, given by the caller). Modes:

- ``raw``: the values as measured, every day (baseline days included) analysed;
- ``change``: value minus the animal's baseline, post-baseline days only;
- ``percent``: 100 x value / baseline, post-baseline days only;
- ``covariate``: the values of the post-baseline days, with the baseline as a covariate
  (an ANCOVA-like main effect in the mixed model, column :data:`BASELINE_COLUMN`).

In every mode but ``raw``, an animal without a baseline value cannot be analysed and is
left out (listed in ``dropped_animals`` and ``notes``); with ``percent`` so is an animal
whose baseline is zero. The chosen mode is recorded in the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nocilab.errors import AnalysisError, one_of

BASELINE_MODES = ("raw", "change", "percent", "covariate")
BASELINE_COLUMN = "baseline_value"


@dataclass(frozen=True)
class BaselineApplied:
    """The frame to analyse after baseline handling, and what was done.

    ``frame`` holds the transformed values in the original value column (and, with
    ``covariate``, the baseline in :data:`BASELINE_COLUMN`).
    """

    frame: pd.DataFrame
    mode: str
    baseline_days: tuple[float, ...]
    covariate: str | None
    dropped_animals: tuple[str, ...]
    notes: tuple[str, ...]


def animal_baselines(
    frame: pd.DataFrame, *, value: str, day: str, animal: str, baseline_days: Sequence[float]
) -> pd.Series:
    """Mean of each animal's non-missing values on ``baseline_days`` (indexed by animal)."""
    days = {float(d) for d in baseline_days}
    rows = frame[frame[day].astype(float).isin(days)]
    return rows.groupby(rows[animal].astype(str))[value].mean().dropna()


def apply_baseline(
    frame: pd.DataFrame,
    *,
    value: str,
    day: str,
    animal: str,
    baseline_days: Sequence[float] = (),
    mode: str = "raw",
) -> BaselineApplied:
    """Transform ``frame`` for the chosen baseline ``mode``.

    Parameters
    ----------
    frame : long table, one row per animal x day.
    value, day, animal : column names.
    baseline_days : the study days that form the baseline (e.g. ``(-2, -1)``).
    mode : ``raw``, ``change``, ``percent`` or ``covariate``.

    Returns
    -------
    BaselineApplied

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"animal": ["a"] * 3, "day": [-1, 1, 2], "v": [2.0, 1.0, 3.0]})
    >>> apply_baseline(f, value="v", day="day", animal="animal", baseline_days=[-1],
    ...                mode="change").frame["v"].tolist()
    [-1.0, 1.0]
    """
    m = mode.lower()
    if m not in BASELINE_MODES:
        raise AnalysisError(f"unknown baseline mode {mode!r}; expected {one_of(BASELINE_MODES)}")
    bdays = tuple(sorted(float(d) for d in baseline_days))
    for col in (value, day, animal):
        if col not in frame.columns:
            raise AnalysisError(f"table lacks column {col!r} needed for baseline handling")
    if m == "raw":
        return BaselineApplied(frame=frame.copy(), mode=m, baseline_days=bdays, covariate=None,
                               dropped_animals=(), notes=())
    if not bdays:
        raise AnalysisError(f"baseline mode {m!r} needs baseline_days, the baseline study days (e.g. day -1)")
    present = set(frame[day].astype(float).unique())
    absent = [d for d in bdays if d not in present]
    if len(absent) == len(bdays):
        raise AnalysisError(
            f"no value on baseline day(s) {list(bdays)}; days found: {sorted(present)}"
        )
    base = animal_baselines(frame, value=value, day=day, animal=animal, baseline_days=bdays)
    notes: list[str] = []
    out = frame[~frame[day].astype(float).isin(set(bdays))].copy()
    ids = out[animal].astype(str)
    b = ids.map(base)
    drop = b.isna()
    if m == "percent":
        drop |= b == 0
    dropped = tuple(sorted(set(ids[drop])))
    if dropped:
        why = "no baseline value" if m != "percent" else "no or zero baseline value"
        notes.append(
            f"{len(dropped)} animal(s) left out ({why}): {', '.join(dropped[:10])}"
            f"{' ...' if len(dropped) > 10 else ''}"
        )
    out, b = out[~drop.to_numpy()], b[~drop]
    covariate = None
    if m == "change":
        out[value] = out[value].to_numpy(float) - b.to_numpy(float)
    elif m == "percent":
        out[value] = 100.0 * out[value].to_numpy(float) / b.to_numpy(float)
    else:
        out[BASELINE_COLUMN] = b.to_numpy(float)
        covariate = BASELINE_COLUMN
    if out.empty:
        raise AnalysisError("no post-baseline values left to analyse")
    if np.isfinite(out[value].to_numpy(float)).sum() == 0:
        raise AnalysisError("every post-baseline value is missing")
    return BaselineApplied(frame=out, mode=m, baseline_days=bdays, covariate=covariate,
                           dropped_animals=dropped, notes=tuple(notes))
