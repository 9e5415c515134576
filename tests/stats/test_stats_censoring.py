"""Censoring: counts, flag, Tobit against survival::survreg(dist = "gaussian"), and the
sensitivity analysis against lmerTest/emmeans on the data with censored values dropped.

Tobit tolerance rel 1e-7: both maximise the same likelihood (survreg with
rel.tolerance = 1e-12); observed agreement about 1e-10."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from stats_refdata import assert_rel, data, ref

from nocilab.errors import AnalysisError
from nocilab.stats.censoring import (
    CENSORING_COLUMNS,
    SENSITIVITY_COLUMNS,
    censoring_sensitivity,
    censoring_summary,
    tobit_day_contrasts,
    tobit_fit,
)


def test_counts_fraction_and_flag():
    d = data("censored")
    s = censoring_summary(d, arm="arm", day="study_day")
    t = s.to_frame()
    assert list(t.columns) == list(CENSORING_COLUMNS)
    exp = d.assign(c=d["censored"] == "right").groupby(["arm", "study_day"])["c"].sum()
    assert t["n_right"].tolist() == exp.astype(int).tolist()
    assert s.n_censored == int((d["censored"] != "none").sum())
    assert s.fraction == pytest.approx(s.n_censored / len(d))
    assert s.flagged
    assert (t["flagged"] == (t["fraction"] > 0.10)).all()
    loose = censoring_summary(d, arm="arm", day="study_day", threshold=0.9)
    assert not loose.flagged
    clean = censoring_summary(data("balanced"), arm="arm", day="study_day")
    assert clean.n_censored == 0 and not clean.flagged


def test_bad_censored_levels_raise():
    d = data("censored").copy()
    d.loc[0, "censored"] = "above"
    with pytest.raises(AnalysisError, match="none/left/right"):
        censoring_summary(d, arm="arm", day="study_day")


def test_tobit_per_day_matches_survreg():
    d = data("censored")
    t = tobit_day_contrasts(d, value="value", arm="arm", day="study_day", control="control")
    r = ref("censored", "tobit")
    assert t["day"].tolist() == r["day"].astype(float).tolist()
    assert_rel(t["estimate"], r["estimate"], 1e-7, "Tobit estimate")
    assert_rel(t["se"], r["se"], 1e-7, "Tobit SE")
    assert_rel(t["z"], r["z"], 1e-7, "Tobit z")
    assert_rel(t["p"], r["p"], 1e-6, "Tobit p", atol=1e-12)
    assert t["n_censored"].tolist() == r["n_censored"].tolist()
    # scale and log-likelihood of one day's fit
    g = d[d["study_day"] == 3]
    X = np.column_stack([np.ones(len(g)), (g["arm"] == "patient").to_numpy(float)])
    kind = (g["censored"] == "right").to_numpy(int)
    fit = tobit_fit(g["value"].to_numpy(), X, kind)
    row = r[r["day"] == 3].iloc[0]
    assert fit.scale == pytest.approx(row["scale"], rel=1e-7)
    assert fit.loglik == pytest.approx(row["loglik"], rel=1e-10)
    assert fit.beta[0] == pytest.approx(row["intercept"], rel=1e-7)


def test_tobit_without_censoring_is_least_squares_with_ml_scale():
    rng = np.random.default_rng(4)
    X = np.column_stack([np.ones(30), np.repeat([0.0, 1.0], 15)])
    y = X @ [3.0, 1.5] + rng.normal(size=30)
    fit = tobit_fit(y, X, np.zeros(30, dtype=int))
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    np.testing.assert_allclose(fit.beta, beta, rtol=1e-8)
    resid = y - X @ beta
    assert fit.scale == pytest.approx(np.sqrt(np.mean(resid**2)), rel=1e-7)


def test_left_censoring_mirrors_right_censoring():
    rng = np.random.default_rng(5)
    X = np.column_stack([np.ones(40), np.repeat([0.0, 1.0], 20)])
    y = X @ [0.0, 1.0] + rng.normal(size=40)
    cut = 1.2
    kind = (y >= cut).astype(int)
    yr = np.minimum(y, cut)
    right = tobit_fit(yr, X, kind)
    left = tobit_fit(-yr, X, -kind)
    np.testing.assert_allclose(left.beta, -right.beta, rtol=1e-7)
    assert left.scale == pytest.approx(right.scale, rel=1e-7)


def test_tobit_day_with_an_arm_all_censored_says_why():
    d = data("censored").copy()
    sel = (d["study_day"] == 3) & (d["arm"] == "patient")
    d.loc[sel, ["value", "censored", "bound"]] = [30.0, "right", 30.0]
    t = tobit_day_contrasts(d, value="value", arm="arm", day="study_day", control="control")
    row = t[t["day"] == 3].iloc[0]
    assert np.isnan(row["estimate"]) and "no uncensored value" in row["note"]


def test_sensitivity_matches_lmer_at_bound_and_dropped():
    d = data("censored").copy()
    # shift the recorded value of censored rows: "at_bound" must use the bound column
    d.loc[d["censored"] == "right", "value"] = 31.5
    s = censoring_sensitivity(d, value="value", arm="arm", day="study_day", animal="animal",
                              donor="donor", control="control")
    assert list(s.columns) == list(SENSITIVITY_COLUMNS)
    for analysis, tag in (("at_bound", "censored"), ("dropped", "censored_dropped")):
        part, r = s[s["analysis"] == analysis], ref(tag, "contrasts")
        assert_rel(part["estimate"], r["estimate"], 1e-6, f"{analysis} estimate", atol=1e-7)
        assert_rel(part["se"], r["se"], 1e-6, f"{analysis} SE")
        assert_rel(part["df"], r["df"], 1e-6, f"{analysis} df")
        assert_rel(part["p"], r["p"], 0, f"{analysis} p", atol=1e-7)
    tob = s[s["analysis"] == "tobit"]
    assert np.isinf(tob["df"]).all()
    assert_rel(tob["estimate"], ref("censored", "tobit")["estimate"], 1e-7, "tobit")


def test_sensitivity_reports_an_analysis_that_cannot_be_fitted():
    d = data("censored").copy()
    sel = (d["study_day"] == 3) & (d["arm"] == "patient")
    d.loc[sel, ["censored", "bound"]] = ["right", 30.0]
    s = censoring_sensitivity(d, value="value", arm="arm", day="study_day", animal="animal",
                              donor="donor", control="control")
    dropped = s[s["analysis"] == "dropped"]
    assert len(dropped) == 1 and "patient on day 3" in dropped["note"].iloc[0]
    assert pd.isna(dropped["estimate"].iloc[0])
