"""A simulated passive-transfer study modelled on the reference fibromyalgia study.

Everything here is simulated, seeded and reproducible; no number is a measurement.
The design follows Goebel, Krock et al. (J Clin Invest 2021;131:e144201): IgG from 8
patient and 6 healthy-control donors, each donor's IgG into its own mice, 8 mg/day
i.p. on study days 0-3, baselines before, tests through day 21.

Each mouse has latent values (a baseline per assay, drawn around a donor and an animal
effect) and the behaviour it shows on a test day is the baseline shifted by the donor's
effect times the time course of the transferred IgG:

- onset: nothing on day 0, most of the effect by 24 h, all of it by 48 h;
- persistence: full effect through day 7, then a decay with a half-life of 7 days as
  the human IgG is cleared.

Patient donors differ in the size of their effect; one patient donor (``P05``) has no
effect on cold sensitivity, as 7 of 8 patients in the reference study. Control donors
have no effect. von Frey readings are produced by running the up-down procedure
(Chaplan 1994: start at 0.4 g, four stimuli after the first change of response) on each
mouse's latent 50% threshold, so the raw data are X/O series like a lab's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

DEMO_STUDY_ID = "demo-fms-passive-transfer"

# Mouse filament set (handle value -> nominal grams), as built into nocilab.assays.
MOUSE_LOGS = np.array([1.65, 2.36, 2.44, 2.83, 3.22, 3.61, 3.84, 4.08, 4.17, 4.31])
START_FILAMENT = 6  # 1-based position of 3.61 (0.4 g)

PATIENT_DONORS = [f"P{i:02d}" for i in range(1, 9)]
CONTROL_DONORS = [f"C{i:02d}" for i in range(1, 7)]
NO_COLD_EFFECT_DONOR = "P05"

SCHEDULE: dict[str, list[int]] = {
    "paw_pressure": [-3, -1, 1, 3, 5, 7, 10, 14, 21],
    "cold_plate": [-3, -1, 1, 3, 5, 7, 10, 14, 21],
    "von_frey": [-3, -1, 1, 3, 5, 7, 10, 14, 21],
    "grip": [-1, 3, 7, 14, 21],
    "activity": [-1, 4, 11, 18],
    "body_weight": [-1, 1, 3, 7, 14, 21],
    "ienfd": [21],
}


def time_course(day: np.ndarray | float, *, half_life_days: float = 7.0) -> np.ndarray:
    """Fraction of the full IgG effect present on a study day (0 before injection)."""
    d = np.asarray(day, dtype=float)
    onset = np.where(d <= 0, 0.0, np.clip(1.0 - np.exp(-(d - 0.25) / 0.4), 0.0, 1.0))
    decay = np.exp(-np.maximum(d - 7.0, 0.0) * math.log(2) / half_life_days)
    return onset * decay


@dataclass(frozen=True)
class SimulatedStudy:
    """The study file contents and the raw-data tables of one simulated study."""

    study: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    """file name -> table as a lab would keep it"""
    mappings: dict[str, str] = field(default_factory=dict)
    """file name -> name of the study.toml mapping that reads it"""
    donor_effects: pd.DataFrame = field(default_factory=pd.DataFrame)
    """the true (simulated) relative effect of each donor on each assay"""


def _up_down(latent_log: float, rng: np.random.Generator, *, sd_log: float = 0.35,
             start: int = START_FILAMENT, after_change: int = 4,
             max_without_change: int = 9) -> tuple[str, int]:
    """Run the up-down procedure on one mouse; return (X/O series, last filament position)."""
    pos = start  # 1-based
    series: list[str] = []
    n_after = None
    while True:
        p = 0.5 * (1 + math.erf((MOUSE_LOGS[pos - 1] - latent_log) / (sd_log * math.sqrt(2))))
        resp = "X" if rng.random() < p else "O"
        series.append(resp)
        if n_after is None and len(series) > 1 and series[-1] != series[-2]:
            n_after = 0
        elif n_after is not None:
            n_after += 1
        if n_after is not None and n_after >= after_change:
            break
        if n_after is None and len(series) >= max_without_change:
            break
        if n_after is None and ((resp == "X" and pos == 1) or (resp == "O" and pos == len(MOUSE_LOGS))):
            # at the end of the set with no change: repeat the end filament
            if len(series) >= 5:
                break
            continue
        pos = max(1, pos - 1) if resp == "X" else min(len(MOUSE_LOGS), pos + 1)
    return "".join(series), pos


def simulate_study(*, seed: int = 20210701, mice_per_donor: int = 3) -> SimulatedStudy:
    """Simulate one passive-transfer study.

    Parameters
    ----------
    seed
        Seed of the random generator; the same seed gives the same study.
    mice_per_donor
        Mice receiving each donor's IgG.

    Returns
    -------
    SimulatedStudy
        The study.toml contents (a plain dict), the raw tables and the true effects.
    """
    rng = np.random.default_rng(seed)
    donors = [(d, "patient") for d in PATIENT_DONORS] + [(d, "control") for d in CONTROL_DONORS]

    # Relative effect of each donor on each assay (fraction of baseline; negative = lower).
    peak = {"paw_pressure": -0.35, "cold_plate": -0.40, "von_frey": -0.55, "grip": -0.18,
            "activity": -0.30, "body_weight": 0.0, "ienfd": -0.30}
    effects = []
    for d, arm in donors:
        strength = float(np.clip(rng.normal(1.0, 0.25), 0.45, 1.6)) if arm == "patient" else 0.0
        for assay, p in peak.items():
            e = p * strength
            if assay == "cold_plate" and d == NO_COLD_EFFECT_DONOR:
                e = 0.0
            effects.append({"donor": d, "arm": arm, "assay": assay, "relative_effect": e})
    eff = pd.DataFrame(effects).set_index(["donor", "assay"])["relative_effect"]

    donor_rows, prep_rows, animal_rows = [], [], []
    for i, (d, arm) in enumerate(donors):
        donor_rows.append({
            "id": d, "arm": arm, "cohort": "UK (simulated)", "sex": "F",
            "age": int(rng.integers(28, 62)),
            "clinical": ({"pain_intensity": round(float(rng.uniform(6, 9)), 1),
                          "fiq_total": int(rng.integers(55, 85))} if arm == "patient"
                         else {"pain_intensity": 0.0, "fiq_total": int(rng.integers(0, 10))}),
        })
        prep_rows.append({"id": f"IgG-{d}", "donors": [d], "concentration_mg_ml": 20.0})
        for j in range(mice_per_donor):
            animal_rows.append({
                "id": f"M{len(animal_rows) + 1:03d}", "preparation": f"IgG-{d}", "sex": "F",
                "strain": "C57BL/6J", "cage": f"K{i + 1:02d}",
                "age_weeks": 10, "weight_g": round(float(rng.normal(20.0, 1.2)), 1),
            })

    animals = pd.DataFrame(animal_rows)
    animals["donor"] = animals["preparation"].str.removeprefix("IgG-")
    n = len(animals)

    def latent(mean: float, cv_donor: float, cv_animal: float) -> np.ndarray:
        donor_dev = {d: rng.normal(0, cv_donor) for d, _ in donors}
        return mean * (1 + animals["donor"].map(donor_dev).to_numpy() + rng.normal(0, cv_animal, n))

    base = {
        "paw_pressure": latent(125.0, 0.05, 0.08),   # g
        "cold_plate": latent(24.0, 0.05, 0.10),      # s to first response at 10 C
        "von_frey_log": np.log10(latent(0.9, 0.05, 0.15) * 1e4),  # log10(mg*10)
        "grip": latent(115.0, 0.04, 0.08),           # g
        "activity": latent(95.0, 0.06, 0.12),        # m per 30 min
        "ienfd": latent(26.0, 0.05, 0.08),           # fibres/mm
    }

    def rel(assay: str) -> np.ndarray:
        return np.array([eff[(d, assay)] for d in animals["donor"]])

    tables: dict[str, pd.DataFrame] = {}

    # Paw pressure: wide sheet, one column per day and trial, as many labs keep it.
    cutoff = 250.0
    pp = {"Mouse": animals["id"]}
    for day in SCHEDULE["paw_pressure"]:
        mu = base["paw_pressure"] * (1 + rel("paw_pressure") * time_course(day))
        for t in (1, 2, 3):
            v = np.minimum(np.round(mu * (1 + rng.normal(0, 0.07, n)), 0), cutoff)
            pp[f"D{day}_t{t}"] = v
    tables["paw_pressure_wide.xlsx"] = pd.DataFrame(pp)

    # Cold plate: tidy long CSV, one latency per animal and day, cut-off 60 s.
    rows = []
    for day in SCHEDULE["cold_plate"]:
        mu = base["cold_plate"] * (1 + rel("cold_plate") * time_course(day))
        lat = np.minimum(np.round(mu * np.exp(rng.normal(0, 0.10, n)), 1), 60.0)
        rows += [{"animal": a, "study_day": day, "trial": 1, "latency_s": v}
                 for a, v in zip(animals["id"], lat)]
    tables["cold_plate.csv"] = pd.DataFrame(rows)

    # von Frey: long CSV of X/O series and last filament (position in the set).
    rows = []
    for day in SCHEDULE["von_frey"]:
        shift = np.log10(1 + rel("von_frey") * time_course(day))
        for a, lt in zip(animals["id"], base["von_frey_log"] + shift):
            series, last = _up_down(float(lt + rng.normal(0, 0.08)), rng)
            rows.append({"animal": a, "study_day": day, "trial": 1,
                         "xo_series": series, "last_filament": last})
    tables["von_frey.csv"] = pd.DataFrame(rows)

    # Grip strength: long CSV, three pulls per session.
    rows = []
    for day in SCHEDULE["grip"]:
        mu = base["grip"] * (1 + rel("grip") * time_course(day))
        for t in (1, 2, 3):
            v = np.round(mu * (1 + rng.normal(0, 0.08, n)), 1)
            rows += [{"animal": a, "study_day": day, "trial": t, "force_g": x}
                     for a, x in zip(animals["id"], v)]
    tables["grip.csv"] = pd.DataFrame(rows)

    # Locomotor activity: distance in three 10-minute bins of a 30-minute session.
    rows = []
    for day in SCHEDULE["activity"]:
        mu = base["activity"] * (1 + rel("activity") * time_course(day))
        shares = np.array([0.45, 0.32, 0.23])
        for t, share in enumerate(shares, start=1):
            v = np.round(np.maximum(mu * share * (1 + rng.normal(0, 0.12, n)), 0), 2)
            rows += [{"animal": a, "study_day": day, "trial": t, "distance_m": x}
                     for a, x in zip(animals["id"], v)]
    tables["activity.csv"] = pd.DataFrame(rows)

    # Body weight: wide CSV, one column per day.
    bw = {"Mouse": animals["id"]}
    for day in SCHEDULE["body_weight"]:
        bw[f"Day {day}"] = np.round(animals["weight_g"].to_numpy() * (1 + 0.004 * (day + 1))
                                    + rng.normal(0, 0.3, n), 1)
    tables["body_weight_wide.csv"] = pd.DataFrame(bw)

    # IENFD at the end: three sections per animal, fibres crossing and epidermis length.
    rows = []
    for day in SCHEDULE["ienfd"]:
        dens = base["ienfd"] * (1 + rel("ienfd") * min(1.0, float(time_course(3))))
        for t in (1, 2, 3):
            length = np.round(rng.uniform(0.9, 1.6, n), 3)
            fibres = rng.poisson(dens * length)
            rows += [{"animal": a, "study_day": day, "trial": t, "fibres": int(f),
                      "length_mm": float(ln)}
                     for a, f, ln in zip(animals["id"], fibres, length)]
    tables["ienfd.csv"] = pd.DataFrame(rows)

    study = {
        "study": {
            "id": DEMO_STUDY_ID,
            "title": "Simulated passive transfer of fibromyalgia IgG to mice",
            "species": "mouse",
            "investigator": "nocilab demo (simulated data)",
            "description": (
                "SIMULATED data modelled on Goebel, Krock et al., J Clin Invest 2021: IgG of 8 "
                "fibromyalgia patients and 6 healthy controls, each donor's IgG into "
                f"{mice_per_donor} female {'mouse' if mice_per_donor == 1 else 'mice'}, 8 mg/day i.p. on days 0-3. Seed {seed}."
            ),
        },
        "reporting": {
            "sample_size": (f"Simulated design: 8 patient and 6 control donors, {mice_per_donor} "
                            f"{'mouse' if mice_per_donor == 1 else 'mice'} per donor, as in the reference study; no power calculation"),
            "inclusion_criteria": "Female C57BL/6J mice, 10 weeks old (simulated)",
            "exclusion_criteria": "None planned; no animal excluded (simulated)",
            "primary_outcome": "Paw-pressure threshold (g) over days 1-14",
            "procedures": ("IgG 8 mg/day i.p. on days 0-3; paw pressure, cold plate (10 C, "
                           "cut-off 60 s), von Frey up-down, grip, activity, body weight; "
                           "skin biopsies for IENFD on day 21"),
        },
        # one window for the report, the donor-level test and `power --from`: the
        # primary outcome's days; von Frey thresholds analysed as log10 (log-normal)
        "analysis": {"window": [1, 14], "log_outcomes": ["von_frey.threshold_g"]},
        "arms": [
            {"id": "patient", "label": "FMS patient IgG"},
            {"id": "control", "label": "Healthy-control IgG", "control": True},
        ],
        "donors": donor_rows,
        "preparations": prep_rows,
        "dosing": {"amount_mg": 8.0, "route": "i.p.", "days": [0, 1, 2, 3]},
        "animals": [{k: v for k, v in r.items()} for r in animal_rows],
        "schedule": {k: list(v) for k, v in SCHEDULE.items()},
        "assays": {
            "paw_pressure": {"cutoff_g": cutoff, "trials": 3},
            "cold_plate": {"mode": "latency", "temperature_c": 10.0, "cutoff_s": 60.0, "trials": 1},
            "von_frey": {"method": "up_down", "filaments": "mouse"},
            "grip": {"aggregate": "mean", "trials": 3},
            "activity": {"quantity": "distance_m", "session_min": 30.0},
            "body_weight": {},
            "ienfd": {"marker": "PGP9.5", "sections": 3},
        },
    }
    effects_frame = eff.reset_index()
    return SimulatedStudy(study=study, tables=tables, donor_effects=effects_frame)
