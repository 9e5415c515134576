"""A small blinded study for the web tests, with names that must never leak.

Ids and labels are distinctive (``armQuokkaIgG``, ``donorWombat1`` ...) so that a test
can search every response for them without meeting them by chance in other text.
"""

from __future__ import annotations

from pathlib import Path

from nocilab.model import load_study, render_study_toml

ARMS = {"armQuokkaIgG": "Quokka patient IgG", "armNumbatIgG": "Numbat control IgG"}
PATIENT_DONORS = ("donorWombat1", "donorWombat2")
CONTROL_DONORS = ("donorBilby1", "donorBilby2")
PREPARATIONS = ("prepWombat1", "prepWombat2", "prepBilby1", "prepBilby2")
SECRET_NAMES = (*ARMS, *ARMS.values(), *PATIENT_DONORS, *CONTROL_DONORS, *PREPARATIONS)
"""Every name that no response may hold while the study is blinded."""
PASSPHRASE = "correct horse battery staple"
FAST_KDF = 2**14
N_ANIMALS = 8


def study_data() -> dict:
    donors = ([{"id": d, "arm": "armQuokkaIgG", "sex": "F"} for d in PATIENT_DONORS]
              + [{"id": d, "arm": "armNumbatIgG", "sex": "F"} for d in CONTROL_DONORS])
    preps = [{"id": "prep" + d[5:], "donors": [d], "concentration_mg_ml": 20.0}
             for d in PATIENT_DONORS + CONTROL_DONORS]
    animals = [{"id": f"M{i + 1:02d}", "sex": "F", "strain": "C57BL/6J",
                "cage": f"K{i // 4 + 1}", "age_weeks": 10, "weight_g": 20.0}
               for i in range(N_ANIMALS)]
    return {
        "study": {"id": "webtest", "title": "Bench entry test study", "species": "mouse",
                  "start_date": "2026-01-05"},
        "arms": [{"id": "armQuokkaIgG", "label": ARMS["armQuokkaIgG"]},
                 {"id": "armNumbatIgG", "label": ARMS["armNumbatIgG"], "control": True}],
        "donors": donors,
        "preparations": preps,
        "dosing": {"amount_mg": 8.0, "route": "i.p.", "days": [0, 1, 2, 3]},
        "animals": animals,
        "schedule": {"von_frey": [-1, 2], "paw_pressure": [-1, 2], "body_weight": [-1]},
        "assays": {"paw_pressure": {"cutoff_g": 250.0, "trials": 3},
                   "von_frey": {"method": "up_down", "filaments": "mouse"}},
    }


def write_study(folder: Path, data: dict | None = None):
    """Write study.toml into ``folder`` and load it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "study.toml").write_text(render_study_toml(data or study_data()),
                                       encoding="utf-8")
    return load_study(folder)
