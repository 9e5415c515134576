"""Grip strength, locomotor activity and body weight."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nocilab.assays import activity, body_weight, grip
from nocilab.assays.base import DERIVED_VALUES
from nocilab.errors import AssayError
from nocilab.model.settings import ActivitySettings, GripSettings

KEYS = ["animal", "study_day", "trial"]


# --- grip --------------------------------------------------------------------------


def grip_frame(rows):
    """rows: (animal, study_day, trial, force_g, weight_g)."""
    return pd.DataFrame(rows, columns=KEYS + ["force_g", "weight_g"])


GRIP = grip_frame([
    ("m1", 5, 1, 90.0, 25.0), ("m1", 5, 2, 110.0, 25.0), ("m1", 5, 3, 100.0, 25.0),
    ("m2", 5, 1, 80.0, np.nan), ("m2", 5, 2, 70.0, np.nan), ("m2", 5, 3, 90.0, np.nan),
])


def test_grip_mean_and_max_hand_worked():
    out = grip.derive(GRIP, GripSettings(aggregate="mean"))
    np.testing.assert_allclose(out.value, [100.0, 80.0])    # 300 / 3, 240 / 3
    assert set(out.outcome) == {"force_g"} and set(out.unit) == {"g"}
    assert list(out.note) == ["", ""] and list(out.n_trials) == [3, 3]
    out = grip.derive(GRIP, GripSettings(aggregate="max"))
    np.testing.assert_allclose(out.value, [110.0, 90.0])


def test_grip_per_body_weight_hand_worked_and_missing_weight_noted():
    out = grip.derive(GRIP, GripSettings(per_body_weight=True))
    assert list(out.columns) == list(DERIVED_VALUES)
    assert set(out.outcome) == {"force_g_per_g"} and set(out.unit) == {"g/g"}
    assert out.value.iloc[0] == pytest.approx(4.0)          # 100 g / 25 g
    assert np.isnan(out.value.iloc[1])
    assert list(out.note) == ["", grip.NO_WEIGHT]
    assert grip.NO_WEIGHT == "no body weight for this day"
    out = grip.derive(GRIP, GripSettings(per_body_weight=True, aggregate="max"))
    assert out.value.iloc[0] == pytest.approx(4.4)          # 110 g / 25 g


def test_grip_without_weight_column_gives_notes_not_errors():
    frame = GRIP.drop(columns="weight_g")
    assert grip.check(frame, GripSettings(per_body_weight=True)) == []
    out = grip.derive(frame, GripSettings(per_body_weight=True))
    assert out.value.isna().all() and set(out.note) == {grip.NO_WEIGHT}


def test_grip_weight_is_ignored_unless_normalising():
    frame = GRIP.assign(weight_g=-1.0)
    assert grip.check(frame, GripSettings()) == []


def test_grip_fewer_trials_than_expected_combines_notes():
    out = grip.derive(GRIP.iloc[3:5], GripSettings(per_body_weight=True))
    assert out.note.iloc[0] == "no body weight for this day; 2 of 3 trials"


@pytest.mark.parametrize("column, value, why", [
    ("force_g", -3.0, "force is negative"),
    ("force_g", "strong", "force is not a number"),
    ("force_g", np.nan, "missing force"),
    ("weight_g", 0.0, "body weight must be greater than 0"),
    ("weight_g", -25.0, "body weight must be greater than 0"),
    ("weight_g", "25 g", "body weight is not a number"),
])
def test_grip_bad_cells(column, value, why):
    frame = GRIP.astype({column: object})
    frame.loc[4, column] = value
    problems = grip.check(frame, GripSettings(per_body_weight=True))
    assert [(p.index, p.quantity, p.why) for p in problems] == [(4, column, why)]
    with pytest.raises(AssayError, match=why):
        grip.derive(frame, GripSettings(per_body_weight=True))


def test_grip_pure_functions():
    assert grip.grip_force_g([[1.0, 3.0], [2.0, np.nan]], aggregate="max").tolist() == [3.0, 2.0]
    np.testing.assert_allclose(grip.force_per_body_weight([100.0, 50.0], [25.0, np.nan]),
                               [4.0, np.nan])
    with pytest.raises(AssayError, match="aggregate"):
        grip.grip_force_g([1.0], aggregate="median")
    with pytest.raises(AssayError, match="positive"):
        grip.force_per_body_weight(100.0, 0.0)


grips = st.lists(st.floats(0.0, 1000.0, allow_nan=False), min_size=1, max_size=6)


@settings(max_examples=200, deadline=None)
@given(grips, st.floats(0.01, 100.0))
def test_grip_properties(trials, c):
    mean = grip.grip_force_g(trials)
    top = grip.grip_force_g(trials, aggregate="max")
    assert min(trials) - 1e-9 <= mean <= top + 1e-9
    assert top == max(trials)
    assert grip.grip_force_g([t * c for t in trials]) == pytest.approx(mean * c, abs=1e-9)


# --- activity ----------------------------------------------------------------------


def test_activity_distance_is_the_total_over_bins():
    frame = pd.DataFrame([("m1", 0, 1, 12.5), ("m1", 0, 2, 8.0), ("m1", 0, 3, 4.5),
                          ("m1", 1, 1, 3.0)], columns=KEYS + ["distance_m"])
    out = activity.derive(frame, ActivitySettings())
    np.testing.assert_allclose(out.value, [25.0, 3.0])       # 12.5 + 8 + 4.5
    assert list(out.n_trials) == [3, 1]
    assert set(out.outcome) == {"distance_m"} and set(out.unit) == {"m"}


def test_activity_counts():
    frame = pd.DataFrame([("m1", 0, 1, 100), ("m1", 0, 2, 250)], columns=KEYS + ["counts"])
    out = activity.derive(frame, ActivitySettings(quantity="counts"))
    assert out.value.tolist() == [350.0]
    assert (out.outcome.iloc[0], out.unit.iloc[0]) == ("counts", "count")


def test_activity_bad_cells_and_the_configured_quantity():
    frame = pd.DataFrame([("m1", 0, 1, 10.5, 3.5), ("m1", 0, 2, -1.0, 4.0)],
                         columns=KEYS + ["distance_m", "counts"])
    problems = activity.check(frame, ActivitySettings(quantity="counts"))
    assert [(p.index, p.quantity, p.why) for p in problems] == [
        (0, "counts", "count must be a whole number")]
    problems = activity.check(frame, ActivitySettings())
    assert [(p.index, p.quantity, p.why) for p in problems] == [
        (1, "distance_m", "distance is negative")]
    problems = activity.check(frame.drop(columns="counts"), ActivitySettings(quantity="counts"))
    assert [p.why for p in problems] == ["missing count", "missing count"]
    assert {q.name: q.required for q in activity.ASSAY.quantities} == {
        "distance_m": False, "counts": False}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0.0, 1e4, allow_nan=False), min_size=1, max_size=12))
def test_activity_total_properties(bins):
    total = activity.session_total(bins)
    assert total == pytest.approx(sum(bins), rel=1e-12, abs=1e-9)
    assert total >= max(bins) - 1e-9


# --- body weight -------------------------------------------------------------------


def test_body_weight_mean_of_weighings():
    frame = pd.DataFrame([("m1", 0, 1, 24.8), ("m1", 0, 2, 25.2), ("m2", 0, 1, 21.0)],
                         columns=KEYS + ["weight_g"])
    out = body_weight.derive(frame, None)
    np.testing.assert_allclose(out.value, [25.0, 21.0])
    assert set(out.outcome) == {"weight_g"} and set(out.unit) == {"g"}
    assert list(out.censored) == ["none", "none"]


@pytest.mark.parametrize("value, why", [(0.0, "body weight must be greater than 0"),
                                        (-2.0, "body weight must be greater than 0"),
                                        (None, "missing body weight"),
                                        ("heavy", "body weight is not a number")])
def test_body_weight_bad_cells(value, why):
    frame = pd.DataFrame({"animal": ["m1", "m1"], "study_day": [0, 0], "trial": [1, 2],
                          "weight_g": [25.0, value]})
    assert [(p.index, p.why) for p in body_weight.check(frame, None)] == [(1, why)]


def test_body_weight_pure_function():
    assert body_weight.mean_weight_g([24.8, 25.2]) == pytest.approx(25.0)
    with pytest.raises(AssayError, match="not positive"):
        body_weight.mean_weight_g([0.0])
