"""Baseline days are not tested for a treatment effect: the per-day contrasts of the mixed
model and the RM post-tests leave them out of every multiplicity family.

Reference values: tests/stats/r/post_injection.R (emmeans with the contrasts restricted to
the post-injection days before adjusting). Tolerances as in test_stats_mixed.py (mixed
model: p abs 1e-7, REML optimiser) and test_stats_rm_anova.py (closed form: rel 1e-8).
"""

from __future__ import annotations

import numpy as np
import pytest
from stats_refdata import assert_rel, data, ref

from nocilab.stats.analysis import analyze_outcome
from nocilab.stats.contrasts import BASELINE_CHECK, day_contrasts, pre_injection_days
from nocilab.stats.mixed import fit_mixed_model
from nocilab.stats.rm_anova import rm_anova

ALL_DAYS = [("sidak", "p_sidak_all"), ("bonferroni", "p_bonferroni_all"),
            ("holm", "p_holm_all")]


@pytest.fixture(scope="module")
def fits():
    return {name: fit_mixed_model(data(name), value="value", arm="arm", day="study_day",
                                  animal="animal", donor="donor", control="control")
            for name in ("balanced", "unbalanced", "three_arms")}


@pytest.mark.parametrize("name", ["balanced", "unbalanced", "three_arms"])
@pytest.mark.parametrize(("adjust", "column"), ALL_DAYS)
def test_mixed_model_family_is_the_post_injection_days(fits, name, adjust, column):
    con = day_contrasts(fits[name], adjust=adjust, family="all", baseline_days=[-1]).to_frame()
    old = day_contrasts(fits[name], adjust=adjust, family="all").to_frame()
    r = ref(name, "contrasts_post")
    post = con[con["day"] > 0]
    assert post["day"].tolist() == r["day"].astype(float).tolist()
    assert_rel(post["p"], r["p"], 0, f"{name} p", atol=1e-7)
    assert_rel(post["p_adj"], r[column], 0, f"{name} {adjust}", atol=1e-7)
    n = int(r["n_family_all"].iloc[0])
    assert n == len(post) and len(old) == n + con["arm"].nunique()  # day -1: one per arm
    assert set(old["method"]) == {f"{adjust} over {len(old)} comparison(s) (all days)"}
    assert set(post["method"]) == {f"{adjust} over {n} comparison(s) (all post-injection days)"}
    # one family member fewer per arm: the adjusted p-values are smaller than before
    before = old[old["day"] > 0]["p_adj"].to_numpy()
    assert (post["p_adj"].to_numpy() <= before + 1e-15).all()
    assert (post["p_adj"].to_numpy() < before).any()
    base = con[con["day"] < 0]
    assert len(base) == len(old) - len(post)
    assert base["p_adj"].isna().all() and (base["method"] == BASELINE_CHECK).all()
    np.testing.assert_allclose(base["p"], old[old["day"] < 0]["p"], rtol=1e-12)


@pytest.mark.parametrize("name", ["balanced", "three_arms"])
def test_family_per_day_is_unchanged_on_post_injection_days(fits, name):
    con = day_contrasts(fits[name], adjust="holm", family="day", baseline_days=[-1]).to_frame()
    r = ref(name, "contrasts_post")
    post = con[con["day"] > 0]
    assert_rel(post["p_adj"], r["p_holm_day"], 0, f"{name} holm/day", atol=1e-7)
    assert con.loc[con["day"] < 0, "p_adj"].isna().all()


@pytest.mark.parametrize("name", ["balanced", "no_donor", "three_arms"])
@pytest.mark.parametrize(("adjust", "column"), ALL_DAYS)
def test_rm_posttests_family_is_the_post_injection_days(name, adjust, column):
    res = rm_anova(data(name), value="value", arm="arm", day="study_day", animal="animal",
                   control="control", posttest=adjust, family="all", baseline_days=[-1])
    post = res.posttests.to_frame()
    r = ref(name, "posttests_post")
    tested = post[post["day"] > 0]
    assert_rel(tested["p"], r["p"], 1e-8, "p", atol=1e-12)
    assert_rel(tested["p_adj"], r[column], 1e-8, f"{adjust}", atol=1e-10)
    assert (post.loc[post["day"] < 0, "method"] == BASELINE_CHECK).all()
    assert post.loc[post["day"] < 0, "p_adj"].isna().all()


def test_analysis_keeps_baseline_days_out_of_both_families():
    res = analyze_outcome(data("balanced"), donor="donor", control="control",
                          baseline_days=[-1], posttest="sidak")
    c = res.contrast_table()
    for model in ("mixed", "rm_anova"):
        m = c[c["model"] == model]
        assert set(m.loc[m["day"] < 0, "method"]) == {BASELINE_CHECK}
        assert m.loc[m["day"] < 0, "p_adj"].isna().all()
        assert set(m.loc[m["day"] > 0, "method"]) == {
            "sidak over 5 comparison(s) (all post-injection days)"}
    # the mixed model's day -1 stays in the model (and in the figures), only untested
    assert -1.0 in res.mixed.design.days


def test_pre_injection_days_are_negative_or_named():
    assert pre_injection_days([-3, -1, 0, 1, 7]) == (-3.0, -1.0)
    assert pre_injection_days([-1, 0, 1], [0]) == (-1.0, 0.0)
    assert pre_injection_days([1, 2]) == ()
