"""A small passive-transfer study with unallocated animals, for the allocation tests.

Ids are distinctive (``armFMS``, ``dnrP1``, ``prpP1`` ...) so that a test can search any
output for them without meeting them by chance in other text.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from nocilab.model import load_study, render_study_toml

ARMS = ("armFMS", "armHC", "armVEH")
PATIENT_DONORS = ("dnrP1", "dnrP2", "dnrP3", "dnrP4")
CONTROL_DONORS = ("dnrC1", "dnrC2", "dnrC3")
PREPARATIONS = ("prpP1", "prpP2", "prpP3", "prpP4", "prpC1", "prpC2", "prpC3", "prpVEH")
SECRET_IDS = ARMS + PATIENT_DONORS + CONTROL_DONORS + PREPARATIONS
"""Every id that must not appear anywhere while the study is blinded."""
PASSPHRASE = "correct horse battery staple"
FAST_KDF = 2**14  # scrypt cost for tests; the default (2**17) is exercised separately


def study_data(n_animals: int = 24, *, cage_size: int = 4, n_female: int | None = None,
               schedule: dict | None = None, equal_volumes: bool = True) -> dict:
    """Plain data of a study file; animals have no preparation."""
    n_female = n_animals if n_female is None else n_female
    donors = ([{"id": d, "arm": "armFMS", "sex": "F"} for d in PATIENT_DONORS]
              + [{"id": d, "arm": "armHC", "sex": "F"} for d in CONTROL_DONORS])
    conc = 20.0
    preps = [{"id": f"prp{d[3:]}", "donors": [d],
              "concentration_mg_ml": conc if equal_volumes or d != "dnrP1" else 25.0}
             for d in PATIENT_DONORS + CONTROL_DONORS]
    preps.append({"id": "prpVEH", "donors": [], "arm": "armVEH", "volume_ul": 400.0})
    animals = []
    for i in range(n_animals):
        sex = "F" if i < n_female else "M"
        animals.append({"id": f"M{i + 1:02d}", "sex": sex, "strain": "C57BL/6J",
                        "cage": f"K{i // cage_size + 1}", "age_weeks": 10,
                        "weight_g": 20.0 + (i % 5) * 0.5})
    return {
        "study": {"id": "blindtest", "title": "Blinding test study", "species": "mouse"},
        "arms": [{"id": "armFMS", "label": "FMS IgG"},
                 {"id": "armHC", "label": "HC IgG", "control": True},
                 {"id": "armVEH", "label": "Saline"}],
        "donors": donors,
        "preparations": preps,
        "dosing": {"amount_mg": 8.0, "route": "i.p.", "days": [0, 1, 2, 3]},
        "animals": animals,
        "schedule": schedule or {"paw_pressure": [-2, -1, 1, 3], "von_frey": [-1, 2]},
        "assays": {"paw_pressure": {"cutoff_g": 250.0, "trials": 3},
                   "von_frey": {"method": "up_down", "filaments": "mouse"}},
    }


def write_study(folder: Path, data: dict | None = None):
    """Write study.toml into ``folder`` and load it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "study.toml").write_text(render_study_toml(data or study_data()), encoding="utf-8")
    return load_study(folder)


def baseline_rows(animals: list[str], *, seed: int = 0, days=(-2, -1)) -> pd.DataFrame:
    """Paw-pressure baseline readings (3 trials a day) with a wide spread between mice."""
    rng = np.random.default_rng(seed)
    level = rng.normal(120.0, 25.0, len(animals))
    rows = []
    for a, lv in zip(animals, level, strict=True):
        for d in days:
            for t in (1, 2, 3):
                rows.append({"animal": a, "study_day": d, "assay": "paw_pressure", "trial": t,
                             "quantity": "force_g",
                             "value_num": float(np.clip(lv + rng.normal(0, 5), 20, 240)),
                             "value_text": None})
    return pd.DataFrame(rows)


def import_baseline(store, animals: list[str], *, seed: int = 0) -> None:
    rows = baseline_rows(animals, seed=seed)
    digest = hashlib.sha256(rows.to_csv().encode()).hexdigest()
    store.import_observations(rows, file_name="baseline.csv", file_sha256=digest, actor="tech")
