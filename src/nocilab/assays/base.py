"""What every assay module provides, and the tables it takes and returns.

An assay module (``nocilab.assays.paw_pressure`` ...) is pure: no I/O, no globals.
It exposes an :class:`Assay` built from

- ``quantities``: the raw quantities one reading holds (``force_g``, ``xo_series`` ...),
  each a number or a text, with its unit;
- ``check(readings, settings)``: vectorised per-cell checks (a force beyond the cut-off,
  a series with characters other than X/O ...) returning :class:`CellProblem` rows;
- ``derive(readings, settings)``: the derived values.

``readings`` is a DataFrame with columns ``animal``, ``study_day``, ``trial`` and one
column per quantity (NaN or None where a quantity was not recorded). ``derive`` returns
one row per animal x study day x outcome with the columns of :data:`DERIVED_VALUES`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

READINGS_KEYS = ("animal", "study_day", "trial")

DERIVED_VALUES = (
    "animal",      # str
    "study_day",   # int
    "outcome",     # str, e.g. "threshold_g"
    "value",       # float; NaN only when ``note`` says why
    "unit",        # str, e.g. "g"
    "censored",    # "none" | "left" | "right"
    "bound",       # float: the censoring bound, NaN when not censored
    "n_trials",    # int: readings that went into the value
    "note",        # str: "" or why the value is what it is (e.g. "no change of response")
)


@dataclass(frozen=True)
class Quantity:
    """One raw quantity of a reading."""

    name: str
    kind: Literal["number", "text"]
    unit: str = ""
    required: bool = True
    description: str = ""


@dataclass(frozen=True)
class CellProblem:
    """A bad raw value: ``index`` is the row label in the readings frame."""

    index: Any
    quantity: str
    value: Any
    why: str


@dataclass(frozen=True)
class Assay:
    """The registry entry of one assay."""

    name: str
    title: str
    quantities: tuple[Quantity, ...]
    check: Callable[[pd.DataFrame, Any], list[CellProblem]]
    derive: Callable[[pd.DataFrame, Any], pd.DataFrame]
    outcomes: tuple[str, ...] = field(default=())

    def quantity(self, name: str) -> Quantity | None:
        for q in self.quantities:
            if q.name == name:
                return q
        return None
