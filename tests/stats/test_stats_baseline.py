"""Baseline handling, and the mixed model on change / percent / covariate data against
lmerTest + emmeans (reference computed in R from the raw data, independently of
nocilab's baseline code; tolerances as in test_stats_mixed.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from stats_refdata import assert_rel, data, ref

from nocilab.errors import AnalysisError
from nocilab.stats.baseline import BASELINE_COLUMN, apply_baseline
from nocilab.stats.contrasts import day_contrasts
from nocilab.stats.mixed import fit_mixed_model


def _applied(mode: str, frame: pd.DataFrame | None = None):
    return apply_baseline(data("balanced") if frame is None else frame, value="value",
                          day="study_day", animal="animal", baseline_days=[-1], mode=mode)


@pytest.mark.parametrize(("mode", "tag"), [("change", "balanced_change"),
                                           ("percent", "balanced_percent"),
                                           ("covariate", "balanced_covariate")])
def test_mixed_model_on_baseline_modes_matches_r(mode, tag):
    b = _applied(mode)
    assert b.mode == mode
    fit = fit_mixed_model(b.frame, value="value", arm="arm", day="study_day", animal="animal",
                          donor="donor", control="control", covariate=b.covariate)
    fe, rfe = fit.fixed_effects(), ref(tag, "fixef")
    assert_rel(fe["estimate"], rfe["estimate"], 1e-6, f"{tag} estimate", atol=1e-7)
    assert_rel(fe["se"], rfe["se"], 1e-6, f"{tag} se")
    assert_rel(fe["df"], rfe["df"], 1e-6, f"{tag} df")
    an, ran = fit.anova(), ref(tag, "anova")
    terms = an["term"].replace({BASELINE_COLUMN: "baseline"}).tolist()
    assert terms == ran["term"].tolist()
    assert_rel(an["F"], ran["f"], 1e-6, f"{tag} F")
    assert_rel(an["df_den"], ran["den_df"], 5e-5, f"{tag} ddf")
    con, rcon = day_contrasts(fit, adjust="holm").to_frame(), ref(tag, "contrasts")
    assert_rel(con["estimate"], rcon["estimate"], 1e-6, f"{tag} contrast", atol=1e-7)
    assert_rel(con["se"], rcon["se"], 1e-6, f"{tag} contrast SE")
    assert_rel(con["df"], rcon["df"], 1e-6, f"{tag} contrast df")
    assert_rel(con["p_adj"], rcon["p_holm_all"], 0, f"{tag} holm", atol=1e-7)


def test_covariate_mode_adds_the_baseline_term():
    b = _applied("covariate")
    assert b.covariate == BASELINE_COLUMN
    assert -1 not in set(b.frame["study_day"])
    fit = fit_mixed_model(b.frame, value="value", arm="arm", day="study_day", animal="animal",
                          donor="donor", control="control", covariate=b.covariate)
    assert "baseline_value" in fit.anova()["term"].tolist()


def test_change_and_percent_by_hand():
    f = pd.DataFrame({
        "animal": ["a"] * 4 + ["b"] * 4,
        "study_day": [-2, -1, 1, 2] * 2,
        "value": [4.0, 6.0, 2.5, 10.0, 1.0, 1.0, 2.0, np.nan],
    })
    ch = apply_baseline(f, value="value", day="study_day", animal="animal",
                        baseline_days=[-2, -1], mode="change").frame
    assert ch["value"].tolist()[:3] == [-2.5, 5.0, 1.0]
    assert np.isnan(ch["value"].iloc[3])
    pc = apply_baseline(f, value="value", day="study_day", animal="animal",
                        baseline_days=[-2, -1], mode="percent").frame
    assert pc["value"].tolist()[:3] == [50.0, 200.0, 200.0]


def test_raw_keeps_everything_and_records_mode():
    d = data("balanced")
    b = _applied("raw", d)
    assert b.mode == "raw" and len(b.frame) == len(d) and b.covariate is None


def test_animals_without_baseline_are_left_out_and_named():
    d = data("balanced")
    d = d[~((d["animal"] == "M10101") & (d["study_day"] == -1))]
    b = _applied("change", d)
    assert b.dropped_animals == ("M10101",)
    assert "M10101" not in set(b.frame["animal"])
    assert "no baseline value" in b.notes[0]


def test_zero_baseline_cannot_give_a_percent():
    d = data("balanced").copy()
    d.loc[(d["animal"] == "M10101") & (d["study_day"] == -1), "value"] = 0.0
    b = _applied("percent", d)
    assert b.dropped_animals == ("M10101",)


def test_bad_mode_and_missing_baseline_days_raise():
    d = data("balanced")
    with pytest.raises(AnalysisError, match="unknown baseline mode"):
        apply_baseline(d, value="value", day="study_day", animal="animal", mode="ratio")
    with pytest.raises(AnalysisError, match="needs baseline_days"):
        apply_baseline(d, value="value", day="study_day", animal="animal", mode="change")
    with pytest.raises(AnalysisError, match="no value on baseline day"):
        apply_baseline(d, value="value", day="study_day", animal="animal",
                       baseline_days=[-7], mode="change")
