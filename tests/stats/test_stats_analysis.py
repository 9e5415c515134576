"""analyze_outcome / analyze_table: the pieces are those tested against R elsewhere; here
the wiring, the fixed table columns, Holm across outcomes, and the refusal paths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from stats_refdata import assert_rel, data, ref

import nocilab.stats as ns
from nocilab.errors import AnalysisError, SchemaError
from nocilab.stats.analysis import (
    ANOVA_TABLE_COLUMNS,
    CONTRAST_TABLE_COLUMNS,
    SUMMARY_COLUMNS,
    analyze_outcome,
    analyze_table,
)
from nocilab.stats.multiplicity import holm


def _derived() -> pd.DataFrame:
    parts = []
    for name, assay, outcome in (("balanced", "paw_pressure", "threshold_g"),
                                 ("censored", "cold_plate", "latency_s"),
                                 ("unbalanced", "von_frey", "threshold_g")):
        d = data(name).assign(assay=assay, outcome=outcome, unit="g", preparation="IgG",
                              sex="female", cage="c1")
        d["animal"] = assay + ":" + d["animal"]
        parts.append(d)
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def study():
    return analyze_table(_derived(), control="control", baseline_days=[-1],
                         directions={"latency_s": "increase"})


def test_public_surface_is_pinned():
    assert ns.__all__ == sorted(ns.__all__)
    for name in ns.__all__:
        assert hasattr(ns, name)


def test_every_table_has_fixed_columns(study):
    t = study.tables()
    assert set(t) == {"summary", "anova", "contrasts", "donors", "affected_donors", "censoring",
                      "sensitivity", "effect_sizes", "variance_components", "donor_test", "planning"}
    assert list(t["summary"].columns) == list(SUMMARY_COLUMNS)
    assert list(t["anova"].columns) == list(ANOVA_TABLE_COLUMNS)
    assert list(t["contrasts"].columns) == list(CONTRAST_TABLE_COLUMNS)
    for frame in t.values():
        assert list(frame.columns[:2]) == ["assay", "outcome"]


def test_mixed_results_in_tables_equal_r(study):
    c = study.contrasts()
    pp = c[(c["assay"] == "paw_pressure") & (c["model"] == "mixed")]
    r = ref("balanced", "contrasts")
    assert_rel(pp["estimate"], r["estimate"], 1e-6, "estimate", atol=1e-7)
    # baseline day -1 is not in the family: Sidak over the post-injection days
    post = ref("balanced", "contrasts_post")
    assert_rel(pp.loc[pp["day"] > 0, "p_adj"], post["p_sidak_all"], 0, "sidak", atol=1e-7)
    assert pp.loc[pp["day"] < 0, "p_adj"].isna().all()
    a = study.anova()
    rm = a[(a["assay"] == "paw_pressure") & (a["model"] == "rm_anova")].set_index("term")
    af = ref("balanced", "afex").set_index("effect")
    assert_rel(rm.loc["arm:day", "p_gg"], af.loc["arm:day", "p_gg"], 1e-8, "GG p")
    assert rm.loc["arm", "df_den"] == af.loc["arm", "den_df"]
    assert rm.loc["day", "df_den"] == af.loc["day", "den_df"]


def test_summary_holm_across_outcomes(study):
    s = study.summary()
    assert s["status"].eq("ok").all()
    np.testing.assert_allclose(s["p_arm_day_holm"], holm(s["p_arm_day"].to_numpy()))
    np.testing.assert_allclose(s["p_arm_holm"], holm(s["p_arm"].to_numpy()))
    vf = s.set_index("assay").loc["von_frey"]
    assert "missing value" in vf["rm_anova"]
    cp = s.set_index("assay").loc["cold_plate"]
    assert cp["censoring_flag"] and cp["censored_fraction"] > 0.1
    assert "not affected of 6 donors" in cp["donors_affected"]
    assert s.set_index("assay").loc["paw_pressure", "random_terms"] == "(1|animal) + (1|donor)"


def test_rm_posttests_only_where_rm_anova_ran(study):
    c = study.contrasts()
    assert set(c.loc[c["assay"] == "von_frey", "model"]) == {"mixed"}
    assert set(c.loc[c["assay"] == "paw_pressure", "model"]) == {"mixed", "rm_anova"}
    assert len(study.sensitivity()) and set(study.sensitivity()["assay"]) == {"cold_plate"}


def test_directions_reach_the_donor_classes(study):
    d = study.donors()
    cp = d[d["assay"] == "cold_plate"]  # direction increase: upper bounds
    assert cp["clearly_above"].notna().all() and cp["clearly_below"].isna().all()
    clear = cp["classification"] == "clearly affected"
    assert (clear == (cp["value"] > cp["clearly_above"])).all()
    pp = d[d["assay"] == "paw_pressure"]
    assert pp["clearly_below"].notna().all() and pp["clearly_above"].isna().all()
    clear = pp["classification"] == "clearly affected"
    assert (clear == (pp["value"] < pp["clearly_below"])).all()


def test_analyze_outcome_covariate_mode_refuses_rm_anova_and_records_mode():
    res = analyze_outcome(data("balanced"), donor="donor", control="control",
                          baseline_days=[-1], baseline="covariate", outcome="threshold_g")
    assert res.baseline == "covariate"
    assert not res.rm_anova.available and "covariate" in res.rm_anova.reason
    assert "baseline_value" in res.anova_table()["term"].tolist()
    assert res.contrast_table()["model"].eq("mixed").all()
    assert res.summary()["baseline"] == "covariate"


def test_analyze_outcome_without_donor_has_no_donor_tables():
    res = analyze_outcome(data("no_donor"), control="control", posttest="holm", family="day")
    assert res.donors is None
    assert res.donor_table().empty and list(res.donor_table().columns[:3]) == [
        "assay", "outcome", "donor"]
    con = res.contrasts.to_frame()
    # day -1 is before the injection, a baseline check even without --baseline-days
    assert con["method"].iloc[0] == "baseline imbalance check: unadjusted, not in the family"
    assert con["method"].iloc[1] == "holm over 1 comparison(s) (each post-injection day)"
    assert res.rm_anova.available


def test_mixed_model_failure_is_reported_not_raised():
    d = data("balanced")
    d = d[~((d["arm"] == "patient") & (d["study_day"] == 4))]
    res = analyze_outcome(d, donor="donor", control="control")
    assert res.mixed is None and "patient on day 4" in res.mixed_error
    assert res.summary()["status"].startswith("mixed model failed")


def test_outcome_that_cannot_be_analysed_is_listed(study):
    der = _derived()
    extra = der[(der["assay"] == "paw_pressure") & (der["arm"] == "patient")].assign(
        assay="grip", outcome="force_g")
    res = analyze_table(pd.concat([der, extra]), control="control")
    assert ("grip", "force_g") in res.failures
    s = res.summary().set_index("assay")
    assert s.loc["grip", "status"] == ("not analysed: readings so far only from patient; none yet "
                                       "from the control arm (control): nothing to compare until "
                                       "both are measured")


def test_derived_schema_and_options_are_checked():
    with pytest.raises(SchemaError, match="lacks column"):
        analyze_table(data("balanced"), control="control")
    with pytest.raises(AnalysisError, match="unknown adjustment"):
        analyze_table(_derived(), control="control", posttest="tukey")
    with pytest.raises(AnalysisError, match="unknown family"):
        analyze_outcome(data("balanced"), control="control", family="row")
