"""Hedges' g against R (exact J, noncentral-t CI by uniroot on R's pt), and the
multiplicity adjustments against R's p.adjust and mvtnorm."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from stats_refdata import REF, assert_rel, data, ref

from nocilab.errors import AnalysisError
from nocilab.stats.effect_sizes import EFFECT_SIZE_COLUMNS, hedges_g, hedges_j
from nocilab.stats.multiplicity import adjust_pvalues, dunnett, holm, holm_across_outcomes


@pytest.mark.parametrize("name", ["balanced", "three_arms"])
def test_hedges_g_matches_r(name):
    e = hedges_g(data(name), value="value", arm="arm", day="study_day", animal="animal",
                 control="control")
    r = ref(name, "effect_sizes")
    assert list(e.columns) == list(EFFECT_SIZE_COLUMNS)
    assert e["arm"].tolist() == r["arm"].tolist()
    for col in ("mean_difference", "pooled_sd", "hedges_g"):
        assert_rel(e[col], r[col], 1e-10, f"{name} {col}", atol=1e-12)
    # R's noncentral pt is accurate to about 1e-12; the intervals to 1e-9
    assert_rel(e["ci_low"], r["ci_low"], 1e-8, f"{name} ci_low", atol=1e-9)
    assert_rel(e["ci_high"], r["ci_high"], 1e-8, f"{name} ci_high", atol=1e-9)


def test_hedges_j_exact_and_close_to_the_usual_approximation():
    assert hedges_j(10) == pytest.approx(0.9227, abs=1e-4)  # Hedges (1981) table
    for m in (5, 20, 100):
        assert hedges_j(m) == pytest.approx(1 - 3 / (4 * m - 1), abs=2e-3)


def test_ci_inverts_the_noncentral_t():
    e = hedges_g(data("balanced"), value="value", arm="arm", day="study_day",
                 animal="animal", control="control")
    row = e.iloc[2]
    n1, n0 = row["n_arm"], row["n_control"]
    k, m = np.sqrt(1 / n1 + 1 / n0), n1 + n0 - 2
    t = row["hedges_g"] / hedges_j(m) / k
    lo = row["ci_low"] / hedges_j(m) / k
    assert stats.nct.cdf(t, m, lo) == pytest.approx(0.975, abs=1e-9)


def test_effect_size_not_computable_is_noted():
    d = data("balanced")
    d = d[~((d["arm"] == "patient") & (d["study_day"] == 4) & (d["animal"] != "M20101"))]
    e = hedges_g(d, value="value", arm="arm", day="study_day", animal="animal",
                 control="control")
    row = e[e["day"] == 4].iloc[0]
    assert np.isnan(row["hedges_g"]) and "fewer than two" in row["note"]
    with pytest.raises(AnalysisError, match="control arm"):
        hedges_g(d, value="value", arm="arm", day="study_day", animal="animal",
                 control="sham")


def test_padjust_matches_r():
    r = pd.read_csv(REF / "padjust.csv")
    p = r["p"].to_numpy()
    np.testing.assert_allclose(holm(p), r["holm"], rtol=1e-14)
    np.testing.assert_allclose(adjust_pvalues(p, method="holm"), r["holm"], rtol=1e-14)
    np.testing.assert_allclose(adjust_pvalues(p, method="bonferroni"), r["bonferroni"],
                               rtol=1e-14)
    np.testing.assert_allclose(adjust_pvalues(p, method="sidak"), r["sidak"], rtol=1e-12)
    assert (adjust_pvalues(p, method="none") == p).all()
    with pytest.raises(AnalysisError, match="unknown multiple-comparison"):
        adjust_pvalues(p, method="tukey")
    with pytest.raises(AnalysisError, match="needs the t statistics"):
        adjust_pvalues(p, method="dunnett")


def test_holm_across_outcomes_families_and_missing():
    r = pd.read_csv(REF / "padjust.csv")
    t = pd.DataFrame({"outcome": list("abcde"), "p": r["p"]})
    out = holm_across_outcomes(t)
    np.testing.assert_allclose(out["p_holm"], r["holm"], rtol=1e-14)
    t2 = pd.concat([t.assign(term="arm"), t.assign(term="arm:day")], ignore_index=True)
    t2.loc[0, "p"] = np.nan
    out2 = holm_across_outcomes(t2, by=["term"], out="p_h")
    assert np.isnan(out2.loc[0, "p_h"])
    np.testing.assert_allclose(out2.loc[5:, "p_h"], r["holm"], rtol=1e-14)
    np.testing.assert_allclose(out2.loc[1:4, "p_h"], holm(r["p"].to_numpy()[1:]), rtol=1e-14)
    with pytest.raises(AnalysisError, match="no column 'pval'"):
        holm_across_outcomes(t, p="pval")


def test_dunnett_two_groups_exact_and_independent_blocks():
    # one comparison: unadjusted; two independent comparisons (z): 1 - (1 - p)^2
    assert dunnett(np.array([2.0]), np.array([10.0]), np.eye(1))[0] == pytest.approx(
        2 * stats.t.sf(2.0, 10))
    p1 = 2 * stats.norm.sf(2.2)
    got = dunnett(np.array([2.2, 0.3]), np.array([np.inf, np.inf]), np.eye(2))
    assert got[0] == pytest.approx(1 - (1 - p1) ** 2, rel=1e-9)
    # Dunnett's classic critical value: 2 treatments vs control, df = 20, equal n
    # (correlation 0.5): two-sided 5% point 2.37 (Dunnett 1955 table)
    R = np.array([[1, 0.5], [0.5, 1.0]])
    assert dunnett(np.array([2.37, 2.37]), np.array([20.0, 20.0]), R)[0] == pytest.approx(
        0.05, abs=1e-3)


def test_dunnett_general_correlation_falls_back_to_qmc():
    R = np.array([[1.0, 0.5, 0.1], [0.5, 1.0, 0.4], [0.1, 0.4, 1.0]])
    t = np.array([2.5, 1.0, 0.2])
    got = dunnett(t, np.full(3, np.inf), R)
    mc = stats.multivariate_normal(cov=R).cdf(np.full(3, 2.5), lower_limit=np.full(3, -2.5),
                                              rng=np.random.default_rng(1))
    assert got[0] == pytest.approx(1 - mc, abs=5e-4)
    assert (got >= 2 * stats.norm.sf(np.abs(t)) - 1e-12).all()
