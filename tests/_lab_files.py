"""Plate-reader exports, layouts and cell tables written as a lab's software writes them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

STANDARDS = [1000.0 / 2**k for k in range(8)]  # ng/mL, 2-fold series


def od_of(conc, a=0.05, d=3.2, c=60.0, b=1.2):
    """4PL optical density of a concentration (ng/mL)."""
    conc = np.asarray(conc, dtype=float)
    return d + (a - d) / (1 + (conc / c) ** b)


def plate_layout(samples: list[tuple[str, int, float]], *, plate: int | None = None) -> list[dict]:
    """Layout rows: standards in duplicate in columns 1-2, blanks H1/H2, samples in
    duplicate from column 3 on; ``samples`` are (animal, day, true serum ng/mL)."""
    rows = []
    for k, conc in enumerate(STANDARDS):
        for col in (1, 2):
            rows.append({"well": f"{'ABCDEFGH'[k]}{col}", "kind": "standard",
                         "concentration": conc, "unit": "ng/mL"})
    rows += [{"well": "A12", "kind": "blank"}, {"well": "B12", "kind": "blank"}]
    for i, (animal, day, _) in enumerate(samples):
        r, c = divmod(i, 4)
        for rep in (0, 1):
            rows.append({"well": f"{'ABCDEFGH'[r]}{3 + 2 * c + rep}", "kind": "sample",
                         "animal": animal, "study_day": day, "dilution": 2000})
    if plate is not None:
        for row in rows:
            row["plate"] = plate
    return rows


def plate_ods(layout_rows: list[dict], samples: list[tuple[str, int, float]]) -> dict[str, str]:
    true = {(a, d): v for a, d, v in samples}
    ods = {}
    for row in layout_rows:
        if row["kind"] == "standard":
            ods[row["well"]] = od_of(row["concentration"])
        elif row["kind"] == "blank":
            ods[row["well"]] = 0.05
        else:
            ods[row["well"]] = od_of(true[(row["animal"], row["study_day"])] / row["dilution"])
    return {w: f"{v + 0.05:.4f}" for w, v in ods.items()}


def write_grid_export(path: Path, plates: list[dict[str, str]]) -> Path:
    """A reader's CSV export: per plate a title line and the labelled 8 x 12 grid."""
    lines = []
    for n, ods in enumerate(plates, 1):
        lines.append(f"Plate {n},Absorbance 450 nm")
        lines.append("," + ",".join(str(c) for c in range(1, 13)))
        for r in "ABCDEFGH":
            lines.append(r + "," + ",".join(ods.get(f"{r}{c}", "0.051") for c in range(1, 13)))
        lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_serum_day(folder: Path, animals: list[str], day: int, *, conc: float = 200_000.0,
                    stem: str | None = None) -> tuple[Path, Path]:
    """Two plates (export + layout with a plate column) of one study day's serum."""
    half = (len(animals) + 1) // 2
    groups = [animals[:half], animals[half:]]
    layout, grids = [], []
    for n, group in enumerate(groups, 1):
        samples = [(a, day, conc * (1 + 0.1 * i)) for i, a in enumerate(group)]
        rows = plate_layout(samples, plate=n)
        layout += rows
        grids.append(plate_ods(rows, samples))
    stem = stem or f"serum_day{day:02d}"
    export = write_grid_export(folder / f"{stem}.csv", grids)
    lay = folder / f"{stem}_layout.csv"
    pd.DataFrame(layout).to_csv(lay, index=False)
    return export, lay


def write_cells(folder: Path, images: dict[str, str], *, bright: set[str] = frozenset()
                ) -> tuple[Path, Path]:
    """A per-cell table (QuPath-like) and the images table (image, vial)."""
    rng = np.random.default_rng(1)
    rows = []
    for img, vial in images.items():
        shift = 3.0 if vial in bright else 0.0
        for k in range(40):
            cls = "Neuron" if k % 2 else "SGC ring"
            rows.append({"image": img, "cell": str(k + 1), "class": cls,
                         "mean_intensity": round(float(rng.lognormal(1 + shift * (cls != "Neuron"), 0.3)), 4),
                         "area": round(float(rng.uniform(50, 500)), 1)})
    cells = folder / "cells.csv"
    pd.DataFrame(rows).to_csv(cells, index=False)
    imgs = folder / "images.csv"
    pd.DataFrame({"image": list(images), "vial": list(images.values())}).to_csv(imgs, index=False)
    return cells, imgs


def write_panel(folder: Path, animals: list[str], day: int, analytes=("IL6", "TNF")
                ) -> tuple[Path, Path]:
    """A multiplex export (analyte, well, signal) and its panel layout: standards per
    analyte in columns 1-2, shared blanks and samples (one per animal, duplicate)."""
    rows, signals = [], []
    std = [5000.0 / 3**k for k in range(7)]  # pg/mL
    for a in analytes:
        for k, conc in enumerate(std):
            for col in (1, 2):
                rows.append({"analyte": a, "well": f"{'ABCDEFGH'[k]}{col}",
                             "kind": "standard", "concentration": conc, "unit": "pg/mL"})
    rows += [{"analyte": "", "well": "H1", "kind": "blank"},
             {"analyte": "", "well": "H2", "kind": "blank"}]
    for i, animal in enumerate(animals):
        r, c = divmod(i, 4)
        for rep in (0, 1):
            rows.append({"analyte": "", "well": f"{'ABCDEFGH'[r]}{3 + 2 * c + rep}",
                         "kind": "sample", "animal": animal, "study_day": day, "dilution": 2})
    for a in analytes:
        for row in rows:
            if row["analyte"] not in ("", a):
                continue
            if row["kind"] == "standard":
                conc = row["concentration"]
            elif row["kind"] == "blank":
                conc = 0.0
            else:
                conc = 40.0
            signal = 20 + (12000 - 20) / (1 + (120.0 / conc) ** 1.1) if conc > 0 else 20.0
            signals.append({"analyte": a, "well": row["well"], "signal": round(signal, 2)})
    export = folder / f"panel_day{day}.csv"
    pd.DataFrame(signals).to_csv(export, index=False)
    layout = folder / f"panel_day{day}_layout.csv"
    pd.DataFrame(rows).to_csv(layout, index=False)
    return export, layout
