"""Cytokine panels at study level: per-analyte margins, several days in one family, and
values below the LLOQ carried as censored (never as zero) into the derived table and the
equivalence tests."""

from __future__ import annotations

import lab_synth as ls
import numpy as np
import pandas as pd
import pytest

from nocilab.lab import lab_derived_rows, lab_readouts


@pytest.fixture(scope="module")
def two_days_study(tmp_path_factory):
    return ls.load(tmp_path_factory.mktemp("cyto"),
                   lab={"cytokines": {"margins": {"IL6": [0.5, 2.0], "IFNG": [0.5, 2.0]},
                                      "adjust": "bh"}})


@pytest.fixture(scope="module")
def panels() -> pd.DataFrame:
    t21 = ls.panel_truth()
    t7 = t21.assign(study_day=7)
    low = t21[t21["analyte"] == "IL6"].assign(analyte="IL17")
    # IL17 around 1.6 pg/mL: at 1:2 many wells fall below the LLOQ (0.91 pg/mL in the well)
    low["concentration"] = low["concentration"] / 12.0 * 1.6
    return pd.concat([ls.panel_wells(pd.concat([t21, low]), plate="PANEL-d21"),
                      ls.panel_wells(t7[t7["analyte"] != "IL10"], plate="PANEL-d7", seed=9)],
                     ignore_index=True)


def test_days_are_tested_in_one_family_with_per_analyte_margins(two_days_study, panels):
    r = lab_readouts(two_days_study, panels, None, None, ls.behaviour(), ls.assign_open(),
                     control=ls.CONTROL, blinded=False)
    t = r.cytokines.panel.table.set_index("analyte")
    assert sorted(t.index) == ["IL10 day 21", "IL17 day 21", "IL6 day 21", "IL6 day 7",
                               "TNF day 21", "TNF day 7"]
    assert t.loc["IL6 day 7", "margin_low"] == pytest.approx(np.log10(0.5))
    assert t.loc["IL6 day 21", "margin_high"] == pytest.approx(np.log10(2.0))
    assert t.loc["TNF day 7", "margin_low"] == pytest.approx(np.log10(0.67))
    assert (t["adjust"] == "bh").all()
    assert any("margins given for analyte(s) not measured: IFNG" in n
               for n in r.notes["cytokines"])
    u = r.cytokines.units
    assert set(u["test"]) == set(t.index) and set(u["study_day"]) == {7, 21}


def test_below_the_lloq_is_censored_not_zero(two_days_study, panels):
    d = lab_derived_rows(two_days_study, panels, None, None, ls.assign_open())
    il17 = d[d["outcome"] == "il17_pg_per_ml"]
    assert len(il17) == 24
    left = il17[il17["censored"] == "left"]
    assert 0 < len(left) < 24
    lloq = 2000.0 / 3.0 ** 7
    np.testing.assert_allclose(left["bound"], lloq * 2)  # LLOQ x dilution
    np.testing.assert_allclose(left["value"], left["bound"])
    assert (il17["value"] > 0).all()
    assert set(d.loc[d["assay"] == "cytokines", "study_day"]) == {7, 21}
    r = lab_readouts(two_days_study, panels, None, None, ls.behaviour(), ls.assign_open(),
                     control=ls.CONTROL, blinded=False)
    row = r.cytokines.panel.table.set_index("analyte").loc["IL17 day 21"]
    assert row["n_censored"] + row["n_censored_control"] > 0
    assert "censored value(s) set to their bound" in row["note"]
    u = r.cytokines.units
    u17 = u[u["analyte"] == "IL17"]
    # a donor with any animal below the LLOQ is censored at the geometric mean with bounds
    cens = u17[u17["censored"] == "left"]
    assert len(cens) and cens["concentration"].isna().all()
    v = r.cytokine_values
    one = cens.iloc[0]
    animals = ls.animals().set_index("animal")
    mine = v[(v["analyte"] == "IL17") & v["animal"].map(animals["donor"]).eq(one["unit_id"])]
    y = np.where(mine["censored"] == "none", mine["concentration"], mine["bound"])
    assert one["bound"] == pytest.approx(float(10 ** np.mean(np.log10(y))), rel=1e-12)
