"""Two-way repeated-measures ANOVA against afex::aov_ez (GG correction) and the post-tests
against emmeans on the ordinary two-way ANOVA (whose residual mean square is Prism's
within-cells mean square). Both are closed-form computations, so the tolerance is
rel 1e-10 / abs 1e-12 (observed agreement about 1e-14).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from stats_refdata import assert_rel, data, ref

from nocilab.errors import AnalysisError
from nocilab.stats.rm_anova import RM_ANOVA_COLUMNS, rm_anova

SETS = ["balanced", "no_donor", "three_arms"]


def _rm(name: str, **kw):
    return rm_anova(data(name), value="value", arm="arm", day="study_day", animal="animal",
                    control="control", **kw)


@pytest.mark.parametrize("name", SETS)
def test_anova_table_matches_afex(name):
    res = _rm(name)
    assert res.available and res.reason == ""
    t = res.to_frame().set_index("term")
    assert list(res.to_frame().columns) == list(RM_ANOVA_COLUMNS)
    a = ref(name, "afex").set_index("effect")
    for term in ("arm", "day", "arm:day"):
        assert_rel(t.loc[term, "sum_sq"], a.loc[term, "sum_sq"], 1e-10, f"{name} {term} SS")
        assert t.loc[term, "df"] == a.loc[term, "num_df"]
        assert_rel(t.loc[term, "F"], a.loc[term, "f"], 1e-10, f"{name} {term} F")
        assert_rel(t.loc[term, "p"], a.loc[term, "p"], 1e-8, f"{name} {term} p", atol=1e-14)
        # afex's own table (correction = "GG") for the within terms
        assert_rel(t.loc[term, "p_gg"], a.loc[term, "p_gg_afex"], 1e-8, f"{name} {term} p GG",
                   atol=1e-14)
    for term in ("day", "arm:day"):
        assert_rel(t.loc[term, "gg_epsilon"], a.loc[term, "gg_epsilon"], 1e-10, "GG epsilon")
        assert t.loc[term, "df_den_gg"] == pytest.approx(
            a.loc[term, "den_df"] * a.loc[term, "gg_epsilon"], rel=1e-10)
    assert_rel(t.loc["subject", "sum_sq"], a.loc["arm", "error_sum_sq"], 1e-10, "SS subject")
    assert_rel(t.loc["residual", "sum_sq"], a.loc["day", "error_sum_sq"], 1e-10, "SS residual")
    assert res.gg_epsilon == pytest.approx(a.loc["day", "gg_epsilon"], rel=1e-10)


ADJ = [
    ("sidak", "all", "p_sidak_all"),
    ("bonferroni", "all", "p_bonferroni_all"),
    ("holm", "all", "p_holm_all"),
    ("holm", "day", "p_holm_day"),
    ("dunnett", "day", "p_dunnett_day"),
]


@pytest.mark.parametrize("name", SETS)
@pytest.mark.parametrize(("adjust", "family", "column"), ADJ)
def test_posttests_match_within_cells_reference(name, adjust, family, column):
    res = _rm(name, posttest=adjust, family=family)
    post = res.posttests.to_frame()
    r = ref(name, "posttests")
    assert post["contrast"].tolist() == r["contrast"].tolist()
    assert_rel(post["estimate"], r["estimate"], 1e-10, "estimate", atol=1e-10)
    assert_rel(post["se"], r["se"], 1e-10, "SE")
    assert post["df"].tolist() == r["df"].tolist()
    assert_rel(post["p"], r["p"], 1e-8, "p", atol=1e-12)
    assert_rel(post["p_adj"], r[column], 1e-8, f"{adjust}/{family}", atol=1e-10)


def test_default_posttest_is_sidak_over_all_days():
    post = _rm("balanced").posttests.to_frame()
    assert post["method"].iloc[0] == "sidak over 6 comparison(s) (all days)"


def test_missing_value_refuses_with_reason_and_empty_table():
    d = data("balanced").drop(index=[5])
    res = rm_anova(d, value="value", arm="arm", day="study_day", animal="animal",
                   control="control")
    assert not res.available
    assert "1 missing value" in res.reason and "mixed model" in res.reason
    assert res.posttests is None
    assert res.to_frame().empty
    assert list(res.to_frame().columns) == list(RM_ANOVA_COLUMNS)
    d2 = data("balanced").copy()
    d2.loc[7, "value"] = np.nan
    assert not rm_anova(d2, value="value", arm="arm", day="study_day", animal="animal",
                        control="control").available


def test_refuses_single_day_and_lonely_arm():
    d = data("balanced")
    one = d[d["study_day"] == 1]
    assert "two or more days" in rm_anova(one, value="value", arm="arm", day="study_day",
                                          animal="animal", control="control").reason
    few = d[(d["arm"] == "control") | (d["animal"] == d.loc[d.arm == "patient", "animal"].iloc[0])]
    res = rm_anova(few, value="value", arm="arm", day="study_day", animal="animal",
                   control="control")
    assert not res.available and "fewer than two animals" in res.reason


def test_duplicate_rows_are_an_error():
    d = data("balanced")
    with pytest.raises(AnalysisError, match="several rows on day"):
        rm_anova(pd.concat([d, d.iloc[[0]]]), value="value", arm="arm", day="study_day",
                 animal="animal", control="control")


def test_two_days_have_epsilon_one_and_match_the_paired_design():
    d = data("balanced")
    two = d[d["study_day"].isin([-1, 4])]
    res = rm_anova(two, value="value", arm="arm", day="study_day", animal="animal",
                   control="control")
    t = res.to_frame().set_index("term")
    assert res.gg_epsilon == 1.0
    # with two days the arm:day F equals the squared Welch-free two-sample t of the
    # per-animal differences (pooled variance)
    w = two.pivot(index="animal", columns="study_day", values="value")
    arm = two.groupby("animal")["arm"].first().reindex(w.index)
    diff = w[4] - w[-1]
    from scipy import stats

    tt = stats.ttest_ind(diff[arm == "patient"], diff[arm == "control"])
    assert t.loc["arm:day", "F"] == pytest.approx(tt.statistic**2, rel=1e-10)
