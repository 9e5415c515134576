"""Importing a study's laboratory raw files: plate-reader exports with their layouts, and
per-cell binding tables with the vial of each image.

The command line (``nocilab import-plates``, ``nocilab import-cells``) and the web app
call these functions; the store keeps the raw wells and cells (``Store.import_plates``,
``Store.import_binding``), all or nothing, audited.

Plate layouts for a study
-------------------------
The layout is the long table :func:`nocilab.ingest.plates.read_layout` reads (``well``,
``kind``, ``concentration``, ``dilution``), where each sample well also names its
``animal`` (the animal id, or the animal code an experimenter sees) and ``study_day``.
Optional columns:

- ``plate``: which grid of the reader export a row belongs to (1, 2 ... in the order
  the grids appear), for an export holding several plates; without it the layout holds
  for the one plate of the export (or the one chosen with ``plate=``);
- ``unit``: the standards' concentration unit (default: ``[lab]`` settings of the
  study, ``ug/mL`` for serum IgG, ``pg/mL`` for cytokines);
- ``analyte`` (cytokine panels): rows for one analyte's standards; rows without an
  analyte hold for every analyte;
- ``sample``: the sample's id (default ``ANIMAL dDAY``).

A cytokine export is either a long multiplex table (columns ``analyte``, ``well``,
``signal``: :func:`nocilab.ingest.multiplex.read_multiplex`), one plate holding every
analyte, or a grid export of one analyte per plate (``analyte=`` names it).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from nocilab.errors import ImportProblems, Problem
from nocilab.ingest.files import file_sha256, read_sheets
from nocilab.ingest.plates import (
    FORMATS,
    layout_cells,
    layout_rows,
    plate_wells,
    read_plate_reader,
)

SERUM_ANALYTE = "human_igg"
ASSAYS = ("serum_igg", "cytokines")


@dataclass(frozen=True)
class PlateImportReport:
    """What a plate import did."""

    file: str
    plates: tuple[str, ...]
    n_wells: int
    n_samples: int
    analytes: tuple[str, ...]
    already_imported: bool
    import_id: int

    def summary(self) -> str:
        if self.already_imported:
            return (f"{self.file}: already imported (import {self.import_id}, plates "
                    f"{', '.join(self.plates)}); nothing was added")
        return (f"{self.file}: imported {len(self.plates)} plate(s) ({', '.join(self.plates)}; "
                f"{', '.join(self.analytes)}): {self.n_wells} wells, {self.n_samples} sample "
                f"wells, as import {self.import_id}")


@dataclass(frozen=True)
class CellImportReport:
    """What a binding import did."""

    file: str
    images: tuple[str, ...]
    n_cells: int
    already_imported: bool
    import_id: int

    def summary(self) -> str:
        if self.already_imported:
            return f"{self.file}: already imported (import {self.import_id}); nothing was added"
        return (f"{self.file}: imported {self.n_cells} cells of {len(self.images)} image(s) "
                f"as import {self.import_id}")


def _text(v: object) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _animal_lookup(study, store) -> dict[str, str]:
    from nocilab.design.blinding import animal_id_for_codes

    known = {a: a for a in study.animal_ids}
    known.update(animal_id_for_codes(store))
    return known


def _study_layout(path: Path, label: str, study, store, *, assay: str, unit: str,
                  plate_format: int) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """The layout's rows per plate key ("" without a ``plate`` column), checked, with
    animal ids, study days, samples and units filled in."""
    sh = read_sheets(path, sheet=None)[0]
    sh = type(sh)(label, sh.name, sh.cells, sh.first_row)
    cells = layout_cells(sh)
    src = label
    problems: list[Problem] = []
    for col in ("animal", "study_day"):
        if col not in cells.columns:
            problems.append(Problem(src, f"no column {col!r}: in a study, each sample well names "
                                         "its animal (id or code) and study_day"))
    if problems:
        return {}, problems
    animals = _animal_lookup(study, store)
    kinds = cells["kind"].map(lambda v: _text(v).lower())
    for label_, rec in cells.iterrows():
        if kinds[label_] not in ("sample", "unknown", "unk"):
            continue
        a = _text(rec["animal"])
        if a not in animals:
            problems.append(Problem(sh.where(label_, "animal"),
                                    f"well {_text(rec['well'])}: not an animal of "
                                    f"{study.info.id} (an animal id or code expected)",
                                    a or None))
        else:
            cells.at[label_, "animal"] = animals[a]
        d = _text(rec["study_day"])
        try:
            day = float(d)
            if day != round(day):
                raise ValueError
            cells.at[label_, "study_day"] = str(int(day))
        except ValueError:
            problems.append(Problem(sh.where(label_, "study_day"),
                                    f"well {_text(rec['well'])}: expected the study day (a whole "
                                    "number)", d or None))
            continue
        if not _text(rec["sample"]) and a in animals:
            cells.at[label_, "sample"] = f"{a} d{int(day)}"
    if "unit" not in cells.columns:
        cells["unit"] = ""
    cells["unit"] = cells["unit"].map(_text).replace("", unit)
    if assay == "cytokines" and "analyte" not in cells.columns:
        cells["analyte"] = ""
    if "analyte" in cells.columns:
        cells["analyte"] = cells["analyte"].map(_text)
    if "plate" in cells.columns:
        keys = cells["plate"].map(_text)
        for label_, k in keys.items():
            if not k.isdigit() or int(k) < 1:
                problems.append(Problem(sh.where(label_, "plate"),
                                        "expected the plate's number in the export (1, 2 ...)",
                                        k or None))
        cells = cells.drop(columns="plate")
    else:
        keys = pd.Series("", index=cells.index)
    out: dict[str, pd.DataFrame] = {}
    for key in sorted(set(keys), key=lambda k: int(k) if k.isdigit() else 0):
        part = cells[keys == key]
        groups = (part["analyte"] if "analyte" in part.columns
                  else pd.Series("", index=part.index))
        frames = []
        for name in sorted(set(groups)):
            sub = part[groups == name].drop(columns=["analyte"], errors="ignore")
            lay, found = layout_rows(sh, sub, plate_format=plate_format)
            problems += [Problem(p.where, (f"plate {key}: " if key else "") + p.why, p.value)
                         for p in found]
            frames.append(lay.assign(analyte=name))
        if frames:
            out[key] = pd.concat(frames, ignore_index=True)
    return out, problems


def _unit_of(lay: pd.DataFrame, where: str, problems: list[Problem]) -> str:
    units = sorted(set(lay.loc[lay["kind"] == "standard", "unit"].astype(str)) - {""})
    if len(units) > 1:
        problems.append(Problem(where, f"the standards are given in several units "
                                       f"({', '.join(units)}); one unit per curve expected"))
    return units[0] if units else str(lay["unit"].iloc[0])


def _wells_frame(lay: pd.DataFrame, analyte: str, unit: str) -> pd.DataFrame:
    out = lay.copy()
    out["analyte"] = analyte
    out["unit"] = unit
    out["animal"] = out["animal"].where(out["kind"] == "sample", None)
    out["study_day"] = pd.to_numeric(out["study_day"].where(out["kind"] == "sample"),
                                     errors="coerce")
    return out


def _is_multiplex(path: Path) -> bool:
    if path.suffix.lower() not in (".csv", ".tsv", ".txt", ".xlsx", ".xlsm"):
        return False
    try:
        sh = read_sheets(path, sheet=None)[0]
    except Exception:  # noqa: BLE001  (not a table: a grid export, read below)
        return False
    cols = {str(c).strip().lower() for c in sh.cells.columns}
    return {"analyte", "well", "signal"} <= cols


def import_plates(reader: str | Path, layout: str | Path, study, store, *, assay: str,
                  actor: str, plate: int | None = None, analyte: str | None = None,
                  name: str | None = None, plate_format: int = 96,
                  label: str | None = None, layout_label: str | None = None
                  ) -> PlateImportReport:
    """Import a plate-reader export and its layout into the study's store, all or nothing.

    Parameters
    ----------
    reader, layout
        The export (grids of ODs, or a long multiplex table for cytokines) and the
        layout (see the module).
    assay
        ``serum_igg`` (human IgG in the mice's serum) or ``cytokines``.
    plate
        With an export of several grids and a layout without a ``plate`` column: the
        grid (1, 2 ...) to import.
    analyte
        A grid export of a cytokine: the analyte it measures (e.g. ``IL6``).
    name
        The plates' names in the study (default: the export's file name without its
        suffix, ``:N`` added per grid when it holds several).
    label, layout_label
        How messages and the store name the files (default: their paths / names).

    Raises
    ------
    ImportProblems
        Every bad row, cell and well at once (file, row, well, value and what was
        expected); nothing is written.
    """
    rp, lp = Path(reader), Path(layout)
    src, lsrc = label or str(rp), layout_label or str(lp)
    if assay not in ASSAYS:
        raise ImportProblems(src, [Problem(src, f"assay must be {' or '.join(ASSAYS)}", assay)])
    if plate_format not in FORMATS:
        raise ImportProblems(src, [Problem(src, "plate format must be 96 or 384", plate_format)])
    for p, s in ((rp, src), (lp, lsrc)):
        if not p.is_file():
            raise ImportProblems(s, [Problem(s, "file not found")])
    settings = study.lab.serum_igg if assay == "serum_igg" else study.lab.cytokines
    layouts, problems = _study_layout(lp, lsrc, study, store, assay=assay,
                                      unit=settings.unit, plate_format=plate_format)
    if problems:
        raise ImportProblems(lsrc, problems)
    stem = name or rp.stem
    entries: list[tuple[str, str, str, pd.DataFrame]] = []
    if assay == "cytokines" and _is_multiplex(rp):
        from nocilab.ingest.multiplex import panel_wells, read_multiplex

        if set(layouts) != {""}:
            raise ImportProblems(lsrc, [Problem(lsrc, "a multiplex export is one plate: the "
                                                      "layout's plate column must go")])
        lay = layouts[""]
        signals = read_multiplex(rp, plate_format=plate_format)
        wells = panel_wells(signals, lay, source=src)
        parts = []
        for a, g in wells.groupby("analyte", sort=False):
            unit = _unit_of(g, lsrc, problems)
            parts.append(_wells_frame(g, str(a), unit))
        entries.append((stem, assay, "multiplex export", pd.concat(parts, ignore_index=True)))
    else:
        if assay == "cytokines" and not analyte:
            raise ImportProblems(src, [Problem(src, "a grid export of a cytokine measures one "
                                                    "analyte: name it (--analyte IL6), or give "
                                                    "a multiplex table (columns analyte, well, "
                                                    "signal)")])
        the_analyte = analyte or SERUM_ANALYTE
        grids = read_plate_reader(rp, plate_format=plate_format)
        if label:
            grids = [type(g)(src, g.label, g.values,
                             {w: x.replace(str(rp), src) for w, x in g.where.items()})
                     for g in grids]
        if set(layouts) == {""}:
            if plate is None and len(grids) > 1:
                raise ImportProblems(src, [Problem(src, (
                    f"the file holds {len(grids)} plates ({'; '.join(g.label for g in grids)}); "
                    "add a plate column to the layout (1 to "
                    f"{len(grids)}) or choose one plate with --plate N"))])
            if plate is not None and not 1 <= plate <= len(grids):
                raise ImportProblems(src, [Problem(src, f"there is no plate {plate}: the file "
                                                        f"holds {len(grids)}")])
            chosen = {(plate or 1): layouts[""]}
        else:
            if plate is not None:
                raise ImportProblems(src, [Problem(lsrc, "the layout has a plate column: it "
                                                         "says which rows belong to which "
                                                         "plate; leave out --plate")])
            chosen = {int(k): v for k, v in layouts.items()}
            extra = [k for k in chosen if k > len(grids)]
            for k in extra:
                problems.append(Problem(lsrc, f"the layout has rows for plate {k}, but the "
                                              f"export holds {len(grids)} plate(s)"))
        for k, lay in sorted(chosen.items()):
            if k > len(grids):
                continue
            try:
                wells = plate_wells(lay, grids[k - 1])
            except ImportProblems as exc:
                problems += list(exc.problems)
                continue
            unit = _unit_of(wells, lsrc, problems)
            plate_name = stem if len(chosen) == 1 and len(grids) == 1 else f"{stem}:{k}"
            entries.append((plate_name, assay, grids[k - 1].label,
                            _wells_frame(wells, the_analyte, unit)))
    if problems:
        raise ImportProblems(src, problems)
    sha, lsha = file_sha256(rp), file_sha256(lp)
    detail = json.dumps({"assay": assay, "layout": lp.name if not layout_label else lsrc,
                         "plates": [e[0] for e in entries]}, sort_keys=True)
    result = store.import_plates(entries, file_name=label or rp.name, file_sha256=sha,
                                 layout_name=layout_label or lp.name, layout_sha256=lsha,
                                 actor=actor, detail=detail)
    analytes = tuple(dict.fromkeys(a for e in entries for a in e[3]["analyte"]))
    n_samples = sum(int((e[3]["kind"] == "sample").sum()) for e in entries)
    return PlateImportReport(src, result.names, result.n_rows, 0 if result.already_imported
                             else n_samples, analytes, result.already_imported,
                             result.import_id)


def read_image_vials(path: str | Path, study, store, *, image: str = "image",
                     vial: str = "vial", label: str | None = None) -> pd.DataFrame:
    """The table of which vial (code, or preparation id) stained each image, checked.

    Returns columns ``image``, ``vial``. Raises ImportProblems naming each row whose
    image is empty or listed twice, or whose vial is neither a vial code of the study's
    allocation nor one of its preparations.
    """
    from nocilab.design.blinding import assignments

    src = label or str(path)
    sh = read_sheets(path, sheet=None)[0]
    sh = type(sh)(src, sh.name, sh.cells, sh.first_row)
    cols = {str(c).strip().lower(): c for c in sh.cells.columns}
    vcol = cols.get(vial.lower()) or cols.get("preparation")
    icol = cols.get(image.lower())
    if icol is None or vcol is None:
        raise ImportProblems(src, [Problem(src, (
            f"expected columns {image!r} and {vial!r} (the vial code or preparation each image "
            f"was stained with); the file has {', '.join(map(str, sh.cells.columns))}"))])
    known = {p.id for p in study.preparations}
    assign = assignments(study, store, reveal=False)
    known |= set(assign["vial_code"].astype(str)) - {""}
    problems: list[Problem] = []
    rows, seen = [], {}
    for lab, rec in sh.cells.iterrows():
        img, v = _text(rec[icol]), _text(rec[vcol])
        if not img:
            problems.append(Problem(sh.where(lab, str(icol)), "empty; every row names its image"))
            continue
        if img in seen:
            problems.append(Problem(sh.where(lab, str(icol)),
                                    f"image {img} is listed twice (also row {seen[img]})"))
            continue
        seen[img] = sh.row_number(lab)
        if v not in known:
            problems.append(Problem(sh.where(lab, str(vcol)), (
                f"image {img}: not a vial code or preparation of {study.info.id}"), v or None))
            continue
        rows.append((img, v))
    if problems:
        raise ImportProblems(src, problems)
    return pd.DataFrame(rows, columns=["image", "vial"])


def import_cells(tables: Sequence[str | Path], images: str | Path, study, store, *,
                 actor: str, image: str = "image", cell: str = "cell",
                 cell_class: str = "class", intensity: str = "mean_intensity",
                 area: str | None = "area", vial: str = "vial",
                 labels: Sequence[str] | None = None, images_label: str | None = None
                 ) -> list[CellImportReport]:
    """Import per-cell binding tables (one import per file) in one transaction.

    Every cell's image must be listed in ``images`` (image, vial). Raises
    ImportProblems naming every bad cell and row; nothing is written then.
    """
    from nocilab.errors import TableProblems
    from nocilab.ingest.cells import read_cells

    paths = [Path(t) for t in tables]
    names = list(labels) if labels else [str(p) for p in paths]
    for p, s in zip(paths, names, strict=True):
        if not p.is_file():
            raise ImportProblems(s, [Problem(s, "file not found")])
    vials = read_image_vials(images, study, store, image=image, vial=vial, label=images_label)
    listed = set(vials["image"])
    frames, problems = [], []
    for p, s in zip(paths, names, strict=True):
        try:
            c = read_cells(p, image=image, cell=cell, cell_class=cell_class,
                           intensity=intensity, area=area)
        except TableProblems as exc:
            problems += [Problem(pr.where.replace(str(p), s), pr.why, pr.value)
                         for pr in exc.problems]
            continue
        c["source"] = c["source"].astype(str).str.replace(str(p), Path(s).name, regex=False)
        for img in sorted(set(c["image"]) - listed):
            problems.append(Problem(s, f"cells of image {img}, which "
                                       f"{images_label or images} does not list (image, vial)"))
        frames.append((p, s, c))
    if problems:
        raise ImportProblems(", ".join(names), problems)
    out = []
    with store.transaction() as tx:
        for p, s, c in frames:
            res = store.import_binding(c, vials[vials["image"].isin(set(c["image"]))],
                                       file_name=Path(s).name, file_sha256=file_sha256(p),
                                       actor=actor, detail=json.dumps({"images": str(
                                           images_label or Path(images).name)}), tx=tx)
            out.append(CellImportReport(s, res.names, res.n_rows, res.already_imported,
                                        res.import_id))
    return out


__all__ = ["CellImportReport", "PlateImportReport", "import_cells", "import_plates",
           "read_image_vials"]
