"""One analysis window: parsed and chosen in one place, and used by the donor-level test,
the per-donor AUC and the planning components alike."""

from __future__ import annotations

import pytest
from stats_refdata import data

from nocilab.errors import AnalysisError
from nocilab.stats.analysis import analyze_outcome, analyze_table
from nocilab.stats.donor_test import donor_level_test
from nocilab.stats.donors import donor_effects
from nocilab.stats.response_model import fit_response_model
from nocilab.stats.window import AnalysisWindow, as_window, choose_window, parse_window

STUDY = ((1, 4), "[analysis] window")


@pytest.mark.parametrize("text, pair", [
    ("1,14", (1, 14)), (" 2 , 7 ", (2, 7)), (",14", (1, 14)), ("3,", (3, None)), ("7,7", (7, 7)),
])
def test_parse_window(text, pair):
    assert parse_window(text) == pair


@pytest.mark.parametrize("text, why", [
    ("1-14", "must be FIRST,LAST"), ("a,b", "must be FIRST,LAST"), ("1,2,3", "must be FIRST,LAST"),
    ("1.5,3", "must be FIRST,LAST"), ("0,14", "1 or later"), ("-3,14", "1 or later"),
    ("14,1", "is after its last"),
])
def test_parse_window_refuses_with_the_option_named(text, why):
    with pytest.raises(AnalysisError) as info:
        parse_window(text, option="--window")
    assert "--window" in str(info.value) and why in str(info.value)
    assert f"'{text}'" not in str(info.value)  # the value as typed, not a Python repr


def test_the_command_line_wins_over_the_study_file_which_wins_over_the_default():
    cl = choose_window(command_line=(1, 7), option="--window 1,7", study_window=STUDY)
    assert cl.bounds == (1, 7) and cl.describe() == "days 1-7, from the command line (--window 1,7)"
    sf = choose_window(study_window=STUDY)
    assert sf.bounds == (1, 4) and sf.describe() == "days 1-4, from the study file ([analysis] window)"
    primary = choose_window(study_window=((1, 14), "[reporting] primary_outcome"))
    assert primary.describe() == "days 1-14, from the study file ([reporting] primary_outcome)"
    default = choose_window()
    assert default.bounds == (1, None)
    assert default.describe().startswith("day 1 to the last day measured (the default")
    assert choose_window(command_line=(3, None)).days_text() == "day 3 to the last day measured"


def test_a_plain_pair_is_a_window_as_given():
    assert as_window((1, None)) == AnalysisWindow()
    w = as_window((2, 5))
    assert w.bounds == (2, 5) and w.describe() == "days 2-5 (as given)"
    with pytest.raises(AnalysisError, match="after its last"):
        AnalysisWindow(first=5, last=2)


@pytest.fixture(scope="module")
def windowed():
    return analyze_outcome(data("balanced"), donor="donor", control="control",
                           baseline_days=[-1], auc_window=choose_window(study_window=STUDY))


def test_one_window_for_the_donor_test_the_auc_and_planning(windowed):
    d = data("balanced")
    kw = dict(value="value", arm="arm", day="study_day", animal="animal", donor="donor",
              control="control", baseline_days=[-1])
    # the donor-level test on days 1-4 (the data have days 1, 2, 4, 7, 10)
    dt = windowed.donor_test_table().iloc[0]
    alone = donor_level_test(d, window=(1, 4), **kw).iloc[0]
    default = donor_level_test(d, **kw).iloc[0]
    assert dt["window"] == "days 1-4" and dt["t"] == pytest.approx(alone["t"], rel=1e-12)
    assert default["t"] != pytest.approx(alone["t"], rel=1e-3)  # the window matters
    # the per-donor means over the same days
    donors = windowed.donor_table().set_index("donor")["value"]
    auc = donor_effects(d, window=(1, 4), **kw).to_frame().set_index("donor")["value"]
    assert donors.to_numpy() == pytest.approx(auc.loc[donors.index].to_numpy(), rel=1e-12)
    # the planning components from the baseline and the window days only
    fit = fit_response_model(d[d["study_day"].isin([-1, 1, 2, 4])], value="value", arm="arm",
                             day="study_day", animal="animal", donor="donor")
    plan = windowed.planning_table().iloc[0]
    assert plan["loglik"] == pytest.approx(fit.loglik, abs=1e-9)
    assert windowed.summary()["window"] == "days 1-4, from the study file ([analysis] window)"


def test_analyze_table_states_the_window_in_its_settings_and_summary():
    d = data("balanced").assign(assay="paw_pressure", outcome="threshold_g", unit="g",
                                preparation="IgG", sex="female", cage="c1")
    res = analyze_table(d, control="control", baseline_days=[-1],
                        auc_window=choose_window(command_line=(1, 2), option="--window 1,2"))
    text = "days 1-2, from the command line (--window 1,2)"
    assert res.settings["window"] == text
    assert res.summary()["window"].tolist() == [text]
    assert res.donor_test()["window"].tolist() == ["days 1-2"]


def test_a_window_holding_none_of_an_outcomes_days_says_so(windowed):
    late = analyze_outcome(data("balanced"), donor="donor", control="control",
                           baseline_days=[-1], auc_window=(11, 14))
    assert late.donor_test_table().empty
    assert any("donor-level test" in n and "between days 11 and 14" in n for n in late.notes)
