"""von Frey filament sets: the built-in mouse and rat sets and sets read from CSV files."""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from nocilab.errors import AssayError, Problem

BUILTIN_SETS = ("mouse", "rat")
"""Names of the filament sets shipped with nocilab (``filament_sets/NAME.csv``)."""

_HANDLE_TOLERANCE = 0.005  # handle values are printed with two decimals


@dataclass(frozen=True)
class FilamentSet:
    """An ordered set of von Frey filaments, lightest first.

    Parameters
    ----------
    name : str
        ``'mouse'``, ``'rat'`` or the CSV file the set was read from.
    numbers : tuple of str
        The filament numbers as the lab writes them (``'1'`` ... ``'8'``, or handle
        values such as ``'3.61'``); unique.
    log : tuple of float
        ``log10(10 * force in mg)`` of each filament, strictly increasing. For the
        built-in sets these are the handle values printed on the filaments.
    grams : tuple of float
        Nominal or measured force of each filament, for display. Thresholds, bounds and
        SUDO values are computed on the log scale (``10**log / 10**4``), not from these.

    Notes
    -----
    **How a recorded filament is resolved** (:meth:`resolve`, used for
    ``last_filament``, ``filaments_used`` and ``start_filament``):

    1. a value equal to one of ``numbers`` is that filament: as text after trimming
       spaces, or numerically (``6``, ``'6'``, ``6.0`` and ``'6.0'`` all name number
       ``'6'``);
    2. otherwise a numeric value within 0.005 of one of ``log`` is that filament (the
       handle value printed on it, e.g. ``3.61``);
    3. anything else is not a filament of the set (reported as a problem, never guessed).

    Numbers take precedence over handle values. For the built-in sets the numbers are
    the positions ``1 .. n`` (1 = lightest), so both ``6`` and ``3.61`` name the 0.4 g
    filament of the mouse set.
    """

    name: str
    numbers: tuple[str, ...]
    log: tuple[float, ...]
    grams: tuple[float, ...]

    def __post_init__(self) -> None:
        n = len(self.numbers)
        problems: list[str] = []
        if n < 2:
            problems.append(f"needs at least 2 filaments, has {n}")
        if len(self.log) != n or len(self.grams) != n:
            problems.append(
                f"numbers, log and grams must have the same length "
                f"(found {n}, {len(self.log)}, {len(self.grams)})"
            )
        if len(set(self.numbers)) != n:
            problems.append(f"filament numbers must be unique (found {list(self.numbers)})")
        if any(not math.isfinite(v) for v in self.log):
            problems.append(f"log values must be finite numbers (found {list(self.log)})")
        elif any(b <= a for a, b in zip(self.log, self.log[1:], strict=False)):
            problems.append(
                f"log values must increase from the lightest filament to the heaviest "
                f"(found {list(self.log)})"
            )
        if any(not (math.isfinite(g) and g > 0) for g in self.grams):
            problems.append(f"grams must be positive numbers (found {list(self.grams)})")
        if problems:
            raise AssayError(f"filament set {self.name!r}: " + "; ".join(problems))

    def __len__(self) -> int:
        return len(self.numbers)

    @property
    def delta(self) -> float:
        """Mean step between neighbouring filaments in log units."""
        return (self.log[-1] - self.log[0]) / (len(self.log) - 1)

    @property
    def log_array(self) -> np.ndarray:
        """The log values as a float array."""
        return np.asarray(self.log, dtype=float)

    @property
    def force_g(self) -> np.ndarray:
        """Force of each filament on the log scale, ``10**log / 10**4`` (g)."""
        return 10.0 ** (self.log_array - 4.0)

    def label(self, position: int) -> str:
        """Number and log value of the filament at ``position`` (0 = lightest), for messages."""
        return f"{self.numbers[position]} (log {self.log[position]:.2f})"

    def describe_numbers(self) -> str:
        """A short text naming the accepted values, for messages."""
        nums = ", ".join(self.numbers)
        handles = ", ".join(f"{v:.2f}" for v in self.log)
        return f"a filament number ({nums}) or a handle value ({handles})"

    def resolve(self, values: object) -> np.ndarray:
        """Position (0 = lightest) of each value in the set, ``-1`` where unresolved.

        Blank values (None, NaN, empty text) give ``-1`` too. See the class Notes for
        the rule. Works on any array-like; each distinct value is resolved once.
        """
        arr = pd.Series(np.asarray(values, dtype=object).ravel(), dtype=object)
        codes, uniques = pd.factorize(arr, use_na_sentinel=True)
        table = _resolution_table(self)
        resolved = np.fromiter(
            (_resolve_one(u, table) for u in uniques), dtype=np.int64, count=len(uniques)
        )
        out = np.full(len(arr), -1, dtype=np.int64)
        ok = codes >= 0
        out[ok] = resolved[codes[ok]]
        return out

    def position(self, value: object) -> int:
        """Position (0 = lightest) of one filament; raises AssayError if unresolved."""
        pos = int(self.resolve([value])[0])
        if pos < 0:
            raise AssayError(
                f"{value!r} is not a filament of set {self.name!r}: expected "
                f"{self.describe_numbers()}"
            )
        return pos

    def log_at(self, position: np.ndarray | float) -> np.ndarray:
        """Log value at a position in filament units (1 = lightest, may be fractional).

        Linear between neighbouring filaments; beyond the ends, extrapolated along the
        first or last step.
        """
        p = np.asarray(position, dtype=float)
        x = np.arange(1, len(self) + 1, dtype=float)
        y = self.log_array
        out = np.interp(p, x, y)
        lo_slope = y[1] - y[0]
        hi_slope = y[-1] - y[-2]
        out = np.where(p < 1, y[0] + (p - 1) * lo_slope, out)
        out = np.where(p > len(self), y[-1] + (p - len(self)) * hi_slope, out)
        return out


def _resolution_table(fs: FilamentSet) -> tuple[dict[str, int], np.ndarray, np.ndarray]:
    by_text = {n.strip(): i for i, n in enumerate(fs.numbers)}
    num_values = np.array([_to_float(n) for n in fs.numbers], dtype=float)
    return by_text, num_values, fs.log_array


def _to_float(value: object) -> float:
    if isinstance(value, bool):
        return math.nan
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return math.nan


def _resolve_one(value: object, table: tuple[dict[str, int], np.ndarray, np.ndarray]) -> int:
    by_text, num_values, logs = table
    text = str(value).strip()
    if text in by_text:
        return by_text[text]
    x = _to_float(value)
    if not math.isfinite(x):
        return -1
    hit = np.flatnonzero(np.abs(num_values - x) < 1e-9)
    if len(hit) == 1:
        return int(hit[0])
    hit = np.flatnonzero(np.abs(logs - x) <= _HANDLE_TOLERANCE)
    if len(hit) == 1:
        return int(hit[0])
    return -1


def load_filament_set(source: str | os.PathLike[str] | FilamentSet) -> FilamentSet:
    """The filament set named by ``source``.

    Parameters
    ----------
    source : str, path or FilamentSet
        ``'mouse'`` or ``'rat'`` (case-insensitive) for a built-in set; otherwise the
        path of a CSV file with the columns ``number``, ``log`` and optionally
        ``grams`` (one row per filament, lightest first; lines starting with ``#`` are
        comments). A FilamentSet is returned as it is.

    Returns
    -------
    FilamentSet

    Raises
    ------
    AssayError
        The name is neither built in nor an existing file, or the file has problems;
        the message names the file, row (line number in the file) and column of each.

    Examples
    --------
    >>> fs = load_filament_set("rat")
    >>> fs.numbers[3], fs.log[3], round(fs.delta, 4)
    ('4', 4.31, 0.2243)
    """
    if isinstance(source, FilamentSet):
        return source
    text = os.fspath(source)
    if text.strip().lower() in BUILTIN_SETS:
        return _builtin(text.strip().lower())
    path = Path(text)
    if not path.is_file():
        raise AssayError(
            f"filament set {text!r}: not a built-in set ({', '.join(BUILTIN_SETS)}) "
            f"and no such file"
        )
    return parse_filament_csv(path.read_text(encoding="utf-8-sig"), name=str(path))


@lru_cache(maxsize=None)
def _builtin(name: str) -> FilamentSet:
    data = resources.files("nocilab.assays").joinpath("filament_sets", f"{name}.csv")
    return parse_filament_csv(data.read_text(encoding="utf-8"), name=name)


def parse_filament_csv(text: str, *, name: str) -> FilamentSet:
    """Parse the text of a filament-set CSV (see :func:`load_filament_set`)."""
    problems: list[Problem] = []
    header: list[str] | None = None
    header_line = 0
    rows: list[tuple[int, list[str]]] = []
    for line_no, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        if header is None:
            header = [h.strip().lower() for h in row]
            header_line = line_no
        else:
            rows.append((line_no, row))
    if header is None:
        raise AssayError(f"filament set file {name!r}: empty (expected columns number,log[,grams])")
    where = f"{name}, row {header_line}"
    for col in ("number", "log"):
        if col not in header:
            problems.append(Problem(where, f"missing column {col!r}", ", ".join(header)))
    unknown = [h for h in header if h not in ("number", "log", "grams")]
    if unknown:
        problems.append(
            Problem(where, "unknown column(s); expected number, log and optionally grams",
                    ", ".join(unknown))
        )
    if problems:
        raise AssayError(_render(name, problems))
    col = {h: i for i, h in enumerate(header)}
    numbers: list[str] = []
    logs: list[float] = []
    grams: list[float] = []
    seen: dict[str, int] = {}
    for line_no, row in rows:
        cells = {h: (row[i].strip() if i < len(row) else "") for h, i in col.items()}
        cell = f"{name}, row {line_no}, column"
        number = cells["number"]
        if not number:
            problems.append(Problem(f"{cell} 'number'", "filament number is blank"))
        elif number in seen:
            problems.append(
                Problem(f"{cell} 'number'", f"duplicate of row {seen[number]}", number)
            )
        seen.setdefault(number, line_no)
        log = _to_float(cells["log"])
        if not math.isfinite(log):
            problems.append(Problem(f"{cell} 'log'", "expected a number", cells["log"]))
        elif logs and log <= logs[-1]:
            problems.append(
                Problem(f"{cell} 'log'",
                        f"log values must increase row by row (previous row: {logs[-1]})", log)
            )
        if "grams" in col:
            g = _to_float(cells["grams"])
            if not (math.isfinite(g) and g > 0):
                problems.append(
                    Problem(f"{cell} 'grams'", "expected a positive number", cells["grams"])
                )
        else:
            g = 10.0 ** (log - 4.0) if math.isfinite(log) else math.nan
        numbers.append(number)
        logs.append(log)
        grams.append(g)
    if len(rows) < 2:
        problems.append(Problem(name, f"needs at least 2 filaments, has {len(rows)}"))
    if problems:
        raise AssayError(_render(name, problems))
    return FilamentSet(name=name, numbers=tuple(numbers), log=tuple(logs), grams=tuple(grams))


def _render(name: str, problems: list[Problem]) -> str:
    n = len(problems)
    lines = [f"filament set file {name!r}: {n} problem{'s' if n != 1 else ''}"]
    lines += [f"  - {p}" for p in problems]
    return "\n".join(lines)
