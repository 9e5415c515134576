"""A lab's table of von Frey series in, the same table with 50% thresholds out.

Backs ``nocilab vonfrey TABLE --series COL --last COL --filaments mouse|rat|FILE.csv``.
The table is any CSV or XLSX sheet with one up-down series per row (X/O text) and the
last filament used; every other column is passed through unchanged.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from nocilab.assays.von_frey import (
    THRESHOLD_COLUMNS,
    FilamentSet,
    load_filament_set,
    series_problems,
    thresholds,
)
from nocilab.errors import Problem, TableProblems
from nocilab.ingest.files import is_blank, read_sheets, write_table

__all__ = ["NOT_TESTED", "RESULT_COLUMNS", "vonfrey_table", "write_table"]

RESULT_COLUMNS = THRESHOLD_COLUMNS
"""The columns :func:`vonfrey_table` adds (see :func:`nocilab.assays.von_frey.thresholds`)."""

NOT_TESTED = "not tested: series and last filament are both blank"
"""The note of a row whose series and last filament are both blank."""


def vonfrey_table(
    path: str | os.PathLike[str],
    *,
    series_column: str,
    last_column: str,
    filaments: str | os.PathLike[str] | FilamentSet = "mouse",
    delta: float | None = None,
    sheet: str | None = None,
) -> pd.DataFrame:
    """Read a table of up-down series and add Dixon's k and the 50% threshold.

    Parameters
    ----------
    path : str or path
        A ``.csv`` (``.tsv``, ``.txt``) file or an ``.xlsx`` workbook.
    series_column, last_column : str
        The columns holding the X/O series and the last filament used (its number or
        handle value in ``filaments``).
    filaments : 'mouse', 'rat', a CSV path or FilamentSet
    delta : float, optional
        Step in log units (default: the set's mean step).
    sheet : str, optional
        The workbook sheet to read (default: the first sheet that has data).

    Returns
    -------
    pandas.DataFrame
        The table as read (cells as found; fully blank rows dropped) with the columns of
        :data:`RESULT_COLUMNS` added. A row whose series and last filament are both
        blank was not tested: it gets ``k``, ``threshold_g`` and ``bound_g`` NaN,
        ``censored`` ``'none'`` and the note :data:`NOT_TESTED`.

    Raises
    ------
    TableProblems
        The file cannot be read; a named column is missing (the columns found are
        listed); the table already has one of the result columns; or cells are bad:
        a blank series or last filament (with the other filled in), characters other
        than X/O, a last filament not in the set. Every bad cell is listed with file,
        sheet, row as the spreadsheet shows it, column and value.
    AssayError
        ``filaments`` names no built-in set and no valid CSV, or ``delta`` is not a
        positive number.
    """
    found = read_sheets(path, sheet=sheet)[0]
    cells = found.cells
    place = found.file if found.name is None else f"{found.file}, sheet {found.name!r}"
    columns = ", ".join(map(repr, cells.columns))
    problems = [
        Problem(place, f"no column {col!r} ({role}); columns found: {columns}")
        for col, role in ((series_column, "X/O series"), (last_column, "last filament"))
        if col not in cells.columns
    ]
    clash = [c for c in RESULT_COLUMNS if c in cells.columns]
    if clash:
        problems.append(Problem(
            place, f"the table already has column(s) {', '.join(clash)}, which the result "
                   "adds; rename them first"))
    if problems:
        raise TableProblems(found.file, problems)

    fs = load_filament_set(filaments)
    series, last = cells[series_column], cells[last_column]
    tested = ~(is_blank(series) & is_blank(last)).to_numpy(dtype=bool)
    column_of = {"xo_series": series_column, "last_filament": last_column}
    bad = series_problems(series[tested], last[tested], filaments=fs)
    if bad:
        raise TableProblems(found.file, [
            Problem(found.where(p.row, column_of[p.field]), p.why, p.value) for p in bad
        ])
    result = thresholds(series[tested], last[tested], filaments=fs, delta=delta)

    out = cells.copy()
    out["k"] = np.nan
    out["threshold_g"] = np.nan
    out["censored"] = "none"
    out["bound_g"] = np.nan
    out["note"] = NOT_TESTED
    for col in RESULT_COLUMNS:
        out.loc[result.index, col] = result[col]
    return out.reset_index(drop=True)

