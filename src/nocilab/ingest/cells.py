"""Per-cell measurement tables from image software (QuPath, CellProfiler, Fiji).

- A **cells table** has one row per detected cell or satellite-glial ring: the image it
  is in, its id, its class (``Neuron``, ``SGC ring`` ...), its mean intensity in the
  human-IgG channel and its area. Image programs name these columns as they please;
  the names are options (``image``, ``cell``, ``cell_class``, ``intensity``, ``area``).
- An **images table** says with which donor's IgG (and preparation, and arm) each image
  was stained: ``image, donor`` and, as known, ``preparation``, ``arm``.

Every problem is reported at once (:class:`~nocilab.errors.TableProblems`), naming the
file, row, column and value and what was expected.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from nocilab.errors import Problem, TableProblems
from nocilab.ingest.files import read_sheets

CELL_COLUMNS = ("image", "cell", "cell_class", "intensity", "area_um2", "source")
IMAGE_COLUMNS = ("image", "donor", "preparation", "arm")


def _text(v: object) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _columns(sh, wanted: Sequence[tuple[str, str]]) -> list[Problem]:
    have = [str(c) for c in sh.cells.columns]
    where = sh.file + (f", sheet {sh.name!r}" if sh.name is not None else "")
    return [Problem(where, f"no column {col!r} (the {role} column; set its name with the "
                           f"option for {role}); the table has columns {', '.join(have)}")
            for role, col in wanted if col not in have]


def read_cells(paths: str | Path | Sequence[str | Path], *, image: str = "image",
               cell: str = "cell", cell_class: str = "class", intensity: str = "mean_intensity",
               area: str | None = "area", sheet: str | None = None) -> pd.DataFrame:
    """Read one or several per-cell measurement tables.

    Parameters
    ----------
    paths
        CSV or XLSX files (one per image or one for all).
    image, cell, cell_class, intensity, area
        The columns holding the image name, the cell (or ring) id, its class, its mean
        intensity and its area (``area`` None: no area column).
    sheet
        XLSX: the sheet to read.

    Returns
    -------
    pandas.DataFrame
        :data:`CELL_COLUMNS`; ``source`` is the file and row of each cell.

    Raises
    ------
    TableProblems
        A missing column; an empty image, id or class; an intensity that is not a
        finite number >= 0; an area that is not a number > 0; a cell id given twice in
        one image.
    """
    files = [paths] if isinstance(paths, str | Path) else list(paths)
    problems: list[Problem] = []
    frames = []
    seen: dict[tuple[str, str], str] = {}
    for path in files:
        sh = read_sheets(path, sheet=sheet)[0]
        wanted = [("image", image), ("cell id", cell), ("cell class", cell_class),
                  ("intensity", intensity)] + ([("area", area)] if area else [])
        missing = _columns(sh, wanted)
        if missing:
            problems += missing
            continue
        rows = []
        for label, rec in sh.cells.iterrows():
            img, cid, cls = (_text(rec[c]) for c in (image, cell, cell_class))
            for col, v in ((image, img), (cell, cid), (cell_class, cls)):
                if not v:
                    problems.append(Problem(sh.where(label, col), "empty; every cell needs its "
                                                                  "image, id and class"))
            val = _number(rec[intensity])
            if val is None or val < 0:
                problems.append(Problem(sh.where(label, intensity), "expected a mean intensity "
                                        "(a finite number >= 0)", _text(rec[intensity]) or None))
            a = np.nan
            if area:
                a = _number(rec[area])
                if a is None or a <= 0:
                    problems.append(Problem(sh.where(label, area), "expected an area (a number "
                                            "> 0)", _text(rec[area]) or None))
            if img and cid:
                key = (img, cid)
                if key in seen:
                    problems.append(Problem(sh.where(label, cell), f"cell {cid} of image {img} "
                                            f"appears twice (also {seen[key]})"))
                seen[key] = sh.where(label)
            rows.append((img, cid, cls, val, a, sh.where(label)))
        frames.append(pd.DataFrame(rows, columns=list(CELL_COLUMNS)))
    if problems:
        raise TableProblems(", ".join(map(str, files)), problems)
    out = pd.concat(frames, ignore_index=True)
    return out.astype({"intensity": float, "area_um2": float})


def read_images(path: str | Path, *, image: str = "image", donor: str = "donor",
                preparation: str | None = "preparation", arm: str | None = "arm",
                sheet: str | None = None) -> pd.DataFrame:
    """Read the table of which donor's IgG each image was stained with.

    ``preparation`` and ``arm`` are read when the table has them (empty otherwise).

    Returns
    -------
    pandas.DataFrame
        :data:`IMAGE_COLUMNS`, one row per image.

    Raises
    ------
    TableProblems
        A missing image or donor column, an empty image or donor, an image listed twice.
    """
    sh = read_sheets(path, sheet=sheet)[0]
    problems = _columns(sh, [("image", image), ("donor", donor)])
    if problems:
        raise TableProblems(str(path), problems)
    rows, seen = [], {}
    for label, rec in sh.cells.iterrows():
        img, don = _text(rec[image]), _text(rec[donor])
        if not img:
            problems.append(Problem(sh.where(label, image), "empty; expected the image's name"))
        if not don:
            problems.append(Problem(sh.where(label, donor), f"image {img}: empty; expected the "
                                    "donor whose IgG stained it"))
        if img in seen:
            problems.append(Problem(sh.where(label, image), f"image {img} is listed twice "
                                    f"(also row {seen[img]})"))
        seen[img] = sh.row_number(label)
        prep = _text(rec[preparation]) if preparation and preparation in sh.cells else ""
        a = _text(rec[arm]) if arm and arm in sh.cells else ""
        rows.append((img, don, prep, a))
    if problems:
        raise TableProblems(str(path), problems)
    return pd.DataFrame(rows, columns=list(IMAGE_COLUMNS))


def _number(v: object) -> float | None:
    t = _text(v)
    try:
        x = float(t) if t else None
    except ValueError:
        return None
    return x if x is not None and np.isfinite(x) else None
