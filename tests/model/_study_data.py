"""A valid study as plain data, for the model tests to copy and break."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

BASE: dict[str, Any] = {
    "study": {
        "id": "t1",
        "title": "Test study",
        "species": "mouse",
        "investigator": "Someone",
        "start_date": dt.date(2026, 3, 2),
    },
    "arms": [
        {"id": "patient", "label": "Patient IgG"},
        {"id": "control", "label": "Control IgG", "control": True},
        {"id": "vehicle", "label": "Saline"},
    ],
    "donors": [
        {"id": "P01", "arm": "patient", "cohort": "UK", "sex": "F", "age": 48,
         "clinical": {"pain_intensity": 7.5, "fiq_total": 68, "diagnosis_year": "2015"}},
        {"id": "P02", "arm": "patient", "sex": "F", "age": 51},
        {"id": "P03", "arm": "patient", "sex": "M", "age": 39},
        {"id": "C01", "arm": "control", "sex": "F", "age": 45},
    ],
    "preparations": [
        {"id": "IgG-P01", "donors": ["P01"], "concentration_mg_ml": 20.0},
        {"id": "IgG-C01", "donors": ["C01"], "concentration_mg_ml": 20.0, "arm": "control"},
        {"id": "pool-P", "donors": ["P02", "P03"], "concentration_mg_ml": 25.0},
        {"id": "saline", "donors": [], "arm": "vehicle", "volume_ul": 400.0},
    ],
    "dosing": {"amount_mg": 8.0, "route": "i.p.", "days": [0, 1, 2, 3]},
    "animals": [
        {"id": "M01", "preparation": "IgG-P01", "sex": "F", "strain": "C57BL/6J",
         "cage": "A", "birth_date": dt.date(2025, 12, 22), "weight_g": 20.4},
        {"id": "M02", "preparation": "IgG-C01", "sex": "F", "strain": "C57BL/6J",
         "cage": "B", "age_weeks": 10, "weight_g": 19.8},
        {"id": "M03", "preparation": "pool-P", "sex": "F", "strain": "C57BL/6J",
         "cage": "A", "age_weeks": 9.5, "weight_g": 21.0},
        {"id": "M04", "preparation": "saline", "sex": "F", "strain": "C57BL/6J",
         "cage": "B", "age_weeks": 11},
        {"id": "M05", "sex": "M", "strain": "C57BL/6J", "cage": 3, "age_weeks": 10,
         "weight_g": 24.5},
    ],
    "schedule": {"paw_pressure": [7, -1, 1, -3, 3], "body_weight": [-1, 7]},
    "assays": {"paw_pressure": {"cutoff_g": 300.0}},
    "mappings": {
        "pp_wide": {"layout": "wide", "assay": "paw_pressure", "animal": "Mouse",
                    "quantity": "force_g", "columns": "D{day}_t{trial}"},
        "pp_long": {"layout": "long", "assay": "paw_pressure", "animal": "mouse",
                    "day": "day", "trial": "rep", "quantities": {"force_g": "Force (g)"}},
    },
}


def base() -> dict[str, Any]:
    """A deep copy of a valid study covering single donors, a pool and a vehicle."""
    return copy.deepcopy(BASE)
