"""Paw pressure (Randall-Selitto, analgesy-meter): withdrawal threshold in grams.

A steadily rising pressure is applied to the paw until the animal withdraws it; the
device shows the force in grams (quantity ``force_g``, one per trial). The day's value
is the mean of its trials, outcome ``threshold_g`` in g.

Censoring
---------
A cut-off force (``cutoff_g``, commonly about 250 g for mice) protects the tissue: the
device stops there, so a reading *at* the cut-off means "no withdrawal up to the
cut-off": the true threshold is at least the cut-off, a right-censored trial. A reading
*above* the cut-off cannot come from the device and is a cell problem.

The mean of the day's trials counts each censored trial at the cut-off. When at least
one trial is censored the true mean can only be higher, so the mean is a lower bound:
the derived value is marked ``censored="right"`` with ``bound`` equal to that mean
(``value`` holds the same number). A censored-data model (Tobit) or a sensitivity
analysis downstream can use the bound; it is never silently treated as exact.

Examples
--------
>>> from nocilab.assays.paw_pressure import threshold_g
>>> r = threshold_g([120.0, 250.0, 140.0], cutoff_g=250.0)
>>> r.value, bool(r.censored), r.bound, r.n_censored
(170.0, True, 170.0, 1)
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from numpy.typing import ArrayLike

from nocilab.assays._common import (
    CensoredMean,
    censored_mean,
    censored_note,
    check_keys,
    check_number,
    count_note,
    derived_frame,
    group_trials,
    join_notes,
    new_found,
    raise_problems,
    settings_of,
)
from nocilab.assays.base import Assay, CellProblem, Quantity
from nocilab.model.settings import PawPressureSettings

__all__ = ["ASSAY", "CensoredMean", "check", "derive", "threshold_g"]

NAME = "paw_pressure"


def threshold_g(force_g: ArrayLike, *, cutoff_g: float) -> CensoredMean:
    """Mean withdrawal threshold of trials, right-censored at the cut-off.

    Parameters
    ----------
    force_g : array_like
        Withdrawal forces in g: the trials of one animal-day (1-D) or animal-days x
        trials (2-D, NaN where a trial was not done).
    cutoff_g : float
        The device's cut-off force in g; a trial at it is right-censored.

    Returns
    -------
    CensoredMean
        ``value``: mean force with censored trials counted at the cut-off;
        ``censored``: True when any trial reached the cut-off, the mean then being a
        lower bound (``bound`` = ``value``); ``n_trials``, ``n_censored``. Scalars for
        1-D input, arrays (one per row) for 2-D input.

    Raises
    ------
    AssayError
        A force is negative or above the cut-off.
    """
    return censored_mean(force_g, cutoff=cutoff_g, name="force_g", unit="g")


def _cells(readings: pd.DataFrame, s: PawPressureSettings) -> tuple[list[CellProblem], Any]:
    found = new_found()
    check_keys(readings, found)
    force = check_number(
        readings, "force_g", found, what="force",
        maximum=s.cutoff_g,
        above_maximum=(f"force is above the cut-off of {s.cutoff_g:g} g: the device "
                       "stops at the cut-off, so it cannot be recorded"),
    )
    return found.sorted(), force


def check(readings: pd.DataFrame, settings: PawPressureSettings | None) -> list[CellProblem]:
    """Cell problems: missing, non-numeric, negative or non-finite force; force above
    the cut-off; a missing animal or a study day that is not a whole number."""
    s = settings_of(settings, PawPressureSettings, NAME)
    return _cells(readings, s)[0]


def derive(readings: pd.DataFrame, settings: PawPressureSettings | None) -> pd.DataFrame:
    """Mean threshold per animal-day, right-censored when any trial hit the cut-off.

    Raises :class:`~nocilab.errors.AssayError` listing the problems if :func:`check`
    finds any. ``note`` says how many trials reached the cut-off and when an animal-day
    has more or fewer trials than ``settings.trials``.
    """
    s = settings_of(settings, PawPressureSettings, NAME)
    problems, force = _cells(readings, s)
    raise_problems(NAME, problems)
    g = group_trials(readings, {"force_g": force})
    r = threshold_g(g.matrices["force_g"], cutoff_g=s.cutoff_g)
    note = join_notes(
        count_note(r.n_trials, s.trials, "trials"),
        censored_note(r.n_censored, r.n_trials, f"{s.cutoff_g:g} g"),
    )
    return derived_frame(g, outcome="threshold_g", unit="g", value=r.value,
                         n_trials=r.n_trials, censored=r.censored, bound=r.bound, note=note)


ASSAY = Assay(
    name=NAME,
    title="Paw pressure (Randall-Selitto)",
    quantities=(
        Quantity("force_g", "number", "g", description="force at withdrawal"),
    ),
    check=check,
    derive=derive,
    outcomes=("threshold_g",),
)
