"""nocilab.lab on a simulated study with known truth (tests/lab/lab_synth.py): serum IgG
read back from 4PL plates, half-lives, the exposure-response slope, a cytokine panel with
no true difference, and binding with one patient donor that does not bind."""

from __future__ import annotations

import lab_synth as ls
import numpy as np
import pytest

from nocilab import schema
from nocilab.lab import (
    CURVE_QC_COLUMNS,
    SECTIONS,
    SERUM_COLUMNS,
    lab_derived_rows,
    lab_methods,
    lab_tables,
)
from nocilab.stats import spearman


def test_every_section_is_computed(readouts):
    assert dict(readouts.reasons) == {}
    assert all(readouts.available(s) for s in SECTIONS)


def test_curves_recover_the_4pl_and_every_standard(readouts):
    c = readouts.curves
    assert list(c.columns) == list(CURVE_QC_COLUMNS)
    assert len(c) == 12 + 3  # 12 serum plates, one panel of 3 analytes
    assert (c["status"] == "fitted").all()
    serum = c[c["assay"] == "serum_igg"]
    # blank-subtracted: r0 = 0, rinf = 3, xmid = ln 0.12, Hill slope 1.2 (0.5% OD noise)
    np.testing.assert_allclose(serum["rinf"], 3.0, rtol=0.02)
    np.testing.assert_allclose(np.exp(serum["xmid"]), 0.12, rtol=0.03)
    np.testing.assert_allclose(1 / serum["scal"], 1.2, rtol=0.05)
    np.testing.assert_allclose(serum["ec50"], np.exp(serum["xmid"]), rtol=1e-12)
    assert (serum["g"] == 1.0).all() and serum["g_se"].isna().all()
    assert (serum["r0_se"] > 0).all() and (serum["r_squared"] > 0.999).all()
    assert (c["n_standards"] == 8).all() and (c["n_standards_recovered"] == 8).all()
    np.testing.assert_allclose(serum["lloq"], 1 / 128)
    np.testing.assert_allclose(serum["uloq"], 1.0)
    assert (c.loc[c["assay"] == "cytokines", "uloq"] == 2000).all()


def test_serum_concentrations_are_read_back_times_the_dilution(readouts):
    s = readouts.serum
    assert list(s.columns) == list(SERUM_COLUMNS)
    assert len(s) == 24 * 6 and (s["censored"] == "none").all()
    m = s.merge(ls.serum_truth(), on=["animal", "study_day"], suffixes=("", "_true"))
    np.testing.assert_allclose(m["concentration"], m["concentration_true"], rtol=0.05)
    assert (s["n_plates"] == 1).all() and (s["unit"] == "ug/mL").all()
    assert set(s.loc[s["animal"] == "M01", "arm"]) == {ls.PATIENT}
    assert set(s.loc[s["animal"] == "M01", "donor"]) == {"PatDonorA"}


def test_half_lives_are_six_days(readouts):
    a = readouts.clearance.animals
    assert len(a) == 24 and (a["n_points"] == 5).all() and (a["first_day"] == 4).all()
    np.testing.assert_allclose(a["half_life_days"], ls.HALF_LIFE, rtol=0.03)
    assert (a["ci_low_days"] < a["half_life_days"]).all()
    g = readouts.clearance.groups
    arms = g[g["level"] == "arm"].set_index("arm")
    assert list(arms["n_units"]) == [6, 6] and list(arms["n_animals"]) == [12, 12]
    np.testing.assert_allclose(arms["geometric_mean_half_life_days"], ls.HALF_LIFE, rtol=0.02)
    preps = g[g["level"] == "preparation"]
    assert len(preps) == 12 and (preps["n_units"] == 2).all()
    # the arm's geometric mean is that of its preparations' geometric means
    pat = preps[preps["arm"] == ls.PATIENT]["geometric_mean_half_life_days"]
    assert arms.loc[ls.PATIENT, "geometric_mean_half_life_days"] == pytest.approx(
        float(np.exp(np.log(pat).mean())), rel=1e-12)
    assert readouts.after_day == 3.0


def test_exposure_response_recovers_the_within_animal_slope(readouts):
    f = readouts.exposure.fits.set_index(["arm", "term"])
    pat = f.loc[(ls.PATIENT, "within")]
    assert abs(pat["estimate"] - ls.SLOPE) < 3 * pat["se"]
    assert pat["se"] < 2.0 and pat["p"] < 1e-10
    ctl = f.loc[(ls.CONTROL, "within")]
    assert ctl["ci_low"] < 0 < ctl["ci_high"]
    assert pat["n_obs"] == 12 * 5 and pat["n_animals"] == 12 and pat["n_donors"] == 6
    assert pat["random_terms"] == "(1 | animal) + (1 | donor)"
    pts = readouts.exposure.points
    assert set(pts["study_day"]) == {4, 7, 10, 14, 21}  # after the last dose
    row = pts[(pts["animal"] == "M01") & (pts["study_day"] == 7)].iloc[0]
    b = ls.behaviour()
    m01 = b[b["animal"] == "M01"]
    base = m01.loc[m01["study_day"] < 0, "value"].mean()
    assert row["baseline"] == pytest.approx(base, rel=1e-12)
    assert row["change"] == pytest.approx(
        float(m01.loc[m01["study_day"] == 7, "value"].iloc[0]) - base, rel=1e-12)


def test_a_panel_without_true_difference_is_equivalent(readouts):
    t = readouts.cytokines.panel.table
    assert list(t["analyte"]) == ["IL10", "IL6", "TNF"]
    assert (t["conclusion"] == "equivalent within the margin").all()
    assert (t["n"] == 6).all() and (t["n_control"] == 6).all()  # donors, not mice
    np.testing.assert_allclose(t["margin_low"], np.log10(0.67))
    np.testing.assert_allclose(t["margin_high"], np.log10(1.5))
    assert (t["adjust"] == "holm").all()
    assert readouts.cytokines.unit_of_analysis == "donor"
    u = readouts.cytokines.units
    assert (u["n_animals"] == 2).all()


def test_cytokines_on_animals_when_asked(lab_study, lab_wells, lab_behaviour):
    from nocilab.lab import lab_readouts

    r = lab_readouts(lab_study, lab_wells, None, None, lab_behaviour, ls.assign_open(),
                     control=ls.CONTROL, blinded=False, cytokine_unit="animal")
    t = r.cytokines.panel.table
    assert (t["n"] == 12).all() and (t["n_control"] == 12).all()


def test_binding_finds_the_donor_that_does_not_bind(readouts):
    d = readouts.binding.donors.set_index("donor")
    assert d.loc[ls.NON_BINDER, "binding_score"] < 0.05
    binders = [x for x in ls.PAT_DONORS if x != ls.NON_BINDER]
    assert (d.loc[binders, "binding_score"] > 0.45).all()
    assert (d.loc[ls.CTL_DONORS, "binding_score"] < 0.05).all()
    assert (d["n_images"] == 2).all()
    comp = readouts.binding.comparison.iloc[0]
    assert comp["n_donors"] == 6 and comp["n_donors_control"] == 6 and comp["p"] < 0.05
    thr = readouts.binding.thresholds.set_index("cell_class")
    assert thr.loc["sgc", "n_control_donors"] == 6


def test_correlations_are_spearman_over_patient_donors(readouts):
    co = readouts.correlations
    v = co.values.set_index("donor")
    assert set(v.index) == set(ls.PAT_DONORS)
    t = co.correlations.table.set_index(["outcome", "field"])
    assert set(t.index.get_level_values("field")) == {"pain_nrs", "fiqr"}  # site is text
    pain = {d: 3.0 + i for i, d in enumerate(ls.PAT_DONORS)}
    r = spearman([pain[d] for d in v.index], v["binding_score"])
    assert t.loc[("binding_score", "pain_nrs"), "rho"] == pytest.approx(r.rho, rel=1e-12)
    assert t.loc[("binding_score", "pain_nrs"), "p"] == pytest.approx(r.p, rel=1e-12)
    # the mouse effect: mean over a donor's mice of the mean change over days 1-10
    b = ls.behaviour()
    base = b[b["study_day"] < 0].groupby("animal")["value"].mean()
    post = b[b["study_day"].between(1, 10)].groupby("animal")["value"].mean()
    change = (post - base).rename("c").reset_index().merge(
        ls.animals()[["animal", "donor"]], on="animal").groupby("donor")["c"].mean()
    np.testing.assert_allclose(v["paw_pressure.force_g"], change.loc[v.index], rtol=1e-12)
    assert (t["adjust"] == "holm").all()


def test_derived_rows(lab_study, lab_wells, lab_cells):
    cells, images = lab_cells
    d = lab_derived_rows(lab_study, lab_wells, cells, images, ls.assign_open())
    assert list(d.columns) == list(schema.DERIVED)
    n = d.groupby(["assay", "outcome"]).size().to_dict()
    assert n == {("serum_igg", "human_igg_ug_per_ml"): 144, ("clearance", "half_life_days"): 24,
                 ("cytokines", "il6_pg_per_ml"): 24, ("cytokines", "tnf_pg_per_ml"): 24,
                 ("cytokines", "il10_pg_per_ml"): 24}
    assert "binding" not in set(d["assay"])  # donor-level: not per animal (see the docs)
    hl = d[d["outcome"] == "half_life_days"]
    assert (hl["study_day"] == 21).all() and (hl["unit"] == "days").all()
    s = d[d["assay"] == "serum_igg"]
    assert (s["unit"] == "ug/mL").all() and (s["censored"] == "none").all()
    m01 = d[(d["animal"] == "M01")].iloc[0]
    assert (m01["donor"], m01["preparation"], m01["arm"], m01["sex"]) == (
        "PatDonorA", "PrepPatA", ls.PATIENT, "F")
    assert schema.validate(d, schema.DERIVED, table="derived") is not None


def test_tables_and_methods(readouts, lab_study):
    t = lab_tables(readouts)
    assert set(t) == {
        "lab_sections", "lab_curves", "lab_standards", "lab_readings", "serum_igg",
        "cytokines", "clearance_animals", "clearance_groups", "exposure_response",
        "exposure_response_points", "cytokine_equivalence", "cytokine_units",
        "binding_thresholds", "binding_images", "binding_donors", "binding_comparison",
        "donor_values", "donor_correlations", "donor_correlation_pairs"}
    assert (t["lab_sections"]["status"] == "computed").all()
    text = lab_methods(readouts, lab_study)
    assert len(text) == 6
    joined = " ".join(text)
    for phrase in ("four-parameter logistic", "unweighted", "80%-120%", "censored",
                   "ln 2 / k", "change ~ within + between", "Satterthwaite",
                   "[0.67, 1.5]", "Holm", "99th percentile", "Spearman",
                   "after day 3 (the last dosing day"):
        assert phrase in joined, phrase
