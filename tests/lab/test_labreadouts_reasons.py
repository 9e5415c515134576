"""Sections that cannot be computed carry a reason in plain words; nothing raises for
want of data, and a figure of a missing section says why."""

from __future__ import annotations

import lab_synth as ls
import numpy as np
import pandas as pd
import pytest

from nocilab import schema
from nocilab.errors import AnalysisError, SchemaError
from nocilab.lab import (
    SECTIONS,
    WELLS_COLUMNS,
    binding_figure,
    cytokine_forest_figure,
    lab_derived_rows,
    lab_methods,
    lab_readouts,
    lab_tables,
    serum_time_course_figure,
    standard_curves_figure,
)


def _run(study, wells=None, cells=None, images=None, derived=None, assign=None, **kw):
    return lab_readouts(study, wells, cells, images,
                        ls.behaviour() if derived is None else derived,
                        ls.assign_open() if assign is None else assign,
                        control=kw.pop("control", ls.CONTROL), blinded=kw.pop("blinded", False),
                        **kw)


def test_nothing_imported(lab_study):
    r = _run(lab_study)
    assert r.reasons["plates"] == "no plates have been imported"
    assert r.reasons["serum"] == "no serum IgG plates have been imported"
    assert r.reasons["clearance"] == "no half-lives: no serum IgG plates have been imported"
    assert r.reasons["exposure_response"] == ("no exposure-response: no serum IgG plates have "
                                              "been imported")
    assert r.reasons["cytokines"] == "no cytokine comparison: no cytokine panel has been imported"
    assert r.reasons["binding"] == ("no binding analysis: no per-cell binding measurements have "
                                    "been imported")
    # the mouse effects need no laboratory data: they are correlated all the same
    assert r.correlations is not None
    assert set(r.correlations.correlations.table["outcome"]) == {"paw_pressure.force_g"}
    assert r.derived.empty and list(r.derived.columns) == list(schema.DERIVED)
    t = lab_tables(r)
    assert list(t["lab_sections"]["section"]) == list(SECTIONS)
    assert (t["lab_sections"].set_index("section").loc[["plates", "serum", "binding"],
                                                        "status"] == "not computed").all()
    assert lab_methods(r, lab_study)[-1].startswith("Not computed. Plates and standard "
                                                    "curves: no plates have been imported")
    with pytest.raises(AnalysisError, match="no serum IgG plates have been imported"):
        serum_time_course_figure(r)
    d = lab_derived_rows(lab_study, None, None, None, ls.assign_open())
    assert d.empty and list(d.columns) == list(schema.DERIVED)


def test_empty_frames_with_their_columns_are_nothing_imported(lab_study):
    wells = pd.DataFrame(columns=list(WELLS_COLUMNS))
    r = _run(lab_study, wells=wells, cells=pd.DataFrame(columns=["image", "cell",
                                                                  "cell_class", "intensity"]),
             images=pd.DataFrame(columns=["image", "vial"]))
    assert r.reasons["plates"] == "no plates have been imported"
    assert r.reasons["binding"].endswith("no per-cell binding measurements have been imported")


def test_every_curve_failed(lab_study):
    w = ls.serum_wells()
    w.loc[w["kind"] == "standard", "od"] = 0.5  # flat: no curve
    r = _run(lab_study, wells=w)
    assert r.reasons["plates"].startswith("no standard curve could be fitted")
    assert r.reasons["serum"] == ("no serum IgG standard curve could be fitted (failed or "
                                  "excluded)")
    assert (r.curves["status"] == "failed").all()
    assert (r.curves["reason"] == "the standards all give the same response: no curve to "
                                  "fit").all()
    assert r.derived.empty
    fig = standard_curves_figure(r, "IGG-d4-1")  # the failed curve is drawn as its reason
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any(t.startswith("curve failed:") for t in texts)


def test_every_plate_excluded(lab_study):
    w = ls.serum_wells().assign(excluded=True, exclusion_reason="reader fault")
    r = _run(lab_study, wells=w)
    assert r.reasons["plates"] == "every plate was excluded"
    assert (r.curves["reason"] == "excluded by a person: reader fault").all()
    with pytest.raises(AnalysisError, match="plate IGG-d4-1 was excluded: excluded by a "
                                            "person: reader fault"):
        standard_curves_figure(r, "IGG-d4-1")


def test_one_arm_only(lab_study, lab_cells):
    a = ls.assign_open()
    pat = a[a["arm"] == ls.PATIENT]
    cells, images = lab_cells
    imgs = images[images["vial"].str.startswith("PrepPat")]
    r = _run(lab_study, wells=ls.panel_wells(), cells=cells, images=imgs, assign=pat)
    assert r.reasons["cytokines"] == ("no cytokine comparison: one arm only (fms_igg): no arm "
                                      "difference to test")
    assert r.reasons["binding"] == ("no binding analysis: one arm only (fms_igg): no control "
                                    "donors to set the threshold on and no arm comparison")
    with pytest.raises(AnalysisError, match="one arm only"):
        cytokine_forest_figure(r)
    with pytest.raises(AnalysisError, match="one arm only"):
        binding_figure(r)


def test_a_control_that_is_not_there(lab_study, lab_cells):
    cells, images = lab_cells
    r = _run(lab_study, wells=ls.panel_wells(), cells=cells, images=images, control="vehicle")
    assert r.reasons["cytokines"] == ("no cytokine comparison: no cytokine values in the "
                                      "control arm vehicle")
    assert r.reasons["binding"] == ("no binding analysis: no image of the control arm vehicle: "
                                    "the threshold is set on control donors' cells")


def test_no_baseline_no_exposure_response(lab_study):
    b = ls.behaviour()
    r = _run(lab_study, wells=ls.serum_wells(), derived=b[b["study_day"] > 0])
    assert r.reasons["exposure_response"] == (
        "no exposure-response: no behavioural outcome has a baseline and a day with a serum "
        "level: paw_pressure.force_g: no baseline (negative-day) values: no change from "
        "baseline")
    assert r.clearance is not None


def test_an_arm_too_small_for_the_model_says_so(lab_study):
    a = ls.assign_open()
    keep = list(a.loc[a["arm"] == ls.PATIENT, "animal"][:2]) + list(
        a.loc[a["arm"] == ls.CONTROL, "animal"])
    b = ls.behaviour()
    r = _run(lab_study, wells=ls.serum_wells(), derived=b[b["animal"].isin(keep)])
    f = r.exposure.fits
    pat = f[f["arm"] == ls.PATIENT]
    assert len(pat) == 1 and pat["term"].iloc[0] == ""
    assert pat["note"].iloc[0] == ("not fitted: 2 animal(s) with a value and a serum level: the "
                                   "model needs at least 3")
    assert np.isnan(pat["estimate"].iloc[0])
    assert (f[f["arm"] == ls.CONTROL]["term"] == ["intercept", "within", "between"]).all()


def test_correlations_without_clinical_fields(tmp_path):
    study = ls.load(tmp_path, lab={"correlations": {"fields": ["not_a_field"]}})
    r = _run(study, wells=ls.serum_wells())
    assert r.reasons["correlations"] == ("no donor correlations: [lab.correlations] field(s) "
                                         "not_a_field: not a numeric clinical field of the "
                                         "donors")


def test_bad_tables_raise_naming_the_column(lab_study):
    w = ls.serum_wells().drop(columns="od")
    with pytest.raises(SchemaError, match="the plate wells table lacks column"):
        _run(lab_study, wells=w)
    with pytest.raises(SchemaError, match="the images table lacks column"):
        _run(lab_study, cells=ls.cells()[0], images=pd.DataFrame({"image": ["a"]}))
    with pytest.raises(KeyError, match="unknown section"):
        _run(lab_study).available("nope")
