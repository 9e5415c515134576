"""The frames the study-level laboratory analysis takes, checked where they enter.

The store hands over plate wells, per-cell measurements and the images they come from;
the report hands over the animals' assignments (real ids, or vial codes and coded groups
while the study is blinded). This module names their columns once, checks them, and
maps images and animals to what the analysis may call them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from nocilab.errors import SchemaError

WELLS_COLUMNS = (
    "plate", "assay", "analyte", "well", "kind", "animal", "study_day", "dilution",
    "concentration", "unit", "od", "saturated", "import_id", "excluded",
)
"""Columns of the plate wells frame (one row per well and analyte); an optional
``exclusion_reason`` says why a person excluded a plate."""
IMAGES_COLUMNS = ("image", "vial")
"""Columns of the images frame: each image and the vial code (or, in an open study, the
preparation id) its section was stained with."""
ASSIGN_COLUMNS = ("animal", "animal_code", "preparation", "vial_code", "donor", "arm")
"""As :data:`nocilab.design.blinding.ASSIGNMENT_COLUMNS`."""
CELL_COLUMNS = ("image", "cell", "cell_class", "intensity")
"""The columns of :data:`nocilab.ingest.cells.CELL_COLUMNS` the analysis reads."""

SERUM = "serum_igg"
CYTOKINES = "cytokines"
CLEARANCE = "clearance"
BINDING = "binding"
LAB_ASSAYS = (SERUM, CYTOKINES, CLEARANCE, BINDING)
"""Assay names of the laboratory rows of the derived table."""
PLATE_ASSAYS = (SERUM, CYTOKINES)


def _require(frame: pd.DataFrame | None, columns: Sequence[str], table: str) -> pd.DataFrame:
    if frame is None:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(f"the {table} table must be a DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(f"the {table} table lacks column(s) {', '.join(missing)}; expected "
                          f"{', '.join(columns)}")
    return frame


def check_wells(wells: pd.DataFrame | None) -> pd.DataFrame:
    """The wells frame with its columns typed (``None`` or no rows: an empty frame)."""
    w = _require(wells, WELLS_COLUMNS, "plate wells").copy()
    if "exclusion_reason" not in w.columns:
        w["exclusion_reason"] = ""
    for col in ("plate", "assay", "analyte", "well", "kind", "unit", "exclusion_reason"):
        w[col] = w[col].map(_text)
    w["animal"] = w["animal"].map(lambda v: _text(v) or None)
    for col in ("dilution", "concentration", "od"):
        w[col] = pd.to_numeric(w[col], errors="coerce").astype(float)
    w["study_day"] = pd.to_numeric(w["study_day"], errors="coerce").astype("Int64")
    w["saturated"] = w["saturated"].fillna(False).astype(bool)
    w["excluded"] = w["excluded"].fillna(False).astype(bool)
    w["import_id"] = pd.to_numeric(w["import_id"], errors="coerce").astype("Int64")
    return w.reset_index(drop=True)


def check_assign(assign: pd.DataFrame | None) -> pd.DataFrame:
    """The assignments frame, every column as text (``""`` where missing)."""
    a = _require(assign, ASSIGN_COLUMNS, "assignments").copy()
    for col in ASSIGN_COLUMNS:
        a[col] = a[col].map(_text)
    dup = a["animal"][a["animal"].duplicated()]
    if len(dup):
        raise SchemaError(f"the assignments table lists animal(s) more than once: "
                          f"{', '.join(sorted(set(dup))[:10])}")
    return a[list(ASSIGN_COLUMNS)].reset_index(drop=True)


def check_cells(cells: pd.DataFrame | None, images: pd.DataFrame | None
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cells and images frames (``None``: empty)."""
    c = _require(cells, CELL_COLUMNS, "cells").copy()
    i = _require(images, IMAGES_COLUMNS, "images").copy()
    c["image"] = c["image"].map(_text)
    c["intensity"] = pd.to_numeric(c["intensity"], errors="coerce").astype(float)
    i["image"] = i["image"].map(_text)
    i["vial"] = i["vial"].map(_text)
    return c.reset_index(drop=True), i.drop_duplicates("image").reset_index(drop=True)


def _text(v: object) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return ""
    return str(v).strip()


def unit_slug(unit: str) -> str:
    """A unit as it goes into an outcome name.

    >>> unit_slug("pg/mL"), unit_slug("µg/mL"), unit_slug("IU/mL")
    ('pg_per_ml', 'ug_per_ml', 'iu_per_ml')
    """
    s = str(unit).strip().replace("µ", "u").replace("μ", "u").lower().replace("/", "_per_")
    return re.sub(r"[^a-z0-9]+", "_", s).strip("_")


def name_slug(name: str) -> str:
    """An analyte as it goes into an outcome name.

    >>> name_slug("IL6"), name_slug("IL-1b"), name_slug("human_igg")
    ('il6', 'il_1b', 'human_igg')
    """
    return re.sub(r"[^a-z0-9]+", "_", str(name).strip().lower()).strip("_")


def outcome_name(analyte: str, unit: str) -> str:
    """``human_igg`` in ``ug/mL`` -> ``human_igg_ug_per_ml``; ``IL6`` in ``pg/mL`` ->
    ``il6_pg_per_ml``."""
    return f"{name_slug(analyte)}_{unit_slug(unit)}"


def same_unit(a: str, b: str) -> bool:
    """Whether two unit spellings mean the same (case, ``µ``/``u``, spaces)."""
    return unit_slug(a) == unit_slug(b)


def vial_table(assign: pd.DataFrame) -> pd.DataFrame:
    """One row per vial code (and, where it differs, per preparation id): ``vial``,
    ``preparation``, ``donor``, ``arm`` as the assignments show them.

    While a study is blinded, preparation and donor hold the vial code and arm the coded
    group, so nothing here reveals more than the assignments do. A vial that the
    assignments give more than one arm or donor is left out (it cannot be placed).
    """
    a = assign[assign["vial_code"].ne("") | assign["preparation"].ne("")]
    rows = []
    for key in ("vial_code", "preparation"):
        for vial, g in a[a[key] != ""].groupby(key, sort=True):
            if g[["preparation", "donor", "arm"]].drop_duplicates().shape[0] == 1:
                r = g.iloc[0]
                rows.append((vial, r["preparation"], r["donor"], r["arm"]))
    out = pd.DataFrame(rows, columns=["vial", "preparation", "donor", "arm"])
    return out.drop_duplicates("vial").reset_index(drop=True)


def animal_table(study, assign: pd.DataFrame) -> pd.DataFrame:
    """``animal, donor, preparation, arm, sex, cage`` of every animal: the assignments'
    donor, preparation and arm, the study file's sex and cage."""
    try:
        table = study.animal_table()[["animal", "sex", "cage"]].astype(str)
    except AttributeError:
        table = pd.DataFrame(columns=["animal", "sex", "cage"])
    out = assign[["animal", "donor", "preparation", "arm"]].merge(table, on="animal",
                                                                   how="outer")
    return out.fillna("").astype(str)


def join_notes(*parts: str) -> str:
    """Non-empty parts joined by ``; ``."""
    return "; ".join(p for p in parts if p)


def listed(items: Sequence[object], *, limit: int = 8) -> str:
    """``a, b, c`` (shortened for long lists)."""
    items = [str(i) for i in items]
    text = ", ".join(items[:limit])
    return text + (f" ... ({len(items)} in all)" if len(items) > limit else "")
