"""The ``[lab]`` table of study.toml: curve, clearance, panel, binding and correlation
settings, and every problem named by its key."""

from __future__ import annotations

import pytest
from _study_data import base

from nocilab.errors import StudyFileError
from nocilab.model import load_study


def problems(write_study, data) -> dict[str, str]:
    with pytest.raises(StudyFileError) as info:
        load_study(write_study(data))
    return {p.where: p.why for p in info.value.problems}


def with_lab(table):
    d = base()
    d["lab"] = table
    return d


def test_defaults_without_a_lab_table(write_study):
    lab = load_study(write_study(base())).lab
    assert (lab.serum_igg.model, lab.serum_igg.unit, lab.serum_igg.recovery) == (
        "4pl", "ug/mL", (80.0, 120.0))
    assert (lab.cytokines.unit, lab.cytokines.margin, lab.cytokines.adjust) == (
        "pg/mL", (0.67, 1.5), "holm")
    assert lab.clearance.after_day is None and lab.binding.quantile == 0.99


def test_settings_load(write_study):
    lab = load_study(write_study(with_lab({
        "serum_igg": {"model": "5pl", "weights": "1/y^2", "cv_limit": 15},
        "clearance": {"after_day": 3},
        "cytokines": {"margin": [0.5, 2], "margins": {"IL6": [0.8, 1.25]}, "adjust": "bh"},
        "binding": {"quantile": 0.95, "score": "neuron"},
        "correlations": {"fields": ["pain_nrs"]},
    }))).lab
    assert lab.serum_igg.model == "5pl" and lab.serum_igg.cv_limit == 15
    assert lab.clearance.after_day == 3
    assert lab.cytokines.margins == {"IL6": (0.8, 1.25)} and lab.cytokines.adjust == "bh"
    assert lab.binding.score == "neuron" and lab.correlations.fields == ("pain_nrs",)


def test_every_problem_of_the_table_at_once(write_study):
    found = problems(write_study, with_lab({
        "serum_igg": {"model": "3pl"},
        "clearance": {"level": 95},
        "cytokines": {"margin": [1.1, 1.5]},
        "binding": {"quantile": 2, "colour": "red"},
        "plates": {},
    }))
    assert "4pl" in found["lab.serum_igg.model"]
    assert "lab.clearance.level" in found
    assert "must contain 1" in found["lab.cytokines"]
    assert "lab.binding.quantile" in found and "lab.binding.colour" in found
    assert "lab.plates" in found


def test_recovery_limits_must_be_ordered_and_hold_100(write_study):
    found = problems(write_study, with_lab({"serum_igg": {"recovery": [120, 80]}}))
    assert "must be below" in found["lab.serum_igg"]
    found = problems(write_study, with_lab({"serum_igg": {"recovery": [105, 120]}}))
    assert "must contain 100" in found["lab.serum_igg"]
