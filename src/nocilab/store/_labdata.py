"""Laboratory raw data in the store: plate wells (ELISA, cytokine panels) and binding cells.

What is stored
--------------
- ``plates``: one row per plate of a reader export (``plate``: its name, unique in the
  study; ``assay``: ``serum_igg`` or ``cytokines``; the reader's label of the grid; the
  layout file and its SHA-256; the ``imports`` row of the export; ``n_wells`` and the
  SHA-256 of its wells).
- ``plate_wells``: one row per well and analyte: kind (standard, blank, sample), sample
  id, animal, study day, dilution, a standard's nominal concentration and its unit, the
  raw optical density or signal (None when saturated) and the saturated flag. Raw values
  only: curves and concentrations are derived, never stored.
- ``plate_status``: append-only: a person excluding a plate from the analysis (or
  including it again), why, who and when. The current state is the last row.
- ``binding_images`` / ``binding_cells``: one import of an image software's per-cell
  table: which vial (or preparation) stained each image; each cell's class, mean
  intensity and area.

What is audited
---------------
The export itself is an ``imports`` row with its ``import`` event, as for readings. Each
plate is one event (entity ``plate``, action ``import``) whose ``after`` is the plates
row with the SHA-256 of its wells' canonical JSON; an exclusion is one event (action
``exclude`` / ``include``) naming the status row, with the reason. A binding import is
one event (entity ``binding``) with the SHA-256 of its images and of its cells.
:func:`replay_findings` (run by ``audit verify``) recomputes every digest from the
tables, so a well, cell or status changed, added or removed behind the store's back is
found and named with the event it contradicts.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from nocilab.errors import StoreError
from nocilab.store import _tables as t
from nocilab.store._audit import canonical_json, utc_now
from nocilab.store._read import frame
from nocilab.store._transaction import EventSpec, Transaction, bulk_insert, require_text

PLATE_ENTITY = "plate"
BINDING_ENTITY = "binding"
ASSAYS = ("serum_igg", "cytokines")
WELL_KINDS = ("standard", "blank", "sample")

plates = sa.Table(
    "plates",
    t.metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("plate", sa.Text, nullable=False),
    sa.Column("assay", sa.Text, nullable=False),
    sa.Column("reader_label", sa.Text, nullable=False),
    sa.Column("layout_name", sa.Text, nullable=False),
    sa.Column("layout_sha256", sa.String(64), nullable=False),
    sa.Column("import_id", sa.Integer, sa.ForeignKey("imports.id"), nullable=False),
    sa.Column("n_wells", sa.Integer, nullable=False),
    sa.Column("wells_sha256", sa.String(64), nullable=False),
    sa.UniqueConstraint("plate"),
)

plate_wells = sa.Table(
    "plate_wells",
    t.metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("plate_id", sa.Integer, sa.ForeignKey("plates.id"), nullable=False),
    sa.Column("analyte", sa.Text, nullable=False),
    sa.Column("well", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("sample", sa.Text, nullable=False),
    sa.Column("animal", sa.Text, nullable=True),
    sa.Column("study_day", sa.Integer, nullable=True),
    sa.Column("dilution", sa.Float, nullable=True),
    sa.Column("concentration", sa.Float, nullable=True),
    sa.Column("unit", sa.Text, nullable=False),
    sa.Column("od", sa.Float, nullable=True),
    sa.Column("saturated", sa.Boolean, nullable=False),
    sa.UniqueConstraint("plate_id", "analyte", "well"),
)

plate_status = sa.Table(
    "plate_status",
    t.metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("plate_id", sa.Integer, sa.ForeignKey("plates.id"), nullable=False),
    sa.Column("excluded", sa.Boolean, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("changed_by", sa.Text, nullable=False),
    sa.Column("changed_at", sa.Text, nullable=False),
)

binding_images = sa.Table(
    "binding_images",
    t.metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("import_id", sa.Integer, sa.ForeignKey("imports.id"), nullable=False),
    sa.Column("image", sa.Text, nullable=False),
    sa.Column("vial", sa.Text, nullable=False),
    sa.UniqueConstraint("image"),
)

binding_cells = sa.Table(
    "binding_cells",
    t.metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("import_id", sa.Integer, sa.ForeignKey("imports.id"), nullable=False),
    sa.Column("image", sa.Text, nullable=False),
    sa.Column("cell", sa.Text, nullable=False),
    sa.Column("cell_class", sa.Text, nullable=False),
    sa.Column("intensity", sa.Float, nullable=False),
    sa.Column("area_um2", sa.Float, nullable=True),
    sa.Column("source", sa.Text, nullable=False),
)

WELL_FIELDS = ("analyte", "well", "kind", "sample", "animal", "study_day", "dilution",
               "concentration", "unit", "od", "saturated")
"""The fields of a well, in the order their digest is computed."""

PLATE_FIELDS = ("id", "plate", "assay", "reader_label", "layout_name", "layout_sha256",
                "import_id", "n_wells", "wells_sha256")
STATUS_FIELDS = ("id", "plate_id", "excluded", "reason", "changed_by", "changed_at")
IMAGE_FIELDS = ("image", "vial")
CELL_FIELDS = ("image", "cell", "cell_class", "intensity", "area_um2", "source")

PLATE_WELL_COLUMNS: dict[str, str] = {
    "plate": "object", "assay": "object", "analyte": "object", "well": "object",
    "kind": "object", "sample": "object", "animal": "object", "study_day": "Int64",
    "dilution": "float64", "concentration": "float64", "unit": "object", "od": "float64",
    "saturated": "bool", "import_id": "int64", "excluded": "bool",
    "exclusion_reason": "object",
}
"""Columns of :meth:`Store.plate_wells`."""

PLATE_COLUMNS: dict[str, str] = {
    "plate": "object", "assay": "object", "analytes": "object", "n_wells": "int64",
    "n_samples": "int64", "study_days": "object", "file_name": "object",
    "reader_label": "object", "layout_name": "object", "import_id": "int64",
    "imported_by": "object", "imported_at": "object", "excluded": "bool",
    "exclusion_reason": "object",
}
"""Columns of :meth:`Store.plates`."""

CELL_COLUMNS: dict[str, str] = {"image": "object", "cell": "object", "cell_class": "object",
                                "intensity": "float64", "area_um2": "float64",
                                "source": "object"}
IMAGE_COLUMNS: dict[str, str] = {"image": "object", "vial": "object", "import_id": "int64"}

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class LabImportResult:
    """The outcome of :meth:`Store.import_plates` or :meth:`Store.import_binding`.

    ``import_id`` is the ``imports`` row of the file (the earlier one when
    ``already_imported``: nothing was written); ``names`` the plates written (or the
    images, for binding); ``n_rows`` the wells or cells written.
    """

    import_id: int
    names: tuple[str, ...]
    n_rows: int
    already_imported: bool


# ----------------------------------------------------------------------------- values

def _plain(value: Any) -> Any:
    """A value as JSON and every driver take it: None for missing, plain int/float/str."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        v = float(value)
        if math.isnan(v):
            return None
        if math.isinf(v):
            raise StoreError(f"an infinite number ({value!r}) cannot be stored")
        return v
    return value


def digest(rows: Sequence[Sequence[Any]]) -> str:
    """SHA-256 of the canonical JSON of rows (lists of plain values)."""
    return hashlib.sha256(canonical_json([list(r) for r in rows]).encode("utf-8")).hexdigest()


def _check_sha(value: str, what: str) -> str:
    sha = str(value).strip().lower()
    if not _SHA256.match(sha):
        raise StoreError(f"{what} must be 64 hexadecimal digits, got {value!r}")
    return sha


def _well_rows(wells: pd.DataFrame, plate: str) -> list[dict[str, Any]]:
    missing = [c for c in WELL_FIELDS if c not in wells.columns]
    if missing:
        raise StoreError(f"the wells of plate {plate!r} lack column(s) {', '.join(missing)}")
    rows = []
    seen: set[tuple[str, str]] = set()
    for rec in wells[list(WELL_FIELDS)].itertuples(index=False):
        row = {f: _plain(v) for f, v in zip(WELL_FIELDS, rec, strict=True)}
        for f in ("analyte", "well", "kind", "unit"):
            if not isinstance(row[f], str) or not row[f].strip():
                raise StoreError(f"plate {plate!r}: a well has no {f} ({row[f]!r})")
        if row["kind"] not in WELL_KINDS:
            raise StoreError(f"plate {plate!r}, well {row['well']}: kind must be one of "
                             f"{', '.join(WELL_KINDS)}, got {row['kind']!r}")
        row["sample"] = "" if row["sample"] is None else str(row["sample"])
        row["saturated"] = bool(row["saturated"])
        if row["study_day"] is not None:
            day = float(row["study_day"])
            if day != round(day):
                raise StoreError(f"plate {plate!r}, well {row['well']}: study_day must be a "
                                 f"whole number, got {row['study_day']!r}")
            row["study_day"] = int(day)
        if row["od"] is None and not row["saturated"]:
            raise StoreError(f"plate {plate!r}, well {row['well']}: no reading and not "
                             "saturated")
        key = (row["analyte"], row["well"])
        if key in seen:
            raise StoreError(f"plate {plate!r}: well {row['well']} of {row['analyte']} is "
                             "given twice")
        seen.add(key)
        rows.append(row)
    if not rows:
        raise StoreError(f"plate {plate!r} has no wells")
    return rows


# ----------------------------------------------------------------------------- plates

def import_plates(tx: Transaction, plate_frames: Sequence[tuple[str, str, str, pd.DataFrame]],
                  *, file_name: str, file_sha256: str, layout_name: str,
                  layout_sha256: str, actor: str, detail: str = "") -> LabImportResult:
    """Write one reader export's plates, all or nothing.

    ``plate_frames``: (plate name, assay, reader label, wells) per plate, the wells with
    the columns :data:`WELL_FIELDS`.
    """
    actor = require_text(actor, "actor")
    file_name = require_text(file_name, "file_name")
    layout_name = require_text(layout_name, "layout_name")
    sha = _check_sha(file_sha256, f"file_sha256 of {file_name!r}")
    lsha = _check_sha(layout_sha256, f"layout_sha256 of {layout_name!r}")
    if not plate_frames:
        raise StoreError(f"{file_name}: no plates to import")
    conn = tx.connection
    earlier = conn.execute(sa.select(t.imports.c.id)
                           .where(t.imports.c.file_sha256 == sha)).scalar()
    if earlier is not None:
        names = tuple(conn.execute(sa.select(plates.c.plate)
                                   .where(plates.c.import_id == earlier)
                                   .order_by(plates.c.id)).scalars())
        return LabImportResult(int(earlier), names, 0, True)
    names = [require_text(p[0], "the plate name") for p in plate_frames]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise StoreError(f"{file_name}: plate name(s) {', '.join(dup)} given twice")
    stored = set(conn.execute(sa.select(plates.c.plate)
                              .where(plates.c.plate.in_(names))).scalars())
    if stored:
        raise StoreError(f"{file_name}: plate(s) {', '.join(sorted(stored))} already stored "
                         "(from an earlier file); give this file's plates other names")
    checked = []
    for name, (_, assay, label, wells) in zip(names, plate_frames, strict=True):
        if assay not in ASSAYS:
            raise StoreError(f"plate {name!r}: assay must be one of {', '.join(ASSAYS)}, "
                             f"got {assay!r}")
        checked.append((name, assay, require_text(label, "the reader label"),
                        _well_rows(wells, name)))
    now = utc_now()
    n_wells = sum(len(w) for *_, w in checked)
    import_id = tx.next_id(t.imports)
    import_row = {"id": import_id, "file_name": file_name, "file_sha256": sha,
                  "detail": detail, "n_rows": n_wells, "imported_by": actor,
                  "imported_at": now}
    conn.execute(t.imports.insert(), [import_row])
    specs: list[EventSpec] = [("import", "import", str(import_id), actor, None,
                               canonical_json(import_row), None)]
    plate_id, well_id = tx.next_id(plates), tx.next_id(plate_wells)
    plate_rows, all_wells = [], []
    for name, assay, label, rows in checked:
        wells_sha = digest([[r[f] for f in WELL_FIELDS] for r in rows])
        prow = {"id": plate_id, "plate": name, "assay": assay, "reader_label": label,
                "layout_name": layout_name, "layout_sha256": lsha, "import_id": import_id,
                "n_wells": len(rows), "wells_sha256": wells_sha}
        plate_rows.append(prow)
        for r in rows:
            all_wells.append({"id": well_id, "plate_id": plate_id, **r})
            well_id += 1
        specs.append(("import", PLATE_ENTITY, str(plate_id), actor, None,
                      canonical_json(prow), None))
        plate_id += 1
    bulk_insert(conn, plates, plate_rows)
    bulk_insert(conn, plate_wells, all_wells)
    tx._append_many(specs, at=now)
    return LabImportResult(import_id, tuple(names), n_wells, False)


def set_plate_status(tx: Transaction, plate: str, *, excluded: bool, actor: str,
                     reason: str) -> int:
    """Exclude a plate from the analysis (or include it again); returns the event id."""
    actor = require_text(actor, "actor")
    verb = "excluding" if excluded else "including"
    reason = require_text(reason, f"the reason for {verb} plate {plate!r}")
    conn = tx.connection
    pid = conn.execute(sa.select(plates.c.id).where(plates.c.plate == plate)).scalar()
    if pid is None:
        known = list(conn.execute(sa.select(plates.c.plate).order_by(plates.c.id)).scalars())
        shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
        raise StoreError(f"there is no plate {plate!r} in the store (plates: "
                         f"{shown or 'none imported yet'})")
    now_excluded = _current_status(conn).get(int(pid), (False, None))[0]
    if now_excluded == excluded:
        raise StoreError(f"plate {plate!r} is already "
                         f"{'excluded' if excluded else 'included'}; nothing was changed")
    now = utc_now()
    row = {"id": tx.next_id(plate_status), "plate_id": int(pid), "excluded": excluded,
           "reason": reason, "changed_by": actor, "changed_at": now}
    conn.execute(plate_status.insert(), [row])
    return tx._append_many([("exclude" if excluded else "include", PLATE_ENTITY, str(pid),
                             actor, canonical_json({"excluded": now_excluded}),
                             canonical_json(row), reason)], at=now)[0]


def _current_status(conn: sa.Connection) -> dict[int, tuple[bool, str | None]]:
    out: dict[int, tuple[bool, str | None]] = {}
    for pid, excluded, reason in conn.execute(
            sa.select(plate_status.c.plate_id, plate_status.c.excluded, plate_status.c.reason)
            .order_by(plate_status.c.id)):
        out[int(pid)] = (bool(excluded), reason if excluded else None)
    return out


def read_plate_wells(conn: sa.Connection, *, assay: str | None,
                     include_excluded: bool) -> pd.DataFrame:
    w, p = plate_wells, plates
    q = (sa.select(p.c.id, p.c.plate, p.c.assay, *(w.c[f] for f in WELL_FIELDS), p.c.import_id)
         .select_from(w.join(p, w.c.plate_id == p.c.id)).order_by(w.c.id))
    if assay is not None:
        q = q.where(p.c.assay == assay)
    status = _current_status(conn)
    rows = []
    for r in conn.execute(q).all():
        excluded, reason = status.get(int(r[0]), (False, None))
        if excluded and not include_excluded:
            continue
        rows.append((*r[1:], excluded, reason))
    out = frame(rows, PLATE_WELL_COLUMNS)
    out["saturated"] = out["saturated"].astype(bool)
    return out


def read_plates(conn: sa.Connection) -> pd.DataFrame:
    p, w, i = plates, plate_wells, t.imports
    status = _current_status(conn)
    summary: dict[int, dict[str, Any]] = {}
    for pid, analyte, kind, day in conn.execute(
            sa.select(w.c.plate_id, w.c.analyte, w.c.kind, w.c.study_day).order_by(w.c.id)):
        s = summary.setdefault(int(pid), {"analytes": {}, "samples": 0, "days": set()})
        s["analytes"][analyte] = None
        if kind == "sample":
            s["samples"] += 1
            if day is not None:
                s["days"].add(int(day))
    rows = []
    for r in conn.execute(
            sa.select(p.c.id, p.c.plate, p.c.assay, p.c.n_wells, i.c.file_name,
                      p.c.reader_label, p.c.layout_name, p.c.import_id, i.c.imported_by,
                      i.c.imported_at)
            .select_from(p.join(i, p.c.import_id == i.c.id)).order_by(p.c.id)).all():
        s = summary.get(int(r[0]), {"analytes": {}, "samples": 0, "days": set()})
        excluded, reason = status.get(int(r[0]), (False, None))
        rows.append((r[1], r[2], ", ".join(s["analytes"]), r[3], s["samples"],
                     ", ".join(str(d) for d in sorted(s["days"])), r[4], r[5], r[6], r[7],
                     r[8], r[9], excluded, reason))
    out = frame(rows, PLATE_COLUMNS)
    out["excluded"] = out["excluded"].astype(bool)
    return out


# ----------------------------------------------------------------------------- binding

def import_binding(tx: Transaction, cells: pd.DataFrame, images: pd.DataFrame, *,
                   file_name: str, file_sha256: str, actor: str,
                   detail: str = "") -> LabImportResult:
    """Write one per-cell table with its images, all or nothing."""
    actor = require_text(actor, "actor")
    file_name = require_text(file_name, "file_name")
    sha = _check_sha(file_sha256, f"file_sha256 of {file_name!r}")
    conn = tx.connection
    earlier = conn.execute(sa.select(t.imports.c.id)
                           .where(t.imports.c.file_sha256 == sha)).scalar()
    if earlier is not None:
        names = tuple(conn.execute(sa.select(binding_images.c.image)
                                   .where(binding_images.c.import_id == earlier)
                                   .order_by(binding_images.c.id)).scalars())
        return LabImportResult(int(earlier), names, 0, True)
    for table, fields, what in ((cells, CELL_FIELDS, "cells"), (images, IMAGE_FIELDS, "images")):
        missing = [c for c in fields if c not in table.columns]
        if missing:
            raise StoreError(f"{file_name}: the {what} lack column(s) {', '.join(missing)}")
    img_rows = [{f: _plain(v) for f, v in zip(IMAGE_FIELDS, rec, strict=True)}
                for rec in images[list(IMAGE_FIELDS)].itertuples(index=False)]
    cell_rows = [{f: _plain(v) for f, v in zip(CELL_FIELDS, rec, strict=True)}
                 for rec in cells[list(CELL_FIELDS)].itertuples(index=False)]
    if not cell_rows:
        raise StoreError(f"{file_name}: no cells to import")
    for r in img_rows:
        for f in IMAGE_FIELDS:
            r[f] = require_text(r[f], f"{file_name}: the {f} of an image")
    names = [r["image"] for r in img_rows]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise StoreError(f"{file_name}: image(s) {', '.join(dup[:5])} listed twice")
    for r in cell_rows:
        if r["image"] not in names:
            raise StoreError(f"{file_name}: cells of image {r['image']!r}, which the images "
                             "table does not list")
        if r["intensity"] is None:
            raise StoreError(f"{file_name}: cell {r['cell']!r} of {r['image']!r} has no "
                             "intensity")
        r["cell"], r["cell_class"] = str(r["cell"]), str(r["cell_class"])
        r["source"] = file_name if r["source"] is None else str(r["source"])
    used = {r["image"] for r in cell_rows}
    img_rows = [r for r in img_rows if r["image"] in used]
    stored = set(conn.execute(sa.select(binding_images.c.image)
                              .where(binding_images.c.image.in_(list(used)))).scalars())
    if stored:
        raise StoreError(f"{file_name}: image(s) {', '.join(sorted(stored)[:5])} already "
                         "stored (from an earlier file)")
    now = utc_now()
    import_id = tx.next_id(t.imports)
    import_row = {"id": import_id, "file_name": file_name, "file_sha256": sha,
                  "detail": detail, "n_rows": len(cell_rows), "imported_by": actor,
                  "imported_at": now}
    conn.execute(t.imports.insert(), [import_row])
    first_img, first_cell = tx.next_id(binding_images), tx.next_id(binding_cells)
    bulk_insert(conn, binding_images, [{"id": first_img + k, "import_id": import_id, **r}
                                       for k, r in enumerate(img_rows)])
    bulk_insert(conn, binding_cells, [{"id": first_cell + k, "import_id": import_id, **r}
                                      for k, r in enumerate(cell_rows)])
    after = {"import_id": import_id, "n_images": len(img_rows), "n_cells": len(cell_rows),
             "images_sha256": digest([[r[f] for f in IMAGE_FIELDS] for r in img_rows]),
             "cells_sha256": digest([[r[f] for f in CELL_FIELDS] for r in cell_rows])}
    tx._append_many([
        ("import", "import", str(import_id), actor, None, canonical_json(import_row), None),
        ("import", BINDING_ENTITY, str(import_id), actor, None, canonical_json(after), None),
    ], at=now)
    return LabImportResult(import_id, tuple(r["image"] for r in img_rows), len(cell_rows),
                           False)


def read_binding_cells(conn: sa.Connection) -> pd.DataFrame:
    c = binding_cells
    return frame(conn.execute(sa.select(*(c.c[f] for f in CELL_FIELDS)).order_by(c.c.id)).all(),
                 CELL_COLUMNS)


def read_binding_images(conn: sa.Connection) -> pd.DataFrame:
    i = binding_images
    return frame(conn.execute(sa.select(i.c.image, i.c.vial, i.c.import_id)
                              .order_by(i.c.id)).all(), IMAGE_COLUMNS)


# ----------------------------------------------------------------------------- verify

def replay_findings(conn: sa.Connection, events: Sequence[Any]) -> list[tuple[int | None, str]]:
    """Check the plate and binding tables against their events (see the module)."""
    import json

    out: list[tuple[int | None, str]] = []
    plate_rows = {r[0]: r for r in conn.execute(sa.select(*(plates.c[f] for f in PLATE_FIELDS)))}
    wells: dict[int, list[list[Any]]] = {}
    for r in conn.execute(sa.select(plate_wells.c.plate_id, *(plate_wells.c[f] for f in WELL_FIELDS))
                          .order_by(plate_wells.c.id)):
        wells.setdefault(int(r[0]), []).append([_plain(v) for v in r[1:]])
    status_rows = {r[0]: r for r in conn.execute(
        sa.select(*(plate_status.c[f] for f in STATUS_FIELDS)))}
    imgs: dict[int, list[list[Any]]] = {}
    for r in conn.execute(sa.select(binding_images.c.import_id,
                                    *(binding_images.c[f] for f in IMAGE_FIELDS))
                          .order_by(binding_images.c.id)):
        imgs.setdefault(int(r[0]), []).append(list(r[1:]))
    cells: dict[int, list[list[Any]]] = {}
    for r in conn.execute(sa.select(binding_cells.c.import_id,
                                    *(binding_cells.c[f] for f in CELL_FIELDS))
                          .order_by(binding_cells.c.id)):
        cells.setdefault(int(r[0]), []).append([_plain(v) for v in r[1:]])
    seen_plates: set[int] = set()
    seen_status: set[int] = set()
    seen_binding: set[int] = set()
    for ev in events:
        if ev.entity not in (PLATE_ENTITY, BINDING_ENTITY):
            continue
        try:
            after = json.loads(ev.after or "null")
            key = int(ev.entity_id)
        except (TypeError, ValueError):
            return [(ev.id, f"it is not a well-formed {ev.entity} event")]
        if not isinstance(after, dict):
            return [(ev.id, f"it is not a well-formed {ev.entity} event")]
        if ev.entity == PLATE_ENTITY and ev.action == "import":
            seen_plates.add(key)
            row = plate_rows.get(key)
            if row is None:
                out.append((ev.id, f"plates row {key} is missing, though audit event {ev.id} "
                                   "records it"))
                continue
            for f, have in zip(PLATE_FIELDS, row, strict=True):
                if have != after.get(f):
                    out.append((ev.id, f"plates row {key} does not match the audit trail: {f} "
                                       f"is {have!r} but audit event {ev.id} leaves it "
                                       f"{after.get(f)!r}"))
                    break
            got = wells.get(key, [])
            if len(got) != after.get("n_wells") or digest(got) != after.get("wells_sha256"):
                out.append((ev.id, f"the wells of plate {after.get('plate')!r} (plates row "
                                   f"{key}) do not match audit event {ev.id}: {len(got)} wells "
                                   f"stored, {after.get('n_wells')} recorded, or a value "
                                   "changed"))
        elif ev.entity == PLATE_ENTITY and ev.action in ("exclude", "include"):
            sid = after.get("id")
            seen_status.add(sid)
            row = status_rows.get(sid)
            if row is None:
                out.append((ev.id, f"plate_status row {sid} is missing, though audit event "
                                   f"{ev.id} records it"))
                continue
            want = [after.get(f) for f in STATUS_FIELDS]
            if list(row) != want or after.get("plate_id") != key or \
                    after.get("excluded") is not (ev.action == "exclude"):
                out.append((ev.id, f"plate_status row {sid} does not match audit event "
                                   f"{ev.id}"))
        elif ev.entity == BINDING_ENTITY and ev.action == "import":
            seen_binding.add(key)
            got_i, got_c = imgs.get(key, []), cells.get(key, [])
            if (len(got_i), len(got_c)) != (after.get("n_images"), after.get("n_cells")) \
                    or digest(got_i) != after.get("images_sha256") \
                    or digest(got_c) != after.get("cells_sha256"):
                out.append((ev.id, f"the binding images or cells of import {key} do not match "
                                   f"audit event {ev.id}: {len(got_i)} images and {len(got_c)} "
                                   f"cells stored, {after.get('n_images')} and "
                                   f"{after.get('n_cells')} recorded, or a value changed"))
        else:
            return [(ev.id, f"unknown action {ev.action!r} for a {ev.entity}")]
    for table, keys, seen in (("plates", plate_rows.keys(), seen_plates),
                              ("plate_wells of plates row", wells.keys(), seen_plates),
                              ("plate_status", status_rows.keys(), seen_status),
                              ("binding rows of import", set(imgs) | set(cells), seen_binding)):
        for key in sorted(set(keys) - seen):
            out.append((None, f"{table} {key} has no audit event: it was written behind "
                              "the store's back"))
    return out
