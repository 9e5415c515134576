"""Grip strength: peak pulling force on a grid, mean or max of trials.

Quantity ``force_g`` per trial (the peak force the meter shows, in g). The day's value
is the mean or the largest of its trials (``settings.aggregate``), outcome ``force_g``.

Per gram of body weight
-----------------------
With ``settings.per_body_weight`` the outcome is ``force_g_per_g``: the aggregated force
divided by the animal's body weight on that day. The readings then carry a ``weight_g``
column, merged in by the caller from the body-weight records of the same animal and
study day (the same number on each trial row; if the rows differ, their mean is used).
A day without a body weight gives ``value`` NaN with the note
``'no body weight for this day'``: the force is not silently reported unnormalised. A
weight that is present but not a positive number is a cell problem.

Examples
--------
>>> from nocilab.assays.grip import grip_force_g, force_per_body_weight
>>> grip_force_g([90.0, 110.0, 100.0]), grip_force_g([90.0, 110.0, 100.0], aggregate="max")
(100.0, 110.0)
>>> force_per_body_weight(100.0, 25.0)
4.0
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from nocilab.assays._common import (
    as_trials,
    check_keys,
    check_number,
    count_note,
    derived_frame,
    group_trials,
    join_notes,
    new_found,
    raise_problems,
    require,
    row_count,
    row_max,
    row_mean,
    settings_of,
    squeeze,
)
from nocilab.assays.base import Assay, CellProblem, Quantity
from nocilab.errors import AssayError
from nocilab.model.settings import GripSettings

__all__ = ["ASSAY", "NO_WEIGHT", "check", "derive", "force_per_body_weight", "grip_force_g"]

NAME = "grip"

NO_WEIGHT = "no body weight for this day"
"""The note of a per-body-weight value that could not be computed."""


def grip_force_g(force_g: ArrayLike, *, aggregate: Literal["mean", "max"] = "mean") -> Any:
    """Grip force of trials: their mean or their maximum.

    Parameters
    ----------
    force_g : array_like
        Peak forces in g: one animal-day's trials (1-D) or animal-days x trials (2-D,
        NaN where a trial was not done).
    aggregate : {"mean", "max"}
        How trials are combined.

    Returns
    -------
    float or ndarray
        One value per animal-day (a float for 1-D input); NaN for a row without trials.

    Raises
    ------
    AssayError
        A negative force, or an unknown ``aggregate``.
    """
    m, was_1d = as_trials(force_g, "force_g")
    require(m >= 0, "force_g", "negative", m)
    if aggregate == "mean":
        return squeeze(row_mean(m), was_1d)
    if aggregate == "max":
        return squeeze(row_max(m), was_1d)
    raise AssayError(f"grip: aggregate must be 'mean' or 'max', got {aggregate!r}")


def force_per_body_weight(force_g: ArrayLike, weight_g: ArrayLike) -> Any:
    """Force per gram of body weight (g/g); NaN where the weight is NaN.

    Raises :class:`~nocilab.errors.AssayError` for a weight that is not positive.
    """
    f = np.asarray(force_g, dtype=float)
    w = np.asarray(weight_g, dtype=float)
    if np.any(w <= 0):
        raise AssayError("grip: body weight must be positive to normalise force")
    out = np.divide(f, w, out=np.full(np.broadcast(f, w).shape, np.nan), where=~np.isnan(w))
    return out.item() if out.ndim == 0 else out


def _cells(readings: pd.DataFrame, s: GripSettings) -> tuple[list[CellProblem], dict[str, Any]]:
    found = new_found()
    check_keys(readings, found)
    values = {"force_g": check_number(readings, "force_g", found, what="force")}
    if s.per_body_weight:
        values["weight_g"] = check_number(readings, "weight_g", found, what="body weight",
                                          required=False, strict_minimum=True)
    return found.sorted(), values


def check(readings: pd.DataFrame, settings: GripSettings | None) -> list[CellProblem]:
    """Cell problems: missing, non-numeric, negative or non-finite force; with
    ``per_body_weight``, a body weight that is present but not a positive number; a
    missing animal or a study day that is not a whole number. A missing body weight is
    not a cell problem (see the module notes)."""
    s = settings_of(settings, GripSettings, NAME)
    return _cells(readings, s)[0]


def derive(readings: pd.DataFrame, settings: GripSettings | None) -> pd.DataFrame:
    """Grip force (``force_g``) or force per body weight (``force_g_per_g``) per animal-day.

    Raises :class:`~nocilab.errors.AssayError` listing the problems if :func:`check`
    finds any. ``note`` says when an animal-day has more or fewer trials than
    ``settings.trials``, and ``'no body weight for this day'`` where the value is NaN.
    """
    s = settings_of(settings, GripSettings, NAME)
    problems, values = _cells(readings, s)
    raise_problems(NAME, problems)
    g = group_trials(readings, values)
    force = g.matrices["force_g"]
    n = row_count(force)
    value = grip_force_g(force, aggregate=s.aggregate)
    note = count_note(n, s.trials, "trials")
    if not s.per_body_weight:
        return derived_frame(g, outcome="force_g", unit="g", value=value, n_trials=n, note=note)
    weight = row_mean(g.matrices["weight_g"])
    missing = np.full(len(g), "", dtype=object)
    missing[np.isnan(weight)] = NO_WEIGHT
    return derived_frame(g, outcome="force_g_per_g", unit="g/g",
                         value=force_per_body_weight(value, weight), n_trials=n,
                         note=join_notes(missing, note))


ASSAY = Assay(
    name=NAME,
    title="Grip strength",
    quantities=(
        Quantity("force_g", "number", "g", description="peak pulling force"),
        Quantity("weight_g", "number", "g", required=False,
                 description="body weight on the day (merged in when per_body_weight)"),
    ),
    check=check,
    derive=derive,
    outcomes=("force_g", "force_g_per_g"),
)
