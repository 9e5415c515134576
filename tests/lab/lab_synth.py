"""A simulated study with known truth for the tests of nocilab.lab.

Two arms (``fms_igg`` patient, ``healthy_igg`` control), 6 donors each, 2 mice per donor
(24 mice), dosed on days 0-3.

- Serum human IgG: ``C(t) = C4 * 2 ** (-(t - 4) / 6)`` after the last dose (half-life
  exactly :data:`HALF_LIFE` days), a mouse-specific level, read on days 1, 4, 7, 10, 14
  and 21 at a 1:1000 dilution on 4PL plates (two plates per day, duplicate wells).
- Behaviour (paw pressure, g): patient mice's change from baseline is
  :data:`SLOPE` per tenfold serum IgG (within and between mice), control mice's none.
- Cytokines: one panel on day 21, IL6, TNF and IL10, the same log-normal distribution in
  both arms (no true difference; log10 SD 0.04 between donors, 0.03 between a donor's
  mice).
- Binding: per image 60 neurons and 80 satellite-glial rings; control donors' cells and
  those of patient donor ``PatDonorF`` (which does not bind) from one distribution, the
  other patient donors' rings (and some neurons) brighter.

Every id is distinctive (``fms_igg``, ``PatDonorA``, ``PrepPatA`` ...) so that a blinded
run can be searched for them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from nocilab.model import load_study, render_study_toml

HALF_LIFE = 6.0
SLOPE = -20.0
PATIENT, CONTROL = "fms_igg", "healthy_igg"
LETTERS = "ABCDEF"
PAT_DONORS = [f"PatDonor{x}" for x in LETTERS]
CTL_DONORS = [f"CtlDonor{x}" for x in LETTERS]
NON_BINDER = "PatDonorF"
SERUM_DAYS = (1, 4, 7, 10, 14, 21)
BEHAVIOUR_DAYS = (-3, -1, 1, 4, 7, 10, 14, 21)
STANDARDS_UG_ML = 1.0 / 2.0 ** np.arange(8)  # 1 .. 0.0078 ug/mL
PANEL_STANDARDS = 2000.0 / 3.0 ** np.arange(8)  # 2000 .. 0.91 pg/mL
TRUE_4PL = dict(r0=0.0, rinf=3.0, xmid=float(np.log(0.12)), scal=1 / 1.2)
BACKGROUND = 0.05
ANALYTES = {"IL6": 12.0, "TNF": 6.0, "IL10": 25.0}


def prep_of(donor: str) -> str:
    return donor.replace("PatDonor", "PrepPat").replace("CtlDonor", "PrepCtl")


def animals() -> pd.DataFrame:
    rows = []
    i = 0
    for donor in PAT_DONORS + CTL_DONORS:
        for _ in range(2):
            i += 1
            rows.append((f"M{i:02d}", donor, prep_of(donor),
                         PATIENT if donor in PAT_DONORS else CONTROL, "AB"[i % 2]))
    return pd.DataFrame(rows, columns=["animal", "donor", "preparation", "arm", "cage"])


def write_study(folder: Path, *, lab: dict | None = None) -> Path:
    a = animals()
    data = {
        "study": {"id": "lab-synth", "title": "Simulated lab readouts", "species": "mouse",
                  "investigator": "Test"},
        "arms": [{"id": PATIENT, "label": "FMS IgG"},
                 {"id": CONTROL, "label": "Healthy IgG", "control": True}],
        "donors": ([{"id": d, "arm": PATIENT, "clinical": {"pain_nrs": 3.0 + i,
                                                          "fiqr": 40.0 + 5 * i,
                                                          "site": "UK"}}
                    for i, d in enumerate(PAT_DONORS)]
                   + [{"id": d, "arm": CONTROL} for d in CTL_DONORS]),
        "preparations": [{"id": prep_of(d), "donors": [d], "concentration_mg_ml": 20.0}
                         for d in PAT_DONORS + CTL_DONORS],
        "dosing": {"amount_mg": 8.0, "route": "i.p.", "days": [0, 1, 2, 3]},
        "animals": [{"id": r.animal, "preparation": r.preparation, "sex": "F",
                     "strain": "C57BL/6J", "cage": r.cage, "age_weeks": 10}
                    for r in a.itertuples()],
        "schedule": {"paw_pressure": list(BEHAVIOUR_DAYS)},
        "assays": {"paw_pressure": {"cutoff_g": 250.0, "trials": 3}},
        "analysis": {"window": [1, 10]},
    }
    if lab is not None:
        data["lab"] = lab
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "study.toml"
    path.write_text(render_study_toml(data))
    return path


def load(folder: Path, **kw):
    return load_study(write_study(folder, **kw))


def assign_open() -> pd.DataFrame:
    a = animals()
    return pd.DataFrame({"animal": a["animal"], "animal_code": a["animal"],
                         "preparation": a["preparation"], "vial_code": a["preparation"],
                         "donor": a["donor"], "arm": a["arm"]})


def blind_codes() -> dict[str, str]:
    """preparation -> vial code, arm -> coded group."""
    a = animals()
    codes = {p: f"V-{k:04d}" for k, p in enumerate(sorted(set(a["preparation"])), start=7)}
    codes[PATIENT], codes[CONTROL] = "group Q", "group K"
    return codes


def assign_blinded() -> pd.DataFrame:
    a = animals()
    c = blind_codes()
    vial = a["preparation"].map(c)
    return pd.DataFrame({"animal": a["animal"], "animal_code": "A-" + a["animal"],
                         "preparation": vial, "vial_code": vial, "donor": vial,
                         "arm": a["arm"].map(c)})


def serum_truth(seed: int = 1) -> pd.DataFrame:
    """True serum human IgG (ug/mL) per animal and day."""
    rng = np.random.default_rng(seed)
    rows = []
    for r in animals().itertuples():
        c4 = 300.0 * np.exp(rng.normal(0, 0.3))
        for day in SERUM_DAYS:
            c = c4 * 0.8 if day == 1 else c4 * 2.0 ** (-(day - 4) / HALF_LIFE)
            rows.append((r.animal, day, c))
    return pd.DataFrame(rows, columns=["animal", "study_day", "concentration"])


def od_4pl(conc, *, r0=TRUE_4PL["r0"], rinf=TRUE_4PL["rinf"], xmid=TRUE_4PL["xmid"],
           scal=TRUE_4PL["scal"]) -> np.ndarray:
    x = np.log(np.asarray(conc, dtype=float))
    return BACKGROUND + r0 + (rinf - r0) / (1 + np.exp((xmid - x) / scal))


def _well_names() -> list[str]:
    return [f"{r}{c}" for r in "ABCDEFGH" for c in range(1, 13)]


def plate_rows(plate: str, samples: pd.DataFrame, *, assay: str, analyte: str, unit: str,
               standards: np.ndarray, rng, noise: float = 0.005, import_id: int = 1,
               truth_4pl: dict | None = None) -> list[dict]:
    """Wells of one plate: standards in duplicate, 2 blanks, each sample in duplicate."""
    names = iter(_well_names())
    params = truth_4pl or {}
    rows = []

    def add(kind, animal, day, dilution, conc, od):
        sat = bool(od > 4.0)
        rows.append({"plate": plate, "assay": assay, "analyte": analyte, "well": next(names),
                     "kind": kind, "animal": animal, "study_day": day, "dilution": dilution,
                     "concentration": conc, "unit": unit if kind == "standard" else "",
                     "od": np.nan if sat else round(float(od), 4), "saturated": sat,
                     "import_id": import_id, "excluded": False, "exclusion_reason": ""})

    for c in standards:
        for _ in range(2):
            add("standard", None, pd.NA, np.nan, float(c),
                od_4pl(c, **params) * (1 + rng.normal(0, noise)))
    for _ in range(2):
        add("blank", None, pd.NA, np.nan, np.nan, BACKGROUND)
    for s in samples.itertuples():
        well_c = s.concentration / s.dilution
        for _ in range(2):
            add("sample", s.animal, s.study_day, float(s.dilution), np.nan,
                od_4pl(well_c, **params) * (1 + rng.normal(0, noise)))
    return rows


def serum_wells(truth: pd.DataFrame | None = None, *, seed: int = 2,
                noise: float = 0.005) -> pd.DataFrame:
    """Two serum plates per study day, samples at 1:1000 (a standard is ug/mL)."""
    truth = serum_truth() if truth is None else truth
    rng = np.random.default_rng(seed)
    rows = []
    k = 0
    for day, g in truth.groupby("study_day"):
        g = g.sort_values("animal")
        for half, part in enumerate((g.iloc[: len(g) // 2], g.iloc[len(g) // 2:])):
            k += 1
            rows += plate_rows(f"IGG-d{day}-{half + 1}", part.assign(dilution=1000.0),
                               assay="serum_igg", analyte="human_igg", unit="ug/mL",
                               standards=STANDARDS_UG_ML, rng=rng, noise=noise, import_id=k)
    return frame(rows)


def frame(rows: list[dict]) -> pd.DataFrame:
    f = pd.DataFrame(rows)
    f["study_day"] = f["study_day"].astype("Int64")
    return f


def panel_truth(seed: int = 3) -> pd.DataFrame:
    """Cytokines on day 21: the same distribution in both arms."""
    rng = np.random.default_rng(seed)
    a = animals()
    rows = []
    for analyte, centre in ANALYTES.items():
        donor_level = {d: rng.normal(0, 0.04) for d in a["donor"].unique()}
        for r in a.itertuples():
            lv = np.log10(centre) + donor_level[r.donor] + rng.normal(0, 0.03)
            rows.append((analyte, r.animal, 21, 10.0 ** lv))
    return pd.DataFrame(rows, columns=["analyte", "animal", "study_day", "concentration"])


def panel_wells(truth: pd.DataFrame | None = None, *, seed: int = 4,
                plate: str = "PANEL-1") -> pd.DataFrame:
    """One multiplex export (one "plate"): every analyte, samples at 1:2."""
    truth = panel_truth() if truth is None else truth
    rng = np.random.default_rng(seed)
    rows = []
    for analyte, g in truth.groupby("analyte"):
        rows += plate_rows(plate, g.assign(dilution=2.0), assay="cytokines",
                           analyte=analyte, unit="pg/mL", standards=PANEL_STANDARDS,
                           rng=rng, import_id=50,
                           truth_4pl=dict(r0=0.0, rinf=3.0, xmid=float(np.log(60.0)),
                                          scal=1.0))
    return frame(rows)


def behaviour(serum: pd.DataFrame | None = None, *, seed: int = 5) -> pd.DataFrame:
    """Derived paw-pressure values: baseline 200 g; patient mice's change SLOPE x log10
    (serum IgG / 10 ug/mL) from day 1, control mice's none; noise SD 3 g."""
    serum = serum_truth() if serum is None else serum
    rng = np.random.default_rng(seed)
    level = serum.set_index(["animal", "study_day"])["concentration"]
    a = animals()
    rows = []
    for r in a.itertuples():
        base = 200.0 + rng.normal(0, 8)
        shift = rng.normal(0, 2.0)
        for day in BEHAVIOUR_DAYS:
            v = base + rng.normal(0, 3.0)
            if day > 0 and r.arm == PATIENT:
                v += SLOPE * np.log10(level[(r.animal, day)] / 10.0) + shift
            rows.append({"animal": r.animal, "donor": r.donor, "preparation": r.preparation,
                         "arm": r.arm, "sex": "F", "cage": r.cage, "study_day": day,
                         "assay": "paw_pressure", "outcome": "force_g", "value": v,
                         "unit": "g", "censored": "none", "bound": np.nan})
    return pd.DataFrame(rows)


def blind_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A derived table as the blinded report sees it: vial codes and coded groups."""
    c = blind_codes()
    out = frame.copy()
    out["preparation"] = out["preparation"].map(c)
    out["donor"] = out["preparation"]
    out["arm"] = out["arm"].map(c)
    return out


def cells(*, seed: int = 6, blinded: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-cell intensities and images (2 per donor, neutral image names)."""
    rng = np.random.default_rng(seed)
    codes = blind_codes()
    cell_rows, image_rows = [], []
    k = 0
    for donor in PAT_DONORS + CTL_DONORS:
        binds = donor in PAT_DONORS and donor != NON_BINDER
        for _ in range(2):
            k += 1
            image = f"img{k:03d}"
            vial = codes[prep_of(donor)] if blinded else prep_of(donor)
            image_rows.append((image, vial))
            for j in range(60):
                v = rng.normal(5.0, 0.3) + (1.5 if binds and rng.random() < 0.2 else 0.0)
                cell_rows.append((image, f"n{j}", "Neuron", float(np.exp(v)), 300.0, "t.csv"))
            for j in range(80):
                v = rng.normal(5.0, 0.3) + (1.5 if binds and rng.random() < 0.6 else 0.0)
                cell_rows.append((image, f"r{j}", "SGC ring", float(np.exp(v)), 80.0, "t.csv"))
    c = pd.DataFrame(cell_rows, columns=["image", "cell", "cell_class", "intensity",
                                         "area_um2", "source"])
    return c, pd.DataFrame(image_rows, columns=["image", "vial"])
