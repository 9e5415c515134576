"""Plate layouts and plate-reader exports (CSV, XLSX) for ELISA and other plate assays.

- A **layout** is a long table, one row per used well: ``well`` (A1 ... H12),
  ``kind`` (``standard``, ``blank``, ``sample`` or ``empty``), ``concentration`` (of a
  standard), ``sample`` (the sample's id) and ``dilution`` (of a sample: ``1000``,
  ``1:1000`` or ``1/1000``); any further column (``animal``, ``study_day`` ...) is kept
  and carried into the results.
- A **reader export** holds one or several grids of optical densities, 8 rows x 12
  columns (96 wells) or 16 x 24 (384 wells): either labelled (a row of column numbers
  1 ... 12 above rows headed A ... H, anywhere on the sheet, below titles and notes) or a
  bare block of numbers alone on the sheet. A saturated well may read ``OVRFLW``,
  ``OVER``, ``SAT``, ``*`` or ``>3.5``; it is kept as saturated, not as a number.

:func:`plate_wells` puts the two together into the tidy wells table that
:func:`nocilab.elisa.analyse_plate` reads. Every problem is collected and reported at
once (:class:`~nocilab.errors.ImportProblems`), naming the file, the row or cell, the
well, the value and what was expected.
"""

from __future__ import annotations

import csv
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from nocilab.errors import ImportProblems, Problem
from nocilab.ingest.files import read_sheets

FORMATS = {96: (8, 12), 384: (16, 24)}
LAYOUT_KINDS = ("standard", "blank", "sample", "empty")
SATURATED = frozenset({"ovrflw", "overflow", "over", "ovr", "sat", "saturated", "*", "****"})
_WELL = re.compile(r"^\s*([A-Za-z])\s*0*(\d{1,2})\s*$")
_DILUTION = re.compile(r"^\s*(?:1\s*[:/]\s*)?([0-9]*\.?[0-9]+(?:[eE][+-]?\d+)?)\s*$")


@dataclass(frozen=True)
class ReaderPlate:
    """One grid of a reader export: each well's cell as found, and where it was.

    ``values`` maps a well (``"B7"``) to the cell's text; ``where`` maps it to a
    reference a user can find (``plate.xlsx, sheet 'Sheet1', cell H5``).
    """

    file: str
    label: str
    values: dict[str, str]
    where: dict[str, str]


def parse_well(text: object, *, plate_format: int = 96) -> str | None:
    """``"a01"`` -> ``"A1"``; None when not a well of the plate format."""
    m = _WELL.match(str(text))
    if not m:
        return None
    n_rows, n_cols = FORMATS[plate_format]
    row, col = m.group(1).upper(), int(m.group(2))
    if ord(row) - ord("A") >= n_rows or not 1 <= col <= n_cols:
        return None
    return f"{row}{col}"


def read_layout(path: str | Path, *, sheet: str | None = None,
                plate_format: int = 96) -> pd.DataFrame:
    """Read a plate layout (long table, one row per used well).

    Parameters
    ----------
    path
        CSV or XLSX with columns ``well``, ``kind`` and, as the kinds need them,
        ``concentration``, ``sample``, ``dilution``; other columns are kept.
    sheet
        XLSX: the sheet to read (default: the first with data).
    plate_format
        96 (A1-H12) or 384 (A1-P24).

    Returns
    -------
    pandas.DataFrame
        Columns ``well, kind, sample, dilution, concentration`` then the extra columns,
        ``empty`` wells left out.

    Raises
    ------
    ImportProblems
        Every bad row: missing column, a well that is not on the plate or appears twice,
        an unknown kind, a standard without a concentration > 0, a sample without an id
        or a dilution >= 1, and a layout without standards.
    """
    if plate_format not in FORMATS:
        raise ImportProblems(str(path), [Problem(str(path), "plate format must be 96 or 384",
                                                 plate_format)])
    sh = read_sheets(path, sheet=sheet)[0]
    cells = layout_cells(sh)
    frame, problems = layout_rows(sh, cells, plate_format=plate_format)
    if not problems and not (frame["kind"] == "standard").any():
        src = sh.file + (f", sheet {sh.name!r}" if sh.name is not None else "")
        problems.append(Problem(src, "the layout has no standard wells (kind standard): there "
                                     "is no curve to read the samples from"))
    if problems:
        raise ImportProblems(sh.file, problems)
    return frame


def layout_cells(sh) -> pd.DataFrame:
    """A layout sheet's cells with lower-case column names, the columns checked.

    Raises :class:`ImportProblems` when ``well`` or ``kind`` is missing or the layout
    holds reader columns (``od``, ``saturated``).
    """
    cells = sh.cells.copy()
    cells.columns = [str(c).strip().lower() for c in cells.columns]
    src = sh.file + (f", sheet {sh.name!r}" if sh.name is not None else "")
    problems: list[Problem] = []
    for col in ("well", "kind"):
        if col not in cells.columns:
            problems.append(Problem(src, f"no column {col!r}; a layout needs columns well, kind "
                                         "and, as the kinds need them, concentration, sample, "
                                         "dilution"))
    for col in ("od", "saturated"):
        if col in cells.columns:
            problems.append(Problem(src, f"column {col!r} belongs in the reader's export, not in "
                                         "the layout"))
    if problems:
        raise ImportProblems(sh.file, problems)
    for col in ("sample", "dilution", "concentration"):
        if col not in cells.columns:
            cells[col] = ""
    return cells


def layout_rows(sh, cells: pd.DataFrame, *,
                plate_format: int = 96) -> tuple[pd.DataFrame, list[Problem]]:
    """Check the rows of a layout sheet (``cells`` from :func:`layout_cells`, or a subset
    of its rows): the tidy layout without ``empty`` wells, and every problem found."""
    problems: list[Problem] = []
    n_rows, n_cols = FORMATS[plate_format]
    last = f"{chr(ord('A') + n_rows - 1)}{n_cols}"
    rows, seen = [], {}
    for label, rec in cells.iterrows():
        text = {k: ("" if _blank(v) else str(v).strip()) for k, v in rec.items()}
        well = parse_well(text["well"], plate_format=plate_format)
        if well is None:
            problems.append(Problem(sh.where(label, "well"),
                                    f"not a well of a {plate_format}-well plate (A1 to {last})",
                                    text["well"]))
            continue
        if well in seen:
            problems.append(Problem(sh.where(label, "well"),
                                    f"well {well} appears twice (also row {seen[well]})"))
            continue
        seen[well] = sh.row_number(label)
        kind = _KIND_ALIASES.get(text["kind"].lower(), text["kind"].lower())
        if kind not in LAYOUT_KINDS:
            problems.append(Problem(sh.where(label, "kind"),
                                    f"well {well}: kind must be one of {', '.join(LAYOUT_KINDS)}",
                                    text["kind"]))
            continue
        row = {"well": well, "kind": kind, "sample": "", "dilution": np.nan,
               "concentration": np.nan}
        if kind == "standard":
            conc = _number(text["concentration"])
            if conc is None or conc <= 0:
                why = ("a standard needs a concentration > 0 (a zero standard is kind blank)"
                       if conc is not None else "a standard needs its concentration (a number)")
                problems.append(Problem(sh.where(label, "concentration"), f"well {well}: {why}",
                                        text["concentration"] or None))
            row["concentration"] = conc
        elif kind == "sample":
            if not text["sample"]:
                problems.append(Problem(sh.where(label, "sample"),
                                        f"well {well}: a sample well needs its sample id"))
            row["sample"] = text["sample"]
            dil = _dilution(text["dilution"])
            if dil is None or dil < 1:
                problems.append(Problem(
                    sh.where(label, "dilution"),
                    f"well {well}: a sample needs its dilution factor >= 1 (1000, 1:1000 or "
                    "1/1000; 1 for an undiluted sample)", text["dilution"] or None))
            row["dilution"] = dil
        for k, v in text.items():
            if k not in row and k != "kind":
                row[k] = v
        rows.append(row)
    frame = pd.DataFrame(rows, columns=None if rows else ["well", "kind", "sample", "dilution",
                                                           "concentration"])
    frame = frame[frame["kind"] != "empty"].reset_index(drop=True)
    base = ["well", "kind", "sample", "dilution", "concentration"]
    return frame[base + [c for c in frame.columns if c not in base]], problems


_KIND_ALIASES = {"std": "standard", "standards": "standard", "unknown": "sample",
                 "unk": "sample", "blk": "blank", "": "empty", "unused": "empty"}


def read_plate_reader(path: str | Path, *, sheet: str | None = None,
                      plate_format: int = 96) -> list[ReaderPlate]:
    """Find every grid of optical densities in a reader export.

    Parameters
    ----------
    path
        CSV/TSV/TXT or XLSX as the reader's software writes it.
    sheet
        XLSX: the one sheet to search (default: every sheet).
    plate_format
        96 (8 x 12) or 384 (16 x 24).

    Returns
    -------
    list of ReaderPlate
        In the order found (sheet by sheet, top to bottom).

    Raises
    ------
    ImportProblems
        The file cannot be read, or holds no grid.
    """
    p = Path(path)
    src = str(p)
    if plate_format not in FORMATS:
        raise ImportProblems(src, [Problem(src, "plate format must be 96 or 384", plate_format)])
    if not p.is_file():
        raise ImportProblems(src, [Problem(src, "file not found")])
    n_rows, n_cols = FORMATS[plate_format]
    plates: list[ReaderPlate] = []
    for name, grid in _raw_sheets(p, sheet):
        prefix = src + (f", sheet {name!r}" if name is not None else "")
        for (r0, c0), label in _find_grids(grid, n_rows, n_cols):
            values, where = {}, {}
            for i in range(n_rows):
                for j in range(n_cols):
                    well = f"{chr(ord('A') + i)}{j + 1}"
                    r, c = r0 + i, c0 + j
                    values[well] = grid[r][c] if c < len(grid[r]) else ""
                    where[well] = f"{prefix}, {_cell_ref(r, c, xlsx=name is not None)}"
            n = len(plates) + 1
            plates.append(ReaderPlate(src, f"{name + ', ' if name else ''}plate {n} ({label})",
                                      values, where))
    if not plates:
        raise ImportProblems(src, [Problem(src, (
            f"no {n_rows} x {n_cols} grid of optical densities found; expected a row of column "
            f"numbers 1 to {n_cols} above rows headed A to {chr(ord('A') + n_rows - 1)}, or a "
            f"bare block of {n_rows} x {n_cols} numbers alone on the sheet"))])
    return plates


def plate_wells(layout: pd.DataFrame, plate: ReaderPlate) -> pd.DataFrame:
    """The tidy wells table of one plate: the layout's wells with their ODs.

    Returns the layout's columns plus ``od`` (float; NaN for a saturated well) and
    ``saturated`` (bool), in the form :func:`nocilab.elisa.analyse_plate` reads.

    Raises
    ------
    ImportProblems
        Every well the layout uses whose cell is empty or neither a number nor a
        saturation mark; a saturated blank.
    """
    problems: list[Problem] = []
    ods, sat = [], []
    for well, kind, sample in zip(layout["well"], layout["kind"], layout["sample"], strict=True):
        raw = plate.values.get(well, "")
        what = f"the layout's {kind}" + (f" {sample}" if sample else "")
        where = f"{plate.where.get(well, plate.file)} (well {well})"
        text = str(raw).strip()
        value = _number(text, decimal_comma=True)
        if value is not None and np.isfinite(value):
            ods.append(value)
            sat.append(False)
        elif text.lower() in SATURATED or text.startswith(">"):
            if kind == "blank":
                problems.append(Problem(where, f"{what} is saturated", text))
            ods.append(np.nan)
            sat.append(True)
        else:
            why = (f"empty, but it holds {what}" if not text else
                   f"expected an optical density (a number) or a saturation mark such as OVRFLW "
                   f"for {what}")
            problems.append(Problem(where, why, text or None))
            ods.append(np.nan)
            sat.append(False)
    if problems:
        raise ImportProblems(plate.file, problems)
    out = layout.copy()
    out["od"] = np.asarray(ods, dtype=float)
    out["saturated"] = np.asarray(sat, dtype=bool)
    return out


def load_plate(reader: str | Path, layout: str | Path, *, sheet: str | None = None,
               layout_sheet: str | None = None, plate: int | None = None,
               plate_format: int = 96) -> tuple[pd.DataFrame, ReaderPlate]:
    """Read a layout and one plate of a reader export into the tidy wells table.

    ``plate`` (1, 2 ...) picks a grid when the export holds several; it is required then.
    """
    lay = read_layout(layout, sheet=layout_sheet, plate_format=plate_format)
    plates = read_plate_reader(reader, sheet=sheet, plate_format=plate_format)
    if plate is None and len(plates) > 1:
        raise ImportProblems(str(reader), [Problem(str(reader), (
            f"the file holds {len(plates)} plates ({'; '.join(p.label for p in plates)}); "
            "choose one with --plate N"))])
    if plate is not None and not 1 <= plate <= len(plates):
        raise ImportProblems(str(reader), [Problem(str(reader), (
            f"there is no plate {plate}: the file holds {len(plates)}"))])
    chosen = plates[(plate or 1) - 1]
    return plate_wells(lay, chosen), chosen


# ----------------------------------------------------------------------------- helpers

def _blank(v: object) -> bool:
    return v is None or (isinstance(v, float) and v != v) or str(v).strip() == ""


def _number(text: object, *, decimal_comma: bool = False) -> float | None:
    t = str(text).strip()
    if decimal_comma and re.fullmatch(r"-?\d+,\d+", t):
        t = t.replace(",", ".")
    try:
        return float(t) if t else None
    except ValueError:
        return None


def _dilution(text: str) -> float | None:
    m = _DILUTION.match(text)
    return float(m.group(1)) if m else None


def _cell_ref(r: int, c: int, *, xlsx: bool) -> str:
    if xlsx:
        from openpyxl.utils import get_column_letter

        return f"cell {get_column_letter(c + 1)}{r + 1}"
    return f"row {r + 1}, column {c + 1}"


def _text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        if v != v:
            return ""
        return repr(int(v)) if v.is_integer() else repr(v)
    return str(v).strip()


def _raw_sheets(p: Path, sheet: str | None) -> list[tuple[str | None, list[list[str]]]]:
    src = str(p)
    suffix = p.suffix.lower()
    try:
        if suffix in (".csv", ".tsv", ".txt"):
            with open(p, newline="", encoding="utf-8-sig") as fh:
                text = fh.read()
            delim = "\t" if suffix == ".tsv" or ("\t" in text and "," not in text) else (
                ";" if text.count(";") > text.count(",") else ",")
            return [(None, [[c.strip() for c in row] for row in csv.reader(text.splitlines(),
                                                                          delimiter=delim)])]
        if suffix not in (".xlsx", ".xlsm"):
            raise ImportProblems(src, [Problem(src, "unknown file type; expected .csv, .tsv, "
                                                    ".txt, .xlsx or .xlsm", suffix)])
        from openpyxl import load_workbook

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = load_workbook(p, read_only=True, data_only=True)
        try:
            names = book.sheetnames
            if sheet is not None and sheet not in names:
                raise ImportProblems(src, [Problem(src, f"no sheet named {sheet!r}; sheets are "
                                                        f"{', '.join(names)}")])
            return [(n, [[_text(v) for v in row] for row in book[n].iter_rows(values_only=True)])
                    for n in ([sheet] if sheet else names)]
        finally:
            book.close()
    except ImportProblems:
        raise
    except Exception as exc:  # the parser's own words are the most useful here
        raise ImportProblems(src, [Problem(src, f"cannot read the file: {exc}")]) from None


def _find_grids(grid: list[list[str]], n_rows: int, n_cols: int):
    """Top-left cells (row, column) of the OD blocks, with how each was recognised."""
    numbers = [str(k) for k in range(1, n_cols + 1)]
    letters = [chr(ord("A") + i) for i in range(n_rows)]

    def cell(r: int, c: int) -> str:
        return grid[r][c].strip() if 0 <= r < len(grid) and 0 <= c < len(grid[r]) else ""

    def letters_down(r: int, c: int) -> bool:
        return [cell(r + i, c).upper() for i in range(n_rows)] == letters

    found = []
    for r, row in enumerate(grid):  # column numbers 1..n above the block
        for c in range(len(row) - n_cols + 1):
            if [x.strip() for x in row[c:c + n_cols]] != numbers or r + n_rows >= len(grid):
                continue
            if c > 0 and letters_down(r + 1, c - 1):
                found.append(((r + 1, c), "labelled grid"))
            elif all(cell(r + 1 + i, c - 1) == "" for i in range(n_rows)):
                found.append(((r + 1, c), "grid with column numbers"))
    if found:
        return found
    for r in range(len(grid) - n_rows + 1):  # row letters without column numbers
        for c in range(max((len(x) for x in grid[r:r + n_rows]), default=0)):
            if letters_down(r, c):
                found.append(((r, c + 1), "grid with row letters"))
    if found:
        return found
    filled = [(r, c) for r, row in enumerate(grid) for c, v in enumerate(row) if v.strip()]
    if filled:
        rs = [r for r, _ in filled]
        cs = [c for _, c in filled]
        r0, c0 = min(rs), min(cs)
        if max(rs) - r0 + 1 == n_rows and max(cs) - c0 + 1 == n_cols:
            return [((r0, c0), "bare block")]
    return []
