"""The REML mixed model and its per-day contrasts against lme4 + lmerTest + emmeans.

Reference values: tests/stats/r/make_reference.R on the data sets of make_data.py.

Tolerances, and why:
- estimates rel 1e-6 (abs 1e-7), SEs rel 1e-6: both fits optimise the same REML
  criterion; what is left is where each optimiser stops (lme4's bobyqa, run with
  rhoend = 1e-12, agrees with ours to about 1e-8 relative);
- variance components rel 1e-5: they are flatter in the criterion than the fixed
  effects (observed agreement about 1e-7); the REML criterion itself rel 1e-10;
- Satterthwaite df of t tests rel 1e-6: both use numerical second derivatives (numDeriv
  with Richardson extrapolation in R, Richardson on the analytic gradient here);
- F-test denominator df rel 5e-5: the Fai-Cornelius combination of eigen-contrast df
  amplifies the numerical noise of the Hessian (observed up to 8e-6);
- p-values abs 1e-7.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from stats_refdata import assert_rel, data, ref

from nocilab.errors import AnalysisError, SchemaError
from nocilab.stats.contrasts import day_contrasts
from nocilab.stats.mixed import fit_mixed_model, variance_components

NESTED = ["balanced", "unbalanced", "three_arms", "singular", "censored"]
ANIMAL_ONLY = ["no_donor", "one_per_donor"]


def _fit(name: str):
    donor = "donor" if name in NESTED or name == "one_per_donor" else None
    return fit_mixed_model(
        data(name), value="value", arm="arm", day="study_day", animal="animal",
        donor=donor, control="control",
    )


@pytest.fixture(scope="module")
def fits():
    return {name: _fit(name) for name in NESTED + ANIMAL_ONLY}


@pytest.mark.parametrize("name", NESTED + ANIMAL_ONLY)
def test_fixed_effects_match_lmertest(fits, name):
    fe = fits[name].fixed_effects()
    r = ref(name, "fixef")
    assert len(fe) == len(r)
    assert_rel(fe["estimate"], r["estimate"], 1e-6, f"{name} estimate", atol=1e-7)
    assert_rel(fe["se"], r["se"], 1e-6, f"{name} se")
    assert_rel(fe["df"], r["df"], 1e-6, f"{name} df")
    assert_rel(fe["t"], r["t"], 1e-6, f"{name} t", atol=1e-7)
    assert_rel(fe["p"], r["p"], 0, f"{name} p", atol=1e-7)


@pytest.mark.parametrize("name", NESTED + ANIMAL_ONLY)
def test_type3_anova_matches_lmertest(fits, name):
    an = fits[name].anova()
    r = ref(name, "anova")
    assert an["term"].tolist() == r["term"].tolist()
    assert an["df_num"].tolist() == r["num_df"].tolist()
    assert_rel(an["F"], r["f"], 1e-6, f"{name} F")
    assert_rel(an["sum_sq"], r["sum_sq"], 1e-6, f"{name} Sum Sq")
    assert_rel(an["df_den"], r["den_df"], 5e-5, f"{name} DenDF")
    assert_rel(an["p"], r["p"], 0, f"{name} p", atol=1e-7)


@pytest.mark.parametrize("name", NESTED + ANIMAL_ONLY)
def test_variance_components_match_lme4(fits, name):
    fit = fits[name]
    r = ref(name, "varcomp").set_index("component")["variance"]
    vc = fit.variance_components
    assert_rel(fit.reml_criterion, r["reml_criterion"], 1e-10, f"{name} REML criterion")
    assert_rel(vc.residual, r["residual"], 1e-5, f"{name} residual variance")
    if name == "one_per_donor":
        # R fits (1 | animal); with one animal per donor it is the donor variance
        assert vc.animal is None
        assert_rel(vc.donor, r["animal"], 1e-5, "one_per_donor donor variance")
        assert "coincide" in " ".join(fit.notes)
        return
    assert_rel(vc.animal, r["animal"], 1e-5, f"{name} animal variance")
    if name in NESTED:
        assert_rel(vc.donor, r["donor"], 1e-5, f"{name} donor variance", atol=1e-8)
    else:
        assert vc.donor is None


def test_singular_fit_is_on_the_boundary_and_says_so(fits):
    fit = fits["singular"]
    assert fit.variance_components.donor == 0.0
    assert any("boundary" in n for n in fit.notes)


@pytest.mark.parametrize("name", NESTED + ANIMAL_ONLY)
def test_day_contrasts_match_emmeans(fits, name):
    r = ref(name, "contrasts")
    con = day_contrasts(fits[name], adjust="none").to_frame()
    assert con["day"].tolist() == r["day"].astype(float).tolist()
    assert con["contrast"].tolist() == r["contrast"].tolist()
    assert_rel(con["estimate"], r["estimate"], 1e-6, f"{name} estimate", atol=1e-7)
    assert_rel(con["se"], r["se"], 1e-6, f"{name} SE")
    assert_rel(con["df"], r["df"], 1e-6, f"{name} df")
    assert_rel(con["t"], r["t"], 1e-6, f"{name} t", atol=1e-7)
    assert_rel(con["p"], r["p"], 0, f"{name} p", atol=1e-7)
    assert (con["p_adj"] == con["p"]).all()
    assert (con["method"] == "none").all()


ADJUSTMENTS = [
    ("sidak", "all", "p_sidak_all"),
    ("bonferroni", "all", "p_bonferroni_all"),
    ("holm", "all", "p_holm_all"),
    ("holm", "day", "p_holm_day"),
    ("sidak", "day", "p_sidak_day"),
    ("dunnett", "day", "p_dunnett_day"),
]


@pytest.mark.parametrize("name", ["balanced", "three_arms", "unbalanced"])
@pytest.mark.parametrize(("adjust", "family", "column"), ADJUSTMENTS)
def test_adjusted_contrasts_match_emmeans(fits, name, adjust, family, column):
    con = day_contrasts(fits[name], adjust=adjust, family=family).to_frame()
    r = ref(name, "contrasts")
    assert_rel(con["p_adj"], r[column], 0, f"{name} {adjust}/{family}", atol=1e-7)
    n = len(con) if family == "all" else len(con) // con["day"].nunique()
    if n > 1:
        assert con["method"].iloc[0].startswith(f"{adjust} over {n} comparison")


def test_dunnett_over_all_days_is_between_unadjusted_and_bonferroni(fits):
    con = day_contrasts(fits["three_arms"], adjust="dunnett", family="all").to_frame()
    bonf = np.minimum(1, con["p"] * len(con))
    assert (con["p_adj"] >= con["p"] - 1e-12).all()
    assert (con["p_adj"] <= bonf + 1e-4).all()


def test_contrasts_for_chosen_days(fits):
    con = day_contrasts(fits["balanced"], days=[1, 2], adjust="bonferroni").to_frame()
    full = day_contrasts(fits["balanced"], adjust="none").to_frame()
    assert con["day"].tolist() == [1.0, 2.0]
    np.testing.assert_allclose(con["p_adj"], np.minimum(1, 2 * full["p"].iloc[1:3].to_numpy()))
    with pytest.raises(AnalysisError, match="not in the model"):
        day_contrasts(fits["balanced"], days=[99])


def test_emmeans_cells_difference_equals_contrast(fits):
    fit = fits["three_arms"]
    em = fit.emmeans()
    con = day_contrasts(fit, adjust="none").to_frame()
    day1 = em[em["day"] == 1.0].set_index("arm")["estimate"]
    row = con[(con["day"] == 1.0) & (con["arm"] == "patient")].iloc[0]
    assert row["estimate"] == pytest.approx(day1["patient"] - day1["control"], rel=1e-12)


def test_donor_term_dropped_with_one_animal_per_donor_and_no_animal_term_with_one_day():
    d = data("balanced")
    one_day = d[d["study_day"] == 4]
    fit = fit_mixed_model(one_day, value="value", arm="arm", day="study_day",
                          animal="animal", donor="donor", control="control")
    assert fit.random_terms == ("donor",)
    # one observation per animal: the fit is a random-intercept model for donors,
    # the contrast is the difference of arm means on that day
    con = day_contrasts(fit, adjust="none").to_frame()
    assert len(con) == 1
    means = one_day.groupby("arm")["value"].mean()
    assert con["estimate"].iloc[0] == pytest.approx(means["patient"] - means["control"])


def test_ordinary_least_squares_when_no_random_term_is_identifiable():
    d = data("one_per_donor")
    one_day = d[d["study_day"] == 3]
    fit = fit_mixed_model(one_day, value="value", arm="arm", day="study_day",
                          animal="animal", donor="donor", control="control")
    assert fit.random_terms == ()
    con = day_contrasts(fit, adjust="none").to_frame()
    from scipy import stats

    res = stats.ttest_ind(one_day.loc[one_day.arm == "patient", "value"],
                          one_day.loc[one_day.arm == "control", "value"])
    assert con["t"].iloc[0] == pytest.approx(res.statistic, rel=1e-8)
    assert con["df"].iloc[0] == pytest.approx(len(one_day) - 2, rel=1e-8)


def test_missing_values_are_dropped_and_counted():
    d = data("balanced").copy()
    d.loc[[3, 10, 50], "value"] = np.nan
    fit = fit_mixed_model(d, value="value", arm="arm", day="study_day", animal="animal",
                          donor="donor", control="control")
    assert fit.n_obs == len(d) - 3
    assert any("3 row(s)" in n for n in fit.notes)


def test_animals_without_donor_get_their_own_level():
    d = data("balanced").copy()
    vehicle = d[d["arm"] == "control"].copy()
    vehicle["arm"] = "vehicle"
    vehicle["animal"] = "V" + vehicle["animal"]
    vehicle["donor"] = np.nan
    fit = fit_mixed_model(pd.concat([d, vehicle]), value="value", arm="arm",
                          day="study_day", animal="animal", donor="donor", control="control")
    assert fit.n_donors == 12 + 18
    assert any("without a donor" in n for n in fit.notes)


def test_input_errors_name_the_problem():
    d = data("balanced")
    with pytest.raises(SchemaError, match="'weight'"):
        fit_mixed_model(d, value="weight", arm="arm", day="study_day", animal="animal",
                        control="control")
    with pytest.raises(AnalysisError, match="control arm 'sham'"):
        fit_mixed_model(d, value="value", arm="arm", day="study_day", animal="animal",
                        control="sham")
    bad = d.copy()
    bad.loc[0, "arm"] = "patient"
    with pytest.raises(AnalysisError, match="each animal must have one arm"):
        fit_mixed_model(bad, value="value", arm="arm", day="study_day", animal="animal",
                        control="control")
    gap = d[~((d["arm"] == "patient") & (d["study_day"] == 4))]
    with pytest.raises(AnalysisError, match="patient on day 4"):
        fit_mixed_model(gap, value="value", arm="arm", day="study_day", animal="animal",
                        control="control")


def test_variance_components_helper_and_frame():
    vc = variance_components(data("balanced"), value="value", arm="arm", day="study_day",
                             animal="animal", donor="donor")
    r = ref("balanced", "varcomp").set_index("component")["variance"]
    assert_rel(vc.donor, r["donor"], 1e-5, "donor variance")
    frame = vc.to_frame()
    assert frame.columns.tolist() == ["component", "variance", "sd", "fitted"]
    assert frame["component"].tolist() == ["donor", "animal", "residual"]
    assert vc.total == pytest.approx(frame["variance"].sum())


def test_result_is_invariant_to_row_order_and_location_shift():
    d = data("unbalanced")
    a = _fit("unbalanced")
    shuffled = d.sample(frac=1.0, random_state=3).assign(value=lambda f: f["value"] + 1000.0)
    b = fit_mixed_model(shuffled, value="value", arm="arm", day="study_day",
                        animal="animal", donor="donor", control="control")
    ca = day_contrasts(a, adjust="none").to_frame()
    cb = day_contrasts(b, adjust="none").to_frame()
    np.testing.assert_allclose(cb["estimate"], ca["estimate"], rtol=1e-7, atol=1e-7)
    np.testing.assert_allclose(cb["df"], ca["df"], rtol=1e-6)
    assert b.beta[0] == pytest.approx(a.beta[0] + 1000.0, rel=1e-10)


def _problem(name: str):
    """The REML problem of a reference data set, built as fit_mixed_model builds it."""
    from nocilab.stats._design import Design, codes
    from nocilab.stats._reml import RemlProblem

    d = data(name)
    arms = ("control", *sorted(set(d["arm"]) - {"control"}))
    days = tuple(sorted(float(x) for x in d["study_day"].unique()))
    design = Design(arms=arms, days=days)
    X = design.matrix(codes(d["arm"], arms), codes(d["study_day"].astype(float), days))
    _, a_idx = np.unique(d["animal"], return_inverse=True)
    donor_of = d.groupby("animal")["donor"].first().sort_index().to_numpy()
    _, d_idx = np.unique(donor_of, return_inverse=True)
    return RemlProblem(X, d["value"].to_numpy(float), a_idx, d_idx)


def test_satterthwaite_df_do_not_depend_on_the_variance_parametrisation():
    """At an interior optimum the df are the same on the (theta, sigma) scale used by
    lmerTest and on the variance scale (sigma2_animal, sigma2_donor, sigma2): the Hessian
    and the Jacobian transform by the same Jacobian, which cancels."""
    from nocilab.stats.satterthwaite import richardson_jacobian, satterthwaite_state

    prob = _problem("three_arms")
    res = prob.fit()
    theta, s = res["theta"], res["sigma_scaled"]
    state = satterthwaite_state(prob, theta, s)
    v_hat = np.append(theta**2 * s**2, s**2)

    def to_varpar(v):
        sig = np.sqrt(v[-1])
        return np.append(np.sqrt(v[:-1]) / sig, sig)

    def grad_v(v):
        return richardson_jacobian(lambda u: np.array([prob.deviance(to_varpar(u))]), v)[0]

    H_v = richardson_jacobian(grad_v, v_hat)
    A_v = 2.0 * np.linalg.inv(0.5 * (H_v + H_v.T))
    J_v = richardson_jacobian(lambda v: prob.covbeta_jacobian(to_varpar(v))[0].ravel(), v_hat)
    J_v = J_v.T.reshape(len(v_hat), prob.p, prob.p)
    C = prob.covbeta_jacobian(to_varpar(v_hat))[0]
    rng = np.random.default_rng(0)
    for _ in range(5):
        L = rng.normal(size=prob.p)
        var = L @ C @ L
        g = np.einsum("i,kij,j->k", L, J_v, L)
        df_v = 2 * var**2 / (g @ A_v @ g)
        # the state is in original units; df are scale-free
        var_o = L @ (C * prob.scale**2) @ L
        g_o = np.einsum("i,kij,j->k", L, state.jacobian, L)
        df_theta = 2 * var_o**2 / (g_o @ state.vcov_varpar @ g_o)
        assert df_v == pytest.approx(df_theta, rel=1e-5)


def test_reml_gradient_is_the_derivative_of_the_criterion():
    from nocilab.stats.satterthwaite import richardson_jacobian

    prob = _problem("unbalanced")
    for rho in (np.array([0.3, 0.8]), np.array([2.0, 0.05]), np.array([0.01, 1.0])):
        num = richardson_jacobian(lambda r: np.array([prob.profiled(r)[0]]), rho)[0]
        np.testing.assert_allclose(prob.profiled(rho)[1], num, rtol=1e-6, atol=1e-8)
    vp = np.array([0.7, 0.4, 0.9])
    num = richardson_jacobian(lambda v: np.array([prob.deviance(v)]), vp)[0]
    np.testing.assert_allclose(prob.deviance_grad(vp), num, rtol=1e-7)
