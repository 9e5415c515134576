"""The ``[analysis]`` table of study.toml: the analysis window and log-scale outcomes,
and every problem named by its key."""

from __future__ import annotations

import pytest
from _study_data import base

from nocilab.errors import StudyFileError
from nocilab.model import load_study
from nocilab.model._analysis import primary_outcome_windows
from nocilab.model.settings import ASSAY_OUTCOMES


def problems(write_study, data) -> dict[str, str]:
    with pytest.raises(StudyFileError) as info:
        load_study(write_study(data))
    return {p.where: p.why for p in info.value.problems}


def with_analysis(table=None, primary=None):
    d = base()
    if table is not None:
        d["analysis"] = table
    if primary is not None:
        d["reporting"] = {"primary_outcome": primary}
    return d


def test_window_and_log_outcomes_load(write_study):
    study = load_study(write_study(with_analysis(
        {"window": [1, 7], "log_outcomes": ["paw_pressure.threshold_g"]})))
    assert study.analysis.window == (1, 7)
    assert study.analysis.log_outcomes == ("paw_pressure.threshold_g",)
    assert study.analysis_window() == ((1, 7), "[analysis] window")


def test_one_log_outcome_may_be_written_without_brackets(write_study):
    study = load_study(write_study(with_analysis({"log_outcomes": "paw_pressure.threshold_g"})))
    assert study.analysis.log_outcomes == ("paw_pressure.threshold_g",)


def test_without_analysis_table_the_primary_outcome_gives_the_window(write_study):
    study = load_study(write_study(with_analysis(primary="Paw pressure over days 1-3")))
    assert study.analysis_window() == ((1, 3), "[reporting] primary_outcome")
    assert study.analysis.window is None


def test_without_either_there_is_no_study_window(write_study):
    study = load_study(write_study(with_analysis(primary="Paw-pressure threshold")))
    assert study.analysis_window() is None
    assert load_study(write_study(base())).analysis_window() is None


@pytest.mark.parametrize("text, found", [
    ("Paw-pressure threshold (g) over days 1-14", [(1, 14)]),
    ("threshold, Days 1–7, change from baseline", [(1, 7)]),
    ("threshold from day 2 to day 10", [(2, 10)]),
    ("threshold over days 1 through 21", [(1, 21)]),
    ("days 1-7 and again days 1-7", [(1, 7)]),
    ("days 1-7 (early) and days 8-14 (late)", [(1, 7), (8, 14)]),
    ("threshold at day 7", []),
    ("", []),
])
def test_ranges_of_days_in_a_primary_outcome(text, found):
    assert primary_outcome_windows(text) == found


@pytest.mark.parametrize("window, why", [
    ("1-14", "expected [FIRST, LAST]"),
    ([1], "expected [FIRST, LAST]"),
    ([1, 2, 3], "expected [FIRST, LAST]"),
    ([1.5, 7], "expected [FIRST, LAST]"),
    ([True, 7], "expected [FIRST, LAST]"),
    ([0, 7], "must be 1 or later"),
    ([-3, 7], "must be 1 or later"),
    ([7, 1], "is after the last"),
])
def test_a_malformed_window_is_named(write_study, window, why):
    found = problems(write_study, with_analysis({"window": window}))
    assert list(found) == ["analysis.window"] and why in found["analysis.window"]


def test_window_and_primary_outcome_must_agree(write_study):
    found = problems(write_study, with_analysis({"window": [1, 7]},
                                                primary="Paw pressure over days 1-3"))
    why = found["analysis.window"]
    assert "[reporting] primary_outcome says days 1-3" in why and "one window" in why
    # agreeing is fine
    study = load_study(write_study(with_analysis({"window": [1, 3]},
                                                 primary="Paw pressure, days 1-3")))
    assert study.analysis_window() == ((1, 3), "[analysis] window")


def test_a_primary_outcome_with_several_ranges_needs_a_window(write_study):
    data = with_analysis(primary="early (days 1-3) and late (days 1-7) phases")
    found = problems(write_study, data)
    assert "several ranges of days (days 1-3, days 1-7)" in found["reporting.primary_outcome"]
    data["analysis"] = {"window": [1, 3]}
    with pytest.raises(StudyFileError):  # still disagrees with days 1-7
        load_study(write_study(data))
    data["reporting"]["primary_outcome"] = "early (days 1-3) phase"
    assert load_study(write_study(data)).analysis_window()[0] == (1, 3)


def test_a_primary_outcome_window_must_be_one(write_study):
    found = problems(write_study, with_analysis(primary="threshold over days 0-6"))
    assert "no analysis window" in found["reporting.primary_outcome"]


@pytest.mark.parametrize("names, where, why", [
    (["von_frey"], "analysis.log_outcomes[0]", "expected ASSAY.OUTCOME"),
    (["hot_plate.latency_s"], "analysis.log_outcomes[0]", "unknown assay; known assays: von_frey"),
    (["paw_pressure.threshold"], "analysis.log_outcomes[0]",
     "paw_pressure has no outcome threshold; its outcomes: threshold_g"),
    (["von_frey.threshold_g"], "analysis.log_outcomes[0]", "von_frey is not in [schedule]"),
    (["paw_pressure.threshold_g", "paw_pressure.threshold_g"], "analysis.log_outcomes",
     "listed 2 times"),
    ([3], "analysis.log_outcomes[0]", "expected text"),
])
def test_bad_log_outcomes_are_named(write_study, names, where, why):
    found = problems(write_study, with_analysis({"log_outcomes": names}))
    assert where in found and why in found[where], found


def test_every_problem_of_the_table_at_once(write_study):
    found = problems(write_study, with_analysis(
        {"window": [9, 1], "log_outcomes": ["paw_pressure.x"], "scale": "log"}))
    assert {"analysis.window", "analysis.log_outcomes[0]", "analysis.scale"} <= set(found)
    assert "window" in found["analysis.scale"]  # the known keys are listed


def test_analysis_table_must_be_a_table(write_study):
    d = base()
    d["analysis"] = [1, 14]
    found = problems(write_study, d)
    assert "expected a table [analysis]" in found["analysis"]


def test_outcome_names_match_the_calculators():
    from nocilab.assays.registry import assay_names, get_assay

    assert set(ASSAY_OUTCOMES) == set(assay_names())
    for name in assay_names():
        assert ASSAY_OUTCOMES[name] == tuple(get_assay(name).outcomes), name


def test_the_example_study_gives_its_window():
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "examples" / "study.toml"
    study = load_study(example)
    assert study.analysis_window() == ((1, 7), "[analysis] window")
    assert "days 1-7" in study.reporting.primary_outcome  # the two say the same
