"""From sheets of cells to one row per raw value, for the two layouts labs keep.

- **long** (tidy): one row per animal x study day x trial, one column per raw quantity
  (``force_g``, ``xo_series`` ...), plus an ``assay`` column or a fixed assay.
- **wide**: one row per animal, one column per day (``Day 3``) or per day and trial
  (``D3_t2``), the cells holding one raw quantity of one assay.

Both give a *cells* frame: animal, study_day, trial, assay, quantity, raw (the cell as
found) and ``where`` (file, sheet, row, column) for error messages. No value is parsed
here beyond what is needed to place the cell.
"""

from __future__ import annotations

import pandas as pd

from nocilab.errors import Problem
from nocilab.ingest.files import Sheet, is_blank
from nocilab.model import ImportMapping

CELL_COLUMNS = ("animal", "study_day", "trial", "assay", "quantity", "raw", "where")


def _empty_cells() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in CELL_COLUMNS})


def _where_column(sheet: Sheet, index: pd.Index, column: str) -> pd.Series:
    prefix = sheet.file + (f", sheet {sheet.name!r}" if sheet.name is not None else "")
    rows = (index.to_numpy() + sheet.first_row).astype(str)
    return pd.Series([f"{prefix}, row {r}, column {column!r}" for r in rows], index=index)


def _find(sheet: Sheet, wanted: str, problems: list[Problem], role: str) -> str | None:
    cols = list(sheet.cells.columns)
    if wanted in cols:
        return wanted
    lowered = {c.lower(): c for c in cols}
    if wanted.lower() in lowered:
        return lowered[wanted.lower()]
    where = sheet.file + (f", sheet {sheet.name!r}" if sheet.name is not None else "")
    problems.append(Problem(where, f"no column {wanted!r} for the {role}; columns are "
                                   + ", ".join(map(repr, cols))))
    return None


def long_cells(sheet: Sheet, mapping: ImportMapping, quantities_of: dict[str, tuple[str, ...]],
               problems: list[Problem]) -> pd.DataFrame:
    """Cells of a tidy sheet. ``quantities_of`` maps assay -> its raw quantity names."""
    cells = sheet.cells
    animal_col = _find(sheet, mapping.animal, problems, "animal")
    day_col = _find(sheet, mapping.day, problems, "study day")
    trial_col = None
    if mapping.trial is not None and (mapping.trial in cells.columns or mapping.trial != "trial"):
        trial_col = _find(sheet, mapping.trial, problems, "trial")
    elif "trial" in cells.columns:
        trial_col = "trial"
    assay_col = None
    if mapping.assay is None:
        assay_col = _find(sheet, "assay", problems, "assay (or give the assay)")
    if mapping.assay is not None:
        assays = pd.Series(mapping.assay, index=cells.index, dtype=object)
    elif assay_col is not None:
        assays = cells[assay_col].astype(str).str.strip()
    else:
        return _empty_cells()

    # which columns hold which quantity
    explicit = dict(mapping.quantities or {})
    qcols: dict[str, str] = {}
    for q, col in explicit.items():
        found = _find(sheet, col, problems, f"quantity {q}")
        if found is not None:
            qcols[q] = found
    if not explicit:
        known = {q for a in set(assays.dropna()) for q in quantities_of.get(a, ())}
        lowered = {c.lower(): c for c in cells.columns}
        qcols = {q: lowered[q.lower()] for q in sorted(known) if q.lower() in lowered}
        if not qcols:
            where = sheet.file + (f", sheet {sheet.name!r}" if sheet.name is not None else "")
            problems.append(Problem(where, "no column holds a raw quantity of "
                                    + ", ".join(sorted(set(assays.dropna()))) + "; expected one of "
                                    + ", ".join(sorted(known)) if known else
                                    "no known assay in the sheet"))
            return _empty_cells()

    parts = []
    if animal_col is None or day_col is None:
        return _empty_cells()
    for q, col in qcols.items():
        present = ~is_blank(cells[col])
        sub = cells.loc[present]
        if sub.empty:
            continue
        parts.append(pd.DataFrame({
            "animal": sub[animal_col],
            "study_day": sub[day_col],
            "trial": sub[trial_col] if trial_col is not None else 1,
            "assay": assays.loc[sub.index],
            "quantity": q,
            "raw": sub[col],
            "where": _where_column(sheet, sub.index, col),
            "_day_where": _where_column(sheet, sub.index, day_col),
            "_animal_where": _where_column(sheet, sub.index, animal_col),
            "_trial_where": (_where_column(sheet, sub.index, trial_col)
                             if trial_col is not None else ""),
        }))
    if not parts or animal_col is None or day_col is None:
        return _empty_cells()
    return pd.concat(parts, ignore_index=True)


def wide_cells(sheet: Sheet, mapping: ImportMapping, problems: list[Problem]) -> pd.DataFrame:
    """Cells of a wide sheet: one row per animal, one column per day (and trial)."""
    cells = sheet.cells
    animal_col = _find(sheet, mapping.animal, problems, "animal")
    if animal_col is None:
        return _empty_cells()
    where_sheet = sheet.file + (f", sheet {sheet.name!r}" if sheet.name is not None else "")
    matched: list[tuple[str, int, int]] = []
    unmatched: list[str] = []
    for col in cells.columns:
        if col == animal_col:
            continue
        hit = mapping.match_column(col)
        if hit is None:
            unmatched.append(col)
        else:
            matched.append((col, hit[0], hit[1]))
    if not matched:
        problems.append(Problem(where_sheet, f"no column matches the pattern {mapping.columns!r}; "
                                "columns are " + ", ".join(map(repr, cells.columns))))
        return _empty_cells()
    ignorable = set(mapping.ignore_columns or ())
    for col in unmatched:
        if col not in ignorable and not is_blank(cells[col]).all():
            problems.append(Problem(f"{where_sheet}, column {col!r}",
                                    f"does not match the pattern {mapping.columns!r} and is not "
                                    "ignored; name it in ignore_columns or fix the header"))
    parts = []
    for col, day, trial in matched:
        present = ~is_blank(cells[col])
        sub = cells.loc[present]
        if sub.empty:
            continue
        parts.append(pd.DataFrame({
            "animal": sub[animal_col],
            "study_day": day,
            "trial": trial,
            "assay": mapping.assay,
            "quantity": mapping.quantity,
            "raw": sub[col],
            "where": _where_column(sheet, sub.index, col),
            "_day_where": f"{where_sheet}, column {col!r}",
            "_animal_where": _where_column(sheet, sub.index, animal_col),
            "_trial_where": f"{where_sheet}, column {col!r}",
        }))
    if not parts:
        return _empty_cells()
    return pd.concat(parts, ignore_index=True)
