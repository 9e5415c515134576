"""Paw pressure: hand-worked means, censoring at the cut-off, cell problems."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nocilab.assays import paw_pressure
from nocilab.assays.base import DERIVED_VALUES
from nocilab.assays.paw_pressure import ASSAY, threshold_g
from nocilab.errors import AssayError, SchemaError
from nocilab.model.settings import GripSettings, PawPressureSettings

CUT = PawPressureSettings()  # cutoff_g 250, trials 3


def readings(rows, index=None):
    """rows: (animal, study_day, trial, force_g)."""
    return pd.DataFrame(rows, columns=["animal", "study_day", "trial", "force_g"], index=index)


# --- the pure calculator -------------------------------------------------------------


def test_mean_of_trials_below_cutoff_is_not_censored():
    r = threshold_g([120.0, 140.0, 160.0], cutoff_g=250.0)  # 420 / 3
    assert r.value == pytest.approx(140.0)
    assert not r.censored
    assert math.isnan(r.bound)
    assert (r.n_trials, r.n_censored) == (3, 0)


def test_one_trial_at_cutoff_censors_the_mean_with_the_mean_as_bound():
    r = threshold_g([120.0, 250.0, 140.0], cutoff_g=250.0)  # (120 + 250 + 140) / 3 = 170
    assert r.value == pytest.approx(170.0)
    assert bool(r.censored)
    assert r.bound == pytest.approx(170.0)
    assert (r.n_trials, r.n_censored) == (3, 1)


def test_every_trial_at_cutoff():
    r = threshold_g([250.0, 250.0], cutoff_g=250.0)
    assert (r.value, bool(r.censored), r.bound, r.n_censored) == (250.0, True, 250.0, 2)


def test_cutoff_is_configurable():
    r = threshold_g([250.0, 350.0], cutoff_g=500.0)
    assert r.value == 300.0 and not r.censored


def test_two_dimensional_input_with_missing_trials():
    r = threshold_g([[100.0, 200.0, np.nan], [250.0, np.nan, np.nan]], cutoff_g=250.0)
    np.testing.assert_allclose(r.value, [150.0, 250.0])
    np.testing.assert_array_equal(r.censored, [False, True])
    np.testing.assert_allclose(r.bound, [np.nan, 250.0])
    np.testing.assert_array_equal(r.n_trials, [2, 1])


@pytest.mark.parametrize("bad, why", [([100.0, 251.0], "above the cut-off"),
                                      ([-1.0, 100.0], "negative")])
def test_pure_function_rejects_impossible_forces(bad, why):
    with pytest.raises(AssayError, match=why):
        threshold_g(bad, cutoff_g=250.0)


def test_pure_function_rejects_a_non_positive_cutoff():
    with pytest.raises(AssayError, match="cut-off"):
        threshold_g([1.0], cutoff_g=0.0)


# --- check -------------------------------------------------------------------------


def test_check_names_each_kind_of_bad_cell_by_row_label():
    frame = readings(
        [
            ("m1", 1, 1, 120.0),     # fine
            ("m1", 1, 2, "abc"),     # not a number
            ("m1", 1, 3, -5),        # negative
            ("m2", 1, 1, None),      # missing
            ("m2", 1, 2, "  "),      # blank text counts as missing
            ("m2", 1, 3, np.inf),    # not finite
            ("m3", 1, 1, 251),       # above the cut-off
            ("m3", 1, 2, 250),       # exactly at the cut-off: censored, not a problem
            ("m3", 1, 3, "180.5"),   # a number written as text is fine
            (None, 1, 1, 100),       # missing animal
            ("m4", 1.5, 1, 100),     # study day not whole
        ],
        index=[10 * i for i in range(11)],
    )
    problems = paw_pressure.check(frame, CUT)
    got = [(p.index, p.quantity, p.value) for p in problems]
    assert pd.isna(got[6][2])  # the animal column is text: pandas stores the None as NaN
    got[6] = got[6][:2] + (None,)
    assert got == [
        (10, "force_g", "abc"),
        (20, "force_g", -5),
        (30, "force_g", None),
        (40, "force_g", "  "),
        (50, "force_g", np.inf),
        (60, "force_g", 251),
        (90, "animal", None),
        (100, "study_day", 1.5),
    ]
    whys = [p.why for p in problems]
    assert whys[0] == "force is not a number"
    assert whys[1] == "force is negative"
    assert whys[2] == whys[3] == "missing force"
    assert whys[4] == "force is not finite"
    assert "above the cut-off of 250 g" in whys[5]


def test_check_uses_the_configured_cutoff():
    frame = readings([("m1", 0, 1, 300.0)])
    assert paw_pressure.check(frame, PawPressureSettings(cutoff_g=400)) == []
    assert len(paw_pressure.check(frame, PawPressureSettings(cutoff_g=250))) == 1


def test_absent_force_column_makes_every_row_missing():
    frame = pd.DataFrame({"animal": ["m1", "m2"], "study_day": [1, 1], "trial": [1, 1]})
    problems = paw_pressure.check(frame, CUT)
    assert [(p.index, p.why) for p in problems] == [(0, "missing force"), (1, "missing force")]


def test_absent_key_column_is_a_schema_error():
    frame = pd.DataFrame({"animal": ["m1"], "trial": [1], "force_g": [100.0]})
    with pytest.raises(SchemaError, match="study_day"):
        paw_pressure.check(frame, CUT)


# --- derive ------------------------------------------------------------------------


def test_derive_hand_worked_frame():
    frame = readings([
        ("m2", 7, 1, 150.0), ("m2", 7, 2, 170.0), ("m2", 7, 3, 160.0),   # 160, none
        ("m1", 7, 1, 250.0), ("m1", 7, 2, 200.0), ("m1", 7, 3, 210.0),   # 220, right
        ("m1", -1, 1, 180.0), ("m1", -1, 2, 190.0),                       # 185, 2 of 3 trials
    ])
    out = paw_pressure.derive(frame, CUT)
    assert list(out.columns) == list(DERIVED_VALUES)
    assert list(zip(out.animal, out.study_day)) == [("m1", -1), ("m1", 7), ("m2", 7)]
    np.testing.assert_allclose(out.value, [185.0, 220.0, 160.0])
    assert list(out.censored) == ["none", "right", "none"]
    np.testing.assert_allclose(out.bound, [np.nan, 220.0, np.nan])
    assert list(out.n_trials) == [2, 3, 3]
    assert list(out.note) == ["2 of 3 trials", "1 of 3 trials at the cut-off of 250 g", ""]
    assert set(out.outcome) == {"threshold_g"} and set(out.unit) == {"g"}
    assert out.study_day.dtype == np.int64 and out.n_trials.dtype == np.int64


def test_derive_refuses_bad_readings_and_says_where():
    frame = readings([("m1", 1, 1, 100.0), ("m1", 1, 2, 300.0)], index=["a", "b"])
    with pytest.raises(AssayError, match=r"row 'b', force_g: force is above the cut-off"):
        paw_pressure.derive(frame, CUT)


def test_derive_of_no_readings_is_an_empty_frame():
    out = paw_pressure.derive(readings([]), CUT)
    assert list(out.columns) == list(DERIVED_VALUES) and len(out) == 0


def test_settings_may_be_none_or_a_mapping_but_not_another_assays():
    frame = readings([("m1", 1, 1, 300.0)])
    assert paw_pressure.derive(frame, {"cutoff_g": 300}).censored.iloc[0] == "right"
    assert paw_pressure.derive(readings([("m1", 1, 1, 100.0)]), None).value.iloc[0] == 100.0
    with pytest.raises(AssayError, match="PawPressureSettings"):
        paw_pressure.derive(frame, GripSettings())
    with pytest.raises(AssayError, match="invalid settings"):
        paw_pressure.derive(frame, {"cutoff_g": -1})


def test_assay_entry():
    assert ASSAY.name == "paw_pressure"
    assert ASSAY.outcomes == ("threshold_g",)
    q = ASSAY.quantity("force_g")
    assert q is not None and q.unit == "g" and q.required


# --- properties --------------------------------------------------------------------

forces = st.lists(st.floats(0.0, 250.0, allow_nan=False), min_size=1, max_size=6)


@settings(max_examples=200, deadline=None)
@given(forces)
def test_mean_lies_between_min_and_max(trials):
    r = threshold_g(trials, cutoff_g=250.0)
    assert min(trials) - 1e-9 <= r.value <= max(trials) + 1e-9


@settings(max_examples=200, deadline=None)
@given(forces)
def test_censored_iff_any_trial_at_cutoff(trials):
    r = threshold_g(trials, cutoff_g=250.0)
    assert bool(r.censored) == (250.0 in trials)
    assert r.n_censored == trials.count(250.0)
    assert (r.bound == r.value) if r.censored else math.isnan(r.bound)


@settings(max_examples=200, deadline=None)
@given(forces, st.floats(0.01, 100.0))
def test_scaling_forces_and_cutoff_scales_the_value(trials, c):
    r = threshold_g(trials, cutoff_g=250.0)
    scaled = threshold_g([t * c for t in trials], cutoff_g=250.0 * c)
    assert scaled.value == pytest.approx(r.value * c, rel=1e-9, abs=1e-9)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(-3, 10),
                          st.floats(0.0, 250.0, allow_nan=False)), min_size=1, max_size=40))
def test_derive_agrees_with_a_plain_groupby(rows):
    frame = pd.DataFrame(rows, columns=["animal", "study_day", "force_g"])
    frame["trial"] = frame.groupby(["animal", "study_day"]).cumcount() + 1
    out = paw_pressure.derive(frame, CUT).set_index(["animal", "study_day"])
    ref = frame.groupby(["animal", "study_day"])["force_g"].agg(["mean", "size", "max"])
    assert out.index.tolist() == ref.index.tolist()
    np.testing.assert_allclose(out.value, ref["mean"], rtol=1e-12)
    np.testing.assert_array_equal(out.n_trials, ref["size"])
    np.testing.assert_array_equal(out.censored == "right", ref["max"] == 250.0)
