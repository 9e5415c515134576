"""The response-course model (what the power simulation draws from) against nlme.

Reference values: tests/stats/r/response_model.R (nlme::lme with pdIdent/pdDiag random
terms and corAR1) on the data sets of tests/stats/r/make_response_data.py.

Tolerances, and why:
- the restricted log-likelihood at the optimum: abs 1e-6. Both fits maximise the same
  criterion (the constants agree, so the values are directly comparable); ours must be
  at least as high as nlme's, less 1e-6;
- standard deviations rel 5e-4 and rho abs 5e-4: the criterion is flat in the variance
  components (a change of 1e-4 in an sd moves the log-likelihood by about 1e-9), so
  where two optimisers stop differs by more than the criterion does (observed: 9e-5).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from stats_refdata import data, ref

from nocilab.errors import AnalysisError
from nocilab.stats.response_model import fit_response_model

SETS = ["response_balanced", "response_missing"]


@pytest.fixture(scope="module", params=SETS)
def fitted(request):
    name = request.param
    return name, fit_response_model(data(name)), ref(name, "nlme").set_index("parameter")["value"]


def test_the_likelihood_maximum_matches_nlme(fitted):
    name, fit, r = fitted
    assert fit.converged, fit.notes
    assert fit.loglik == pytest.approx(r["loglik"], abs=1e-6)
    assert fit.loglik >= r["loglik"] - 1e-6


@pytest.mark.parametrize("param", ["sd_level", "sd_donor", "sd_animal", "sd_residual"])
def test_standard_deviations_match_nlme(fitted, param):
    name, fit, r = fitted
    assert getattr(fit, param) == pytest.approx(r[param], rel=5e-4), name


def test_rho_matches_nlme(fitted):
    name, fit, r = fitted
    assert fit.rho == pytest.approx(r["rho"], abs=5e-4), name


def test_counts_of_what_was_fitted():
    fit = fit_response_model(data("response_missing"))
    frame = data("response_missing")
    assert fit.n_readings == len(frame)
    assert fit.n_animals == frame["animal"].nunique() == 45
    assert fit.n_donors == 15 and fit.n_days == 8 and not fit.rho_fixed


def test_a_fixed_rho_is_kept_and_lowers_the_likelihood():
    free = fit_response_model(data("response_balanced"))
    fixed = fit_response_model(data("response_balanced"), rho=0.0)
    assert fixed.rho == 0.0 and fixed.rho_fixed
    assert fixed.loglik < free.loglik


def test_components_drawn_by_the_power_simulation_are_recovered():
    # a large pilot simulated by the power module itself: the fit must find its
    # components back within sampling error (seeded, so the check is deterministic)
    from nocilab.design.power import (
        Effect,
        PowerDesign,
        VarianceComponents,
        simulate_readings,
    )

    true = VarianceComponents(sd_donor=4.0, sd_animal=3.0, sd_residual=5.0, rho=0.4)
    design = PowerDesign(arms=("control", "patient"), donors_per_arm=40, mice_per_donor=4,
                         days=(1, 2, 3, 5, 7), baseline_days=(-3, -1),
                         effect=Effect(size=10, scale="absolute"), variance=true)
    y = simulate_readings(design, n_sims=1, seed=3)[0]
    days = design.test_days
    rows = []
    for k in range(design.n_animals):
        donor = k // 4
        arm = design.arms[donor // 40]
        level = 100 + 6 * np.sin(k)  # an animal's own level, which the model absorbs
        rows += [(f"M{k}", f"D{donor}", arm, d, level + y[k, i]) for i, d in enumerate(days)]
    frame = pd.DataFrame(rows, columns=["animal", "donor", "arm", "study_day", "value"])
    fit = fit_response_model(frame)
    assert fit.converged
    assert fit.sd_donor == pytest.approx(4.0, rel=0.25)
    assert fit.sd_animal == pytest.approx(3.0, rel=0.25)
    assert fit.sd_residual == pytest.approx(5.0, rel=0.08)
    assert fit.rho == pytest.approx(0.4, abs=0.08)


def test_one_mouse_per_donor_reports_the_sum_as_donor_variation():
    frame = data("response_balanced")
    first = frame.groupby("donor")["animal"].transform("min")
    fit = fit_response_model(frame[frame["animal"] == first])
    assert fit.sd_animal == 0.0 and fit.sd_donor > 0
    assert any("one animal per donor" in n for n in fit.notes)


def test_animals_without_a_donor_have_no_donor_term():
    frame = data("response_balanced").copy()
    frame.loc[frame["arm"] == "control", "donor"] = ""
    fit = fit_response_model(frame)
    assert fit.converged and fit.n_donors == 8


@pytest.mark.parametrize("change, message", [
    (lambda f: f[f["study_day"] > 0], "baseline days"),
    (lambda f: f[f["study_day"] < 0], "after injection"),
    (lambda f: pd.concat([f, f.iloc[:1]]), "more than one reading on day"),
    (lambda f: f.drop(columns="value"), "value"),
    (lambda f: f.iloc[:10], "more readings"),
])
def test_bad_input_is_refused_with_the_reason(change, message):
    with pytest.raises(AnalysisError, match=message):
        fit_response_model(change(data("response_balanced")))


def test_rho_out_of_range_is_refused():
    with pytest.raises(AnalysisError, match="rho"):
        fit_response_model(data("response_balanced"), rho=1.0)


@pytest.mark.parametrize("theta", [(0.9, 0.7, 0.5, 0.8, 0.35), (0.2, 0.0, 1.1, 0.5, -0.4),
                                   (1.0, 0.3, 0.0, 1.2, 0.0)])
def test_the_analytic_gradient_is_the_derivative_of_the_criterion(theta, monkeypatch):
    # central differences of the criterion itself (step 1e-6, error ~1e-8 relative)
    from nocilab.stats import response_model as rm

    captured = {}
    real = rm._groups

    def keep(*args, **kwargs):
        captured["groups"], captured["p"] = real(*args, **kwargs), args[2]
        return captured["groups"]

    monkeypatch.setattr(rm, "_groups", keep)
    fit_response_model(data("response_missing"))
    groups, p = captured["groups"], captured["p"]
    th = np.array(theta)
    value, grad = rm._neg2_reml_grad(th, groups, p)
    assert value == pytest.approx(rm._neg2_reml(th, groups, p), rel=1e-12)
    for k in range(5):
        step = np.zeros(5)
        step[k] = 1e-6
        num = (rm._neg2_reml(th + step, groups, p) - rm._neg2_reml(th - step, groups, p)) / 2e-6
        assert grad[k] == pytest.approx(num, rel=1e-5, abs=1e-5), k
