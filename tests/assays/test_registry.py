"""The assay registry: lookup, errors, and the checked derive entry point."""

import numpy as np
import pandas as pd
import pytest

import nocilab.assays as assays
from nocilab.assays import (
    activity,
    body_weight,
    cold_plate,
    grip,
    heat,
    ienfd,
    paw_pressure,
    registry,
)
from nocilab.assays.base import DERIVED_VALUES, Assay
from nocilab.errors import AssayError, SchemaError
from nocilab.model.settings import ASSAY_SETTINGS, GripSettings

MINE = {m.NAME: m for m in (paw_pressure, cold_plate, heat, grip, activity, body_weight, ienfd)}

# one valid reading per assay, in its default mode
READING = {
    "paw_pressure": {"force_g": 120.0},
    "cold_plate": {"latency_s": 12.0},
    "heat": {"latency_s": 8.0},
    "grip": {"force_g": 95.0},
    "activity": {"distance_m": 31.5},
    "body_weight": {"weight_g": 24.0},
    "ienfd": {"fibres": 12, "length_mm": 1.2},
}


def one_reading(name):
    return pd.DataFrame([{"animal": "m1", "study_day": 3, "trial": 1, **READING[name]}])


def test_public_surface():
    assert sorted(assays.__all__) == ["assay_names", "derive_readings", "get_assay"]
    assert assays.get_assay is registry.get_assay


def test_names_cover_every_assay_with_settings():
    names = assays.assay_names()
    assert list(names) == sorted(names)
    assert set(MINE) <= set(names)
    assert "von_frey" in names
    assert set(names) == set(ASSAY_SETTINGS)


@pytest.mark.parametrize("name", sorted(MINE))
def test_get_assay_returns_the_modules_entry(name):
    a = assays.get_assay(name)
    assert a is MINE[name].ASSAY and isinstance(a, Assay) and a.name == name
    assert a.outcomes and len({q.name for q in a.quantities}) == len(a.quantities)


@pytest.mark.parametrize("bad", ["paw-pressure", "", None, "VON_FREY"])
def test_unknown_assay_lists_known_names(bad):
    with pytest.raises(AssayError, match="unknown assay") as err:
        assays.get_assay(bad)
    for name in MINE:
        assert name in str(err.value)


@pytest.mark.parametrize("name", sorted(MINE))
def test_derive_readings_returns_the_contract(name):
    out = assays.derive_readings(name, one_reading(name))
    assert list(out.columns) == list(DERIVED_VALUES)
    assert len(out) == 1 and out.animal.iloc[0] == "m1" and out.study_day.iloc[0] == 3
    assert out.outcome.iloc[0] in MINE[name].ASSAY.outcomes
    assert np.isfinite(out.value.iloc[0])


def test_derive_readings_hand_worked_through_the_registry():
    readings = pd.DataFrame({"animal": ["m1", "m1"], "study_day": [1, 1], "trial": [1, 2],
                             "force_g": [100.0, 250.0]})
    out = assays.derive_readings("paw_pressure", readings, {"cutoff_g": 250.0, "trials": 2})
    row = out.iloc[0]
    assert (row.value, row.censored, row.bound, row.note) == (
        175.0, "right", 175.0, "1 of 2 trials at the cut-off of 250 g")


def test_derive_readings_settings_errors():
    r = one_reading("grip")
    with pytest.raises(AssayError, match="PawPressureSettings"):
        assays.derive_readings("paw_pressure", one_reading("paw_pressure"), GripSettings())
    with pytest.raises(AssayError, match="invalid settings"):
        assays.derive_readings("grip", r, {"aggregate": "median"})
    with pytest.raises(AssayError, match="invalid settings"):
        assays.derive_readings("grip", r, {"no_such_key": 1})


def test_derive_readings_input_errors():
    with pytest.raises(SchemaError, match="trial"):
        assays.derive_readings("grip", one_reading("grip").drop(columns="trial"))
    with pytest.raises(SchemaError, match="DataFrame"):
        assays.derive_readings("grip", [{"animal": "m1"}])
    with pytest.raises(AssayError, match="unknown assay"):
        assays.derive_readings("grap", one_reading("grip"))
    bad = one_reading("grip").assign(force_g=-1.0)
    with pytest.raises(AssayError, match="force is negative"):
        assays.derive_readings("grip", bad)


def test_many_problems_are_summarised():
    bad = pd.DataFrame({"animal": ["m1"] * 25, "study_day": 1, "trial": range(25),
                        "force_g": "x"})
    with pytest.raises(AssayError, match=r"25 bad readings[\s\S]*and 15 more"):
        assays.derive_readings("paw_pressure", bad)


# --- the output contract is enforced (a calculator bug must fail loudly) ----------


def good_frame():
    return pd.DataFrame({"animal": ["m1"], "study_day": [1], "outcome": ["threshold_g"],
                         "value": [1.0], "unit": ["g"], "censored": ["none"],
                         "bound": [np.nan], "n_trials": [1], "note": [""]})


BROKEN = {
    "missing column": (lambda f: f.drop(columns="note"), "columns must be"),
    "wrong order": (lambda f: f[list(reversed(f.columns))], "in that order"),
    "unknown censoring": (lambda f: f.assign(censored="maybe"), "censored"),
    "undeclared outcome": (lambda f: f.assign(outcome="latency_s"), "not declared"),
    "silent NaN": (lambda f: f.assign(value=np.nan), "without a note"),
    "censored without bound": (lambda f: f.assign(censored="right"), "needs its bound"),
    "bound when not censored": (lambda f: f.assign(bound=1.0), "must be NaN"),
    "float study day": (lambda f: f.assign(study_day=1.5), "integer"),
    "not a frame": (lambda f: f.to_dict(), "DataFrame"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_output_contract(case, monkeypatch):
    breaker, match = BROKEN[case]
    fake = Assay(name="paw_pressure", title="broken", quantities=(),
                 check=lambda r, s: [], derive=lambda r, s: breaker(good_frame()),
                 outcomes=("threshold_g",))
    monkeypatch.setitem(registry._ASSAYS, "paw_pressure", fake)
    with pytest.raises(SchemaError, match=match):
        assays.derive_readings("paw_pressure", one_reading("paw_pressure"))


def test_a_nan_value_with_its_reason_passes_the_contract(monkeypatch):
    frame = good_frame().assign(value=np.nan, note="no body weight for this day")
    fake = Assay(name="paw_pressure", title="ok", quantities=(), check=lambda r, s: [],
                 derive=lambda r, s: frame, outcomes=("threshold_g",))
    monkeypatch.setitem(registry._ASSAYS, "paw_pressure", fake)
    out = assays.derive_readings("paw_pressure", one_reading("paw_pressure"))
    assert out.note.iloc[0] == "no body weight for this day"
