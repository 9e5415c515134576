"""Heat: Hargreaves (radiant heat to the paw) or hot plate; latency with a cut-off.

The same shape as the cold plate (:mod:`nocilab.assays.cold_plate`), the code shared:

- **latency mode** (quantity ``latency_s`` per trial): the value is the mean withdrawal
  (Hargreaves) or first-response (hot plate) latency of the day's trials, outcome
  ``latency_s`` in s. The heat source is switched off, or the animal taken off the
  plate, at the cut-off (``cutoff_s``) to protect tissue; a trial that reaches it is
  right-censored, and so is the day's mean (see :func:`mean_latency_s`). A latency
  above the cut-off cannot be recorded and is a cell problem.
- **count mode** (quantity ``count`` per trial): responses counted in a fixed window of
  ``window_s`` seconds; the value is the mean count of the day's trials, outcome
  ``count``.

Both quantities are declared ``required=False``; :data:`ASSAY`'s ``check`` requires the
one of the configured mode. ``method`` (hargreaves or hot_plate) and ``temperature_c``
describe the test and do not change the arithmetic.

Examples
--------
>>> from nocilab.assays.heat import mean_latency_s
>>> r = mean_latency_s([8.5, 20.0, 11.5], cutoff_s=20.0)
>>> r.value, bool(r.censored), r.bound
(13.333333333333334, True, 13.333333333333334)
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from nocilab.assays._common import (
    CensoredMean,
    mean_count,
    mean_latency_s,
    settings_of,
    thermal_cells,
    thermal_derive,
)
from nocilab.assays.base import Assay, CellProblem, Quantity
from nocilab.model.settings import HeatSettings

__all__ = ["ASSAY", "CensoredMean", "check", "derive", "mean_count", "mean_latency_s"]

NAME = "heat"


def check(readings: pd.DataFrame, settings: HeatSettings | None) -> list[CellProblem]:
    """Cell problems: missing, non-numeric or negative latency, latency above the
    cut-off (latency mode); missing, negative or fractional count (count mode); a
    missing animal or a study day that is not a whole number."""
    s: Any = settings_of(settings, HeatSettings, NAME)
    return thermal_cells(readings, s)[0]


def derive(readings: pd.DataFrame, settings: HeatSettings | None) -> pd.DataFrame:
    """Mean latency (right-censored at the cut-off) or mean count per animal-day.

    Raises :class:`~nocilab.errors.AssayError` listing the problems if :func:`check`
    finds any. ``note`` says how many trials reached the cut-off and when an animal-day
    has more or fewer trials than ``settings.trials``.
    """
    s: Any = settings_of(settings, HeatSettings, NAME)
    return thermal_derive(readings, s, assay=NAME)


ASSAY = Assay(
    name=NAME,
    title="Heat (Hargreaves, hot plate)",
    quantities=(
        Quantity("latency_s", "number", "s", required=False,
                 description="latency to the first nocifensive response (latency mode)"),
        Quantity("count", "number", "count", required=False,
                 description="responses counted in the window (count mode)"),
    ),
    check=check,
    derive=derive,
    outcomes=("latency_s", "count"),
)
