"""The log10 scale: every model on log10(threshold), differences as ratios of geometric
means, checked against R (lme4 + lmerTest + emmeans and lm on log10 values:
tests/stats/r/log_scale.R on the data of tests/stats/r/make_log_data.py).

Tolerances as for the linear models (test_stats_mixed.py): REML criterion to 1e-10 and
variance components to 1e-5 relative; estimates, SEs, t and ratios to 1e-6, Satterthwaite
df to 1e-6 (ANOVA denominator df 5e-5), p to 1e-7 absolute; ANOVA F to 1e-5 and its p to 1e-6 (the arm F moves
with the donor variance, where the REML optimum is flat: the criteria agree to 1e-12 while
the variances differ by 2e-8); the donor-level test (closed form) to 1e-10.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from stats_refdata import assert_rel, data, ref

from nocilab.errors import AnalysisError
from nocilab.stats.analysis import analyze_outcome, analyze_table
from nocilab.stats.scale import add_ratios, log10_values


@pytest.fixture(scope="module")
def logged():
    return analyze_outcome(data("vonfrey_log"), donor="donor", control="control",
                           baseline_days=[-3, -1], censored="censored", bound="bound",
                           auc_window=(1, 7), scale="log10", assay="von_frey",
                           outcome="threshold_g")


def test_contrasts_and_ratios_match_r(logged):
    r = ref("vonfrey_log", "log10_contrasts").sort_values("day")
    c = logged.contrast_table()
    c = c[c["model"] == "mixed"].sort_values("day")
    assert (c["scale"] == "log10").all()
    assert c["day"].tolist() == r["day"].tolist()
    assert_rel(c["estimate"], r["estimate"], 1e-6, "log10 estimate", atol=1e-9)
    assert_rel(c["se"], r["se"], 1e-6, "log10 SE")
    assert_rel(c["df"], r["df"], 1e-6, "log10 df")
    assert_rel(c["t"], r["t"], 1e-6, "log10 t", atol=1e-9)
    assert_rel(c["p"], r["p"], 0, "log10 p", atol=1e-7)
    for col in ("ratio", "ratio_ci_low", "ratio_ci_high"):
        assert_rel(c[col], r[col], 1e-6, col)


def test_the_fit_on_log10_values_is_rs(logged):
    r = ref("vonfrey_log", "log10_varcomp").set_index("component")["variance"]
    fit = logged.mixed
    assert_rel(fit.reml_criterion, r["reml_criterion"], 1e-10, "REML criterion")
    vc = fit.variance_components
    for name in ("donor", "animal", "residual"):
        assert_rel(getattr(vc, name), r[name], 1e-5, f"{name} variance")


def test_anova_on_log10_values_matches_r(logged):
    r = ref("vonfrey_log", "log10_anova").set_index("term")
    a = logged.anova_table()
    a = a[a["model"] == "mixed"].set_index("term").loc[r.index]
    assert_rel(a["F"], r["f"], 1e-5, "log10 F")
    assert_rel(a["df_den"], r["den_df"], 5e-5, "log10 DenDF")
    assert_rel(a["p"], r["p"], 0, "log10 p", atol=1e-6)


def test_donor_level_test_on_log10_values_matches_r(logged):
    r = ref("vonfrey_log", "log10_donor_test").iloc[0]
    d = logged.donor_test_table().iloc[0]
    assert d["window"] == "days 1-7" and d["scale"] == "log10" and d["df"] == r["df"]
    for col in ("difference", "se", "t", "ci_low", "ci_high", "ratio", "ratio_ci_low",
                "ratio_ci_high"):
        assert d[col] == pytest.approx(r[col], rel=1e-10), col
    assert d["p"] == pytest.approx(r["p"], rel=1e-8)
    s = logged.summary()
    assert s["scale"] == "log10" and f"(ratio {r['ratio']:.3g})" in s["donor_test"]


def test_planning_components_stay_on_the_values_as_measured(logged):
    linear = analyze_outcome(data("vonfrey_log"), donor="donor", control="control",
                             baseline_days=[-3, -1], auc_window=(1, 7))
    a, b = logged.planning_table().iloc[0], linear.planning_table().iloc[0]
    assert a["loglik"] == pytest.approx(b["loglik"], abs=1e-9)
    # the linear analysis gives no ratios
    assert linear.contrast_table()["ratio"].isna().all()
    assert (linear.contrast_table()["scale"] == "linear").all()
    assert linear.donor_test_table()["ratio"].isna().all()


def test_analyze_table_uses_the_log_scale_for_the_outcomes_named():
    d = data("vonfrey_log").assign(assay="von_frey", outcome="threshold_g", unit="g",
                                   preparation="IgG", sex="female", cage="c1")
    other = d.assign(assay="paw_pressure", animal="pp" + d["animal"])
    res = analyze_table(pd.concat([d, other]), control="control", baseline_days=[-3, -1],
                        log_outcomes=["von_frey.threshold_g"],
                        log_source="from the study file's [analysis] log_outcomes")
    s = res.summary().set_index("assay")["scale"]
    assert s.to_dict() == {"paw_pressure": "linear", "von_frey": "log10"}
    assert res.settings["log10"] == ("von_frey.threshold_g (from the study file's [analysis] "
                                     "log_outcomes)")
    c = res.contrasts()
    vf = c[(c["assay"] == "von_frey") & (c["model"] == "mixed")]
    assert vf["ratio"].to_numpy() == pytest.approx(10 ** vf["estimate"].to_numpy(), rel=1e-12)


def test_log_scale_refusals_name_the_row():
    d = data("vonfrey_log")
    d.loc[5, "value"] = 0.0
    with pytest.raises(AnalysisError) as info:
        analyze_outcome(d, donor="donor", control="control", baseline_days=[-3, -1],
                        scale="log10", assay="von_frey", outcome="threshold_g")
    msg = str(info.value)
    animal, day = d.loc[5, "animal"], d.loc[5, "study_day"]
    assert "von_frey.threshold_g" in msg and "positive values" in msg
    assert f"animal {animal}, study_day {day}" in msg
    with pytest.raises(AnalysisError, match="percent of baseline is not defined"):
        analyze_outcome(data("vonfrey_log"), control="control", baseline_days=[-3, -1],
                        baseline="percent", scale="log10")
    with pytest.raises(AnalysisError, match="scale must be one of linear, log10; got log2"):
        analyze_outcome(data("vonfrey_log"), control="control", scale="log2")


def test_log10_values_and_ratios_are_plain_arithmetic():
    f = pd.DataFrame({"v": [1.0, 10.0, np.nan], "b": [np.nan, 10.0, np.nan]})
    out = log10_values(f, value="v", bound="b")
    assert out["v"].tolist()[:2] == [0.0, 1.0] and np.isnan(out["v"].iloc[2])
    assert out["b"].iloc[1] == 1.0 and f["v"].iloc[1] == 10.0  # the input is left alone
    r = add_ratios(pd.DataFrame({"estimate": [np.log10(2.0)], "se": [0.0], "df": [10.0]}),
                   scale="log10")
    assert r[["ratio", "ratio_ci_low", "ratio_ci_high"]].iloc[0].tolist() == pytest.approx(
        [2.0, 2.0, 2.0])
