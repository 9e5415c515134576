"""von Frey filaments: up-down (Dixon 1980; Chaplan et al. 1994), SUDO (Bonin et al.
2014) and electronic von Frey.

Public surface
--------------
- :func:`dixon_k` -- Dixon's k for one X/O series, by maximum likelihood.
- :func:`thresholds` -- 50% thresholds of many up-down series at once (vectorised).
- :func:`sudo_thresholds` -- thresholds by the simplified up-down method.
- :func:`series_problems` -- every problem with recorded series, filaments and
  filament sequences (the up-down rule), as :class:`SeriesProblem` rows.
- :class:`FilamentSet`, :func:`load_filament_set`, :data:`BUILTIN_SETS` -- filament sets.
- :data:`ASSAY` -- the registry entry: quantities ``xo_series``, ``last_filament``,
  ``filaments_used``, ``force_g``; ``check`` and ``derive`` per :mod:`nocilab.assays.base`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nocilab.assays._vf_dixon import dixon_k
from nocilab.assays._vf_filaments import BUILTIN_SETS, FilamentSet, load_filament_set
from nocilab.assays._vf_series import Prepared, SeriesProblem, prepare, render_problems
from nocilab.assays._vf_thresholds import (
    _sudo_frame,
    _up_down_frame,
    series_problems,
    sudo_thresholds,
    thresholds,
)
from nocilab.assays.base import DERIVED_VALUES, READINGS_KEYS, Assay, CellProblem, Quantity
from nocilab.errors import AssayError, SchemaError
from nocilab.model.settings import VonFreySettings

__all__ = [
    "ASSAY",
    "BUILTIN_SETS",
    "FilamentSet",
    "SeriesProblem",
    "check",
    "derive",
    "dixon_k",
    "load_filament_set",
    "series_problems",
    "sudo_thresholds",
    "thresholds",
]

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


def _recorded(values: pd.Series) -> np.ndarray:
    """True where a value was recorded (not NaN/None, not blank text)."""
    s = values.astype(object)
    blank = s.isna() | s.map(lambda v: isinstance(v, str) and not v.strip())
    return ~blank.to_numpy(dtype=bool)


def _foreign(readings: pd.DataFrame, names: tuple[str, ...], method: str) -> list[CellProblem]:
    problems = []
    for name in names:
        col = _column(readings, name)
        for label in col.index[_recorded(col)]:
            problems.append(CellProblem(label, name, col.loc[label],
                                        f"not recorded with method {method!r}"))
    return problems


def _duplicates(readings: pd.DataFrame) -> list[CellProblem]:
    missing = [c for c in READINGS_KEYS if c not in readings.columns]
    if missing:
        raise SchemaError(f"von Frey readings lack column(s) {', '.join(missing)}")
    dup = readings.duplicated(list(READINGS_KEYS), keep="first")
    return [
        CellProblem(label, "trial", readings.at[label, "trial"],
                    f"animal {readings.at[label, 'animal']}, day "
                    f"{readings.at[label, 'study_day']}: trial recorded more than once")
        for label in readings.index[dup.to_numpy()]
    ]


def _prepare(readings: pd.DataFrame, settings: VonFreySettings) -> Prepared:
    fs = load_filament_set(settings.filaments)
    used = _column(readings, "filaments_used")
    return prepare(
        _column(readings, "xo_series"),
        _column(readings, "last_filament"),
        fs=fs,
        filaments_used=used if _recorded(used).any() else None,
        method="sudo" if settings.method == "sudo" else "up_down",
        start=settings.start_filament,
    )


def _force(readings: pd.DataFrame) -> pd.Series:
    return pd.to_numeric(_column(readings, "force_g"), errors="coerce")


def _electronic_problems(readings: pd.DataFrame, settings: VonFreySettings) -> list[CellProblem]:
    raw = _column(readings, "force_g")
    force = _force(readings)
    recorded = _recorded(raw)
    problems = []
    for label, value, f, rec in zip(readings.index, raw, force, recorded, strict=True):
        if not rec:
            why = "no force recorded"
        elif not np.isfinite(f):
            why = "expected a number of grams"
        elif f <= 0:
            why = "force must be positive"
        elif settings.cutoff_g is not None and f > settings.cutoff_g:
            why = f"beyond the cut-off of {settings.cutoff_g:g} g (settings cutoff_g)"
        else:
            continue
        problems.append(CellProblem(label, "force_g", value, why))
    return problems


def check(readings: pd.DataFrame, settings: VonFreySettings) -> list[CellProblem]:
    """Every bad raw value in ``readings`` for the method in ``settings``.

    Up-down and SUDO: series must be X/O only (SUDO: exactly 5); ``last_filament`` must
    be in the set (required for up-down; for SUDO it must be the 5th filament the
    responses lead to); a recorded ``filaments_used`` must follow the up-down rule and
    end at ``last_filament``; ``force_g`` must not be recorded. Electronic: ``force_g``
    must be a positive number not above ``cutoff_g``; filament quantities must not be
    recorded. Any method: a trial recorded twice for an animal and day.

    Raises
    ------
    AssayError
        ``settings.filaments`` names no built-in set and no readable CSV file.
    """
    problems = _duplicates(readings)
    if settings.method == "electronic":
        problems += _electronic_problems(readings, settings)
        problems += _foreign(readings, _FILAMENT_QUANTITIES, settings.method)
    else:
        problems += [CellProblem(p.row, p.field, p.value, p.why)
                     for p in _prepare(readings, settings).problems]
        problems += _foreign(readings, ("force_g",), settings.method)
    return problems


def _protocol_notes(prep: Prepared, expected: int) -> np.ndarray:
    """Per row: a note where the number of stimuli after the first change is not ``expected``."""
    notes = []
    for p in prep.patterns:
        run = len(p) - len(p.lstrip(p[0]))
        after = len(p) - run - 1
        if run == len(p) or after == expected:
            notes.append("")
        else:
            notes.append(f"{after} stimuli after the first change of response (protocol: {expected})")
    return np.asarray(notes, dtype=object)[prep.row_pattern]


def _per_trial(readings: pd.DataFrame, settings: VonFreySettings) -> pd.DataFrame:
    """threshold_g, censored, bound_g and note of each reading (inputs already checked)."""
    if settings.method == "electronic":
        force = _force(readings).to_numpy(dtype=float)
        at_cut = np.zeros(len(force), dtype=bool)
        if settings.cutoff_g is not None:
            at_cut = force >= settings.cutoff_g
        return pd.DataFrame({
            "threshold_g": force,
            "censored": np.where(at_cut, "right", "none").astype(object),
            "bound_g": np.where(at_cut, force, np.nan),
            "note": np.where(at_cut, "force at the cut-off (cutoff_g)", "").astype(object),
        }, index=readings.index)
    prep = _prepare(readings, settings)
    if prep.problems:
        raise AssayError(render_problems(prep.problems, source="von Frey readings"))
    fs = load_filament_set(settings.filaments)
    if settings.method == "sudo":
        return _sudo_frame(prep, fs)
    frame = _up_down_frame(prep, fs, settings.delta or fs.delta)
    extra = _protocol_notes(prep, settings.stimuli_after_change)
    frame["note"] = [("; ".join(x for x in (a, b) if x)) for a, b in zip(frame["note"], extra,
                                                                          strict=True)]
    return frame


# ---------------------------------------------------------------- averaging trials


def _average(keys: pd.DataFrame, trials: pd.DataFrame, expected_trials: int) -> pd.DataFrame:
    est = trials["threshold_g"].to_numpy(dtype=float)
    bound = trials["bound_g"].to_numpy(dtype=float)
    cens = trials["censored"].to_numpy(dtype=object)
    is_cens = cens != "none"
    df = pd.DataFrame({
        "animal": keys["animal"].astype(str).to_numpy(),
        "study_day": keys["study_day"].to_numpy(),
        "trial": keys["trial"].to_numpy(),
        "v": np.where(np.isfinite(est), est, bound),
        "b": np.where(is_cens, bound, est),
        "left": cens == "left",
        "right": cens == "right",
        "note": trials["note"].to_numpy(dtype=object),
    })
    g = df.groupby(["animal", "study_day"], sort=True)
    out = g.agg(value=("v", "mean"), b=("b", "mean"), n_trials=("v", "size"),
                n_left=("left", "sum"), n_right=("right", "sum")).reset_index()
    n_left, n_right = out["n_left"].to_numpy(), out["n_right"].to_numpy()
    censored = np.select([(n_left > 0) & (n_right == 0), (n_right > 0) & (n_left == 0)],
                         ["left", "right"], "none").astype(object)
    both = (n_left > 0) & (n_right > 0)
    value = np.where(both, np.nan, out["value"].to_numpy())
    out_bound = np.where(censored != "none", out["b"].to_numpy(), np.nan)

    trial_notes: dict[tuple[str, object], list[str]] = {}
    for a, d, t, note, n in zip(df["animal"], df["study_day"], df["trial"], df["note"],
                                g["v"].transform("size"), strict=True):
        if note:
            trial_notes.setdefault((a, d), []).append(note if n == 1 else f"trial {t}: {note}")
    notes = []
    for a, d, n, nl, nr, c in zip(out["animal"], out["study_day"], out["n_trials"],
                                  n_left, n_right, censored, strict=True):
        parts = list(trial_notes.get((a, d), []))
        if nl and nr:
            parts.append(f"trials censored in both directions ({nl} left, {nr} right): "
                         "the mean is not bounded")
        elif n > 1 and c != "none":
            k = nl or nr
            limit = "an upper" if c == "left" else "a lower"
            parts.append(f"{k} of {n} trials {c}-censored; bound is the mean with their "
                         f"bounds, {limit} limit of the mean")
        if n != expected_trials:
            parts.append(f"{n} trial{'s' if n != 1 else ''} (settings: {expected_trials})")
        notes.append("; ".join(parts))
    return pd.DataFrame({
        "animal": out["animal"].astype(str),
        "study_day": out["study_day"].astype("int64"),
        "outcome": OUTCOME,
        "value": value,
        "unit": "g",
        "censored": censored,
        "bound": out_bound,
        "n_trials": out["n_trials"].astype("int64"),
        "note": notes,
    }, columns=list(DERIVED_VALUES))


def derive(readings: pd.DataFrame, settings: VonFreySettings) -> pd.DataFrame:
    """One ``threshold_g`` per animal and study day, the mean of its trials.

    Parameters
    ----------
    readings : pandas.DataFrame
        Columns ``animal``, ``study_day``, ``trial`` and the quantities of the method
        (see :data:`ASSAY`).
    settings : VonFreySettings
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
        ``check`` finds a problem (all are listed).

    Notes
    -----
    Per trial: up-down thresholds from :func:`thresholds` (a series without a change of
    response is censored at the last filament), SUDO from :func:`sudo_thresholds`,
    electronic readings as recorded (right-censored at ``cutoff_g`` when reached).

    Trials are averaged arithmetically in grams. ``value`` is the mean of the trial
    estimates, a censored trial without an estimate entering with its bound.
    Censoring of the mean: if any trial is left-censored and none right-censored, the
    mean is left-censored and ``bound`` is the mean with every censored trial at its
    bound, which the true mean cannot exceed; mirrored for right. Trials censored in
    both directions bound the mean neither way: ``value`` is NaN and ``note`` says why.
    ``note`` also carries each trial's note, a count of stimuli after the first change
    that differs from ``stimuli_after_change``, and a number of trials that differs
    from ``trials``.
    """
    problems = check(readings, settings)
    if problems:
        lines = [f"  - row {p.index}, {p.quantity}: {p.why} (found {p.value!r})"
                 for p in problems[:20]]
        more = [f"  ... and {len(problems) - 20} more"] if len(problems) > 20 else []
        raise AssayError("\n".join([f"von Frey readings: {len(problems)} problem(s)"]
                                   + lines + more))
    if readings.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
            DERIVED_VALUES,
            ("object", "int64", "object", "float64", "object", "object", "float64", "int64",
             "object"), strict=True)})
    return _average(readings, _per_trial(readings, settings), settings.trials)


ASSAY = Assay(
    name="von_frey",
    title="von Frey filaments (up-down, SUDO, electronic)",
    quantities=QUANTITIES,
    check=check,
    derive=derive,
    outcomes=(OUTCOME,),
)
