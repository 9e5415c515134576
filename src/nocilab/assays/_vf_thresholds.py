"""50% thresholds from recorded series: up-down (Dixon/Chaplan) and SUDO (Bonin)."""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd

from nocilab.assays._vf_dixon import ml_k
from nocilab.assays._vf_filaments import FilamentSet, load_filament_set
from nocilab.assays._vf_series import (
    SUDO_STIMULI,
    Prepared,
    SeriesProblem,
    prepare,
    render_problems,
    sudo_fifth,
)
from nocilab.errors import AssayError

THRESHOLD_COLUMNS = ("k", "threshold_g", "censored", "bound_g", "note")
"""The columns of :func:`thresholds`, in order."""
SUDO_COLUMNS = ("fifth_filament", "position", "threshold_g", "censored", "bound_g", "note")
"""The columns of :func:`sudo_thresholds`, in order."""

FilamentsArg = FilamentSet | str | os.PathLike[str]

_NOTE_ALL_X = "no change of response: all X; the threshold lies below the lightest filament"
_NOTE_ALL_X_INNER = (
    "no change of response: all X; the threshold lies below the last filament, "
    "which is not the lightest of the set"
)
_NOTE_ALL_O = "no change of response: all O; the threshold lies above the heaviest filament"
_NOTE_ALL_O_INNER = (
    "no change of response: all O; the threshold lies above the last filament, "
    "which is not the heaviest of the set"
)
_NOTE_SUDO_LOW = "SUDO: X at the lightest filament; value extrapolated half a step below the set"
_NOTE_SUDO_HIGH = "SUDO: O at the heaviest filament; value extrapolated half a step above the set"


def _raise_if(problems: list[SeriesProblem]) -> None:
    if problems:
        raise AssayError(render_problems(problems))


def _delta(fs: FilamentSet, delta: float | None) -> float:
    if delta is None:
        return fs.delta
    d = float(delta)
    if not (math.isfinite(d) and d > 0):
        raise AssayError(f"delta must be a positive number of log units, got {delta!r}")
    return d


def thresholds(
    series: object,
    last_filament: object,
    *,
    filaments: FilamentsArg,
    delta: float | None = None,
) -> pd.DataFrame:
    """50% withdrawal thresholds of up-down series (Dixon 1980; Chaplan et al. 1994).

    ``threshold_g = 10**(Xf + k * delta) / 10**4`` with ``Xf`` the log value of the last
    filament and ``k`` Dixon's value for the X/O pattern (:func:`dixon_k`), computed once
    per distinct pattern.

    Parameters
    ----------
    series : array-like of str
        One X/O series per row (``X`` = withdrawal, ``O`` = none; case-insensitive,
        spaces ignored).
    last_filament : array-like
        The last filament used in each series, resolved in ``filaments`` by number or
        handle value (see :class:`FilamentSet`). Taken by position.
    filaments : FilamentSet, 'mouse', 'rat' or a CSV path
    delta : float, optional
        Step in log units; default: the set's mean step (:attr:`FilamentSet.delta`).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``series`` (its index when a pandas Series, else 0..n-1), with

        - ``k``: Dixon's k; NaN when censored (see ``note``);
        - ``threshold_g``: the 50% threshold in g; NaN when censored;
        - ``censored``: ``'none'``, ``'left'`` (all X: the threshold lies below the last
          filament) or ``'right'`` (all O: above it);
        - ``bound_g``: for censored rows the force of the last filament on the log scale
          (``10**Xf / 10**4``), NaN otherwise;
        - ``note``: ``''`` or why the row is censored.

    Raises
    ------
    AssayError
        A series is blank or holds characters other than X/O, or a last filament is
        blank or not in the set; the message names every such row.

    Notes
    -----
    ``k`` assumes the series moved one step per stimulus; a series that ran into an end
    of the set (and stayed there) is estimated as if it had not. Check recorded
    filament sequences with :func:`series_problems`.

    Examples
    --------
    >>> t = thresholds(["OXOOXX", "xxxx"], [5, 1], filaments="mouse", delta=0.224)
    >>> t[["k", "censored"]].round(3).to_dict("list")
    {'k': [-0.169, nan], 'censored': ['none', 'left']}
    >>> round(float(t.threshold_g[0]), 4)
    0.1521
    """
    fs = load_filament_set(filaments)
    step = _delta(fs, delta)
    prep = prepare(series, last_filament, fs=fs, method="up_down")
    _raise_if(prep.problems)
    return up_down_frame(prep, fs, step)


def up_down_frame(prep: Prepared, fs: FilamentSet, step: float) -> pd.DataFrame:
    """The :data:`THRESHOLD_COLUMNS` frame of checked up-down series."""
    if prep.last is None or prep.problems:
        raise AssayError("up-down thresholds need checked series with their last filaments")
    k_pattern = ml_k(prep.patterns)
    has_o = np.fromiter(("O" in p for p in prep.patterns), dtype=bool, count=len(prep.patterns))
    has_x = np.fromiter(("X" in p for p in prep.patterns), dtype=bool, count=len(prep.patterns))
    rp, last = prep.row_pattern, prep.last
    k = k_pattern[rp]
    left = ~has_o[rp]
    right = ~has_x[rp]
    threshold = 10.0 ** (fs.log_array[last] + k * step - 4.0)
    censored = np.full(len(rp), "none", dtype=object)
    censored[left] = "left"
    censored[right] = "right"
    bound = np.where(left | right, fs.force_g[last], np.nan)
    note = np.full(len(rp), "", dtype=object)
    note[left & (last == 0)] = _NOTE_ALL_X
    note[left & (last != 0)] = _NOTE_ALL_X_INNER
    note[right & (last == len(fs) - 1)] = _NOTE_ALL_O
    note[right & (last != len(fs) - 1)] = _NOTE_ALL_O_INNER
    return pd.DataFrame(
        {"k": k, "threshold_g": threshold, "censored": censored, "bound_g": bound, "note": note},
        index=prep.index,
    )


def sudo_thresholds(
    series: object,
    *,
    filaments: FilamentsArg,
    start: object | None = None,
    last_filament: object | None = None,
) -> pd.DataFrame:
    """Thresholds by the simplified up-down method, SUDO (Bonin et al. 2014, Mol Pain 10:26).

    Five stimuli, the first at ``start`` (default: the middle filament, position
    ``(n + 1) // 2`` counted from 1, the lighter one when ``n`` is even), each next one
    step heavier after O and lighter after X (staying at an end of the set). The
    threshold in filament units is the position of the 5th filament minus 0.5 if its
    response was X, plus 0.5 if O; it is converted to grams on the set's log scale,
    linear in position between filaments and extrapolated along the end steps beyond.

    Parameters
    ----------
    series : array-like of str
        Five X/O responses per row.
    filaments : FilamentSet, 'mouse', 'rat' or a CSV path
    start : filament number or handle value, optional
    last_filament : array-like, optional
        When recorded, each must equal the 5th filament implied by the responses.

    Returns
    -------
    pandas.DataFrame
        ``fifth_filament`` (its number), ``position`` (threshold in filament units,
        1 = lightest), ``threshold_g``, ``censored`` (``'left'`` when the 5th stimulus
        was an X at the lightest filament, ``'right'`` for an O at the heaviest,
        else ``'none'``), ``bound_g`` (force of that end filament, NaN when not
        censored) and ``note``. Censored rows keep Bonin's extrapolated value.

    Examples
    --------
    >>> t = sudo_thresholds(["OXOXX"], filaments="rat")  # starts at number 4 (2 g)
    >>> t.loc[0, "fifth_filament"], float(t.loc[0, "position"])
    ('4', 3.5)
    """
    fs = load_filament_set(filaments)
    prep = prepare(series, last_filament, fs=fs, method="sudo", start=start)
    _raise_if(prep.problems)
    return sudo_frame(prep, fs)


def sudo_frame(prep: Prepared, fs: FilamentSet) -> pd.DataFrame:
    """The :data:`SUDO_COLUMNS` frame of checked SUDO series."""
    fifth_p = sudo_fifth(prep.patterns, prep.start or 0, len(fs))
    last_x = np.fromiter(
        (p[SUDO_STIMULI - 1] == "X" for p in prep.patterns), dtype=bool, count=len(prep.patterns)
    )
    position_p = fifth_p + 1 + np.where(last_x, -0.5, 0.5)
    rp = prep.row_pattern
    position = position_p[rp]
    threshold = 10.0 ** (fs.log_at(position) - 4.0)
    left = position < 1
    right = position > len(fs)
    censored = np.full(len(rp), "none", dtype=object)
    censored[left] = "left"
    censored[right] = "right"
    force = fs.force_g
    bound = np.where(left, force[0], np.where(right, force[-1], np.nan))
    note = np.full(len(rp), "", dtype=object)
    note[left] = _NOTE_SUDO_LOW
    note[right] = _NOTE_SUDO_HIGH
    numbers = np.asarray(fs.numbers, dtype=object)
    return pd.DataFrame(
        {
            "fifth_filament": numbers[fifth_p[rp]],
            "position": position,
            "threshold_g": threshold,
            "censored": censored,
            "bound_g": bound,
            "note": note,
        },
        index=prep.index,
    )


def series_problems(
    series: object,
    last_filament: object | None = None,
    *,
    filaments: FilamentsArg,
    filaments_used: object | None = None,
    method: str = "up_down",
    start: object | None = None,
) -> list[SeriesProblem]:
    """Every problem with recorded series, without computing thresholds.

    Parameters
    ----------
    series : array-like of str
    last_filament : array-like, optional
        Required (one per series) for ``method='up_down'``; optional for SUDO, where
        it must match the 5th filament implied by the responses.
    filaments : FilamentSet, 'mouse', 'rat' or a CSV path
    filaments_used : array-like of str, optional
        The filaments applied, in order, as numbers or handle values separated by
        commas, semicolons or spaces (``"3.61,3.84,4.08"``); blank where not recorded.
        Each must follow the up-down rule (one step heavier after O, lighter after X,
        staying at an end of the set when it cannot move), there must be one per
        response, the first must be ``start`` when given, and the last must be
        ``last_filament``.
    method : 'up_down' or 'sudo'
    start : filament number or handle value, optional

    Returns
    -------
    list of SeriesProblem
        In row order; empty when everything is usable.
    """
    if method not in ("up_down", "sudo"):
        raise AssayError(f"method must be 'up_down' or 'sudo', got {method!r}")
    fs = load_filament_set(filaments)
    return prepare(
        series, last_filament, fs=fs, filaments_used=filaments_used,
        method=method, start=start,  # type: ignore[arg-type]
    ).problems
