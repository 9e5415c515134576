"""Shared machinery of the assay calculators: cell checks, trial matrices, derived frames.

Private: the public names live in the assay modules. Two layers are here:

- *cell checks* (:func:`check_number`, :func:`check_keys`) that turn a readings column
  into a list of :class:`~nocilab.assays.base.CellProblem`, vectorised with pandas;
- *trial matrices* (:func:`group_trials`): the readings of each animal x study day laid
  out as one row of a 2-D float array (trials along the columns, NaN where an animal-day
  has fewer trials than the widest one), so that every calculator is a row-wise NumPy
  reduction and ``derive`` never loops over animals in Python.

The row-wise reductions (:func:`row_count`, :func:`row_mean` ...) ignore NaN and return
NaN for a row without trials, without warnings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from pydantic import BaseModel, ValidationError

from nocilab.assays.base import DERIVED_VALUES, READINGS_KEYS, CellProblem
from nocilab.errors import AssayError, SchemaError

KEYS = ("animal", "study_day")
"""The readings columns that define one derived value (with the outcome)."""

MAX_LISTED = 10
"""How many problems an error message lists before summarising the rest."""


# ---------------------------------------------------------------------------
# settings


def settings_of(settings: Any, model: type[BaseModel], assay: str) -> Any:
    """Return ``settings`` as an instance of ``model`` (None -> defaults; a mapping -> parsed)."""
    if settings is None:
        return model()
    if isinstance(settings, model):
        return settings
    if isinstance(settings, Mapping):
        try:
            return model(**settings)
        except ValidationError as exc:
            raise AssayError(f"{assay}: invalid settings: {exc}") from None
    raise AssayError(
        f"{assay}: settings must be a {model.__name__} (or a mapping of its fields), "
        f"got {type(settings).__name__}"
    )


# ---------------------------------------------------------------------------
# cell checks


@dataclass
class _Found:
    """Problems found so far, with the row positions used to order them."""

    positions: list[np.ndarray]
    problems: list[list[CellProblem]]

    def add(self, readings: pd.DataFrame, raw: pd.Series, mask: np.ndarray,
            quantity: str, why: str) -> None:
        pos = np.flatnonzero(mask)
        if not len(pos):
            return
        labels = readings.index[pos]
        values = raw.iloc[pos].tolist()
        self.positions.append(pos)
        self.problems.append([CellProblem(i, quantity, v, why) for i, v in zip(labels, values)])

    def sorted(self) -> list[CellProblem]:
        if not self.problems:
            return []
        pos = np.concatenate(self.positions)
        flat = [p for chunk in self.problems for p in chunk]
        order = np.argsort(pos, kind="stable")
        return [flat[i] for i in order]


def new_found() -> _Found:
    return _Found([], [])


def _blank(raw: pd.Series) -> np.ndarray:
    """True where a cell is missing: NaN/None, or a text that is empty or only spaces."""
    missing = raw.isna().to_numpy(dtype=bool, copy=True)
    if not pd.api.types.is_numeric_dtype(raw) and len(raw):
        text = raw.astype("string").str.strip()
        missing |= text.eq("").fillna(False).to_numpy(dtype=bool)
    return missing


def check_keys(readings: pd.DataFrame, found: _Found) -> None:
    """Flag readings whose animal is missing or whose study day is not a whole number.

    Raises :class:`SchemaError` when a key column of the readings frame is absent.
    """
    absent = [c for c in READINGS_KEYS if c not in readings.columns]
    if absent:
        raise SchemaError(
            f"readings lack column(s) {', '.join(absent)}; expected {', '.join(READINGS_KEYS)} "
            "and one column per quantity"
        )
    animal = readings["animal"]
    found.add(readings, animal, _blank(animal), "animal", "missing animal")
    raw = readings["study_day"]
    day = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(day) | (np.round(day) != day)
    found.add(readings, raw, bad, "study_day", "study day must be a whole number")


def check_number(
    readings: pd.DataFrame,
    name: str,
    found: _Found,
    *,
    what: str,
    required: bool = True,
    minimum: float | None = 0.0,
    strict_minimum: bool = False,
    integer: bool = False,
    maximum: float | None = None,
    above_maximum: str = "",
) -> np.ndarray:
    """Check one numeric quantity cell by cell; return its values as floats (NaN if bad).

    Each cell gets at most one problem, the first of: missing (when ``required``), not a
    number, not finite, below ``minimum`` (or not above it with ``strict_minimum``), not a
    whole number (``integer``), above ``maximum`` (with the reason ``above_maximum``). An
    absent column counts as a column of missing cells.
    """
    if name in readings.columns:
        raw = readings[name]
    else:
        raw = pd.Series([None] * len(readings), index=readings.index, dtype=object)
    missing = _blank(raw)
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        num = raw.to_numpy(dtype=float, na_value=np.nan)
    else:
        num = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    ok = ~missing
    if required:
        found.add(readings, raw, missing, name, f"missing {what}")
    bad = ok & np.isnan(num)
    found.add(readings, raw, bad, name, f"{what} is not a number")
    ok &= ~bad
    bad = ok & ~np.isfinite(num)
    found.add(readings, raw, bad, name, f"{what} is not finite")
    ok &= ~bad
    if minimum is not None:
        bad = ok & ((num <= minimum) if strict_minimum else (num < minimum))
        if strict_minimum:
            why = f"{what} must be greater than {minimum:g}"
        elif minimum == 0:
            why = f"{what} is negative"
        else:
            why = f"{what} must be at least {minimum:g}"
        found.add(readings, raw, bad, name, why)
        ok &= ~bad
    if integer:
        bad = ok & (np.round(num) != num)
        found.add(readings, raw, bad, name, f"{what} must be a whole number")
        ok &= ~bad
    if maximum is not None:
        bad = ok & (num > maximum)
        found.add(readings, raw, bad, name, above_maximum or f"{what} is above {maximum:g}")
        ok &= ~bad
    return np.where(ok, num, np.nan)


def raise_problems(assay: str, problems: Sequence[CellProblem]) -> None:
    """Raise :class:`AssayError` listing the first problems, if there are any."""
    if not problems:
        return
    n = len(problems)
    lines = [f"{assay}: {n} bad reading{'s' if n != 1 else ''}; nothing was derived"]
    for p in problems[:MAX_LISTED]:
        lines.append(f"  - row {p.index!r}, {p.quantity}: {p.why} (found {p.value!r})")
    if n > MAX_LISTED:
        lines.append(f"  ... and {n - MAX_LISTED} more")
    raise AssayError("\n".join(lines))


# ---------------------------------------------------------------------------
# trial matrices and row-wise reductions


def as_trials(values: ArrayLike, name: str) -> tuple[np.ndarray, bool]:
    """``values`` as a 2-D float array (rows x trials) and whether it was 1-D."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise AssayError(f"{name} must be numbers") from None
    if arr.ndim == 1:
        return arr[np.newaxis, :], True
    if arr.ndim != 2:
        raise AssayError(
            f"{name} must be 1-D (the trials of one animal-day) or 2-D "
            f"(animal-days x trials), got {arr.ndim} dimensions"
        )
    return arr, False


def squeeze(arr: np.ndarray, was_1d: bool) -> Any:
    """The single element of a per-row result when the input was one animal-day."""
    return arr[0].item() if was_1d else arr


def require(ok: np.ndarray, name: str, why: str, values: np.ndarray) -> None:
    """Raise :class:`AssayError` if ``ok`` is false anywhere among recorded trials."""
    bad = ~ok & ~np.isnan(values)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise AssayError(
            f"{name}: {int(bad.sum())} value(s) {why}; first at position {where} "
            f"(found {values[where]!r})"
        )


def row_count(m: np.ndarray) -> np.ndarray:
    """Recorded (non-NaN) trials per row."""
    return (~np.isnan(m)).sum(axis=1)


def row_sum(m: np.ndarray) -> np.ndarray:
    """Sum of recorded trials per row; NaN for a row without trials."""
    n = row_count(m)
    total = np.where(np.isnan(m), 0.0, m).sum(axis=1)
    return np.where(n > 0, total, np.nan)


def row_mean(m: np.ndarray) -> np.ndarray:
    """Mean of recorded trials per row; NaN for a row without trials."""
    n = row_count(m)
    total = np.where(np.isnan(m), 0.0, m).sum(axis=1)
    return np.divide(total, n, out=np.full(len(m), np.nan), where=n > 0)


def row_max(m: np.ndarray) -> np.ndarray:
    """Largest recorded trial per row; NaN for a row without trials."""
    n = row_count(m)
    if m.shape[1] == 0:
        return np.full(len(m), np.nan)
    top = np.where(np.isnan(m), -np.inf, m).max(axis=1)
    return np.where(n > 0, top, np.nan)


@dataclass(frozen=True)
class CensoredMean:
    """Mean of trials with right-censoring at a cut-off, one element per animal-day.

    ``value``: the mean with every censored trial counted at the cut-off. ``censored``:
    True when at least one trial reached the cut-off; the true mean is then at least
    ``value``, so ``bound`` (the same number) is a lower bound; NaN when not censored.
    ``n_trials``: recorded trials; ``n_censored``: trials at the cut-off.
    Scalars when the trials of one animal-day were given as a 1-D array.
    """

    value: Any
    censored: Any
    bound: Any
    n_trials: Any
    n_censored: Any


def censored_mean(values: ArrayLike, *, cutoff: float, name: str, unit: str) -> CensoredMean:
    """Mean of trials right-censored at ``cutoff`` (see :class:`CensoredMean`).

    A trial at or above the cut-off is censored at it; a trial above it cannot be
    recorded by a device that stops at the cut-off and raises :class:`AssayError`, as
    does a negative value. NaN marks a trial not done.
    """
    if not np.isfinite(cutoff) or cutoff <= 0:
        raise AssayError(f"{name}: the cut-off must be a positive number, got {cutoff!r}")
    m, was_1d = as_trials(values, name)
    require(m >= 0, name, "negative", m)
    require(m <= cutoff, name, f"above the cut-off of {cutoff:g} {unit}", m)
    value = row_mean(m)
    n_censored = (m >= cutoff).sum(axis=1)
    censored = n_censored > 0
    bound = np.where(censored, value, np.nan)
    return CensoredMean(
        value=squeeze(value, was_1d),
        censored=squeeze(censored, was_1d),
        bound=squeeze(bound, was_1d),
        n_trials=squeeze(row_count(m), was_1d),
        n_censored=squeeze(n_censored, was_1d),
    )


@dataclass(frozen=True)
class Grouped:
    """Readings laid out by animal x study day: ``matrices[q]`` is rows x trials."""

    animal: np.ndarray
    study_day: np.ndarray
    matrices: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.animal)


def group_trials(readings: pd.DataFrame, columns: Mapping[str, np.ndarray]) -> Grouped:
    """Lay out the checked numeric ``columns`` (aligned with ``readings``) by animal-day.

    Rows are the animal x study-day groups in sorted order; trials fill the columns in
    the order they appear in ``readings`` (every calculator here is order-free).
    """
    if not len(readings):
        empty = np.empty((0, 0))
        return Grouped(np.array([], dtype=object), np.array([], dtype=np.int64),
                       {c: empty for c in columns})
    keys = pd.DataFrame({
        "animal": readings["animal"].to_numpy(),
        "study_day": pd.to_numeric(readings["study_day"]).to_numpy().astype(np.int64),
    })
    g = keys.groupby(list(KEYS), sort=True)
    codes = g.ngroup().to_numpy()
    pos = g.cumcount().to_numpy()
    index = g.size().index
    shape = (len(index), int(pos.max()) + 1)
    matrices = {}
    for name, values in columns.items():
        m = np.full(shape, np.nan)
        m[codes, pos] = values
        matrices[name] = m
    return Grouped(
        animal=index.get_level_values("animal").to_numpy(dtype=object),
        study_day=index.get_level_values("study_day").to_numpy(dtype=np.int64),
        matrices=matrices,
    )


# ---------------------------------------------------------------------------
# derived frames


def count_note(n: np.ndarray, expected: int | None, noun: str) -> np.ndarray:
    """'2 of 3 trials' where fewer than expected, '4 trials, 3 expected' where more."""
    out = np.full(len(n), "", dtype=object)
    if expected is None or not len(n):
        return out
    fewer = n < expected
    more = n > expected
    s = n.astype(str).astype(object)
    out[fewer] = s[fewer] + f" of {expected} {noun}"
    out[more] = s[more] + f" {noun}, {expected} expected"
    return out


def join_notes(*parts: np.ndarray) -> np.ndarray:
    """Join per-row notes with '; ', skipping empty ones."""
    out = parts[0].astype(object)
    for p in parts[1:]:
        p = p.astype(object)
        both = (out != "") & (p != "")
        out = np.where(both, out + "; " + p, out + p)
    return out


def derived_frame(
    grouped: Grouped,
    *,
    outcome: str,
    unit: str,
    value: np.ndarray,
    n_trials: np.ndarray,
    censored: np.ndarray | None = None,
    bound: np.ndarray | None = None,
    note: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per animal-day in the columns of :data:`~nocilab.assays.base.DERIVED_VALUES`.

    ``censored`` is a boolean array (True = right-censored) or None (nothing censored).
    """
    n = len(grouped)
    cens = np.full(n, "none", dtype=object)
    if censored is not None:
        cens[np.asarray(censored, dtype=bool)] = "right"
    frame = pd.DataFrame({
        "animal": grouped.animal,
        "study_day": grouped.study_day.astype(np.int64),
        "outcome": np.full(n, outcome, dtype=object),
        "value": np.asarray(value, dtype=float),
        "unit": np.full(n, unit, dtype=object),
        "censored": cens,
        "bound": np.full(n, np.nan) if bound is None else np.asarray(bound, dtype=float),
        "n_trials": np.asarray(n_trials, dtype=np.int64),
        "note": np.full(n, "", dtype=object) if note is None else note.astype(object),
    })
    return frame[list(DERIVED_VALUES)]


# ---------------------------------------------------------------------------
# thermal assays (cold plate, heat): latency with a cut-off, or a count in a window


def mean_latency_s(latency_s: ArrayLike, *, cutoff_s: float) -> CensoredMean:
    """Mean latency of trials, right-censored at the cut-off time.

    Parameters
    ----------
    latency_s : array_like
        Latencies in seconds: the trials of one animal-day (1-D) or animal-days x trials
        (2-D, NaN where a trial was not done).
    cutoff_s : float
        The cut-off time: an animal that has not responded by then is taken off the
        plate and its latency recorded as the cut-off.

    Returns
    -------
    CensoredMean
        ``value``: mean latency with every censored trial counted at the cut-off;
        ``censored``: True when at least one trial reached the cut-off, in which case
        the true mean latency is at least ``value`` (= ``bound``).

    Raises
    ------
    AssayError
        A latency is negative or above the cut-off (it cannot be recorded).
    """
    return censored_mean(latency_s, cutoff=cutoff_s, name="latency_s", unit="s")


def mean_count(count: ArrayLike) -> Any:
    """Mean of per-trial counts (paw lifts ... in a fixed window).

    ``count`` is 1-D (one animal-day's trials) or 2-D (animal-days x trials, NaN where a
    trial was not done). Counts must be non-negative whole numbers. Returns a float
    (1-D input) or one float per row, NaN for a row without trials.
    """
    m, was_1d = as_trials(count, "count")
    require(m >= 0, "count", "negative", m)
    require(np.round(m) == m, "count", "not whole numbers", m)
    return squeeze(row_mean(m), was_1d)


def thermal_cells(readings: pd.DataFrame, s: Any) -> tuple[list[CellProblem], np.ndarray]:
    """Cell checks of a thermal assay in the mode of settings ``s``, and the values."""
    found = new_found()
    check_keys(readings, found)
    if s.mode == "latency":
        values = check_number(
            readings, "latency_s", found, what="latency",
            maximum=s.cutoff_s,
            above_maximum=(f"latency is above the cut-off of {s.cutoff_s:g} s: an animal "
                           "is taken off at the cut-off, so it cannot be recorded"),
        )
    else:
        values = check_number(readings, "count", found, what="count", integer=True)
    return found.sorted(), values


def thermal_derive(readings: pd.DataFrame, s: Any, *, assay: str) -> pd.DataFrame:
    """Derived values of a thermal assay: mean latency (censored) or mean count."""
    problems, values = thermal_cells(readings, s)
    raise_problems(assay, problems)
    if s.mode == "latency":
        g = group_trials(readings, {"latency_s": values})
        r = mean_latency_s(g.matrices["latency_s"], cutoff_s=s.cutoff_s)
        note = join_notes(
            count_note(r.n_trials, s.trials, "trials"),
            censored_note(r.n_censored, r.n_trials, f"{s.cutoff_s:g} s"),
        )
        return derived_frame(g, outcome="latency_s", unit="s", value=r.value,
                             n_trials=r.n_trials, censored=r.censored, bound=r.bound,
                             note=note)
    g = group_trials(readings, {"count": values})
    m = g.matrices["count"]
    n = row_count(m)
    return derived_frame(g, outcome="count", unit="count", value=mean_count(m),
                         n_trials=n, note=count_note(n, s.trials, "trials"))


def censored_note(n_censored: np.ndarray, n_trials: np.ndarray, cutoff: str) -> np.ndarray:
    """'1 of 3 trials at the cut-off of 250 g' where any trial was censored."""
    out = np.full(len(n_censored), "", dtype=object)
    hit = n_censored > 0
    if hit.any():
        out[hit] = (n_censored[hit].astype(str).astype(object) + " of "
                    + n_trials[hit].astype(str).astype(object)
                    + f" trials at the cut-off of {cutoff}")
    return out


def thermal_assay(name: str, title: str, settings_cls: type) -> Any:
    """The registry entry of a latency-or-count assay (cold plate, heat): one shape, one code."""
    from nocilab.assays.base import Assay, Quantity

    def check(readings: pd.DataFrame, settings: Any) -> list:
        """Cell problems: missing, non-numeric or negative latency, latency above the
        cut-off (latency mode); missing, negative or fractional count (count mode); a
        missing animal or a study day that is not a whole number."""
        return thermal_cells(readings, settings_of(settings, settings_cls, name))[0]

    def derive(readings: pd.DataFrame, settings: Any) -> pd.DataFrame:
        """Mean latency (right-censored at the cut-off) or mean count per animal-day.

        Raises :class:`~nocilab.errors.AssayError` listing the problems if ``check``
        finds any. ``note`` says how many trials reached the cut-off and when an
        animal-day has more or fewer trials than ``settings.trials``.
        """
        return thermal_derive(readings, settings_of(settings, settings_cls, name), assay=name)

    return Assay(
        name=name,
        title=title,
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
