"""Body weight in grams: the mean of the day's weighings.

Quantity ``weight_g`` per trial (weighing); outcome ``weight_g`` in g. A weight that is
missing, not a number or not positive is a cell problem.

Examples
--------
>>> from nocilab.assays.body_weight import mean_weight_g
>>> mean_weight_g([24.8, 25.2])
25.0
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from numpy.typing import ArrayLike

from nocilab.assays._common import (
    as_trials,
    check_keys,
    check_number,
    derived_frame,
    group_trials,
    new_found,
    raise_problems,
    require,
    row_count,
    row_mean,
    settings_of,
    squeeze,
)
from nocilab.assays.base import Assay, CellProblem, Quantity
from nocilab.model.settings import BodyWeightSettings

__all__ = ["ASSAY", "check", "derive", "mean_weight_g"]

NAME = "body_weight"


def mean_weight_g(weight_g: ArrayLike) -> Any:
    """Mean of weighings: 1-D (one animal-day) gives a float, 2-D (animal-days x
    weighings, NaN where none) one float per row. Raises
    :class:`~nocilab.errors.AssayError` for a weight that is not positive."""
    m, was_1d = as_trials(weight_g, "weight_g")
    require(m > 0, "weight_g", "not positive", m)
    return squeeze(row_mean(m), was_1d)


def _cells(readings: pd.DataFrame) -> tuple[list[CellProblem], Any]:
    found = new_found()
    check_keys(readings, found)
    weight = check_number(readings, "weight_g", found, what="body weight", strict_minimum=True)
    return found.sorted(), weight


def check(readings: pd.DataFrame, settings: BodyWeightSettings | None) -> list[CellProblem]:
    """Cell problems: missing, non-numeric, non-finite or non-positive weight; a missing
    animal or a study day that is not a whole number."""
    settings_of(settings, BodyWeightSettings, NAME)
    return _cells(readings)[0]


def derive(readings: pd.DataFrame, settings: BodyWeightSettings | None) -> pd.DataFrame:
    """Mean body weight per animal-day. Raises :class:`~nocilab.errors.AssayError`
    listing the problems if :func:`check` finds any."""
    settings_of(settings, BodyWeightSettings, NAME)
    problems, weight = _cells(readings)
    raise_problems(NAME, problems)
    g = group_trials(readings, {"weight_g": weight})
    m = g.matrices["weight_g"]
    return derived_frame(g, outcome="weight_g", unit="g", value=mean_weight_g(m),
                         n_trials=row_count(m))


ASSAY = Assay(
    name=NAME,
    title="Body weight",
    quantities=(Quantity("weight_g", "number", "g", description="body weight"),),
    check=check,
    derive=derive,
    outcomes=("weight_g",),
)
