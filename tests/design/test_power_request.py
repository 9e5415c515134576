"""``nocilab power`` as a library call: the choices are checked before anything runs, and
the command line and the web form build the same design from them."""

from __future__ import annotations

import pytest

from nocilab.design.power_request import (
    PowerRequest,
    check_power_request,
    compute_power,
    parse_range,
    prepare_power,
)
from nocilab.errors import DesignError, NocilabError

SDS = {"sd_donor": 10.0, "sd_animal": 5.0, "sd_residual": 8.0}


@pytest.mark.parametrize(("changes", "message"), [
    ({"choose": "cheapest"}, "--choose must be one of fewest-animals, fewest-donors; got cheapest"),
    ({"effect": -3.0}, "--effect must be a size >= 0"),
    ({"scale": "ratio"}, "--scale must be percent (of baseline) or absolute; got ratio"),
    ({"donors": "four"}, "--donors must look like 4-16 or 4,6,8; got four"),
    ({"mice": ""}, "--mice must look like 4-16 or 4,6,8; got nothing"),
    ({"days": "-1,x"}, "--days must be study days separated by commas"),
    ({"window": "3"}, "--window must be FIRST,LAST"),
    ({"bounds": "60"}, "--bounds must be LOW,HIGH"),
    ({"bounds": ",60"}, "--bounds needs --sd-level"),
    ({"treatment_arms": 0}, "--treatment-arms must be at least 1"),
    ({"adjust": "tukey"}, "--adjust must be one of sidak, holm, dunnett, bonferroni, none"),
    ({"sd_animal": None}, "give --sd-animal or take them from a pilot study"),
])
def test_wrong_choices_are_refused_naming_the_option(changes, message):
    request = PowerRequest(**{"effect": 25.0, "baseline_mean": 120.0, **SDS, **changes})
    with pytest.raises(NocilabError) as info:  # the window's is an AnalysisError
        check_power_request(request, with_pilot=False)
    assert message in str(info.value)
    with pytest.raises(NocilabError):
        prepare_power(request)


def test_a_pilot_needs_an_outcome_and_no_sds():
    with pytest.raises(DesignError, match="--from needs --outcome"):
        check_power_request(PowerRequest(effect=25.0), with_pilot=True)
    check_power_request(PowerRequest(effect=25.0, outcome="paw_pressure.force_g"),
                        with_pilot=True)


def test_prepared_design_and_computed_plan(tmp_path):
    request = PowerRequest(effect=30.0, scale="absolute", donors="4-6", mice="1,2",
                           days="-1,1,3", sims=200, seed=3, **SDS)
    prepared = prepare_power(request)
    assert prepared.donors == (4, 5, 6) and prepared.mice == (1, 2)
    assert prepared.design.baseline_days == (-1,) and prepared.design.days == (1, 3)
    assert prepared.design.effect_for("treatment").magnitude == 30.0
    assert prepared.pilot is None and prepared.notes == ()
    run = compute_power(prepared, tmp_path / "power")
    assert {p.name for p in (tmp_path / "power").iterdir()} >= {
        "power_grid.csv", "power_curves.png", "power_summary.json", "sample_size.txt"}
    frame = run.plan.grid.to_frame()
    assert set(frame["donors_per_arm"]) >= {4, 5, 6} and set(frame["mice_per_donor"]) >= {1, 2}
    assert run.summary["statement"].startswith("Sample size.")


def test_parse_range():
    assert parse_range("4-6", "donors") == [4, 5, 6]
    assert parse_range("2,4", "mice") == [2, 4]
