"""Power by simulation: the design, the statistic, and agreement with exact values.

Statistical checks are exact binomial or two-proportion tests at a stated level
(LEVEL = 0.001 each, seeds fixed), never an arbitrary tolerance on a power estimate.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.regression.linear_model import OLS
from statsmodels.stats.proportion import proportions_ztest

from nocilab.design.power import (
    Effect,
    PowerDesign,
    VarianceComponents,
    arm_contrast_means,
    contrast_weights,
    donor_mean_variance,
    donor_means_from_readings,
    donor_t_statistics,
    donor_t_statistics_with_losses,
    exact_power,
    reference_design,
    simulate_power,
    simulate_readings,
    variance_from_fit,
)
from nocilab.design._power_sim import reject
from nocilab.errors import DesignError

LEVEL = 0.001


def small_design(**changes) -> PowerDesign:
    base = PowerDesign(
        arms=("control", "patient"),
        donors_per_arm=5,
        mice_per_donor=2,
        baseline_days=(-2, -1),
        days=(1, 2, 4, 7),
        effect=Effect(size=6.0),
        variance=VarianceComponents(sd_donor=3.0, sd_animal=2.0, sd_residual=4.0, rho=0.3),
    )
    return dataclasses.replace(base, **changes)


def agrees_with(k: int, n: int, p: float) -> bool:
    """Exact two-sided binomial test of k/n against p does not reject at LEVEL."""
    return stats.binomtest(k, n, p).pvalue > LEVEL


def same_proportion(k1: int, n1: int, k2: int, n2: int) -> bool:
    """Two-proportion z test (pooled) does not reject at LEVEL."""
    _, p = proportions_ztest([k1, k2], [n1, n2])
    return p > LEVEL


# -- the effect over days ------------------------------------------------------------


def test_effect_shape_by_hand():
    e = Effect(size=10.0)  # ramp 2 days, plateau 2 days, half-life 10 days
    days = [-3, 0, 1, 2, 3, 4, 5, 14, 24]
    expected = [0, 0, 0.5, 1, 1, 1, 0.5**0.1, 0.5, 0.25]
    np.testing.assert_allclose(e.shape(days), expected, rtol=1e-12)
    np.testing.assert_allclose(e.at([1, 14]), [-5.0, -5.0])  # a decrease by default


def test_effect_percent_scale_and_direction():
    e = Effect(size=25.0, scale="percent", baseline_mean=80.0, direction="increase")
    assert e.magnitude == pytest.approx(20.0)
    np.testing.assert_allclose(e.at([2]), [20.0])


def test_effect_step_without_decay():
    e = Effect(size=1.0, onset_day=3, onset_days=0, half_life_days=math.inf)
    np.testing.assert_allclose(e.shape([2, 3, 4, 100]), [0, 0, 1, 1])


def test_arm_contrast_is_mean_effect_over_window():
    d = small_design(window=(2, 7))
    np.testing.assert_allclose(arm_contrast_means(d),
                               [0.0, -6.0 * np.mean([1.0, 1.0, 0.5**0.3])])


# -- the closed-form variance against a brute-force covariance ------------------------


def brute_force_donor_variance(d: PowerDesign) -> float:
    """a' S a over all readings of one donor's mice, S built term by term."""
    v = d.variance
    days = np.asarray(d.test_days)
    t, m = len(days), d.mice_per_donor
    post = (days > 0).astype(float)
    lag = np.abs(np.subtract.outer(np.arange(t), np.arange(t)))
    cov = (v.sd_donor**2 * np.kron(np.ones((m, m)), np.outer(post, post))
           + v.sd_animal**2 * np.kron(np.eye(m), np.outer(post, post))
           + v.sd_residual**2 * np.kron(np.eye(m), v.rho**lag))
    w = np.array([-1 / len(d.baseline_days) if x <= 0 else 0.0 for x in days])
    window = set(d.window_days)
    w[[i for i, x in enumerate(days) if x in window]] = 1 / len(window)
    a = np.kron(np.ones(m) / m, w)
    return float(a @ cov @ a)


@pytest.mark.parametrize("window", [None, (2, 4)])
@pytest.mark.parametrize("rho", [0.0, 0.6, -0.3])
def test_donor_mean_variance_matches_brute_force(rho, window):
    d = small_design(window=window, mice_per_donor=3,
                     variance=VarianceComponents(sd_donor=1.5, sd_animal=2.5, sd_residual=3.0,
                                                 rho=rho))
    assert donor_mean_variance(d) == pytest.approx(brute_force_donor_variance(d), rel=1e-12)
    assert contrast_weights(d).sum() == pytest.approx(0.0, abs=1e-15)


# -- the statistic ------------------------------------------------------------------


def test_donor_means_from_readings_by_hand():
    d = small_design(donors_per_arm=(1, 2), mice_per_donor=2, baseline_days=(-1,),
                     days=(1, 3))
    # 6 animals x 3 test days (day -1, 1, 3); contrast = mean(day 1, day 3) - day -1
    r = np.array([[[10, 12, 14], [0, 1, 1], [5, 5, 5], [2, 4, 8], [1, 0, 0], [3, 3, 6]]],
                 dtype=float)
    # animal contrasts 3, 1 | 0, 4 | -1, 1.5
    np.testing.assert_allclose(donor_means_from_readings(r, d), [[2.0, 2.0, 0.25]])


def test_two_arm_t_is_student_t_test():
    d = small_design(donors_per_arm=(5, 7))
    x = np.random.default_rng(3).normal(size=(4, 12))
    t = donor_t_statistics(x, d)[:, 0]
    ref = stats.ttest_ind(x[:, 5:], x[:, :5], axis=1, equal_var=True).statistic
    np.testing.assert_allclose(t, ref, rtol=1e-12)


def test_three_arm_t_pools_variance_like_ols():
    d = small_design(arms=("control", "patient", "depleted"), donors_per_arm=(4, 5, 3))
    y = np.random.default_rng(4).normal(size=12)
    arm = np.repeat([0, 1, 2], [4, 5, 3])
    x = np.column_stack([np.ones(12), arm == 1, arm == 2]).astype(float)
    fit = OLS(y, x).fit()
    np.testing.assert_allclose(donor_t_statistics(y[None, :], d)[0], fit.tvalues[1:],
                               rtol=1e-12)
    assert fit.df_resid == d.df == 9


# -- simulation against exact power ---------------------------------------------------


def test_only_residual_noise_gives_exact_noncentral_t_power():
    d = small_design(variance=VarianceComponents(sd_donor=0, sd_animal=0, sd_residual=6.0))
    # by hand: donor-mean sd, noncentrality, and the nct tail, without the module
    nb, nw, m = 2, 4, 2
    sd_mean = 6.0 * math.sqrt(1 / nb + 1 / nw) / math.sqrt(m)
    diff = 6.0 * np.mean([0.5, 1.0, 1.0, 0.5**0.3])
    nc = diff / (sd_mean * math.sqrt(2 / 5))
    c = stats.t.ppf(0.975, 8)
    by_hand = stats.nct.sf(c, 8, nc) + stats.nct.cdf(-c, 8, nc)
    assert exact_power(d) == pytest.approx(by_hand, rel=1e-10)
    r = simulate_power(d, n_sims=20_000, seed=11)
    assert agrees_with(r.n_rejected, r.n_sims, by_hand)


@pytest.mark.parametrize("sidedness", ["two-sided", "one-sided"])
def test_simulated_power_agrees_with_exact(sidedness):
    d = small_design(sidedness=sidedness, donors_per_arm=(5, 7))
    r = simulate_power(d, n_sims=20_000, seed=12)
    assert 0.2 < exact_power(d) < 0.95
    assert agrees_with(r.n_rejected, r.n_sims, exact_power(d))
    assert r.ci_low <= r.power <= r.ci_high


@pytest.mark.parametrize("sidedness", ["two-sided", "one-sided"])
def test_zero_effect_gives_alpha(sidedness):
    d = small_design(effect=Effect(size=0.0), sidedness=sidedness, alpha=0.05)
    r = simulate_power(d, n_sims=20_000, seed=13)
    assert exact_power(d) == pytest.approx(0.05, rel=1e-9)
    assert agrees_with(r.n_rejected, r.n_sims, 0.05)


def test_one_sided_looks_only_in_the_effect_direction():
    wrong_way = small_design(sidedness="one-sided", effect=Effect(size=0.0))
    assert exact_power(wrong_way) == pytest.approx(0.05)
    d = small_design(sidedness="one-sided")
    assert exact_power(d) > exact_power(small_design())
    up = small_design(sidedness="one-sided", effect=Effect(size=6.0, direction="increase"))
    assert exact_power(up) == pytest.approx(exact_power(d), rel=1e-12)


def test_more_donors_never_reduce_power():
    powers = [exact_power(small_design(donors_per_arm=n)) for n in range(3, 13)]
    assert all(b > a for a, b in zip(powers, powers[1:], strict=False))
    sims = [simulate_power(small_design(donors_per_arm=n), n_sims=5000, seed=100 + n)
            for n in range(3, 13)]
    for a, b in zip(sims, sims[1:], strict=False):
        # no significant drop from one size to the next (one-sided, at LEVEL)
        _, p = proportions_ztest([b.n_rejected, a.n_rejected], [b.n_sims, a.n_sims],
                                 alternative="smaller")
        assert p > LEVEL


def test_donors_matter_more_than_mice_when_donors_vary():
    d = small_design(variance=VarianceComponents(sd_donor=4, sd_animal=2, sd_residual=3))
    more_mice = exact_power(dataclasses.replace(d, donors_per_arm=5, mice_per_donor=8))
    more_donors = exact_power(dataclasses.replace(d, donors_per_arm=10, mice_per_donor=4))
    # same number of animals (40 per arm), very different power
    assert more_donors > more_mice + 0.2


def test_arms_compared_with_control_each():
    d = small_design(arms=("control", "patient", "depleted"),
                     effect={"patient": Effect(size=6.0)})
    r = simulate_power(d, n_sims=20_000, seed=14)
    patient, depleted = r.by_arm
    assert (patient.arm, depleted.arm) == ("patient", "depleted")
    assert r.power == patient.power
    assert depleted.expected_difference == 0.0
    assert agrees_with(depleted.n_rejected, r.n_sims, 0.05)
    assert agrees_with(patient.n_rejected, r.n_sims, exact_power(d, arm="patient"))
    frame = r.to_frame()
    assert list(frame.arm) == ["patient", "depleted"]
    adjusted = dataclasses.replace(d, adjust="bonferroni")
    assert exact_power(adjusted, arm="depleted") == pytest.approx(0.025)


def test_same_seed_same_result_other_seed_other_result():
    d = reference_design()
    a = simulate_power(d, n_sims=3000, seed=5)
    assert a == simulate_power(d, n_sims=3000, seed=5)
    assert a.n_rejected != simulate_power(d, n_sims=3000, seed=6).n_rejected
    assert a.seed == 5 and a.spawn_key == () and a.method == "sufficient" and a.df == 14
    seq = np.random.SeedSequence(5, spawn_key=(2,))
    b = simulate_power(d, n_sims=3000, seed=seq)
    assert (b.seed, b.spawn_key) == (5, (2,))
    assert b == simulate_power(d, n_sims=3000, seed=np.random.SeedSequence(5, spawn_key=(2,)))


# -- the fast route against the full simulation -----------------------------------------


@pytest.mark.parametrize("changes", [
    {},
    {"mice_per_donor": 1, "window": (2, 7), "sidedness": "one-sided"},
    {"arms": ("control", "a", "b"), "donors_per_arm": (4, 5, 6),
     "variance": VarianceComponents(sd_donor=1.0, sd_animal=3.0, sd_residual=5.0, rho=0.7)},
])
def test_sufficient_and_full_routes_agree(changes):
    d = small_design(**changes)
    fast = simulate_power(d, n_sims=20_000, seed=21)
    full = simulate_power(d, n_sims=20_000, seed=22, method="full")
    assert full.method == "full"
    for f, s in zip(fast.by_arm, full.by_arm, strict=True):
        assert same_proportion(f.n_rejected, fast.n_sims, s.n_rejected, full.n_sims)


def test_full_route_donor_means_have_the_closed_form_distribution():
    d = small_design(variance=VarianceComponents(sd_donor=1.0, sd_animal=2.0, sd_residual=3.0,
                                                 rho=0.5))
    dm = donor_means_from_readings(simulate_readings(d, n_sims=20_000, seed=23), d)
    z = (dm - np.repeat(arm_contrast_means(d), d.donors_by_arm)) / math.sqrt(
        donor_mean_variance(d))
    n = z.size
    # sum of squares ~ chi2(n) and mean ~ N(0, 1/n): both two-sided at LEVEL
    ss = float((z**2).sum())
    p_var = 2 * min(stats.chi2.cdf(ss, n), stats.chi2.sf(ss, n))
    p_mean = 2 * stats.norm.sf(abs(z.mean()) * math.sqrt(n))
    assert p_var > LEVEL and p_mean > LEVEL


# -- variance components from a past fit ------------------------------------------------


def test_variance_from_fit_passes_components_through():
    v = variance_from_fit(sd_donor=2.0, sd_animal=3.0, sd_residual=4.0, rho=0.2)
    assert v == VarianceComponents(sd_donor=2.0, sd_animal=3.0, sd_residual=4.0, rho=0.2)


def test_variance_from_fit_removes_baseline_noise_from_the_animal_sd():
    # a change-model fit (rho = 0) sees sd_animal^2 + sd_residual^2 / n_baseline
    true = VarianceComponents(sd_donor=2.0, sd_animal=3.0, sd_residual=4.0)
    fitted_animal_sd = math.sqrt(3.0**2 + 4.0**2 / 2)
    v = variance_from_fit(sd_donor=2.0, sd_animal=fitted_animal_sd, sd_residual=4.0,
                          n_baseline_days=2)
    assert v.sd_animal == pytest.approx(true.sd_animal, rel=1e-12)
    assert variance_from_fit(sd_donor=1, sd_animal=0.5, sd_residual=4.0,
                             n_baseline_days=1).sd_animal == 0.0


# -- input errors name the field ----------------------------------------------------------


@pytest.mark.parametrize(("changes", "field"), [
    ({"mice_per_donor": 0}, "PowerDesign.mice_per_donor"),
    ({"mice_per_donor": 2.5}, "PowerDesign.mice_per_donor"),
    ({"days": ()}, "PowerDesign.days"),
    ({"days": (-1, 0)}, "PowerDesign.days"),
    ({"baseline_days": (1,)}, "PowerDesign.baseline_days"),
    ({"baseline_days": ()}, "PowerDesign.baseline_days"),
    ({"alpha": 1.5}, "PowerDesign.alpha"),
    ({"alpha": 0}, "PowerDesign.alpha"),
    ({"window": (20, 30)}, "PowerDesign.window"),
    ({"window": (5, 2)}, "PowerDesign.window"),
    ({"arms": ("control",)}, "PowerDesign.arms"),
    ({"arms": ("a", "a")}, "PowerDesign.arms"),
    ({"donors_per_arm": 1}, "PowerDesign.donors_per_arm"),
    ({"donors_per_arm": (3, 3, 3)}, "PowerDesign.donors_per_arm"),
    ({"sidedness": "greater"}, "PowerDesign.sidedness"),
    ({"adjust": "tukey"}, "PowerDesign.adjust"),
    ({"effect": {"nobody": Effect(size=1)}}, "PowerDesign.effect"),
    ({"effect": 3.0}, "PowerDesign.effect"),
    ({"dropout": 1.0}, "PowerDesign.dropout"),
    ({"dropout": -0.1}, "PowerDesign.dropout"),
    ({"dropout": "some"}, "PowerDesign.dropout"),
])
def test_design_errors_name_the_field(changes, field):
    with pytest.raises(DesignError, match=field.replace(".", r"\.")):
        small_design(**changes)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"sd_donor": -1, "sd_animal": 1, "sd_residual": 1}, "VarianceComponents.sd_donor"),
    ({"sd_donor": 1, "sd_animal": 1, "sd_residual": 1, "rho": 1.0}, "VarianceComponents.rho"),
    ({"sd_donor": 0, "sd_animal": 0, "sd_residual": 0}, "VarianceComponents"),
    ({"sd_donor": 1, "sd_animal": float("nan"), "sd_residual": 1},
     "VarianceComponents.sd_animal"),
])
def test_variance_errors_name_the_field(kwargs, field):
    with pytest.raises(DesignError, match=field):
        VarianceComponents(**kwargs)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"size": -1}, "Effect.size"),
    ({"size": 1, "scale": "percent"}, "Effect.baseline_mean"),
    ({"size": 1, "half_life_days": 0}, "Effect.half_life_days"),
    ({"size": 1, "direction": "down"}, "Effect.direction"),
    ({"size": 1, "onset_day": -2}, "Effect.onset_day"),
])
def test_effect_errors_name_the_field(kwargs, field):
    with pytest.raises(DesignError, match=field):
        Effect(**kwargs)


def test_simulation_arguments_are_checked():
    with pytest.raises(DesignError, match="n_sims"):
        simulate_power(small_design(), n_sims=0, seed=1)
    with pytest.raises(DesignError, match="seed"):
        simulate_power(small_design(), n_sims=10, seed=-1)
    with pytest.raises(DesignError, match="method"):
        simulate_power(small_design(), n_sims=10, seed=1, method="magic")
    with pytest.raises(DesignError, match="arm"):
        exact_power(small_design(), arm="control")


def test_public_surface_is_pinned():
    from nocilab.design import power

    assert power.__all__ == sorted(power.__all__)
    assert set(power.__all__) == {
        "ArmPower", "Effect", "GridCell", "GridChoice", "MIN_DONORS_PER_ARM", "NearbyDesign",
        "PowerDesign", "PowerGrid", "PowerPlan", "PowerResult", "RULES", "VarianceComponents", "arm_contrast_means", "cell_seed",
        "contrast_weights", "donor_mean_variance", "donor_means_from_readings",
        "donor_t_statistics", "donor_t_statistics_with_losses", "exact_power", "plan_power", "power_grid", "reference_design",
        "refit_power", "rule_text",
        "simulate_power", "simulate_readings", "variance_from_fit",
    }
    assert all(hasattr(power, name) for name in power.__all__)


# ---------------------------------------------------------------- lost mice


def _power_with_donor_losses(design: PowerDesign) -> float:
    """Exact power when only donors vary (no animal or residual noise): a donor is lost
    when all its mice are, with probability dropout ** mice; given the donors kept, the
    t statistic is noncentral t. Sum over the binomial numbers kept in each arm."""
    n = design.donors_by_arm
    q = 1 - design.dropout ** design.mice_per_donor
    diff = float(arm_contrast_means(design)[1])
    sd = design.variance.sd_donor
    total = 0.0
    for n0 in range(1, n[0] + 1):
        for n1 in range(1, n[1] + 1):
            df = n0 + n1 - 2
            if df < 1:
                continue
            nc = diff / (sd * math.sqrt(1 / n0 + 1 / n1))
            c = stats.t.ppf(1 - design.alpha / 2, df)
            p = stats.nct.sf(c, df, nc) + stats.nct.cdf(-c, df, nc)
            total += stats.binom.pmf(n0, n[0], q) * stats.binom.pmf(n1, n[1], q) * p
    return total


@pytest.mark.parametrize("method", ["sufficient", "full"])
def test_lost_donors_give_the_exact_mixture_power(method):
    design = small_design(variance=VarianceComponents(sd_donor=3.0, sd_animal=0.0,
                                                      sd_residual=0.0),
                          donors_per_arm=4, mice_per_donor=2, dropout=0.45)
    expected = _power_with_donor_losses(design)
    r = simulate_power(design, n_sims=20_000, seed=11, method=method)
    assert agrees_with(r.n_rejected, r.n_sims, expected)
    # and the losses matter: the complete design has clearly more power
    assert expected < exact_power(dataclasses.replace(design, dropout=0.0)) - 0.03


@pytest.mark.parametrize("dropout", [0.1, 0.4])
def test_sufficient_and_full_routes_agree_with_lost_mice(dropout):
    design = small_design(dropout=dropout)
    a = simulate_power(design, n_sims=20_000, seed=5)
    b = simulate_power(design, n_sims=20_000, seed=6, method="full")
    assert same_proportion(a.n_rejected, a.n_sims, b.n_rejected, b.n_sims)


def test_more_lost_mice_never_raise_power():
    powers = [simulate_power(small_design(dropout=p), n_sims=20_000, seed=9).power
              for p in (0.0, 0.2, 0.5)]
    assert powers[0] > powers[1] > powers[2]


def test_t_with_losses_equals_t_of_the_donors_kept():
    design = small_design(donors_per_arm=4)
    dm = np.array([[1.0, 2.0, np.nan, 4.0, 6.0, np.nan, 8.0, 9.5]])
    t, df = donor_t_statistics_with_losses(dm, design)
    control, patient = [1.0, 2.0, 4.0], [6.0, 8.0, 9.5]
    ref = stats.ttest_ind(patient, control)
    assert t[0, 0] == pytest.approx(ref.statistic, rel=1e-12) and df[0] == 4
    # no donors left in an arm: no comparison, never significant
    t, df = donor_t_statistics_with_losses(np.array([[1.0, 2.0, 3.0, 4.0] + [np.nan] * 4]), design)
    assert np.isnan(t[0, 0]) and not reject(t, design, df)[0, 0]
    # without losses the two statistics are the same
    full = np.arange(8.0)[None, :] ** 1.5
    assert donor_t_statistics_with_losses(full, design)[0] == pytest.approx(
        donor_t_statistics(full, design), rel=1e-12)


def test_exact_and_refit_routes_refuse_lost_mice():
    from nocilab.design.power import refit_power

    with pytest.raises(DesignError, match="dropout"):
        exact_power(small_design(dropout=0.1))
    with pytest.raises(DesignError, match="dropout"):
        refit_power(small_design(dropout=0.1), n_sims=5, seed=1)


# ---------------------------------------------------------------- several arms


def _four_arms(**changes) -> PowerDesign:
    base = PowerDesign(arms=("control", "a", "b", "c"), donors_per_arm=(8, 6, 6, 6),
                       mice_per_donor=2, baseline_days=(-2, -1), days=(1, 2, 4, 7),
                       effect=Effect(size=0.0),
                       variance=VarianceComponents(sd_donor=3.0, sd_animal=2.0, sd_residual=4.0,
                                                   rho=0.3))
    return dataclasses.replace(base, **changes)


def _family_wise_rejections(design: PowerDesign, n: int, seed: int) -> int:
    from nocilab.design._power_sim import _donor_means_sufficient, _rng

    dm = _donor_means_sufficient(design, n, _rng(seed))
    return int(reject(donor_t_statistics(dm, design), design).any(axis=1).sum())


def test_dunnett_holds_the_family_wise_error_rate_exactly():
    n = 100_000
    k = _family_wise_rejections(_four_arms(adjust="dunnett"), n, seed=21)
    assert agrees_with(k, n, 0.05)
    # unadjusted, the family-wise rate is far above alpha; Bonferroni stays below it
    assert _family_wise_rejections(_four_arms(), n, seed=21) / n > 0.10
    assert _family_wise_rejections(_four_arms(adjust="bonferroni"), n, seed=21) / n < 0.048


def test_dunnett_critical_value_gives_p_equal_to_alpha():
    from nocilab.design._power_sim import _arm_correlation, critical_values
    from nocilab.stats.multiplicity import dunnett

    d = _four_arms(adjust="dunnett")
    c = critical_values(d)
    r = _arm_correlation(np.asarray(d.donors_by_arm, dtype=float))
    p = dunnett(np.array([c, 0.0, 0.0]), np.full(3, float(d.df)), r)
    assert p[0] == pytest.approx(0.05, abs=1e-8)
    assert stats.t.isf(0.025, d.df) < c < stats.t.isf(0.05 / 6, d.df)


@pytest.mark.parametrize("adjust", ["sidak", "dunnett"])
def test_single_step_adjustments_agree_with_exact_power(adjust):
    d = _four_arms(adjust=adjust, effect={"a": Effect(size=6.0), "c": Effect(size=3.0)})
    r = simulate_power(d, n_sims=20_000, seed=4)
    for arm_power in r.by_arm:
        assert agrees_with(arm_power.n_rejected, r.n_sims, exact_power(d, arm=arm_power.arm))


def test_holm_rejects_at_least_what_bonferroni_rejects():
    eff = {"a": Effect(size=6.0), "b": Effect(size=5.0)}
    holm = simulate_power(_four_arms(adjust="holm", effect=eff), n_sims=20_000, seed=8)
    bonf = simulate_power(_four_arms(adjust="bonferroni", effect=eff), n_sims=20_000, seed=8)
    for h, b in zip(holm.by_arm, bonf.by_arm, strict=True):
        assert h.n_rejected >= b.n_rejected
    assert holm.by_arm[0].n_rejected > bonf.by_arm[0].n_rejected


def test_holm_with_lost_mice_runs_and_dunnett_says_what_it_needs():
    eff = {"a": Effect(size=6.0)}
    r = simulate_power(_four_arms(adjust="holm", effect=eff, dropout=0.2), n_sims=5000, seed=2)
    assert 0 < r.power < 1
    with pytest.raises(DesignError, match="dunnett needs complete studies"):
        _four_arms(adjust="dunnett", dropout=0.2)
    with pytest.raises(DesignError, match="dunnett is available for two-sided"):
        _four_arms(adjust="dunnett", sidedness="one-sided")
    with pytest.raises(DesignError, match="Holm"):
        exact_power(_four_arms(adjust="holm", effect=eff))


# ---------------------------------------------------------------- censored readings


def _cold_plate(**changes) -> PowerDesign:
    """Cold-plate-like latencies (s) that patient IgG raises, with a 30 s cut-off."""
    base = PowerDesign(
        arms=("control", "patient"), donors_per_arm=6, mice_per_donor=3,
        baseline_days=(-2, -1), days=(1, 2, 4, 7),
        effect=Effect(size=25, scale="percent", baseline_mean=24.0, direction="increase"),
        variance=VarianceComponents(sd_donor=2.0, sd_animal=1.5, sd_residual=3.0, rho=0.3,
                                    sd_level=3.0),
        bounds=(None, 30.0))
    return dataclasses.replace(base, **changes)


def test_censored_power_is_the_power_of_the_reports_donor_level_test():
    # an independent loop: readings drawn here, held at the cut-off, and each simulated
    # study analysed by the very function the report uses
    import pandas as pd

    from nocilab.stats.donor_test import donor_level_test

    design = _cold_plate()
    rng = np.random.default_rng(77)
    days = design.test_days
    lag = np.abs(np.subtract.outer(np.arange(len(days)), np.arange(len(days))))
    chol = np.linalg.cholesky(design.variance.sd_residual**2 * 0.3**lag)
    eff = design.effect_for("patient").at(days)
    post = np.array([d > 0 for d in days], dtype=float)
    n_sims, hits = 600, 0
    for _ in range(n_sims):
        rows = []
        for a, arm in enumerate(design.arms):
            for j in range(6):
                u = rng.normal(0, 2.0)
                for m in range(3):
                    y = (24.0 + rng.normal(0, 3.0) + (eff if a else 0.0)
                         + post * (u + rng.normal(0, 1.5)) + chol @ rng.normal(size=len(days)))
                    y = np.minimum(y, 30.0)
                    rows += [(f"{arm}{j}-{m}", f"{arm}{j}", arm, d, v)
                             for d, v in zip(days, y, strict=True)]
        frame = pd.DataFrame(rows, columns=["animal", "donor", "arm", "study_day", "value"])
        test = donor_level_test(frame, control="control", baseline_days=[-2, -1])
        hits += int(test.iloc[0]["p"] < 0.05)
    fast = simulate_power(design, n_sims=20_000, seed=3)
    assert fast.method == "full"
    assert same_proportion(hits, n_sims, fast.n_rejected, fast.n_sims)


def test_a_cut_off_near_the_readings_costs_power():
    free = simulate_power(_cold_plate(bounds=None), n_sims=20_000, seed=5, method="full")
    far = simulate_power(_cold_plate(bounds=(None, 100.0)), n_sims=20_000, seed=6)
    near = simulate_power(_cold_plate(bounds=(None, 27.0)), n_sims=20_000, seed=7)
    assert same_proportion(free.n_rejected, free.n_sims, far.n_rejected, far.n_sims)
    assert near.power < free.power - 0.1
    # without bounds the animal's own level cancels: sd_level changes nothing
    a = simulate_power(_cold_plate(bounds=None), n_sims=4000, seed=9)
    b = simulate_power(_cold_plate(bounds=None, variance=dataclasses.replace(
        _cold_plate().variance, sd_level=30.0)), n_sims=4000, seed=9)
    assert a.n_rejected == b.n_rejected


@pytest.mark.parametrize(("changes", "message"), [
    ({"bounds": (None, None)}, "lower or an upper"),
    ({"bounds": (30.0, 10.0)}, "lower limit must be below"),
    ({"bounds": (0.0,)}, "must be \\(lower, upper\\)"),
    ({"effect": Effect(size=5.0), "baseline_mean": None}, "baseline_mean"),
])
def test_bounds_are_checked(changes, message):
    with pytest.raises(DesignError, match=message):
        _cold_plate(**changes)


def test_exact_and_refit_routes_refuse_bounds():
    from nocilab.design.power import refit_power

    with pytest.raises(DesignError, match="censored"):
        exact_power(_cold_plate())
    with pytest.raises(DesignError, match="bounds"):
        refit_power(_cold_plate(), n_sims=5, seed=1)
