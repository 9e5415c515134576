"""Cold plate and heat: latency censored at the cut-off, or counts in a window."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nocilab.assays import cold_plate, heat
from nocilab.assays.base import DERIVED_VALUES
from nocilab.errors import AssayError
from nocilab.model.settings import ColdPlateSettings, HeatSettings

# (module, settings model): the two assays share one shape
BOTH = [(cold_plate, ColdPlateSettings), (heat, HeatSettings)]
IDS = ["cold_plate", "heat"]


def frame(rows, quantity="latency_s"):
    return pd.DataFrame(rows, columns=["animal", "study_day", "trial", quantity])


@pytest.mark.parametrize("mod, model", BOTH, ids=IDS)
def test_latency_hand_worked(mod, model):
    s = model(cutoff_s=30.0, trials=2)
    out = mod.derive(frame([
        ("m1", 2, 1, 10.0), ("m1", 2, 2, 20.0),      # (10 + 20) / 2 = 15, none
        ("m2", 2, 1, 12.0), ("m2", 2, 2, 30.0),      # (12 + 30) / 2 = 21, right at 21
        ("m3", 2, 1, 30.0),                           # 30, right, 1 of 2 trials
    ]), s)
    assert list(out.columns) == list(DERIVED_VALUES)
    np.testing.assert_allclose(out.value, [15.0, 21.0, 30.0])
    assert list(out.censored) == ["none", "right", "right"]
    np.testing.assert_allclose(out.bound, [np.nan, 21.0, 30.0])
    assert list(out.n_trials) == [2, 2, 1]
    assert list(out.note) == [
        "",
        "1 of 2 trials at the cut-off of 30 s",
        "1 of 2 trials; 1 of 1 trials at the cut-off of 30 s",
    ]
    assert set(out.outcome) == {"latency_s"} and set(out.unit) == {"s"}


@pytest.mark.parametrize("mod, model", BOTH, ids=IDS)
def test_latency_above_cutoff_is_a_problem_and_at_cutoff_is_not(mod, model):
    s = model(cutoff_s=30.0)
    problems = mod.check(frame([("m1", 1, 1, 30.0), ("m1", 1, 2, 30.5)]), s)
    assert [(p.index, p.quantity, p.value) for p in problems] == [(1, "latency_s", 30.5)]
    assert "above the cut-off of 30 s" in problems[0].why
    with pytest.raises(AssayError, match="above the cut-off"):
        mod.derive(frame([("m1", 1, 1, 30.5)]), s)


@pytest.mark.parametrize("mod, model", BOTH, ids=IDS)
@pytest.mark.parametrize("value, why", [
    (-0.1, "latency is negative"),
    ("fast", "latency is not a number"),
    (np.nan, "missing latency"),
])
def test_latency_bad_cells(mod, model, value, why):
    problems = mod.check(frame([("m1", 1, 1, 5.0), ("m1", 1, 2, value)]), model())
    assert [(p.index, p.why) for p in problems] == [(1, why)]


def test_default_cutoffs_differ_between_cold_plate_and_heat():
    # cold plate default cut-off 60 s, heat (Hargreaves) 20 s: 45 s is fine on one only
    f = frame([("m1", 1, 1, 45.0)])
    assert cold_plate.check(f, None) == []
    assert len(heat.check(f, None)) == 1


@pytest.mark.parametrize("mod, model", BOTH, ids=IDS)
def test_count_mode_hand_worked(mod, model):
    s = model(mode="count", window_s=60.0, trials=2)
    out = mod.derive(frame([
        ("m1", 3, 1, 3), ("m1", 3, 2, 5),   # (3 + 5) / 2 = 4
        ("m2", 3, 1, 0), ("m2", 3, 2, 1),   # 0.5
    ], "count"), s)
    np.testing.assert_allclose(out.value, [4.0, 0.5])
    assert set(out.outcome) == {"count"} and set(out.unit) == {"count"}
    assert list(out.censored) == ["none", "none"]
    assert out.bound.isna().all()
    assert list(out.note) == ["", ""]


@pytest.mark.parametrize("mod, model", BOTH, ids=IDS)
def test_count_mode_bad_cells(mod, model):
    s = model(mode="count")
    problems = mod.check(frame([("m1", 1, 1, 2.5), ("m1", 1, 2, -1), ("m1", 1, 3, 4)], "count"), s)
    assert [(p.index, p.why) for p in problems] == [
        (0, "count must be a whole number"), (1, "count is negative")]


@pytest.mark.parametrize("mod, model", BOTH, ids=IDS)
def test_the_configured_mode_decides_which_quantity_is_required(mod, model):
    both = pd.DataFrame({"animal": ["m1"], "study_day": [1], "trial": [1],
                         "latency_s": [np.nan], "count": [4]})
    assert mod.check(both, model(mode="count")) == []
    problems = mod.check(both, model(mode="latency"))
    assert [(p.quantity, p.why) for p in problems] == [("latency_s", "missing latency")]
    only_latency = frame([("m1", 1, 1, 5.0)])
    problems = mod.check(only_latency, model(mode="count"))
    assert [(p.quantity, p.why) for p in problems] == [("count", "missing count")]


@pytest.mark.parametrize("mod", [cold_plate, heat], ids=IDS)
def test_quantities_depend_on_the_mode(mod):
    assert {q.name: q.required for q in mod.ASSAY.quantities} == {"latency_s": False,
                                                                   "count": False}
    assert set(mod.ASSAY.outcomes) == {"latency_s", "count"}


def test_pure_functions():
    r = cold_plate.mean_latency_s([[12.0, 30.0, 60.0], [5.0, 7.0, np.nan]], cutoff_s=60.0)
    np.testing.assert_allclose(r.value, [34.0, 6.0])
    np.testing.assert_array_equal(r.censored, [True, False])
    assert heat.mean_count([2, 3, 7]) == 4.0
    with pytest.raises(AssayError, match="whole"):
        heat.mean_count([1.5])
    with pytest.raises(AssayError, match="above the cut-off"):
        heat.mean_latency_s([21.0], cutoff_s=20.0)


latencies = st.lists(st.one_of(st.floats(0.0, 20.0, allow_nan=False), st.just(20.0)),
                     min_size=1, max_size=5)


@settings(max_examples=200, deadline=None)
@given(latencies)
def test_latency_properties(trials):
    r = heat.mean_latency_s(trials, cutoff_s=20.0)
    assert min(trials) - 1e-9 <= r.value <= max(trials) + 1e-9
    assert bool(r.censored) == (20.0 in trials)
    assert (r.bound == r.value) if r.censored else math.isnan(r.bound)
