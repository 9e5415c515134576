"""Reading CSV and XLSX files into frames of cells, as the user sees them.

Cells are kept as found (strings for CSV, Python values for XLSX) so that validation
can quote them back; row numbers are the ones a spreadsheet shows (header = row 1).
Neither reader turns any text into a missing value: which cells mean "no reading" is
decided in one place, :data:`MISSING_MARKERS`, the same for CSV and XLSX.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from nocilab.errors import ImportProblems, Problem

SUPPORTED = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm")

MISSING_MARKERS = ("-", "\u2013", "\u2014", "n/a", "na", "nt", "not tested", "missing")
"""Cell texts that mean "no reading" (not tested, missing), besides an empty cell.

Compared after trimming spaces and ignoring case: ``-``, an en or em dash, ``n/a``,
``NA``, ``nt``, ``not tested``, ``missing``. A reading cell holding one of them is left
out of an import, in CSV and XLSX files alike; any other text in a numeric column is a
bad cell.
"""

_MISSING = frozenset(("",) + MISSING_MARKERS)


@dataclass(frozen=True)
class Sheet:
    """One table of cells from a file."""

    file: str
    name: str | None
    cells: pd.DataFrame
    first_row: int
    """spreadsheet row number of ``cells.iloc[0]``"""

    def where(self, row_label: int, column: str | None = None) -> str:
        """A cell reference a user can find: file, sheet, row, column."""
        parts = [self.file]
        if self.name is not None:
            parts.append(f"sheet {self.name!r}")
        parts.append(f"row {self.row_number(row_label)}")
        if column is not None:
            parts.append(f"column {column!r}")
        return ", ".join(parts)

    def row_number(self, row_label: int) -> int:
        return int(row_label) + self.first_row


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, in hex."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_sheets(path: str | Path, *, sheet: str | None = None, skip_rows: int = 0,
                label: str | None = None) -> list[Sheet]:
    """Read a CSV/TSV file or the sheets of an XLSX workbook.

    Parameters
    ----------
    path
        The file. ``.csv``/``.txt`` are comma-separated, ``.tsv`` tab-separated.
    sheet
        For workbooks: the one sheet to read (default: every sheet that has data).
    skip_rows
        Rows above the header to ignore (titles, notes).
    label
        How messages name the file (default: its path), e.g. the name a file had
        on the computer it was uploaded from.

    Raises
    ------
    ImportProblems
        The file is missing, of an unknown type, unreadable, or has no such sheet.
    """
    p = Path(path)
    src = label or str(p)
    if not p.is_file():
        raise ImportProblems(src, [Problem(src, "file not found")])
    suffix = p.suffix.lower()
    if suffix not in SUPPORTED:
        raise ImportProblems(src, [Problem(src, f"unknown file type; expected one of {', '.join(SUPPORTED)}", suffix)])
    first_row = skip_rows + 2
    try:
        if suffix in (".csv", ".tsv", ".txt"):
            sep = "\t" if suffix == ".tsv" else ","
            # blank lines are kept (and dropped below) so that row numbers stay the file's
            cells = pd.read_csv(p, sep=sep, dtype=str, keep_default_na=False,
                                skiprows=skip_rows, skipinitialspace=True,
                                skip_blank_lines=False)
            return [Sheet(src, None, _clean_header(cells), first_row)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl chatters about headers and styles
            book = pd.read_excel(p, sheet_name=None, dtype=object, skiprows=skip_rows,
                                 engine="openpyxl", keep_default_na=False,
                                 na_values=[""])
            _restore_formula_errors(p, book, skip_rows)
    except ImportProblems:
        raise
    except Exception as exc:  # the parser's own words are the most useful here
        raise ImportProblems(src, [Problem(src, f"cannot read the file: {exc}")]) from None
    if sheet is not None:
        if sheet not in book:
            raise ImportProblems(src, [Problem(src, f"no sheet named {sheet!r}; sheets are {', '.join(map(repr, book))}")])
        book = {sheet: book[sheet]}
    cleaned = {name: _clean_header(frame) for name, frame in book.items()}
    sheets = [Sheet(src, name, frame, first_row)
              for name, frame in cleaned.items() if not frame.empty]
    if not sheets:
        raise ImportProblems(src, [Problem(src, "the workbook has no data")])
    return sheets


def _restore_formula_errors(path: Path, book: dict[str, pd.DataFrame], skip_rows: int) -> None:
    """Put formula errors (``#DIV/0!``, ``#N/A`` ...) back into the cells pandas read.

    pandas reads a cell holding a formula error as an empty cell, so a reading whose
    formula failed would vanish without a word; with the error text in its cell,
    validation reports it like any other text in a numeric column.
    """
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        for name, frame in book.items():
            n_rows, n_cols = frame.shape
            rows = wb[name].iter_rows(min_row=skip_rows + 2, max_row=skip_rows + 1 + n_rows,
                                      max_col=n_cols)
            for i, row in enumerate(rows):
                for j, cell in enumerate(row):
                    if getattr(cell, "data_type", None) == "e":
                        frame.iat[i, j] = str(cell.value)
    finally:
        wb.close()


def _clean_header(cells: pd.DataFrame) -> pd.DataFrame:
    cells = cells.copy()
    cells.columns = [str(c).strip() for c in cells.columns]
    cells = cells.reset_index(drop=True)
    # drop rows that are entirely empty (trailing blank lines), keeping labels = positions
    empty = cells.apply(lambda col: col.map(_is_blank)).all(axis=1)
    return cells[~empty]


def _is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:
        return True
    return isinstance(value, str) and value.strip() == ""


def is_blank(series: pd.Series) -> pd.Series:
    """Vectorised: which cells hold no reading: empty (None, NaN, only spaces) or one of
    :data:`MISSING_MARKERS` (any case)."""
    return series.isna() | series.astype(str).str.strip().str.lower().isin(_MISSING)


def is_missing_marker(value: object) -> bool:
    """True when one value is empty or one of :data:`MISSING_MARKERS` (any case)."""
    if value is None or (isinstance(value, float) and value != value):
        return True
    return isinstance(value, str) and value.strip().lower() in _MISSING


def write_table(frame: pd.DataFrame, path: str | Path, *, sheet_name: str = "data") -> Path:
    """Write a table as CSV or XLSX (by the file's suffix), creating the folder.

    The file is written to a temporary name first and moved into place, so a failure
    never leaves half a file behind.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ImportProblems(str(p), [Problem(str(p), "output must end in .csv or .xlsx", suffix)])
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.partial")
    try:
        if suffix == ".csv":
            frame.to_csv(tmp, index=False)
        else:
            with pd.ExcelWriter(tmp, engine="openpyxl") as xl:
                frame.to_excel(xl, sheet_name=sheet_name, index=False)
        tmp.replace(p)
    finally:
        if tmp.exists():
            tmp.unlink()
    return p
