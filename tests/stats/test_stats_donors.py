"""Each donor against the control donors' prediction interval, against R
(tests/stats/r/donor_classes.R: predict.lm on the intercept-only model of the control
donors' means; for a donor with fewer mice, the extra within-donor variance from
lm(change ~ donor) and Satterthwaite df). Closed form on both sides: tolerance rel 1e-10
(abs 1e-10) on values, SEs, df, t and bounds, abs 1e-12 on p.

The false-affected rate of the classification is checked by simulation from its own
model (exact under normality, so a binomial tolerance) here, and on the demo simulator
in tests/demo/test_donor_calibration.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from stats_refdata import assert_rel, data, ref

from nocilab.errors import AnalysisError
from nocilab.stats.donor_test import donor_level_test
from nocilab.stats.donors import (
    AFFECTED_COLUMNS,
    CLEARLY,
    DONOR_COLUMNS,
    NOT,
    NOT_EVALUABLE,
    POSSIBLY,
    donor_effects,
)


def _effects(name: str, **kw):
    return donor_effects(data(name), value="value", arm="arm", day="study_day",
                         animal="animal", donor="donor", control="control",
                         baseline_days=[-1], **kw)


@pytest.mark.parametrize("name", ["balanced", "unbalanced", "three_arms", "one_per_donor"])
def test_donor_classes_match_r(name):
    f, r = _effects(name).to_frame(), ref(name, "donor_classes")
    assert list(f.columns) == list(DONOR_COLUMNS)
    assert f["donor"].tolist() == r["donor"].tolist()
    assert f["n_animals"].tolist() == r["n_animals"].tolist()
    for col in ("value", "reference_mean", "difference", "se", "df", "t", "clearly_below",
                "possibly_below"):
        assert_rel(f[col], r[col], 1e-10, f"{name} {col}", atol=1e-10)
    assert_rel(f["p"], r["p"], 0, f"{name} p", atol=1e-12)
    assert f["classification"].tolist() == r["classification"].tolist()
    assert f["clearly_above"].isna().all()  # direction decrease: only lower bounds


@pytest.mark.parametrize("name", ["balanced", "three_arms", "one_per_donor"])
def test_balanced_bound_is_the_classical_prediction_interval(name):
    """With as many mice per donor as the reference donors: R's predict.lm interval."""
    f, r = _effects(name).to_frame(), ref(name, "donor_classes")
    assert_rel(f["clearly_below"], r["predict_lm_lwr"], 1e-10, "predict.lm lwr", atol=1e-10)
    n_ctrl = int((f["arm"] == "control").sum())
    assert (f.loc[f["arm"] != "control", "df"] == n_ctrl - 1).all()
    assert (f.loc[f["arm"] == "control", "df"] == n_ctrl - 2).all()


def test_values_are_the_donor_level_tests_donor_means():
    f = _effects("unbalanced").to_frame()
    dt = donor_level_test(data("unbalanced"), control="control", baseline_days=[-1]).iloc[0]
    pat = f[f["arm"] == "patient"]
    assert pat["value"].mean() == pytest.approx(dt["mean"], rel=1e-12)
    assert set(f["quantity"]) == {dt["quantity"]} and set(f["window"]) == {dt["window"]}


def test_classes_follow_p_and_the_levels():
    f = _effects("three_arms").to_frame()
    assert (f.loc[f["classification"] == CLEARLY, "p"] < 0.05).all()
    poss = f[f["classification"] == POSSIBLY]
    assert ((poss["p"] >= 0.05) & (poss["p"] < 0.20)).all()
    assert (f.loc[f["classification"] == NOT, "p"] >= 0.20).all()
    clear = f["classification"] == CLEARLY
    assert (f.loc[clear, "value"] < f.loc[clear, "clearly_below"]).all()
    assert (f.loc[~clear, "value"] >= f.loc[~clear, "clearly_below"]).all()
    strict = _effects("three_arms", level=0.99, possible_level=0.95).to_frame()
    assert (strict["classification"] == CLEARLY).sum() <= clear.sum()


def test_affected_counts_per_arm():
    eff = _effects("three_arms")
    a = eff.affected()
    assert list(a.columns) == list(AFFECTED_COLUMNS)
    assert a["arm"].tolist() == ["control", "depleted", "patient"]
    f = eff.to_frame()
    for row in a.itertuples():
        c = f.loc[f["arm"] == row.arm, "classification"]
        assert (row.n_clearly, row.n_possibly, row.n_not) == (
            (c == CLEARLY).sum(), (c == POSSIBLY).sum(), (c == NOT).sum())
        assert row.summary == (f"{row.n_clearly} clearly, {row.n_possibly} possibly, "
                               f"{row.n_not} not affected of {row.n_donors} donors")
        assert row.expected_clearly_by_chance == pytest.approx(0.05 * row.n_evaluable)
    assert a.set_index("arm").loc["control", "reference"] == "other control donors"


def test_directions():
    f = _effects("balanced").to_frame()
    up = _effects("balanced", direction="increase").to_frame()
    assert_rel(up["p"], 1 - f["p"], 1e-12, "increase p", atol=1e-12)
    assert up["clearly_below"].isna().all() and up["clearly_above"].notna().all()
    both = _effects("balanced", direction="either").to_frame()
    assert_rel(both["p"], 2 * np.minimum(f["p"], 1 - f["p"]), 1e-12, "either p", atol=1e-12)
    assert both["clearly_below"].notna().all() and both["clearly_above"].notna().all()
    assert (both["clearly_below"] < f["clearly_below"]).all()  # two-sided is wider


def test_fewer_mice_widen_the_interval_and_more_are_conservative():
    d = data("balanced")
    fewer = d[d["animal"] != "M20101"]  # PAT01: 2 mice instead of 3
    f = donor_effects(fewer, value="value", arm="arm", day="study_day", animal="animal",
                      donor="donor", control="control", baseline_days=[-1]).to_frame()
    full = _effects("balanced").to_frame().set_index("donor")
    p1 = f.set_index("donor").loc["PAT01"]
    assert p1["se"] > full.loc["PAT01", "se"] and p1["df"] > full.loc["PAT01", "df"]
    assert "fewer than the reference donors" in p1["note"]
    less_ctrl = d[d["animal"] != "M10101"]  # CON01 has 2: patient donors have more
    g = donor_effects(less_ctrl, value="value", arm="arm", day="study_day", animal="animal",
                      donor="donor", control="control", baseline_days=[-1]).to_frame()
    pat = g[g["arm"] == "patient"]
    assert (pat["df"] == 5).all() and (pat["note"] == "").all()


def test_false_affected_rate_is_the_stated_level_under_the_model():
    """Exactness: donors simulated from the model (between-donor and between-mouse normal
    terms, 3 mice each, no effect anywhere): 600 studies of 6 control and 6 patient
    donors, the patient donors against the control donors and each control donor against
    the other five. The rate of "clearly" must be 5% and of "clearly or possibly" 20%;
    the SDs of these rates over such runs are 0.0028 and 0.0046 (simulated), and the
    tolerances are more than 4 SDs."""
    rng = np.random.default_rng(7)
    calls = []
    for _ in range(600):
        donors = rng.normal(0, 3.0, 12)[:, None] + rng.normal(0, 4.0, (12, 3))
        rows = [(f"M{i}_{j}", f"D{i}", "control" if i < 6 else "patient", day,
                 (donors[i, j] if day > 0 else 0.0))
                for i in range(12) for j in range(3) for day in (-1, 1)]
        frame = pd.DataFrame(rows, columns=["animal", "donor", "arm", "study_day", "value"])
        f = donor_effects(frame, value="value", arm="arm", day="study_day", animal="animal",
                          donor="donor", control="control", baseline_days=[-1]).to_frame()
        calls += f["classification"].tolist()
    calls = pd.Series(calls)
    assert len(calls) == 7200
    assert 0.038 < (calls == CLEARLY).mean() < 0.062
    assert 0.18 < calls.isin([CLEARLY, POSSIBLY]).mean() < 0.22


def test_errors_and_not_evaluable_donors():
    d = data("balanced")
    with pytest.raises(AnalysisError, match="unknown direction 'down'; expected one of decrease"):
        _effects("balanced", direction="down")
    with pytest.raises(AnalysisError, match="possible_level < level"):
        _effects("balanced", level=0.8, possible_level=0.9)
    with pytest.raises(AnalysisError, match="at least two donors of the control arm 'vehicle'"):
        donor_effects(d, value="value", arm="arm", day="study_day", animal="animal",
                      donor="donor", control="vehicle")
    no_base = d[~((d["donor"] == "PAT02") & (d["study_day"] == -1))]
    f = donor_effects(no_base, value="value", arm="arm", day="study_day", animal="animal",
                      donor="donor", control="control", baseline_days=[-1]).to_frame()
    row = f.set_index("donor").loc["PAT02"]
    assert row["classification"] == NOT_EVALUABLE and "no animal of this donor" in row["note"]
    assert "1 not evaluable" in donor_effects(
        no_base, value="value", arm="arm", day="study_day", animal="animal", donor="donor",
        control="control", baseline_days=[-1]).affected().set_index("arm").loc["patient", "summary"]


def test_single_day_endpoint_uses_the_value():
    """An outcome measured once after injection (IENFD): donors compared on the value."""
    f = pd.DataFrame({"animal": ["p1", "p2", "c1", "c2", "c3", "c4"], "study_day": [21] * 6,
                      "value": [18.0, 20.0, 25.0, 26.0, 27.0, 24.0],
                      "arm": ["patient", "patient", "control", "control", "control", "control"],
                      "donor": ["P", "P", "C1", "C2", "C3", "C3"]})
    eff = donor_effects(f, value="value", arm="arm", day="study_day", animal="animal",
                        donor="donor", control="control").to_frame().set_index("donor")
    assert eff.loc["P", "value"] == pytest.approx(19.0)
    # reference: the control donors' means 25, 26, 25.5
    assert eff.loc["P", "reference_mean"] == pytest.approx(25.5)
    assert set(eff["quantity"]) == {"mean value"}
