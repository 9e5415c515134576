"""The demo's laboratory raw files: written as instruments write them, imported through
the study's importers, and holding the truth they were drawn from (clearance with
half-lives of 4-8 days, a cytokine panel without an arm difference, binding by every
patient donor but one)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from nocilab.demo import run_demo, simulate_study
from nocilab.demo.lab import ANALYTES, NON_BINDING_DONOR, SERUM_DAYS, simulate_lab
from nocilab.elisa import analyse_panel, analyse_plate, half_lives, panel_values
from nocilab.model import load_study
from nocilab.stats.binding import binding_analysis
from nocilab.stats.equivalence import equivalence_panel
from nocilab.store import Store

SEED = 20210701


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "demo-study"
    run_demo(out, seed=SEED, console=Console(file=None, quiet=True), analyze=False)
    study = load_study(out)
    with Store.open(study.database_url()) as store:
        yield (study, store.plate_wells(), store.binding_cells(), store.binding_images(),
               store.verify_audit())


def test_the_behaviour_data_do_not_depend_on_the_lab_files():
    first = simulate_study(seed=SEED)
    simulate_lab(first, seed=SEED)
    second = simulate_study(seed=SEED)
    for name, table in first.tables.items():
        pd.testing.assert_frame_equal(table, second.tables[name])


def test_every_plate_is_stored_and_audited(demo):
    study, wells, cells, images, audit = demo
    assert audit.ok
    serum = wells[wells["assay"] == "serum_igg"]
    assert serum["plate"].nunique() == 2 * len(SERUM_DAYS)
    samples = serum[serum["kind"] == "sample"]
    assert set(samples["study_day"]) == set(SERUM_DAYS)
    assert samples.groupby("study_day")["animal"].nunique().eq(len(study.animals)).all()
    panel = wells[wells["assay"] == "cytokines"]
    assert set(panel["analyte"]) == set(ANALYTES)
    assert len(cells) == 14 * 3 * 170 and set(images["vial"]) == {p.id for p in study.preparations}


def _serum(study, wells) -> pd.DataFrame:
    parts = []
    for _, plate in wells[wells["assay"] == "serum_igg"].groupby("plate"):
        res = analyse_plate(plate, unit="ng/mL")
        assert 0.98 < res.curve.r_squared <= 1
        parts.append(res.samples)
    s = pd.concat(parts, ignore_index=True)
    return s.groupby(["animal", "study_day"], as_index=False).agg(
        concentration=("concentration", "mean"),
        censored=("censored", lambda c: "left" if (c == "left").any() else "none"))


def test_serum_clearance_has_realistic_half_lives(demo):
    study, wells, *_ = demo
    serum = _serum(study, wells)
    peak = serum[serum["study_day"] == 5]["concentration"] / 1000  # ng/mL -> ug/mL
    assert 100 < np.exp(np.log(peak).mean()) < 400
    cl = half_lives(serum, after_day=max(study.dosing.days))
    hl = cl.animals["half_life_days"].dropna()
    assert len(hl) == len(study.animals)
    assert 4 < float(np.exp(np.log(hl).mean())) < 8
    assert (serum["censored"] == "none").mean() > 0.9  # a few late samples may be below LLOQ


def test_the_cytokine_panel_shows_no_difference(demo):
    study, wells, *_ = demo
    panel = analyse_panel(wells[wells["assay"] == "cytokines"], unit="pg/mL")
    assert panel.failures == {}
    arm_of = study.animal_table().set_index("animal")["arm"]
    values = panel_values(panel.samples, by="animal")
    values["arm"] = values["animal"].map(arm_of)
    eq = equivalence_panel(values, control=study.control_arm, margin=(0.67, 1.5))
    assert "different" not in set(eq.table["conclusion"])
    assert (eq.table["conclusion"] == "equivalent within the margin").sum() >= 3
    low = panel.samples.groupby("analyte")["censored"].apply(lambda c: (c == "left").mean())
    assert low["IFNG"] > 0.2 and low["CXCL1"] == 0


def test_one_patient_donor_does_not_bind(demo):
    study, _, cells, images, _ = demo
    prep = {p.id: p for p in study.preparations}
    imgs = images.assign(preparation=images["vial"],
                         donor=images["vial"].map(lambda v: prep[v].donors[0]),
                         arm=images["vial"].map(lambda v: prep[v].arm))
    res = binding_analysis(cells, imgs, control=study.control_arm)
    donors = res.donors.set_index("donor")["binding_score"]
    controls = donors[[d.id for d in study.donors if d.arm == study.control_arm]]
    patients = donors.drop(controls.index)
    assert donors[NON_BINDING_DONOR] <= controls.max() + 0.02
    assert patients.drop(NON_BINDING_DONOR).min() > controls.max() + 0.03
    assert res.comparison["p"].iloc[0] < 0.05
