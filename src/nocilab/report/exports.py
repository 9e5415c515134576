"""Tables out of nocilab: CSV files, an Excel workbook, GraphPad Prism .pzfx.

- :func:`write_csv_tables`: one UTF-8 CSV per table, file names checked;
- :func:`write_xlsx`: one sheet per table, header bold and frozen, columns fitted,
  numbers stored as numbers, text stored as text (never as a formula);
- :func:`to_pzfx` / :func:`write_pzfx`: Prism "grouped" tables (rows = study days,
  data sets = arms, subcolumns = animals) and, from :func:`donor_mean_tables`, a column
  table of donor means per outcome (what the donor-level test compares), see
  :mod:`nocilab.report._pzfx`;
- :func:`tables_by_outcome`: the derived table split into one table per outcome.

Numbers are written in full (shortest round-trip form); rounding is for display only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from nocilab import schema
from nocilab.errors import NocilabError, SchemaError
from nocilab.report._pzfx import DonorMeans, donor_means, to_pzfx, write_pzfx

__all__ = ["DonorMeans", "donor_mean_tables", "donor_means", "tables_by_outcome", "to_pzfx",
           "write_csv_tables", "write_pzfx", "write_xlsx"]

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                     *(f"lpt{i}" for i in range(1, 10))}


def _check_tables(tables: Mapping[str, pd.DataFrame], what: str) -> None:
    if not isinstance(tables, Mapping) or not tables:
        raise NocilabError(f"{what}: expected a non-empty mapping of name -> DataFrame")
    for name, frame in tables.items():
        if not isinstance(frame, pd.DataFrame):
            raise SchemaError(f"{what}: table {name!r} is a {type(frame).__name__}, "
                              "expected a DataFrame")


def _flat(frame: pd.DataFrame, *, table: str, what: str) -> pd.DataFrame:
    """A frame whose index is a column (when it carries information) and whose column
    names are unique strings."""
    out = frame
    if isinstance(out.index, pd.MultiIndex) or out.index.name is not None:
        out = out.reset_index()
    if isinstance(out.columns, pd.MultiIndex):
        out = out.copy()
        out.columns = ["_".join(str(p) for p in col if str(p) != "") for col in out.columns]
    names = [str(c) for c in out.columns]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise SchemaError(f"{what}: table {table!r} has repeated column name(s) {', '.join(dup)}")
    if names != list(out.columns):
        out = out.copy()
        out.columns = names
    return out


def safe_file_name(name: str, *, suffix: str) -> str:
    """``name`` + ``suffix`` if ``name`` is a safe, portable file name, else an error.

    Safe: starts with a letter or digit, then letters, digits, ``_``, ``.``, ``-``
    (at most 100), does not end in ``.``, and is not a name Windows reserves
    (``CON``, ``NUL``, ``COM1`` ...). A name already ending in ``suffix`` keeps it.
    """
    stem = str(name)
    if stem.lower().endswith(suffix):
        stem = stem[: -len(suffix)]
    if not _SAFE_NAME.match(stem) or stem.endswith(".") or \
            stem.split(".")[0].lower() in _WINDOWS_RESERVED:
        raise NocilabError(f"table name {name!r} is not a safe file name: use letters, digits, "
                           "'_', '.' and '-' (at most 100, starting with a letter or digit), "
                           "not a reserved device name such as CON or NUL")
    return stem + suffix


def write_csv_tables(tables: Mapping[str, pd.DataFrame], folder: str | Path) -> list[Path]:
    """Write each table as ``<folder>/<name>.csv`` (UTF-8, ``\\n`` line ends, no index).

    Parameters
    ----------
    tables
        name -> DataFrame; names must be safe file names (see :func:`safe_file_name`)
        and distinct even where the file system ignores case.
    folder
        Created if missing.

    Returns
    -------
    list of pathlib.Path
        The files written, in the order of ``tables``.

    Notes
    -----
    A named index or a MultiIndex is written as leading columns. Floats are written in
    their shortest round-trip form, missing values as empty cells.
    """
    _check_tables(tables, "write_csv_tables")
    files = {name: safe_file_name(name, suffix=".csv") for name in tables}
    seen: dict[str, str] = {}
    for name, file in files.items():
        other = seen.setdefault(file.lower(), name)
        if other != name:
            raise NocilabError(f"write_csv_tables: tables {other!r} and {name!r} would both be "
                               f"written to {file} on a case-insensitive file system")
    out_dir = Path(folder)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in tables.items():
        path = out_dir / files[name]
        _flat(frame, table=name, what="write_csv_tables").to_csv(
            path, index=False, encoding="utf-8", lineterminator="\n")
        paths.append(path)
    return paths


_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def sheet_names(names: list[str]) -> dict[str, str]:
    """Excel-safe, unique sheet names for ``names``.

    Characters Excel forbids (``[ ] : * ? / \\``) become ``_``; leading and trailing
    apostrophes are dropped; names are cut to 31 characters; ``History`` (reserved)
    becomes ``History_``; names equal but for case get ``~2``, ``~3`` ...

    Examples
    --------
    >>> sheet_names(["a/b", "A/B", "History"])
    {'a/b': 'a_b', 'A/B': 'A_B~2', 'History': 'History_'}
    >>> len(sheet_names(["x" * 40])["x" * 40])
    31
    """
    out: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        base = _SHEET_FORBIDDEN.sub("_", str(name)).strip("'").strip() or "Sheet"
        if base.lower() == "history":
            base = "History_"
        base = base[:31]
        candidate, k = base, 1
        while candidate.lower() in used:
            k += 1
            tag = f"~{k}"
            candidate = base[: 31 - len(tag)] + tag
        used.add(candidate.lower())
        out[name] = candidate
    return out


def _cell_values(series: pd.Series) -> list[object]:
    """Python values for openpyxl: numbers as numbers, missing as None, text cleaned."""
    s = series
    if pd.api.types.is_bool_dtype(s):
        return [None if pd.isna(v) else bool(v) for v in s]
    if pd.api.types.is_integer_dtype(s):
        return [None if pd.isna(v) else int(v) for v in s]
    if pd.api.types.is_float_dtype(s):
        vals = s.to_numpy(dtype=float)
        return [float(v) if math.isfinite(v) else
                (None if np.isnan(v) else ("inf" if v > 0 else "-inf")) for v in vals]
    if pd.api.types.is_datetime64_any_dtype(s):
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        return [None if pd.isna(v) else v.to_pydatetime() for v in s]
    out: list[object] = []
    for v in s:
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT:
            out.append(None)
        elif isinstance(v, (bool, np.bool_)):
            out.append(bool(v))
        elif isinstance(v, (int, np.integer)):
            out.append(int(v))
        elif isinstance(v, (float, np.floating)):
            fv = float(v)
            out.append(fv if math.isfinite(fv) else ("inf" if fv > 0 else "-inf"))
        else:
            out.append(ILLEGAL_CHARACTERS_RE.sub("", str(v)))
    return out


def _cell(ws: object, v: object) -> object:
    """The value as openpyxl should write it.

    Text is forced to stay text (a note starting with '=' is not a formula). A float
    is written with 17 significant digits (``repr``), which reads back as the same
    double; openpyxl on its own writes 16 (``%.16g``), which can change the last bit.
    """
    if isinstance(v, str):
        c = WriteOnlyCell(ws, value=v)
        c.data_type = "s"
        return c
    if isinstance(v, float):
        c = WriteOnlyCell(ws, value=v)
        if c.data_type == "n" and hasattr(c, "_value"):
            c._value = repr(v)
        return c
    return v


def _width(header: str, values: list[object]) -> float:
    longest = len(header)
    for v in values[:2000]:
        if v is None:
            continue
        n = min(len(f"{v:.6g}"), 12) if isinstance(v, float) else len(str(v))
        longest = max(longest, n)
    return float(min(max(longest + 2, 6), 60))


def write_xlsx(tables: Mapping[str, pd.DataFrame], path: str | Path) -> dict[str, str]:
    """Write the tables into one Excel workbook, one sheet per table.

    Parameters
    ----------
    tables
        name -> DataFrame, in sheet order.
    path
        The ``.xlsx`` file; its folder is created if missing.

    Returns
    -------
    dict
        table name -> sheet name (see :func:`sheet_names` for how names are made
        Excel-safe).

    Notes
    -----
    The header row is bold and frozen and carries an autofilter; column widths follow
    the longest entry (at most 60 characters). Numbers, booleans and dates are stored as
    such; missing values as empty cells; infinities as the text ``inf``/``-inf``
    (Excel has no infinity). Text is always stored as text, so a note such as
    ``=SUM(A1)`` is never run as a formula; characters XML forbids are removed.
    """
    _check_tables(tables, "write_xlsx")
    names = sheet_names(list(tables))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    header_align = Alignment(vertical="bottom")
    for name, frame in tables.items():
        flat = _flat(frame, table=name, what="write_xlsx")
        ws = wb.create_sheet(title=names[name])
        columns = [str(c) for c in flat.columns]
        values = [_cell_values(flat[c]) for c in flat.columns]
        for j, (col, vals) in enumerate(zip(columns, values, strict=True), start=1):
            ws.column_dimensions[get_column_letter(j)].width = _width(col, vals)
        ws.freeze_panes = "A2"
        if columns:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(flat) + 1}"
        header = []
        for col in columns:
            cell = WriteOnlyCell(ws, value=ILLEGAL_CHARACTERS_RE.sub("", col))
            cell.data_type = "s"
            cell.font = bold
            cell.alignment = header_align
            header.append(cell)
        ws.append(header)
        for row in zip(*values, strict=True) if values else ():
            ws.append([_cell(ws, v) for v in row])
    wb.save(path)
    return names


def tables_by_outcome(derived: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The derived table split into one table per assay and outcome.

    Keys are ``"<assay>.<outcome>"`` (``"paw_pressure.threshold_g"``), which are safe
    file names, sheet names and Prism table titles; tables keep the derived columns.
    """
    d = schema.validate(derived, schema.DERIVED, table="derived")
    out: dict[str, pd.DataFrame] = {}
    for (assay, outcome), sub in d.groupby(["assay", "outcome"], sort=True):
        out[f"{assay}.{outcome}"] = sub.reset_index(drop=True)
    return out


def donor_mean_tables(derived: pd.DataFrame, analysis) -> dict[str, DonorMeans]:
    """The donor means of every outcome the analysis ran the donor-level test on.

    Keys are those of :func:`tables_by_outcome`. Each outcome's means use the baseline
    days, the window and the scale (log10 values for a log-scale outcome) the analysis
    used for it, so they are the values its donor-level test compared (``analysis``: a
    :class:`~nocilab.stats.StudyAnalysis`).
    """
    from nocilab.stats.scale import log10_values

    d = schema.validate(derived, schema.DERIVED, table="derived")
    out: dict[str, DonorMeans] = {}
    for (assay, outcome), res in sorted(analysis.results.items()):
        if res.donor_test is None or res.donor_test.empty:
            continue
        rows = d[(d["assay"] == assay) & (d["outcome"] == outcome)]
        if res.scale == "log10":
            rows = log10_values(rows, value="value", day="study_day", animal="animal",
                                what=f"{assay}.{outcome}")
        means = donor_means(rows, baseline_days=tuple(res.baseline_days),
                            window=tuple(res.window.bounds))
        if res.scale == "log10":
            means = DonorMeans(units=means.units, quantity=f"{means.quantity} of log10 values",
                               window=means.window)
        out[f"{assay}.{outcome}"] = means
    return out
