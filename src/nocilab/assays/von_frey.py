"""von Frey filaments: up-down (Dixon 1980; Chaplan et al. 1994), SUDO (Bonin et al.
2014) and electronic von Frey.

Public surface
--------------
- :func:`dixon_k` -- Dixon's k for one X/O series, by maximum likelihood.
- :func:`thresholds` -- 50% thresholds of many up-down series at once (vectorised).
- :func:`sudo_thresholds` -- thresholds by the simplified up-down method.
- :func:`series_problems` -- every problem with recorded series, filaments and
  filament sequences (the up-down rule), as :class:`SeriesProblem` rows.
- :func:`series_progress` -- a series being given: the next filament by the up-down
  rule and whether the series is complete (:class:`SeriesProgress`).
- :class:`FilamentSet`, :func:`load_filament_set`, :data:`BUILTIN_SETS` -- filament sets.
- :data:`ASSAY` -- the registry entry: quantities ``xo_series``, ``last_filament``,
  ``filaments_used``, ``force_g``; ``check`` and ``derive`` per :mod:`nocilab.assays.base`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from nocilab.assays._common import (
    _blank,
    check_keys,
    check_number,
    count_note,
    derived_frame,
    group_trials,
    join_notes,
    new_found,
    raise_problems,
    row_count,
    row_mean,
    settings_of,
)
from nocilab.assays._vf_dixon import dixon_k
from nocilab.assays._vf_filaments import BUILTIN_SETS, FilamentSet, load_filament_set
from nocilab.assays._vf_series import Prepared, SeriesProblem, prepare
from nocilab.assays._vf_stepping import SeriesProgress, series_progress
from nocilab.assays._vf_thresholds import (
    SUDO_COLUMNS,
    THRESHOLD_COLUMNS,
    sudo_frame,
    up_down_frame,
    series_problems,
    sudo_thresholds,
    thresholds,
)
from nocilab.assays.base import Assay, CellProblem, Quantity
from nocilab.model.settings import VonFreySettings

__all__ = [
    "ASSAY",
    "BUILTIN_SETS",
    "FilamentSet",
    "SUDO_COLUMNS",
    "SeriesProblem",
    "SeriesProgress",
    "THRESHOLD_COLUMNS",
    "check",
    "derive",
    "dixon_k",
    "load_filament_set",
    "series_problems",
    "series_progress",
    "sudo_thresholds",
    "thresholds",
]

NAME = "von_frey"
OUTCOME = "threshold_g"

QUANTITIES = (
    Quantity("xo_series", "text", required=False,
             description="responses in order, X = withdrawal, O = none (up_down, sudo)"),
    Quantity("last_filament", "text", required=False,
             description="number or handle value of the last filament used (required for "
                         "up_down; for sudo, checked against the 5th filament when given)"),
    Quantity("filaments_used", "text", required=False,
             description="filaments applied in order, e.g. '3.61,3.84,4.08' (optional; "
                         "checked against the up-down rule)"),
    Quantity("force_g", "number", unit="g", required=False,
             description="force at withdrawal (electronic von Frey only)"),
)

_FILAMENT_QUANTITIES = ("xo_series", "last_filament", "filaments_used")


# ---------------------------------------------------------------- per-trial values


def _column(readings: pd.DataFrame, name: str) -> pd.Series:
    if name in readings.columns:
        return readings[name]
    return pd.Series([None] * len(readings), index=readings.index, dtype=object)


def _foreign(readings: pd.DataFrame, names: tuple[str, ...], method: str) -> list[CellProblem]:
    """Quantities recorded although the method does not use them."""
    problems = []
    for name in names:
        if name not in readings.columns:
            continue
        col = readings[name]
        for label in col.index[~_blank(col)]:
            problems.append(CellProblem(label, name, col.loc[label],
                                        f"{name} is not recorded with method {method!r}"))
    return problems


def _prepare(readings: pd.DataFrame, s: VonFreySettings) -> Prepared:
    used = _column(readings, "filaments_used")
    return prepare(
        _column(readings, "xo_series"),
        _column(readings, "last_filament"),
        fs=load_filament_set(s.filaments),
        filaments_used=None if _blank(used).all() else used,
        method="sudo" if s.method == "sudo" else "up_down",
        start=s.start_filament,
    )


def _cells(readings: pd.DataFrame, s: VonFreySettings) -> tuple[list[CellProblem], Any]:
    """Cell problems in row order, and what the method needs next (force or Prepared)."""
    found = new_found()
    check_keys(readings, found)
    if s.method == "electronic":
        force = check_number(
            readings, "force_g", found, what="force", strict_minimum=True,
            maximum=s.cutoff_g,
            above_maximum=(f"force is above the cut-off of {s.cutoff_g:g} g (settings "
                           "cutoff_g), so it cannot be recorded" if s.cutoff_g else ""),
        )
        problems = found.sorted() + _foreign(readings, _FILAMENT_QUANTITIES, s.method)
        return _in_row_order(readings, problems), force
    prep = _prepare(readings, s)
    problems = found.sorted() + [CellProblem(p.row, p.field, p.value, p.why)
                                 for p in prep.problems]
    problems += _foreign(readings, ("force_g",), s.method)
    return _in_row_order(readings, problems), prep


def _in_row_order(readings: pd.DataFrame, problems: list[CellProblem]) -> list[CellProblem]:
    if not problems:
        return problems
    first = {label: i for i, label in reversed(list(enumerate(readings.index)))}
    return sorted(problems, key=lambda p: first.get(p.index, 0))


def check(readings: pd.DataFrame, settings: VonFreySettings | None) -> list[CellProblem]:
    """Every bad raw value in ``readings`` for the method in ``settings``.

    Up-down and SUDO: series must be X/O only (SUDO: exactly 5); ``last_filament`` must
    be in the set (required for up-down; for SUDO it must be the 5th filament the
    responses lead to); a recorded ``filaments_used`` must follow the up-down rule, start
    at ``start_filament`` when set and end at ``last_filament``; ``force_g`` must not be
    recorded. Electronic: ``force_g`` must be a positive number not above ``cutoff_g``;
    filament quantities must not be recorded. Any method: a missing animal, a study day
    that is not a whole number.

    Raises
    ------
    AssayError
        ``settings.filaments`` names no built-in set and no readable CSV file, or
        ``start_filament`` is not in the set.
    """
    s = settings_of(settings, VonFreySettings, NAME)
    return _cells(readings, s)[0]


def _protocol_notes(prep: Prepared, expected: int) -> np.ndarray:
    """Per row: a note where the count of stimuli after the first change is not ``expected``."""
    notes = []
    for p in prep.patterns:
        run = len(p) - len(p.lstrip(p[0]))
        after = len(p) - run - 1
        notes.append("" if run == len(p) or after == expected else
                     f"{after} stimuli after the first change of response (protocol: {expected})")
    return np.asarray(notes, dtype=object)[prep.row_pattern]


def _per_trial(readings: pd.DataFrame, s: VonFreySettings, found: Any) -> pd.DataFrame:
    """threshold_g, censored, bound_g and note of each (checked) reading."""
    if s.method == "electronic":
        force = np.asarray(found, dtype=float)
        cutoff = np.inf if s.cutoff_g is None else s.cutoff_g
        at_cut = force >= cutoff
        return pd.DataFrame({
            "threshold_g": force,
            "censored": np.where(at_cut, "right", "none").astype(object),
            "bound_g": np.where(at_cut, force, np.nan),
            "note": np.where(at_cut, f"force at the cut-off of {cutoff:g} g", "").astype(object),
        }, index=readings.index)
    prep: Prepared = found
    fs = load_filament_set(s.filaments)
    if s.method == "sudo":
        return sudo_frame(prep, fs)
    frame = up_down_frame(prep, fs, s.delta or fs.delta)
    frame["note"] = join_notes(frame["note"].to_numpy(dtype=object),
                               _protocol_notes(prep, s.stimuli_after_change))
    return frame


# ---------------------------------------------------------------- averaging trials


def _average(readings: pd.DataFrame, trials: pd.DataFrame, expected_trials: int) -> pd.DataFrame:
    est = trials["threshold_g"].to_numpy(dtype=float)
    bound = trials["bound_g"].to_numpy(dtype=float)
    cens = trials["censored"].to_numpy(dtype=object)
    g = group_trials(readings, {
        "v": np.where(np.isfinite(est), est, bound),        # estimate, else the bound
        "b": np.where(cens != "none", bound, est),          # censored trials at their bound
        "left": (cens == "left").astype(float),
        "right": (cens == "right").astype(float),
    })
    m = g.matrices
    n = row_count(m["v"])
    n_left = np.nansum(m["left"], axis=1).astype(int)
    n_right = np.nansum(m["right"], axis=1).astype(int)
    left = (n_left > 0) & (n_right == 0)
    right = (n_right > 0) & (n_left == 0)
    both = (n_left > 0) & (n_right > 0)
    value = np.where(both, np.nan, row_mean(m["v"]))
    out_bound = np.where(left | right, row_mean(m["b"]), np.nan)

    # per-trial notes, gathered by animal-day (only rows that have one)
    day = pd.to_numeric(readings["study_day"]).to_numpy().astype(np.int64)
    key = pd.MultiIndex.from_arrays([readings["animal"].to_numpy(), day])
    group_of = pd.MultiIndex.from_arrays([g.animal, g.study_day]).get_indexer(key)
    trial_note = trials["note"].to_numpy(dtype=object)
    gathered = np.full(len(g), "", dtype=object)
    for i in np.flatnonzero(trial_note != ""):
        gi = group_of[i]
        text = trial_note[i]
        if n[gi] > 1:
            text = f"trial {readings['trial'].iloc[i]}: {text}"
        gathered[gi] = f"{gathered[gi]}; {text}" if gathered[gi] else text

    summary = np.full(len(g), "", dtype=object)
    for i in np.flatnonzero(both):
        summary[i] = (f"trials censored in both directions ({n_left[i]} left, {n_right[i]} "
                      "right): the mean is not bounded")
    for i in np.flatnonzero((left | right) & (n > 1)):
        side, k = ("left", n_left[i]) if left[i] else ("right", n_right[i])
        limit = "an upper" if left[i] else "a lower"
        summary[i] = (f"{k} of {n[i]} trials {side}-censored; bound is the mean with their "
                      f"bounds, {limit} limit of the mean")
    cens_out = np.full(len(g), "none", dtype=object)
    cens_out[left] = "left"
    cens_out[right] = "right"
    frame = derived_frame(g, outcome=OUTCOME, unit="g", value=value, n_trials=n,
                          bound=out_bound,
                          note=join_notes(gathered, summary, count_note(n, expected_trials,
                                                                        "trials")))
    frame["censored"] = cens_out
    return frame


def derive(readings: pd.DataFrame, settings: VonFreySettings | None) -> pd.DataFrame:
    """One ``threshold_g`` per animal and study day, the mean of its trials.

    Parameters
    ----------
    readings : pandas.DataFrame
        Columns ``animal``, ``study_day``, ``trial`` and the quantities of the method
        (see :data:`ASSAY`).
    settings : VonFreySettings or None
        ``method``, ``filaments`` ('mouse', 'rat' or a CSV path, used as given),
        ``delta``, ``start_filament``, ``stimuli_after_change``, ``trials``, ``cutoff_g``.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`nocilab.assays.base.DERIVED_VALUES`, one row per animal
        and study day, sorted by both; ``outcome`` is ``'threshold_g'``, ``unit`` ``'g'``.

    Raises
    ------
    AssayError
        :func:`check` finds a problem (they are listed).

    Notes
    -----
    Per trial: up-down thresholds from :func:`thresholds` (a series without a change of
    response is censored at the last filament and has no estimate), SUDO from
    :func:`sudo_thresholds` (censored when the 5th response falls off an end of the set;
    Bonin's extrapolated value is kept), electronic readings as recorded (right-censored
    when they reach ``cutoff_g``).

    Trials are averaged arithmetically in grams. ``value`` is the mean of the trial
    estimates, a trial without an estimate entering with its bound. Censoring of the
    mean: when any trial is left-censored and none right-censored, the mean is
    left-censored and ``bound`` is the mean with every censored trial at its bound, a
    number the true mean cannot exceed; mirrored for right. Trials censored in both
    directions bound the mean neither way: ``value`` is NaN, not censored, and ``note``
    says why. ``note`` also carries each trial's note, a count of stimuli after the
    first change that differs from ``stimuli_after_change``, and a number of trials that
    differs from ``trials``.
    """
    s = settings_of(settings, VonFreySettings, NAME)
    problems, found = _cells(readings, s)
    raise_problems(NAME, problems)
    return _average(readings, _per_trial(readings, s, found), s.trials)


ASSAY = Assay(
    name=NAME,
    title="von Frey filaments (up-down, SUDO, electronic)",
    quantities=QUANTITIES,
    check=check,
    derive=derive,
    outcomes=(OUTCOME,),
)
