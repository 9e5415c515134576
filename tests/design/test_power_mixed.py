"""The donor-mean t test is the mixed model's test; refitting the model gives the same power.

References: lme4 + lmerTest output of ``test_power_mixed.R`` (beside this file) and
statsmodels ``MixedLM`` fitted from a formula built independently of the module.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.regression.mixed_linear_model import MixedLM
from statsmodels.stats.proportion import proportions_ztest

from nocilab.design.power import (
    Effect,
    PowerDesign,
    VarianceComponents,
    donor_means_from_readings,
    donor_t_statistics,
    refit_power,
    simulate_power,
    simulate_readings,
)

LEVEL = 0.001

# lme4 1.1-31 / lmerTest 3.1-3, REML, printed by test_power_mixed.R
R_ESTIMATE = -5.1135109235
R_SE = 1.4397663061
R_DF = 5.9999994655
R_T = -3.5516256367


def deterministic_study() -> tuple[PowerDesign, np.ndarray]:
    """The study of test_power_mixed.R, built by the same formula."""
    d = PowerDesign(arms=("control", "patient"), donors_per_arm=4, mice_per_donor=3,
                    baseline_days=(-2, -1), days=(1, 2, 4, 7), effect=Effect(size=6.0),
                    variance=VarianceComponents(sd_donor=1, sd_animal=1, sd_residual=1))
    days = np.array(d.test_days, dtype=float)
    g = np.array([0, 0, 0.5, 1, 1, 0.5**0.3])
    i = np.arange(6)
    y = np.zeros((1, 24, 6))
    for k in range(24):
        j = k // 3
        patient = j // 4 == 1
        y[0, k] = (-6 * patient * g
                   + (days > 0) * (3 * math.sin(1.7 * j + 0.3) + 2 * math.cos(2.3 * k + 0.1))
                   + 1.5 * np.sin(0.9 * k * i + 1.1 * i + 0.5 * k))
    return d, y


def test_donor_mean_t_equals_lmertest():
    d, y = deterministic_study()
    dm = donor_means_from_readings(y, d)[0]
    assert dm[4:].mean() - dm[:4].mean() == pytest.approx(R_ESTIMATE, abs=1e-8)
    assert donor_t_statistics(dm[None, :], d)[0, 0] == pytest.approx(R_T, abs=1e-6)
    # Satterthwaite df of the arm contrast is exactly donors - arms (lmerTest: 6 - 5e-7)
    assert d.df == 6
    assert R_DF == pytest.approx(d.df, abs=1e-5)
    assert R_ESTIMATE / R_SE == pytest.approx(R_T, rel=1e-9)


def tidy_change(design: PowerDesign, readings: np.ndarray) -> pd.DataFrame:
    """Long table of change from baseline on window days, for one simulated study."""
    nb = len(design.baseline_days)
    m = design.mice_per_donor
    arm_of_donor = np.repeat(design.arms, design.donors_by_arm)
    rows = []
    for k in range(design.n_animals):
        base = readings[k, :nb].mean()
        for i, day in enumerate(design.days):
            if day in design.window_days:
                rows.append({"animal": f"a{k}", "donor": f"d{k // m}",
                             "arm": arm_of_donor[k // m], "day": day,
                             "change": readings[k, nb + i] - base})
    return pd.DataFrame(rows)


def anova_estimates_positive(frame: pd.DataFrame, design: PowerDesign) -> bool:
    """Whether the ANOVA (moment) estimates of all three variances are > 0.

    Mean squares of the balanced nested design: donors within arms, animals within
    donors, and the residual after animal and arm x day. REML equals ANOVA exactly
    when MS_donor > MS_animal > MS_residual.
    """
    f = frame.copy()
    f["animal_mean"] = f.groupby("animal").change.transform("mean")
    f["donor_mean"] = f.groupby("donor").change.transform("mean")
    f["arm_mean"] = f.groupby("arm").change.transform("mean")
    f["cell_mean"] = f.groupby(["arm", "day"]).change.transform("mean")
    n_days = f.day.nunique()
    ms_donor = ((f.donor_mean - f.arm_mean) ** 2).sum() / design.df
    ms_animal = ((f.animal_mean - f.donor_mean) ** 2).sum() / (design.n_animals - design.n_donors)
    resid = f.change - f.animal_mean - f.cell_mean + f.arm_mean
    ms_resid = (resid**2).sum() / ((design.n_animals - len(design.arms)) * (n_days - 1))
    return bool(ms_donor > ms_animal > ms_resid)


def mixedlm_arm_t(frame: pd.DataFrame, design: PowerDesign) -> np.ndarray:
    """Wald t of each treatment arm from a REML formula fit."""
    control = design.arms[0]
    formula = f"change ~ C(arm, Treatment({control!r})) * C(day, Sum)"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = MixedLM.from_formula(formula, frame, groups="donor", re_formula="1",
                                   vc_formula={"animal": "0 + C(animal)"}).fit(reml=True)
    names = [f"C(arm, Treatment({control!r}))[T.{a}]" for a in design.arms[1:]]
    return np.array([fit.fe_params[n] / fit.bse_fe[n] for n in names])


@pytest.mark.parametrize("design", [
    PowerDesign(arms=("control", "patient"), donors_per_arm=4, mice_per_donor=2,
                baseline_days=(-1,), days=(1, 3, 5), effect=Effect(size=4.0),
                variance=VarianceComponents(sd_donor=3, sd_animal=2, sd_residual=2, rho=0.4)),
    PowerDesign(arms=("control", "patient", "depleted"), donors_per_arm=(3, 4, 2),
                mice_per_donor=3, baseline_days=(-2, -1), days=(1, 2, 4, 8), window=(2, 8),
                effect={"patient": Effect(size=4.0)},
                variance=VarianceComponents(sd_donor=3, sd_animal=2, sd_residual=2, rho=0.0)),
], ids=["two-arms", "three-unequal-arms"])
def test_mixed_model_wald_t_equals_donor_mean_t(design):
    readings = simulate_readings(design, n_sims=8, seed=31)
    donor_t = donor_t_statistics(donor_means_from_readings(readings, design), design)
    n_interior = 0
    for s in range(readings.shape[0]):
        frame = tidy_change(design, readings[s])
        if anova_estimates_positive(frame, design):
            n_interior += 1
            np.testing.assert_allclose(mixedlm_arm_t(frame, design), donor_t[s], rtol=1e-4)
    assert n_interior >= 4  # the identity was checked on enough studies


def test_refit_power_agrees_with_fast_power():
    base = PowerDesign(arms=("control", "patient"), donors_per_arm=4, mice_per_donor=2,
                       baseline_days=(-1,), days=(1, 2, 4), effect=Effect(size=5.0),
                       variance=VarianceComponents(sd_donor=2.0, sd_animal=1.5,
                                                   sd_residual=2.0, rho=0.3))
    designs = [base, dataclasses.replace(base, donors_per_arm=6, mice_per_donor=1)]
    for i, d in enumerate(designs):
        fast = simulate_power(d, n_sims=20_000, seed=40 + i)
        slow = refit_power(d, n_sims=150, seed=50 + i)
        assert slow.method == "refit" and slow.n_sims + slow.n_failed == 150
        assert 0.2 < fast.power < 0.95
        # pooled two-proportion z test, two-sided, at LEVEL per design
        _, p = proportions_ztest([fast.n_rejected, slow.n_rejected],
                                 [fast.n_sims, slow.n_sims])
        assert p > LEVEL, (fast.power, slow.power, slow.notes)


def test_refit_reproducible_and_reports_its_fits():
    d = PowerDesign(arms=("control", "patient"), donors_per_arm=3, mice_per_donor=2,
                    baseline_days=(-1,), days=(1, 2), effect=Effect(size=5.0),
                    variance=VarianceComponents(sd_donor=0.5, sd_animal=1.0, sd_residual=1.0))
    a = refit_power(d, n_sims=5, seed=3)
    assert a == refit_power(d, n_sims=5, seed=3)
    assert all(isinstance(n, str) for n in a.notes)
