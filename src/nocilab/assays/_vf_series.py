"""Reading recorded von Frey series: X/O text, last filament, filaments used; their checks.

Everything here works on distinct values (``pandas.factorize``), so a million rows cost
little more than the few hundred patterns they hold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from nocilab.assays._vf_dixon import normalise_series, series_defect
from nocilab.assays._vf_filaments import FilamentSet
from nocilab.errors import AssayError

Method = Literal["up_down", "sudo"]
SUDO_STIMULI = 5
_SPLIT = re.compile(r"[,;\s]+")
_MAX_LISTED = 20


@dataclass(frozen=True)
class SeriesProblem:
    """One bad recorded value.

    ``row`` is the row label (the index label of a pandas input, else the position);
    ``field`` is ``'xo_series'``, ``'last_filament'`` or ``'filaments_used'``.
    """

    row: Any
    field: str
    value: Any
    why: str

    def __str__(self) -> str:
        found = "" if self.value is None else f" (found {self.value!r})"
        return f"row {self.row}, {self.field}: {self.why}{found}"


@dataclass(frozen=True)
class Prepared:
    """Series reduced to distinct patterns, and filaments resolved to positions."""

    index: pd.Index
    row_pattern: np.ndarray  # per row: index into ``patterns``, -1 where unusable
    patterns: list[str]  # distinct usable patterns, upper case
    last: np.ndarray | None  # per row: filament position (0 = lightest), -1 where bad
    start: int | None  # start position (0 = lightest): given, or SUDO's middle filament
    problems: list[SeriesProblem]


def as_column(values: object, name: str, *, index: pd.Index | None = None) -> pd.Series:
    """A 1-d object Series from an array-like (keeps a pandas index when given one)."""
    if isinstance(values, str) or np.ndim(values) == 0:
        raise AssayError(f"{name}: expected one value per series (a list or array), got {values!r}")
    if index is not None and len(values) != len(index):  # type: ignore[arg-type]
        raise AssayError(
            f"{name} has {len(values)} values for {len(index)} series; "  # type: ignore[arg-type]
            "expected one per series"
        )
    if isinstance(values, pd.Series):
        keep = values.index if index is None else index
        return pd.Series(values.to_numpy(dtype=object), index=keep)
    arr = np.asarray(values, dtype=object)
    if arr.ndim != 1:
        raise AssayError(f"{name}: expected a 1-d array of values, got shape {arr.shape}")
    return pd.Series(arr, index=index, dtype=object)


def middle_position(fs: FilamentSet) -> int:
    """SUDO's default start: position ``(n + 1) // 2`` counted from 1 (lighter middle)."""
    return (len(fs) + 1) // 2 - 1


def sudo_fifth(patterns: list[str], start: int, n: int) -> np.ndarray:
    """Position of the 5th filament for each 5-stimulus pattern (up-down, stays at ends)."""
    pos = np.full(len(patterns), start, dtype=np.int64)
    for i in range(SUDO_STIMULI - 1):
        up = np.fromiter((p[i] == "O" for p in patterns), dtype=bool, count=len(patterns))
        pos = np.clip(pos + np.where(up, 1, -1), 0, n - 1)
    return pos


def prepare(
    series: object,
    last_filament: object | None,
    *,
    fs: FilamentSet,
    filaments_used: object | None = None,
    method: Method = "up_down",
    start: object | None = None,
) -> Prepared:
    """Normalise, resolve and check recorded series (see ``series_problems``)."""
    s = as_column(series, "series")
    problems: list[SeriesProblem] = []
    raw_codes, raw_uniques = pd.factorize(s, use_na_sentinel=True)
    normal = [normalise_series(u) for u in raw_uniques]
    defects = [series_defect(t) for t in normal]
    if method == "sudo":
        defects = [
            d or (f"SUDO uses exactly {SUDO_STIMULI} stimuli; found {len(t)}"
                  if t is not None and len(t) != SUDO_STIMULI else "")
            for d, t in zip(defects, normal, strict=True)
        ]
    usable = pd.Series([t if not d else None for t, d in zip(normal, defects, strict=True)],
                       dtype=object)
    pat_of_unique, patterns = pd.factorize(usable, use_na_sentinel=True)
    patterns_list = [str(p) for p in patterns]
    row_pattern = np.full(len(s), -1, dtype=np.int64)
    ok = raw_codes >= 0
    row_pattern[ok] = pat_of_unique[raw_codes[ok]]
    for pos in np.flatnonzero(row_pattern < 0):
        code = raw_codes[pos]
        why = defects[code] if code >= 0 else series_defect(None)
        value = None if _is_blank(s.iloc[pos]) else s.iloc[pos]
        problems.append(SeriesProblem(s.index[pos], "xo_series", value, why))

    start_pos = None if start is None else fs.position(start)
    if method == "sudo" and start_pos is None:
        start_pos = middle_position(fs)

    last = None
    if last_filament is not None:
        lf = as_column(last_filament, "last_filament", index=s.index)
        last = fs.resolve(lf.to_numpy())
        for pos in np.flatnonzero(last < 0):
            blank = _is_blank(lf.iloc[pos])
            if blank and method == "sudo":
                continue
            why = ("no last filament recorded" if blank else
                   f"not a filament of set {fs.name!r}: expected {fs.describe_numbers()}")
            value = None if blank else lf.iloc[pos]
            problems.append(SeriesProblem(s.index[pos], "last_filament", value, why))
        if method == "sudo":
            fifth = sudo_fifth(patterns_list, start_pos, len(fs))
            for pos in np.flatnonzero((last >= 0) & (row_pattern >= 0)):
                expected = fifth[row_pattern[pos]]
                if last[pos] != expected:
                    problems.append(SeriesProblem(
                        s.index[pos], "last_filament", lf.iloc[pos],
                        f"starting at filament {fs.label(start_pos)}, the responses "
                        f"lead to filament {fs.label(expected)} as the 5th",
                    ))
    elif method == "up_down":
        raise AssayError("last_filament is required for the up-down method")

    if filaments_used is not None:
        used = as_column(filaments_used, "filaments_used", index=s.index)
        raw_last = None if last_filament is None else lf
        problems += _check_used(s.index, used, row_pattern, patterns_list, last, raw_last, fs,
                                start_pos)

    if problems:
        order = {label: i for i, label in reversed(list(enumerate(s.index)))}
        fields = {"xo_series": 0, "last_filament": 1, "filaments_used": 2}
        problems.sort(key=lambda p: (order.get(p.row, 0), fields[p.field]))
    return Prepared(s.index, row_pattern, patterns_list, last, start_pos, problems)


def _is_blank(value: object) -> bool:
    if isinstance(value, str):
        return not value.strip()
    return value is None or bool(np.ndim(value) == 0 and pd.isna(value))


def _check_used(
    index: pd.Index,
    used: pd.Series,
    row_pattern: np.ndarray,
    patterns: list[str],
    last: np.ndarray | None,
    raw_last: pd.Series | None,
    fs: FilamentSet,
    start: int | None,
) -> list[SeriesProblem]:
    """Check recorded filament sequences against the up-down rule."""
    problems: list[SeriesProblem] = []
    resolved: dict[str, int] = {}
    n = len(fs)
    for pos, value in enumerate(used.to_numpy()):
        if _is_blank(value):
            continue
        tokens = [t for t in _SPLIT.split(str(value).strip()) if t]
        if not tokens:
            continue
        label = index[pos]
        for t in tokens:
            if t not in resolved:
                resolved[t] = int(fs.resolve([t])[0])
        unknown = [t for t in tokens if resolved[t] < 0]
        if unknown:
            problems.append(SeriesProblem(
                label, "filaments_used", value,
                f"{', '.join(unknown)} not in set {fs.name!r}: expected {fs.describe_numbers()}",
            ))
            continue
        seq = [resolved[t] for t in tokens]
        if row_pattern[pos] < 0:
            continue  # the series itself is already reported
        pattern = patterns[row_pattern[pos]]
        if len(seq) != len(pattern):
            problems.append(SeriesProblem(
                label, "filaments_used", value,
                f"{len(seq)} filaments recorded for {len(pattern)} responses",
            ))
            continue
        whys = []
        if start is not None and seq[0] != start:
            whys.append(
                f"stimulus 1 should be the start filament {fs.label(start)}, "
                f"found {fs.label(seq[0])}"
            )
        for i in range(1, len(seq)):
            move = 1 if pattern[i - 1] == "O" else -1
            expected = min(max(seq[i - 1] + move, 0), n - 1)
            if seq[i] != expected:
                whys.append(
                    f"stimulus {i + 1}: after {pattern[i - 1]} at filament "
                    f"{fs.label(seq[i - 1])} the up-down rule gives {fs.label(expected)}, "
                    f"found {fs.label(seq[i])}"
                )
        if whys:
            problems.append(SeriesProblem(label, "filaments_used", value, "; ".join(whys)))
        if last is not None and raw_last is not None and last[pos] >= 0 and last[pos] != seq[-1]:
            problems.append(SeriesProblem(
                label, "last_filament", raw_last.iloc[pos],
                f"is filament {fs.label(last[pos])} but filaments_used ends at "
                f"{fs.label(seq[-1])}",
            ))
    return problems


def render_problems(problems: list[SeriesProblem], *, source: str = "von Frey series") -> str:
    """A message listing problems (at most 20, then a count)."""
    n = len(problems)
    lines = [f"{source}: {n} problem{'s' if n != 1 else ''}"]
    lines += [f"  - {p}" for p in problems[:_MAX_LISTED]]
    if n > _MAX_LISTED:
        lines.append(f"  ... and {n - _MAX_LISTED} more")
    return "\n".join(lines)
