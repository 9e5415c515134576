"""The simulated study's laboratory raw files: serum ELISA plates, a cytokine panel and
IgG-binding cell tables, written as the instruments and image software write them.

Drawn from their own random generator (seeded from the study's seed), after and apart
from :func:`nocilab.demo.simulate.simulate_study`, so the behavioural data and the demo's
calibration do not depend on them.

- **Serum human IgG** (ELISA, standards in ng/mL): serum taken on :data:`SERUM_DAYS`.
  Each mouse's concentration rises over the four daily injections (days 0-3) to a peak
  (log-normal around :data:`PEAK_UG_PER_ML`) and then falls by first-order elimination
  with its own half-life (log-normal, geometric mean :data:`HALF_LIFE_DAYS`); patient and
  control IgG are cleared alike. One reader export per day (XLSX, both plates on one
  sheet, each under its title as the reader writes it) and one layout (CSV, ``plate``
  column).
- **Cytokines** on day 21 (:data:`ANALYTES`): a multiplex export (analyte, well, signal)
  and its layout, standards per analyte; no true difference between arms; IL1B and IFNG
  are often below the LLOQ, as in mouse serum without inflammation.
- **Binding**: per-cell tables as QuPath exports them (``Image``, ``Object ID``,
  ``Classification``, ``Mean intensity``, ``Area µm^2``), three DRG sections stained with
  each preparation; patient IgG binds satellite-glial rings (the fraction of bound rings
  rises with the donor's pain intensity) except :data:`NON_BINDING_DONOR`'s; control
  IgG binds nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from nocilab.demo.simulate import SimulatedStudy

SERUM_DAYS = (1, 5, 7, 10, 14, 21)
PEAK_UG_PER_ML = 250.0
HALF_LIFE_DAYS = 6.0
NON_BINDING_DONOR = "P03"
ANALYTES = {  # analyte -> geometric mean in mouse serum (pg/mL), the same in both arms
    "IL6": 25.0, "TNF": 14.0, "IL1B": 2.0, "IL10": 30.0, "CXCL1": 200.0, "IFNG": 1.2,
}
PANEL_DAY = 21
SERUM_STANDARDS = tuple(1000.0 / 2**k for k in range(8))  # ng/mL
PANEL_STANDARDS = tuple(10000.0 / 4**k for k in range(8))  # pg/mL
LAB_SEED_OFFSET = 9_173  # the lab generator's seed: the study's seed + this

ROWS = "ABCDEFGH"


@dataclass(frozen=True)
class LabFiles:
    """The lab's raw files in memory: name -> table (reader grids as lists of rows)."""

    serum_exports: dict[str, list[list[object]]] = field(default_factory=dict)
    layouts: dict[str, pd.DataFrame] = field(default_factory=dict)
    panel: dict[str, pd.DataFrame] = field(default_factory=dict)
    cells: pd.DataFrame = field(default_factory=pd.DataFrame)
    images: pd.DataFrame = field(default_factory=pd.DataFrame)
    truth: pd.DataFrame = field(default_factory=pd.DataFrame)
    """per animal: true peak (ug/mL) and half-life (days)"""
    binding_truth: pd.DataFrame = field(default_factory=pd.DataFrame)
    """per donor: the true fraction of satellite-glial rings bound"""


def _four_pl(conc, a: float, d: float, c: float, b: float) -> np.ndarray:
    x = np.asarray(conc, dtype=float)
    with np.errstate(divide="ignore"):
        return d + (a - d) / (1.0 + (x / c) ** b)


def serum_course(day: float, peak: float, half_life: float) -> float:
    """Serum human IgG (ug/mL) on a study day: rising over the injections of days 0-3,
    first-order elimination afterwards."""
    if day <= 3:
        return peak * (day + 1) / 4.0
    return peak * math.exp(-math.log(2) * (day - 3) / half_life)


def _animals(sim: SimulatedStudy) -> pd.DataFrame:
    a = pd.DataFrame(sim.study["animals"])[["id", "preparation"]].rename(columns={"id": "animal"})
    preps = {p["id"]: p["donors"][0] for p in sim.study["preparations"]}
    a["donor"] = a["preparation"].map(preps)
    return a


def simulate_lab(sim: SimulatedStudy, *, seed: int) -> LabFiles:
    """Draw the lab files of a simulated study (see the module)."""
    rng = np.random.default_rng(seed + LAB_SEED_OFFSET)
    animals = _animals(sim)
    n = len(animals)
    truth = animals.assign(
        peak_ug_per_ml=PEAK_UG_PER_ML * np.exp(rng.normal(0, 0.25, n)),
        half_life_days=HALF_LIFE_DAYS * np.exp(rng.normal(0, 0.15, n)))
    exports, layouts = {}, {}
    for day in SERUM_DAYS:
        name = f"serum_igg_day{day:02d}"
        grid, layout = _serum_day(rng, truth, day)
        exports[f"{name}.xlsx"] = grid
        layouts[f"{name}_layout.csv"] = layout
    signals, panel_layout = _panel(rng, animals)
    cells, images, binding = _binding(rng, sim)
    return LabFiles(serum_exports=exports, layouts=layouts,
                    panel={f"cytokines_day{PANEL_DAY}.csv": signals,
                           f"cytokines_day{PANEL_DAY}_layout.csv": panel_layout},
                    cells=cells, images=images, truth=truth, binding_truth=binding)


def _serum_day(rng: np.random.Generator, truth: pd.DataFrame, day: int
               ) -> tuple[list[list[object]], pd.DataFrame]:
    dilution = 2000 if day <= 10 else 500
    per_plate = 24
    rows, grid = [], []
    curve = {"a": 0.05, "d": 3.2, "c": 60.0 * float(np.exp(rng.normal(0, 0.08))), "b": 1.2}
    recs = list(truth.itertuples(index=False))
    plates = [recs[i:i + per_plate] for i in range(0, len(recs), per_plate)]
    for n_plate, group in enumerate(plates, 1):
        ods: dict[str, float] = {}
        for k, conc in enumerate(SERUM_STANDARDS):
            for col in (1, 2):
                well = f"{ROWS[k]}{col}"
                rows.append({"plate": n_plate, "well": well, "kind": "standard",
                             "concentration": conc, "unit": "ng/mL"})
                ods[well] = float(_four_pl(conc, **curve))
        for well in ("A12", "B12"):
            rows.append({"plate": n_plate, "well": well, "kind": "blank"})
            ods[well] = 0.0
        for i, rec in enumerate(group):
            r, pair = i % 8, i // 8
            serum = serum_course(day, rec.peak_ug_per_ml, rec.half_life_days) * 1000.0  # ng/mL
            for rep in (0, 1):
                well = f"{ROWS[r]}{3 + 2 * pair + rep}"
                rows.append({"plate": n_plate, "well": well, "kind": "sample",
                             "animal": rec.animal, "study_day": day,
                             "sample": f"{rec.animal} d{day}", "dilution": f"1:{dilution}"})
                ods[well] = float(_four_pl(serum / dilution, **curve))
        background = 0.045
        for w in ods:
            ods[w] = round((ods[w] + background) * float(np.exp(rng.normal(0, 0.035))), 3)
        if grid:
            grid.append([])
        grid.append([f"Plate {n_plate}", f"Human IgG ELISA, serum day {day}", "450 nm"])
        grid.append([""] + list(range(1, 13)))
        for r in ROWS:
            grid.append([r] + [ods.get(f"{r}{c}", round(background * float(
                np.exp(rng.normal(0, 0.05))), 3)) for c in range(1, 13)])
    layout = pd.DataFrame(rows, columns=["plate", "well", "kind", "concentration", "unit",
                                         "animal", "study_day", "sample", "dilution"])
    return grid, layout


def _panel(rng: np.random.Generator, animals: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = []
    for a in ANALYTES:
        for k, conc in enumerate(PANEL_STANDARDS):
            for col in (1, 2):
                rows.append({"analyte": a, "well": f"{ROWS[k]}{col}", "kind": "standard",
                             "concentration": conc, "unit": "pg/mL"})
    rows += [{"analyte": "", "well": "A12", "kind": "blank"},
             {"analyte": "", "well": "B12", "kind": "blank"}]
    for i, rec in enumerate(animals.itertuples(index=False)):
        r, c = i % 8, 3 + i // 8
        rows.append({"analyte": "", "well": f"{ROWS[r]}{c}", "kind": "sample",
                     "animal": rec.animal, "study_day": PANEL_DAY,
                     "sample": f"{rec.animal} d{PANEL_DAY}", "dilution": 2})
    layout = pd.DataFrame(rows, columns=["analyte", "well", "kind", "concentration", "unit",
                                         "animal", "study_day", "sample", "dilution"])
    true = {(a, rec.animal): ANALYTES[a] * float(np.exp(rng.normal(0, 0.35)))
            for a in ANALYTES for rec in animals.itertuples(index=False)}
    signals = []
    for a in ANALYTES:
        curve = {"a": 25.0, "d": 22000.0, "c": 300.0 * float(np.exp(rng.normal(0, 0.1))),
                 "b": 1.05}
        for r in rows:
            if r["analyte"] not in ("", a):
                continue
            if r["kind"] == "standard":
                conc = r["concentration"]
            elif r["kind"] == "blank":
                conc = 0.0
            else:
                conc = true[(a, r["animal"])] / 2
            mfi = float(_four_pl(conc, **curve)) * float(np.exp(rng.normal(0, 0.03)))
            signals.append({"analyte": a, "well": r["well"], "signal": round(mfi, 1)})
    return pd.DataFrame(signals), layout


def _binding(rng: np.random.Generator, sim: SimulatedStudy
             ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    donors = {d["id"]: d for d in sim.study["donors"]}
    cells, images, truth = [], [], []
    for prep in sim.study["preparations"]:
        donor = prep["donors"][0]
        d = donors[donor]
        patient = d["arm"] != "control" if "arm" in d else donor.startswith("P")
        pain = float(d.get("clinical", {}).get("pain_intensity", 0.0))
        if not patient or donor == NON_BINDING_DONOR:
            bound = 0.0
        else:
            bound = float(np.clip(0.12 + 0.10 * (pain - 6.0) + rng.normal(0, 0.05), 0.05, 0.6))
        truth.append({"donor": donor, "preparation": prep["id"], "sgc_bound_fraction": bound})
        for s in range(1, 4):
            image = f"DRG_{prep['id']}_s{s}.tif"
            images.append({"image": image, "vial": prep["id"]})
            obj = 0
            for cls, n_cells, mu, area in (("Neuron", 60, 3.0, 600.0),
                                           ("SGC ring", 110, 3.2, 180.0)):
                for _ in range(n_cells):
                    obj += 1
                    val = mu + rng.normal(0, 0.3)
                    if cls == "SGC ring" and rng.random() < bound:
                        val += 1.3
                    cells.append({"Image": image, "Object ID": obj, "Classification": cls,
                                  "Mean intensity": round(float(np.exp(val)), 2),
                                  "Area µm^2": round(float(area * np.exp(rng.normal(0, 0.25))), 1)})
    return pd.DataFrame(cells), pd.DataFrame(images), pd.DataFrame(truth)


def write_lab_files(lab: LabFiles, folder: Path) -> dict[str, list[Path]]:
    """Write the files under ``folder/raw/lab``; returns their paths by kind
    (``serum``: (export, layout) pairs flattened, ``cytokines``, ``binding``)."""
    from openpyxl import Workbook

    out = folder / "raw" / "lab"
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, list[Path]] = {"serum": [], "cytokines": [], "binding": []}
    for name, grid in lab.serum_exports.items():
        wb = Workbook()
        ws = wb.active
        ws.title = "Results"
        for row in grid:
            ws.append(row)
        wb.save(out / name)
        layout_name = name.replace(".xlsx", "_layout.csv")
        lab.layouts[layout_name].to_csv(out / layout_name, index=False)
        written["serum"] += [out / name, out / layout_name]
    for name, table in lab.panel.items():
        table.to_csv(out / name, index=False)
        written["cytokines"].append(out / name)
    lab.cells.to_csv(out / "qupath_cells.csv", index=False, encoding="utf-8")
    lab.images.to_csv(out / "binding_images.csv", index=False)
    written["binding"] += [out / "qupath_cells.csv", out / "binding_images.csv"]
    return written


QUPATH_COLUMNS = {"image": "Image", "cell": "Object ID", "cell_class": "Classification",
                  "intensity": "Mean intensity", "area": "Area µm^2"}
"""How ``nocilab import-cells`` reads the demo's QuPath table."""
