"""Human-IgG clearance: half-lives per mouse and per preparation against R
(tests/elisa/r/clearance.R: lm on log concentrations, t.test on log half-lives).

Tolerances: 1e-10 relative (both sides are closed-form least squares)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nocilab.elisa import half_lives
from nocilab.errors import AnalysisError

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data" / "elisa" / "igg_serum_clearance.csv"
RTOL = 1e-10


@pytest.fixture(scope="module")
def serum() -> pd.DataFrame:
    return pd.read_csv(DATA)


def test_half_lives_per_mouse_match_r(serum):
    res = half_lives(serum, after_day=3, by=["preparation"])
    ref = pd.read_csv(HERE / "r" / "reference_clearance_animals.csv")
    got = res.animals.set_index("animal").loc[ref["animal"]]
    assert list(got["n_points"]) == list(ref["n_points"])
    for col in ("slope_per_day", "slope_se", "half_life_days", "ci_low_days", "ci_high_days",
                "r_squared"):
        np.testing.assert_allclose(got[col], ref[col], rtol=RTOL, equal_nan=True, err_msg=col)
    assert got.loc["M1", "n_censored_left_out"] == 1
    assert "1 censored reading(s) left out" in got.loc["M1", "note"]
    assert got.loc["M8", "note"] == "2 readings: no interval"
    assert (got["first_day"] == 4).all()  # day 1 is during dosing


def test_geometric_mean_per_preparation_matches_t_test(serum):
    res = half_lives(serum, after_day=3, by=["preparation"])
    ref = pd.read_csv(HERE / "r" / "reference_clearance_groups.csv")
    got = res.groups.set_index("preparation").loc[ref["preparation"]]
    for col in ("geometric_mean_half_life_days", "ci_low_days", "ci_high_days", "df"):
        np.testing.assert_allclose(got[col], ref[col], rtol=RTOL, err_msg=col)
    assert list(got["n_animals"]) == list(ref["n_animals"])


def test_exact_exponential_gives_its_half_life():
    days = np.array([4, 7, 10, 14, 21])
    frame = pd.DataFrame({"animal": "a", "study_day": days,
                          "concentration": 1000 * 0.5 ** ((days - 4) / 6.0), "censored": "none"})
    row = half_lives(frame).animals.iloc[0]
    assert row["half_life_days"] == pytest.approx(6.0, rel=1e-12)
    assert row["ci_low_days"] == pytest.approx(6.0, rel=1e-9)
    assert row["r_squared"] == pytest.approx(1.0)


def test_no_decline_and_too_few_readings_say_so():
    frame = pd.DataFrame({
        "animal": ["flat"] * 3 + ["rise"] * 3 + ["one"],
        "study_day": [4, 7, 10, 4, 7, 10, 4],
        "concentration": [100, 60, 90.0, 100, 120, 150, 100],
    })
    a = half_lives(frame, censored=None).animals.set_index("animal")
    assert np.isfinite(a.loc["flat", "half_life_days"])
    assert np.isinf(a.loc["flat", "ci_high_days"])
    assert "not established" in a.loc["flat", "note"]
    assert np.isnan(a.loc["rise", "half_life_days"]) and "do not fall" in a.loc["rise", "note"]
    assert np.isnan(a.loc["one", "half_life_days"]) and "fewer than 2" in a.loc["one", "note"]
    g = half_lives(frame, censored=None).groups.iloc[0]
    assert g["n_animals"] == 3 and g["n_without_half_life"] == 2
    assert "1 animal with a half-life" in g["note"]


def test_refusals_name_what_is_missing(serum):
    with pytest.raises(AnalysisError, match="lacks column.* titre"):
        half_lives(serum, concentration="titre")
    with pytest.raises(AnalysisError, match="no readings after the last dosing day"):
        half_lives(serum, after_day=30)
    with pytest.raises(AnalysisError, match="between 0 and 1"):
        half_lives(serum, level=95)
