"""Multiplex (bead array, multi-analyte ELISA) exports and their layouts.

- A **multiplex export** is a long table, one row per analyte and well: the analyte's
  name, the well and the signal (median fluorescence intensity or optical density). The
  column names are options (``--analyte``, ``--well``, ``--signal``). A saturated well
  may read ``OVRFLW``, ``OVER``, ``SAT``, ``*`` or ``>...`` and is kept as saturated.
- A **panel layout** is the plate layout of :func:`nocilab.ingest.plates.read_layout`
  (``well, kind, concentration, sample, dilution`` and further columns such as
  ``animal`` or ``arm``) with an optional ``analyte`` column: a row without an analyte
  holds for every analyte (the samples and blanks, usually), a row with one holds for
  that analyte only (its standards, whose concentrations differ between analytes). A
  well may appear once per analyte, never both for all analytes and for one.

:func:`panel_wells` joins the two into one tidy wells table per analyte, the form
:func:`nocilab.elisa.analyse_panel` reads. Every problem is reported at once, naming
the file, row, column, analyte and well.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from nocilab.errors import ImportProblems, Problem
from nocilab.ingest.files import read_sheets
from nocilab.ingest.plates import FORMATS, SATURATED, layout_cells, layout_rows, parse_well

SIGNAL_COLUMNS = ("analyte", "well", "signal", "saturated")


def read_multiplex(path: str | Path, *, analyte: str = "analyte", well: str = "well",
                   signal: str = "signal", sheet: str | None = None,
                   plate_format: int = 96) -> pd.DataFrame:
    """Read a multiplex export (one row per analyte and well).

    Returns
    -------
    pandas.DataFrame
        :data:`SIGNAL_COLUMNS`: ``signal`` a float (NaN for a saturated well),
        ``saturated`` a bool.

    Raises
    ------
    ImportProblems
        A missing column (the columns found are listed), an empty analyte, a cell that
        is not a well of the plate, a signal that is neither a number nor a saturation
        mark, or an analyte and well given twice.
    """
    src = str(path)
    if plate_format not in FORMATS:
        raise ImportProblems(src, [Problem(src, "plate format must be 96 or 384", plate_format)])
    sh = read_sheets(path, sheet=sheet)[0]
    cells = sh.cells
    missing = [c for c in (analyte, well, signal) if c not in cells.columns]
    if missing:
        raise ImportProblems(sh.file, [Problem(sh.file, (
            f"no column {c!r} (the {role} column); the file has columns "
            f"{', '.join(map(str, cells.columns))}")) for c, role in
            ((analyte, "analyte"), (well, "well"), (signal, "signal")) if c in missing])
    problems: list[Problem] = []
    rows, seen = [], {}
    for label, rec in cells.iterrows():
        name, w_text, s_text = (_cell(rec[c]) for c in (analyte, well, signal))
        if not name:
            problems.append(Problem(sh.where(label, analyte), "the analyte is empty"))
            continue
        w = parse_well(w_text, plate_format=plate_format)
        if w is None:
            problems.append(Problem(sh.where(label, well), f"not a well of a {plate_format}-well "
                                    "plate", w_text or None))
            continue
        key = (name, w)
        if key in seen:
            problems.append(Problem(sh.where(label, well), f"analyte {name}, well {w} appears "
                                    f"twice (also row {seen[key]})"))
            continue
        seen[key] = sh.row_number(label)
        try:
            value = float(s_text.replace(",", ".") if s_text.count(",") == 1 and
                          "." not in s_text else s_text)
            ok = np.isfinite(value)
        except ValueError:
            ok = False
        if ok:
            rows.append((name, w, value, False))
        elif s_text.lower() in SATURATED or s_text.startswith(">"):
            rows.append((name, w, np.nan, True))
        else:
            problems.append(Problem(sh.where(label, signal), (
                f"analyte {name}, well {w}: expected a signal (a number) or a saturation mark "
                "such as OVRFLW"), s_text or None))
    if problems:
        raise ImportProblems(sh.file, problems)
    return pd.DataFrame(rows, columns=list(SIGNAL_COLUMNS))


def _cell(v: object) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def read_panel_layout(path: str | Path, *, sheet: str | None = None,
                      plate_format: int = 96) -> pd.DataFrame:
    """Read a panel layout: a plate layout with an optional ``analyte`` column.

    Returns
    -------
    pandas.DataFrame
        The layout's columns with ``analyte`` ("" for rows that hold for every analyte).

    Raises
    ------
    ImportProblems
        Every bad row as :func:`nocilab.ingest.plates.read_layout` names them (a well
        may appear once per analyte), and a well given both for every analyte and for
        one.
    """
    src = str(path)
    if plate_format not in FORMATS:
        raise ImportProblems(src, [Problem(src, "plate format must be 96 or 384", plate_format)])
    sh = read_sheets(path, sheet=sheet)[0]
    cells = layout_cells(sh)
    if "analyte" not in cells.columns:
        cells["analyte"] = ""
    names = cells["analyte"].map(_cell)
    cells = cells.drop(columns="analyte")
    problems: list[Problem] = []
    parts = []
    for name in sorted(set(names)):
        frame, found = layout_rows(sh, cells[names == name], plate_format=plate_format)
        problems += [Problem(p.where, f"analyte {name}: {p.why}" if name else p.why, p.value)
                     for p in found]
        parts.append(frame.assign(analyte=name))
    if problems:
        raise ImportProblems(sh.file, problems)
    layout = pd.concat(parts, ignore_index=True)
    shared = set(layout.loc[layout["analyte"] == "", "well"])
    both = layout[(layout["analyte"] != "") & layout["well"].isin(shared)]
    for name, w in zip(both["analyte"], both["well"], strict=True):
        problems.append(Problem(sh.file, f"well {w} is in the layout for every analyte and "
                                f"again for {name}: give it once"))
    if problems:
        raise ImportProblems(sh.file, problems)
    return layout


def panel_wells(signals: pd.DataFrame, layout: pd.DataFrame, *,
                source: str = "the export") -> pd.DataFrame:
    """One tidy wells table for all analytes: each analyte's layout with its signals.

    Parameters
    ----------
    signals
        From :func:`read_multiplex`.
    layout
        From :func:`read_panel_layout`.
    source
        How problems name the export.

    Returns
    -------
    pandas.DataFrame
        ``analyte`` then the columns of :data:`nocilab.elisa.WELL_COLUMNS` (``od`` holds
        the signal) and the layout's further columns. Wells with a signal but not in the
        layout are left out.

    Raises
    ------
    ImportProblems
        An analyte of the layout without signals, an analyte without standards, a used
        well without a signal, a saturated blank.
    """
    problems: list[Problem] = []
    analytes = sorted(signals["analyte"].unique())
    specific = sorted(set(layout["analyte"]) - {""})
    for name in specific:
        if name not in analytes:
            problems.append(Problem(source, f"the layout has standards for analyte {name}, "
                                    f"but the export has no signals for it; analytes: "
                                    f"{', '.join(analytes)}"))
    parts = []
    for name in analytes:
        lay = layout[layout["analyte"].isin(["", name])].drop(columns="analyte")
        if not (lay["kind"] == "standard").any():
            problems.append(Problem(source, f"analyte {name}: the layout has no standard wells "
                                    "for it (rows with kind standard and analyte "
                                    f"{name}, or without an analyte)"))
            continue
        sig = signals[signals["analyte"] == name].set_index("well")
        absent = [w for w in lay["well"] if w not in sig.index]
        for w in absent:
            problems.append(Problem(source, f"analyte {name}, well {w}: no signal, but the "
                                    "layout uses the well"))
        sat_blank = [w for w, k in zip(lay["well"], lay["kind"], strict=True)
                     if k == "blank" and w in sig.index and sig.loc[w, "saturated"]]
        for w in sat_blank:
            problems.append(Problem(source, f"analyte {name}, well {w}: the blank is saturated"))
        if absent or sat_blank:
            continue
        part = lay.assign(od=sig.loc[lay["well"], "signal"].to_numpy(float),
                          saturated=sig.loc[lay["well"], "saturated"].to_numpy(bool))
        parts.append(part.assign(analyte=name))
    if problems:
        raise ImportProblems(source, problems)
    out = pd.concat(parts, ignore_index=True)
    return out[["analyte"] + [c for c in out.columns if c != "analyte"]]


def load_panel(export: str | Path, layout: str | Path, *, analyte: str = "analyte",
               well: str = "well", signal: str = "signal", sheet: str | None = None,
               layout_sheet: str | None = None, plate_format: int = 96) -> pd.DataFrame:
    """Read a multiplex export and its panel layout into the tidy wells table."""
    signals = read_multiplex(export, analyte=analyte, well=well, signal=signal, sheet=sheet,
                             plate_format=plate_format)
    lay = read_panel_layout(layout, sheet=layout_sheet, plate_format=plate_format)
    return panel_wells(signals, lay, source=str(export))
