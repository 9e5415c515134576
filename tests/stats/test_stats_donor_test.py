"""The donor-level test of the arm effect against R's lm() on donor means, and its
identity with the mixed model's arm test on the changes from baseline.

Reference values: tests/stats/r/donor_test.R on the data sets of make_data.py.
Tolerances: estimates, SEs, t and CI limits rel 1e-10 and p abs 1e-12 (closed-form
least squares on both sides, only rounding differs); the mixed-model identity rel 1e-6
(REML optimiser convergence) and Satterthwaite df rel 1e-4 (numerical Hessian).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from stats_refdata import data, ref

from nocilab.errors import AnalysisError
from nocilab.stats.donor_test import DONOR_TEST_COLUMNS, donor_level_test
from nocilab.stats.mixed import fit_mixed_model

SETS = ["balanced", "unbalanced", "three_arms", "no_donor", "one_per_donor"]


@pytest.mark.parametrize("name", SETS)
def test_matches_r_lm_on_donor_means(name):
    frame = data(name)
    donor = "donor" if "donor" in frame.columns else None
    ours = donor_level_test(frame, donor=donor, control="control", baseline_days=[-1])
    theirs = ref(name, "donor_test")
    assert list(ours.columns) == list(DONOR_TEST_COLUMNS)
    assert list(ours["arm"]) == list(theirs["arm"])
    for col in ("difference", "se", "t", "ci_low", "ci_high"):
        np.testing.assert_allclose(ours[col], theirs[col], rtol=1e-10, err_msg=col)
    np.testing.assert_allclose(ours["p"], theirs["p"], atol=1e-12)
    assert list(ours["df"]) == list(theirs["df"])
    assert set(ours["quantity"]) == {"mean change from baseline"}
    assert set(ours["unit"]) == {"donor" if donor else "animal"}


def _change_fit(frame):
    base = frame[frame["study_day"] == -1].set_index("animal")["value"]
    post = frame[frame["study_day"] > 0].copy()
    post["change"] = post["value"] - post["animal"].map(base)
    return fit_mixed_model(post, value="change", arm="arm", day="study_day", animal="animal",
                           donor="donor", control="control")


def test_is_the_mixed_models_arm_test_on_changes_in_balanced_designs():
    # 'censored' (used here as plain numbers) is balanced with every variance estimate
    # inside the parameter space: the mixed model's F for arm is t^2, on donors - arms df
    frame = data("censored")
    test = donor_level_test(frame, control="control", baseline_days=[-1]).iloc[0]
    fit = _change_fit(frame)
    assert fit.variance_components.donor > 0 and fit.variance_components.animal > 0
    arm_row = fit.anova().set_index("term").loc["arm"]
    assert arm_row["F"] == pytest.approx(test["t"] ** 2, rel=1e-6)
    assert arm_row["df_den"] == pytest.approx(test["df"], rel=1e-4)
    assert arm_row["p"] == pytest.approx(test["p"], rel=1e-5)


def test_with_three_arms_the_mixed_model_f_is_the_one_way_anova_of_donor_means():
    from scipy import stats

    frame = data("three_arms")
    fit = _change_fit(frame)
    arm_row = fit.anova().set_index("term").loc["arm"]
    base = frame[frame["study_day"] == -1].set_index("animal")["value"]
    post = frame[frame["study_day"] > 0]
    per_animal = post.groupby(["arm", "donor", "animal"])["value"].mean()
    per_animal -= base.reindex(per_animal.index.get_level_values("animal")).to_numpy()
    donors = per_animal.groupby(["arm", "donor"]).mean()
    f = stats.f_oneway(*[g.to_numpy() for _, g in donors.groupby("arm")])
    assert arm_row["F"] == pytest.approx(f.statistic, rel=1e-6)
    assert arm_row["df_den"] == pytest.approx(12, rel=1e-4)


def test_when_the_donor_variance_is_estimated_at_zero_the_two_differ():
    # the mixed model then pools donors with animals (more df, another F); the donor
    # test keeps the donor as the unit and its stated size
    frame = data("balanced")
    fit = _change_fit(frame)
    assert fit.variance_components.donor == 0.0
    test = donor_level_test(frame, control="control", baseline_days=[-1]).iloc[0]
    arm_row = fit.anova().set_index("term").loc["arm"]
    assert test["df"] == 10 and arm_row["df_den"] > 30


def test_endpoint_without_baseline_uses_the_value():
    frame = data("balanced")
    end = frame[frame["study_day"] == 10]
    out = donor_level_test(end, control="control", baseline_days=[]).iloc[0]
    assert out["quantity"] == "mean value" and out["window"] == "day 10"
    means = end.groupby(["donor", "arm"])["value"].mean().groupby("arm").mean()
    assert out["difference"] == pytest.approx(means["patient"] - means["control"], rel=1e-12)


def test_window_limits_the_days():
    frame = data("balanced")
    early = donor_level_test(frame, control="control", baseline_days=[-1], window=(1, 2))
    late = donor_level_test(frame, control="control", baseline_days=[-1], window=(7, None))
    assert early.iloc[0]["window"] == "days 1-2" and late.iloc[0]["window"] == "days 7-10"
    assert early.iloc[0]["difference"] != pytest.approx(late.iloc[0]["difference"])


def test_animals_without_baseline_are_left_out_and_said():
    frame = data("balanced")
    gone = frame["animal"].iloc[0]
    frame = frame[~((frame["animal"] == gone) & (frame["study_day"] == -1))]
    out = donor_level_test(frame, control="control", baseline_days=[-1]).iloc[0]
    assert gone in out["note"] and out["n_animals"] + out["n_units"] > 0


@pytest.mark.parametrize("change, message", [
    (lambda f: f[f["arm"] != "control"], "control arm"),
    (lambda f: f[f["study_day"] < 0], "no post-injection day"),
    (lambda f: f[f["donor"].isin(["CON01", "PAT01"])], "no degrees of freedom"),
])
def test_refusals_say_why(change, message):
    with pytest.raises(AnalysisError, match=message):
        donor_level_test(change(data("balanced")), control="control", baseline_days=[-1])


def test_power_simulates_this_test():
    # the power module's statistic on the same donor means is this t
    from nocilab.design.power import Effect, PowerDesign, VarianceComponents, donor_t_statistics

    frame = data("balanced")
    out = donor_level_test(frame, control="control", baseline_days=[-1]).iloc[0]
    design = PowerDesign(arms=("control", "patient"), donors_per_arm=6, mice_per_donor=3,
                         days=(1, 2, 4, 7, 10), baseline_days=(-1,), effect=Effect(size=1.0, scale="absolute"),
                         variance=VarianceComponents(sd_donor=1, sd_animal=1, sd_residual=1))
    base = frame[frame["study_day"] == -1].set_index("animal")["value"]
    ch = frame[frame["study_day"] > 0].groupby("animal").agg(v=("value", "mean"),
                                                             donor=("donor", "first"),
                                                             arm=("arm", "first"))
    ch["v"] -= base
    dm = ch.groupby(["arm", "donor"])["v"].mean()
    means = np.concatenate([dm["control"].to_numpy(), dm["patient"].to_numpy()])[None, :]
    assert donor_t_statistics(means, design)[0, 0] == pytest.approx(out["t"], rel=1e-12)


@pytest.mark.parametrize(("adjust", "column", "tol"), [
    # Dunnett: R's value comes from mvtnorm's randomised integration (abs error ~1e-6)
    ("dunnett", "mvt", 1e-5), ("holm", "holm", 1e-12), ("sidak", "sidak", 1e-10)])
def test_adjustment_over_arms_matches_emmeans(adjust, column, tol):
    out = donor_level_test(data("three_arms"), control="control", baseline_days=[-1],
                           adjust=adjust)
    theirs = ref("three_arms", "donor_test_adjusted")
    assert list(out["arm"]) == list(theirs["arm"])
    np.testing.assert_allclose(out["p_adj"], theirs[column], atol=tol, rtol=1e-4)
    assert set(out["adjust"]) == {adjust}


def test_one_treatment_arm_is_not_adjusted():
    out = donor_level_test(data("balanced"), control="control", baseline_days=[-1])
    assert out.iloc[0]["p_adj"] == out.iloc[0]["p"] and out.iloc[0]["adjust"] == "none"
