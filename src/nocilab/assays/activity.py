"""Locomotor activity: distance travelled or beam-break/wheel counts in a session.

The quantity is ``distance_m`` (video tracking, in m) or ``counts`` (beam breaks, wheel
revolutions: non-negative whole numbers), as ``settings.quantity`` says. The trials of
one animal-day are the time bins (or sub-sessions) of that day's recording; the day's
value is their **total**, outcome named like the quantity (``distance_m`` in m or
``counts`` in count). ``n_trials`` is the number of bins that went into the total, so a
short recording shows as fewer bins. ``session_min`` and ``apparatus`` describe the
recording and do not change the arithmetic.

Both quantities are declared ``required=False``; :data:`ASSAY`'s ``check`` requires the
configured one.

Examples
--------
>>> from nocilab.assays.activity import session_total
>>> session_total([12.5, 8.0, 4.5])
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
    row_sum,
    settings_of,
    squeeze,
)
from nocilab.assays.base import Assay, CellProblem, Quantity
from nocilab.model.settings import ActivitySettings

__all__ = ["ASSAY", "UNITS", "check", "derive", "session_total"]

NAME = "activity"

UNITS = {"distance_m": "m", "counts": "count"}
"""Unit of each activity quantity."""


def session_total(values: ArrayLike) -> Any:
    """Total of a session's bins: 1-D (one animal-day) gives a float, 2-D (animal-days x
    bins, NaN where a bin is absent) one float per row, NaN for a row without bins.
    Raises :class:`~nocilab.errors.AssayError` for a negative bin."""
    m, was_1d = as_trials(values, "activity")
    require(m >= 0, "activity", "negative", m)
    return squeeze(row_sum(m), was_1d)


def _cells(readings: pd.DataFrame, s: ActivitySettings) -> tuple[list[CellProblem], Any]:
    found = new_found()
    check_keys(readings, found)
    if s.quantity == "counts":
        values = check_number(readings, "counts", found, what="count", integer=True)
    else:
        values = check_number(readings, "distance_m", found, what="distance")
    return found.sorted(), values


def check(readings: pd.DataFrame, settings: ActivitySettings | None) -> list[CellProblem]:
    """Cell problems in the configured quantity: missing, non-numeric, non-finite or
    negative; counts that are not whole numbers; a missing animal or a study day that is
    not a whole number."""
    s = settings_of(settings, ActivitySettings, NAME)
    return _cells(readings, s)[0]


def derive(readings: pd.DataFrame, settings: ActivitySettings | None) -> pd.DataFrame:
    """Total distance or counts per animal-day over the day's bins. Raises
    :class:`~nocilab.errors.AssayError` listing the problems if :func:`check` finds any."""
    s = settings_of(settings, ActivitySettings, NAME)
    problems, values = _cells(readings, s)
    raise_problems(NAME, problems)
    g = group_trials(readings, {s.quantity: values})
    m = g.matrices[s.quantity]
    return derived_frame(g, outcome=s.quantity, unit=UNITS[s.quantity],
                         value=session_total(m), n_trials=row_count(m))


ASSAY = Assay(
    name=NAME,
    title="Locomotor activity",
    quantities=(
        Quantity("distance_m", "number", "m", required=False,
                 description="distance travelled in one bin"),
        Quantity("counts", "number", "count", required=False,
                 description="beam breaks or wheel counts in one bin"),
    ),
    check=check,
    derive=derive,
    outcomes=("distance_m", "counts"),
)
