"""Plates of a study: re-assayed, excluded and failed plates, censoring, units, and how
the readings of one animal-day are combined (nocilab.lab.combine_readings)."""

from __future__ import annotations

import lab_synth as ls
import numpy as np
import pandas as pd
import pytest

from nocilab.lab import combine_readings, lab_derived_rows, lab_readouts, read_plates


def _plate(name, samples, *, seed=11, import_id=90, unit="ug/mL", assay="serum_igg"):
    rng = np.random.default_rng(seed)
    rows = ls.plate_rows(name, pd.DataFrame(samples), assay=assay, analyte="human_igg",
                         unit=unit, standards=ls.STANDARDS_UG_ML, rng=rng,
                         import_id=import_id)
    return ls.frame(rows)


def _serum(study, wells):
    return lab_readouts(study, wells, None, None, ls.behaviour(), ls.assign_open(),
                        control=ls.CONTROL, blinded=False)


@pytest.fixture(scope="module")
def serum_wells():
    return ls.serum_wells()


def test_an_animal_day_on_two_plates_is_their_geometric_mean(lab_study, serum_wells):
    truth = ls.serum_truth()
    day7 = truth[(truth["study_day"] == 7) & truth["animal"].isin(["M01", "M02"])]
    rerun = _plate("IGG-d7-rerun", day7.assign(dilution=2000.0), seed=12, import_id=99)
    r = _serum(lab_study, pd.concat([serum_wells, rerun], ignore_index=True))
    read = r.readings[(r.readings["animal"] == "M01") & (r.readings["study_day"] == 7)]
    assert sorted(read["plate"]) == ["IGG-d7-1", "IGG-d7-rerun"]
    s = r.serum.set_index(["animal", "study_day"]).loc[("M01", 7)]
    assert s["n_plates"] == 2 and s["plates"] == "IGG-d7-1 IGG-d7-rerun"
    assert s["concentration"] == pytest.approx(
        float(np.exp(np.log(read["concentration"]).mean())), rel=1e-12)
    assert "geometric mean of 2 readings" in s["note"]
    # the import order decides nothing: the same value with the plates' ids swapped
    swapped = rerun.assign(import_id=0)
    r2 = _serum(lab_study, pd.concat([serum_wells, swapped], ignore_index=True))
    s2 = r2.serum.set_index(["animal", "study_day"]).loc[("M01", 7)]
    assert s2["concentration"] == pytest.approx(s["concentration"], rel=1e-12)


def test_an_excluded_plate_is_listed_with_its_reason_and_not_used(lab_study, serum_wells):
    truth = ls.serum_truth()
    day7 = truth[(truth["study_day"] == 7) & truth["animal"].isin(["M01", "M02"])]
    rerun = _plate("IGG-d7-rerun", day7.assign(concentration=day7["concentration"] * 5,
                                               dilution=1000.0))
    rerun["excluded"] = True
    rerun["exclusion_reason"] = "wrong dilution series (checked by A. Tech)"
    r = _serum(lab_study, pd.concat([serum_wells, rerun], ignore_index=True))
    c = r.curves.set_index("plate").loc["IGG-d7-rerun"]
    assert c["status"] == "excluded"
    assert c["reason"] == "excluded by a person: wrong dilution series (checked by A. Tech)"
    assert "IGG-d7-rerun" not in set(r.readings["plate"])
    s = r.serum.set_index(["animal", "study_day"]).loc[("M01", 7)]
    assert s["n_plates"] == 1
    assert ("IGG-d7-rerun", "human_igg") not in r.fits


def test_a_failed_curve_is_reported_and_its_samples_give_no_rows(lab_study, serum_wells):
    w = serum_wells.copy()
    on = (w["plate"] == "IGG-d10-1") & (w["kind"] == "standard")
    high = on & (w["concentration"] == 1.0)
    low = on & (w["concentration"] == 1 / 8)
    w.loc[high, "od"], w.loc[low, "od"] = (w.loc[low, "od"].to_numpy(),
                                           w.loc[high, "od"].to_numpy())
    r = _serum(lab_study, w)
    c = r.curves.set_index("plate").loc["IGG-d10-1"]
    assert c["status"] == "failed"
    assert c["reason"].startswith("standards out of order")
    assert np.isnan(c["rinf"])
    lost = r.serum[(r.serum["study_day"] == 10) & r.serum["concentration"].isna()]
    assert len(lost) == 12
    assert lost["note"].str.startswith("not read: the standard curve failed on plate(s) "
                                       "IGG-d10-1").all()
    assert any("12 animal-day(s) not read" in n for n in r.notes["serum"])
    assert any("1 curve(s) failed" in n for n in r.notes["plates"])
    d = lab_derived_rows(lab_study, w, None, None, ls.assign_open())
    day10 = d[(d["assay"] == "serum_igg") & (d["study_day"] == 10)]
    assert len(day10) == 12  # only the other plate's animals
    assert not set(lost["animal"]) & set(day10["animal"])
    unread = r.readings[r.readings["plate"] == "IGG-d10-1"]
    assert (unread["status"] == "curve failed").all() and unread["concentration"].isna().all()
    # the clearance of those animals rests on their other days
    a = r.clearance.animals.set_index("animal")
    assert (a.loc[lost["animal"], "n_points"] == 4).all()


def test_outside_the_range_is_censored_never_extrapolated(lab_study, serum_wells):
    extra = _plate("IGG-extra", [
        {"animal": "M03", "study_day": 28, "concentration": 2000.0, "dilution": 1000.0},
        {"animal": "M04", "study_day": 28, "concentration": 2.0, "dilution": 1000.0},
    ])
    r = _serum(lab_study, pd.concat([serum_wells, extra], ignore_index=True))
    s = r.serum.set_index(["animal", "study_day"])
    hi, lo = s.loc[("M03", 28)], s.loc[("M04", 28)]
    assert hi["censored"] == "right" and np.isnan(hi["concentration"])
    assert hi["bound"] == pytest.approx(1.0 * 1000)  # ULOQ x dilution
    assert lo["censored"] == "left" and lo["bound"] == pytest.approx(1000 / 128)
    reading = r.readings.set_index(["plate", "animal"]).loc[("IGG-extra", "M03")]
    assert reading["extrapolated"] == pytest.approx(2000, rel=0.1)  # listed, not used
    d = lab_derived_rows(lab_study, pd.concat([serum_wells, extra], ignore_index=True), None,
                         None, ls.assign_open())
    d = d[d["assay"] == "serum_igg"]
    row = d[(d["animal"] == "M03") & (d["study_day"] == 28)].iloc[0]
    assert (row["censored"], row["value"], row["bound"]) == ("right", 1000.0, 1000.0)
    row = d[(d["animal"] == "M04") & (d["study_day"] == 28)].iloc[0]
    assert row["censored"] == "left" and row["value"] == pytest.approx(1000 / 128)
    # the censored day is left out of the half-life and counted
    a = r.clearance.animals.set_index("animal")
    assert a.loc["M04", "n_censored_left_out"] == 1 and a.loc["M04", "n_points"] == 5


def test_combining_rules():
    base = {"assay": "serum_igg", "analyte": "human_igg", "import_id": 1, "sample": "",
            "unit": "ug/mL", "study_day": 7}

    def reading(plate, animal, conc, censored="none", bound=np.nan, status="read",
                dilution=1000.0):
        return {**base, "plate": plate, "animal": animal, "concentration": conc,
                "censored": censored, "bound": bound, "status": status, "dilution": dilution}

    r = pd.DataFrame([
        reading("P1", "A", 100.0), reading("P1", "A", np.nan, "left", 7.8, dilution=100.0),
        reading("P1", "B", np.nan, "left", 78.0), reading("P2", "B", np.nan, "left", 39.0),
        reading("P1", "C", np.nan, "right", 1000.0), reading("P2", "C", np.nan, "right", 2000.0),
        reading("P1", "D", np.nan, "left", 78.0), reading("P2", "D", np.nan, "right", 2000.0),
        reading("P1", "E", np.nan, status="curve failed"), reading("P2", "E", 50.0),
        reading("P1", "F", np.nan, status="curve failed"),
        reading("P1", None, 10.0),
    ])
    v = combine_readings(r).set_index("animal")
    assert list(v.index) == ["A", "B", "C", "D", "E", "F"]  # no animal: no animal-day
    assert v.loc["A", "concentration"] == 100.0 and v.loc["A", "censored"] == "none"
    assert "1 reading(s) outside the quantifiable range" in v.loc["A", "note"]
    assert (v.loc["B", "censored"], v.loc["B", "bound"]) == ("left", 39.0)  # tightest
    assert (v.loc["C", "censored"], v.loc["C", "bound"]) == ("right", 2000.0)
    assert v.loc["D", "censored"] == "none" and np.isnan(v.loc["D", "concentration"])
    assert "not read" in v.loc["D", "note"]
    assert v.loc["E", "concentration"] == 50.0 and "curve failed on plate(s) P1" in \
        v.loc["E", "note"]
    assert np.isnan(v.loc["F", "concentration"]) and v.loc["F", "note"].startswith(
        "not read: the standard curve failed")


def test_standards_in_another_mass_unit_are_converted_and_others_fail(lab_study):
    from nocilab.model import LabSettings

    samples = [{"animal": "M01", "study_day": 7, "concentration": 200.0, "dilution": 1000.0}]
    ug = _plate("IGG-ug", samples)
    std = ug["kind"] == "standard"
    ng = ug.assign(plate="IGG-ng")
    ng.loc[std, "concentration"] = ug.loc[std, "concentration"] * 1000.0
    ng.loc[std, "unit"] = "ng/mL"
    a = read_plates(ug.pipe(_checked), LabSettings())
    b = read_plates(ng.pipe(_checked), LabSettings())
    assert b.curves.iloc[0]["status"] == "fitted"
    # the same plate, its standards in ng/mL: the same concentrations in ug/mL
    np.testing.assert_allclose(b.readings["concentration"], a.readings["concentration"],
                               rtol=1e-6)
    assert b.curves.iloc[0]["lloq"] == pytest.approx(a.curves.iloc[0]["lloq"], rel=1e-12)
    assert b.notes == ("standards given in ng/mL were converted to ug/mL (the study file's "
                       "[lab] unit) before fitting",)
    iu = ug.assign(plate="IGG-IU")
    iu.loc[std, "unit"] = "IU/mL"
    c = read_plates(iu.pipe(_checked), LabSettings()).curves.iloc[0]
    assert c["status"] == "failed"
    assert c["reason"] == ("the standards are in IU/mL but the study file's [lab] settings "
                           "say ug/mL, and one cannot be converted into the other: set the "
                           "unit there, or convert the standards")
    odd = ug.assign(assay="western_blot")
    c = read_plates(odd.pipe(_checked), LabSettings()).curves.iloc[0]
    assert c["status"] == "failed" and "unknown plate assay 'western_blot'" in c["reason"]


def _checked(w):
    from nocilab.lab._frames import check_wells

    return check_wells(w)


def test_a_saturated_sample_is_above_the_range(lab_study):
    w = _plate("IGG-sat", [{"animal": "M05", "study_day": 7, "concentration": 200.0,
                            "dilution": 1000.0}])
    s = w["kind"] == "sample"
    w.loc[s, "od"] = np.nan
    w.loc[s, "saturated"] = True
    r = _serum(lab_study, w)
    row = r.serum.iloc[0]
    assert row["censored"] == "right" and row["bound"] == pytest.approx(1000.0)


def test_the_study_files_settings_are_used(tmp_path):
    study = ls.load(tmp_path, lab={"serum_igg": {"model": "5pl", "weights": "1/y",
                                                  "recovery": [85, 115], "unit": "ug/mL"},
                                   "clearance": {"after_day": 6}})
    r = _serum(study, ls.serum_wells())
    c = r.curves
    assert set(c["model"]) == {"5pl"} and set(c["weights"]) == {"1/y"}
    assert c["g_se"].notna().all()
    assert r.after_day == 6 and r.after_day_source == "[lab.clearance] after_day"
    assert (r.clearance.animals["first_day"] == 7).all()
    fit = r.fits[("IGG-d4-1", "human_igg")]
    assert fit.recovery_limits == (85.0, 115.0)


def test_an_animal_the_study_does_not_know_is_named(lab_study):
    w = _plate("IGG-x", [{"animal": "M99", "study_day": 7, "concentration": 200.0,
                          "dilution": 1000.0}])
    r = _serum(lab_study, w)
    assert any("1 animal(s) on the plates have no assignment (not in the study or not "
               "allocated): M99" in n for n in r.notes["plates"])
    row = r.derived.iloc[0]
    assert (row["animal"], row["arm"], row["donor"]) == ("M99", "", "")
