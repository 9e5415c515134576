"""Per-donor AUC effects against R (make_reference.R: trapezoid AUC, t.test Welch, and the
prediction t for single-animal donors). Closed-form: tolerance abs 1e-9 on AUC-scale
numbers (observed about 1e-13), abs 1e-12 on p."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from stats_refdata import assert_rel, data, ref

from nocilab.errors import AnalysisError
from nocilab.stats.donors import DONOR_COLUMNS, RESPONDER_COLUMNS, animal_auc, donor_effects


def _effects(name: str, **kw):
    return donor_effects(data(name), value="value", arm="arm", day="study_day",
                         animal="animal", donor="donor", control="control",
                         baseline_days=[-1], **kw)


@pytest.mark.parametrize("name", ["balanced", "unbalanced", "one_per_donor"])
def test_donor_effects_match_r(name):
    eff = _effects(name)
    f, r = eff.to_frame(), ref(name, "donors")
    assert list(f.columns) == list(DONOR_COLUMNS)
    assert f["donor"].tolist() == r["donor"].tolist()
    assert f["n_animals"].tolist() == r["n_animals"].tolist()
    for col in ("estimate", "ci_low", "ci_high", "df", "t"):
        assert_rel(f[col], r[col], 1e-10, f"{name} {col}", atol=1e-9)
    assert_rel(f["p"], r["p"], 0, f"{name} p", atol=1e-12)
    a, ra = eff.auc, ref(name, "auc")
    assert a["animal"].tolist() == ra["animal"].tolist()
    assert_rel(a["auc"].fillna(-1e9), ra["auc"].fillna(-1e9), 1e-12, "AUC", atol=1e-9)


def test_single_animal_donors_use_the_prediction_t():
    f = _effects("one_per_donor").to_frame()
    assert (f["method"] == "single animal: prediction t").all()
    assert (f.loc[f["arm"] == "control", "reference"] == "other control donors").all()
    assert (f.loc[f["arm"] == "control", "n_reference"] == 7).all()


def test_responders_follow_the_direction():
    eff = _effects("balanced")
    f = eff.to_frame()
    expect = (f["ci_high"] < 0)
    assert (f["responder"] == expect).all()
    r = eff.responders()
    assert list(r.columns) == list(RESPONDER_COLUMNS)
    pat = r.set_index("arm").loc["patient"]
    assert pat["summary"] == f"{int(expect[f.arm == 'patient'].sum())} of 6 donors"
    up = _effects("balanced", direction="increase").to_frame()
    assert (up["responder"] == (up["ci_low"] > 0)).all()
    either = _effects("balanced", direction="either").to_frame()
    assert (either["responder"] == ((f["ci_high"] < 0) | (f["ci_low"] > 0))).all()


def test_auc_by_hand_with_interior_gap_and_missing_edge():
    f = pd.DataFrame({
        "animal": ["a"] * 4 + ["b"] * 3,
        "study_day": [-1, 1, 2, 4, -1, 1, 2],
        "value": [10.0, 8.0, 6.0, 9.0, 5.0, 5.0, 5.0],
    })
    auc = animal_auc(f, value="value", day="study_day", animal="animal", baseline_days=[-1])
    a = auc.set_index("animal")
    # change: -2, -4, -1 on days 1, 2, 4 -> (-2-4)/2*1 + (-4-1)/2*2 = -3 - 5
    assert a.loc["a", "auc"] == pytest.approx(-8.0)
    assert np.isnan(a.loc["b", "auc"]) and "4" in a.loc["b", "note"]
    g = pd.DataFrame({"animal": ["c"] * 3, "study_day": [1, 2, 4], "value": [1.0, 5.0, 3.0]})
    c = animal_auc(g.iloc[[0, 2]], value="value", day="study_day", animal="animal")
    assert c["auc"].iloc[0] == pytest.approx(6.0)
    both = animal_auc(pd.concat([g, f[f.animal == "a"]]), value="value", day="study_day",
                      animal="animal", window=(1, 4))
    assert both.set_index("animal").loc["a", "note"] == ""


def test_window_and_errors():
    d = data("balanced")
    auc = animal_auc(d, value="value", day="study_day", animal="animal", window=(2, 7))
    assert (auc["first_day"] == 2).all() and (auc["last_day"] == 7).all()
    with pytest.raises(AnalysisError, match="holds no study day"):
        animal_auc(d, value="value", day="study_day", animal="animal", window=(8, 9))
    with pytest.raises(AnalysisError, match="unknown direction"):
        _effects("balanced", direction="down")
    with pytest.raises(AnalysisError, match="no animal of the control arm"):
        donor_effects(d, value="value", arm="arm", day="study_day", animal="animal",
                      donor="donor", control="vehicle")


def test_donor_without_estimate_says_why():
    d = data("balanced")
    one = d[(d["donor"] == "PAT01") & (d["animal"] == "M20101")]
    ctrl = d[(d["arm"] == "control") & (d["animal"] == "M10101")]
    eff = donor_effects(pd.concat([one, ctrl]), value="value", arm="arm", day="study_day",
                        animal="animal", donor="donor", control="control")
    f = eff.to_frame().set_index("donor")
    assert np.isnan(f.loc["PAT01", "estimate"])
    assert "need two" in f.loc["PAT01", "note"]
    assert "without an estimate" in eff.responders().set_index("arm").loc["patient", "summary"]


def test_single_day_endpoint_uses_the_value():
    """An outcome measured once after injection (IENFD): donors compared on the value."""
    f = pd.DataFrame({"animal": ["p1", "p2", "c1", "c2", "c3"], "study_day": [21] * 5,
                      "value": [18.0, 20.0, 25.0, 26.0, 27.0],
                      "arm": ["patient", "patient", "control", "control", "control"],
                      "donor": ["P", "P", "C1", "C2", "C2"]})
    auc = animal_auc(f, value="value", day="study_day", animal="animal").set_index("animal")
    assert auc["auc"].to_dict() == {"c1": 25.0, "c2": 26.0, "c3": 27.0, "p1": 18.0, "p2": 20.0}
    assert auc["note"].str.contains("not an area").all()
    eff = donor_effects(f, value="value", arm="arm", day="study_day", animal="animal",
                        donor="donor", control="control").to_frame().set_index("donor")
    # patient donor P: mean 19 against the control animals' mean 26
    assert eff.loc["P", "estimate"] == pytest.approx(19.0 - 26.0)
