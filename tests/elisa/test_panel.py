"""Multiplex panels: reading the export and layout, one curve per analyte, censoring.

The curves are checked against R's nls(SSfpl) per analyte (tests/elisa/r/multiplex.R on
tests/data/elisa/multiplex_*.csv): parameters and SEs to 1e-6 relative (R stops at its
convergence criterion, as in test_elisa_against_r.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nocilab.elisa import CURVE_COLUMNS, analyse_panel, analyse_plate, panel_values
from nocilab.errors import ImportProblems
from nocilab.ingest.multiplex import load_panel, read_multiplex, read_panel_layout

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data" / "elisa"
SIGNALS = DATA / "multiplex_signals.csv"
LAYOUT = DATA / "multiplex_layout.csv"


@pytest.fixture(scope="module")
def wells() -> pd.DataFrame:
    return load_panel(SIGNALS, LAYOUT)


@pytest.fixture(scope="module")
def panel(wells):
    return analyse_panel(wells)


def test_each_analyte_has_its_own_standards(wells):
    top = wells[wells["kind"] == "standard"].groupby("analyte")["concentration"].max()
    assert top.to_dict() == {"IL10": 2000, "IL17A": 2000, "IL6": 10000, "TNF": 5000}
    assert (wells.groupby("analyte").size() == 56).all()
    assert bool(wells.loc[(wells["analyte"] == "TNF") & (wells["well"] == "C5"), "saturated"]
                .iloc[0])


def test_curves_match_nls_per_analyte(panel):
    ref = pd.read_csv(HERE / "r" / "reference_multiplex.csv")
    for name, r in ref.groupby("analyte"):
        fit = panel.plates[name].curve
        assert [p.name for p in fit.parameters] == list(r["parameter"])
        np.testing.assert_allclose(fit.theta, r["estimate"], rtol=1e-6, err_msg=name)
        np.testing.assert_allclose([p.se for p in fit.parameters], r["se"], rtol=1e-6,
                                   err_msg=name)


def test_a_failed_curve_is_explicit_and_the_others_stand(panel):
    assert set(panel.failures) == {"IL17A"}
    assert "standards out of order" in panel.failures["IL17A"]
    c = panel.curves.set_index("analyte")
    assert tuple(panel.curves.columns) == CURVE_COLUMNS
    assert c.loc["IL17A", "status"] == "failed" and "out of order" in c.loc["IL17A", "reason"]
    assert (c.drop(index="IL17A")["status"] == "fitted").all()
    assert "IL17A" not in set(panel.samples["analyte"])


def test_one_analyte_equals_a_single_plate(wells, panel):
    one = wells[wells["analyte"] == "IL6"].drop(columns="analyte")
    alone = analyse_plate(one, unit="pg/mL")
    np.testing.assert_array_equal(alone.curve.theta, panel.plates["IL6"].curve.theta)
    pd.testing.assert_frame_equal(
        alone.samples, panel.samples[panel.samples["analyte"] == "IL6"]
        .drop(columns="analyte").reset_index(drop=True))


def test_below_lloq_is_censored_with_its_bound_not_zero(panel):
    s = panel.samples[panel.samples["analyte"] == "IL6"]
    left = s[s["censored"] == "left"]
    assert len(left) > 0
    assert left["concentration"].isna().all()
    lloq = panel.plates["IL6"].lloq
    np.testing.assert_allclose(left["bound"], lloq * left["dilution"])
    # the saturated TNF well makes its sample right-censored at the ULOQ
    t = panel.samples[(panel.samples["analyte"] == "TNF") & panel.samples["wells"]
                      .str.contains("C5")].iloc[0]
    assert t["censored"] == "right" and np.isnan(t["concentration"])


def test_values_per_animal_keep_the_arm(panel):
    v = panel_values(panel.samples, by="animal")
    assert list(v.columns[:8]) == ["analyte", "animal", "concentration", "censored", "bound",
                                   "unit", "n_dilutions", "note"]
    assert "arm" in v.columns and len(v) == 3 * 20
    assert set(v["arm"]) == {"patient", "control"}


def test_several_dilutions_collapse_by_the_stated_rule():
    s = pd.DataFrame({
        "analyte": ["A"] * 6, "sample": ["s1", "s1", "s2", "s2", "s3", "s3"],
        "dilution": [2, 4, 2, 4, 2, 4],
        "concentration": [10.0, 40.0, np.nan, np.nan, 5.0, np.nan],
        "censored": ["none", "none", "left", "left", "none", "right"],
        "bound": [np.nan, np.nan, 6.0, 12.0, np.nan, 80.0], "unit": "pg/mL"})
    v = panel_values(s).set_index("sample")
    assert v.loc["s1", "concentration"] == pytest.approx(20.0)  # geometric mean of 10, 40
    assert v.loc["s2", "censored"] == "left" and v.loc["s2", "bound"] == 6.0  # tightest
    assert v.loc["s3", "concentration"] == 5.0


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_bad_export_names_row_column_and_value(tmp_path):
    p = _write(tmp_path, "mfi.csv", "analyte,well,signal\nIL6,A1,120.5\nIL6,A2,n/a\n"
                                    "IL6,Z9,3\nIL6,A1,130\n,B1,4\n")
    with pytest.raises(ImportProblems) as info:
        read_multiplex(p)
    text = info.value.render()
    assert "row 3, column 'signal': analyte IL6, well A2: expected a signal" in text
    assert "(found 'n/a')" in text
    assert "row 4, column 'well': not a well of a 96-well plate (found 'Z9')" in text
    assert "analyte IL6, well A1 appears twice (also row 2)" in text
    assert "row 6, column 'analyte': the analyte is empty" in text


def test_export_column_mapping_and_missing_column(tmp_path):
    p = _write(tmp_path, "mfi.csv", "Analyte,Location,MFI\nIL6,A1,120.5\n")
    got = read_multiplex(p, analyte="Analyte", well="Location", signal="MFI")
    assert got["signal"].tolist() == [120.5]
    with pytest.raises(ImportProblems) as info:
        read_multiplex(p)
    assert "no column 'analyte' (the analyte column); the file has columns Analyte, " \
           "Location, MFI" in info.value.render()


def test_layout_well_shared_and_specific_is_refused(tmp_path):
    p = _write(tmp_path, "lay.csv", "well,kind,analyte,concentration,sample,dilution\n"
                                    "A1,standard,,100,,\nA1,standard,IL6,200,,\n"
                                    "A2,standard,IL6,x,,\n")
    with pytest.raises(ImportProblems) as info:
        read_panel_layout(p)
    text = info.value.render()
    assert "analyte IL6: well A2: a standard needs its concentration" in text


def test_layout_conflict_between_shared_and_analyte_rows(tmp_path):
    p = _write(tmp_path, "lay.csv", "well,kind,analyte,concentration,sample,dilution\n"
                                    "A1,standard,,100,,\nA1,standard,IL6,200,,\n")
    with pytest.raises(ImportProblems) as info:
        read_panel_layout(p)
    assert "well A1 is in the layout for every analyte and again for IL6" in \
        info.value.render()


def test_missing_signals_and_standards_are_named(tmp_path):
    lay = _write(tmp_path, "lay.csv", "well,kind,analyte,concentration,sample,dilution\n"
                                      "A1,standard,IL6,100,,\nA2,standard,IL6,50,,\n"
                                      "B1,sample,,,s1,2\nA1,standard,IL2,10,,\n")
    sig = _write(tmp_path, "mfi.csv", "analyte,well,signal\nIL6,A1,100\nIL6,A2,50\n"
                                      "TNF,B1,3\n")
    with pytest.raises(ImportProblems) as info:
        load_panel(sig, lay)
    text = info.value.render()
    assert "standards for analyte IL2, but the export has no signals for it" in text
    assert "analyte IL6, well B1: no signal, but the layout uses the well" in text
    assert "analyte TNF: the layout has no standard wells for it" in text


def test_forest_plot_of_the_panel(panel):
    from nocilab.elisa import equivalence_forest
    from nocilab.stats import equivalence_panel

    v = panel_values(panel.samples, by="animal")
    table = equivalence_panel(v, control="control").table
    fig = equivalence_forest(table)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_yticklabels()] == list(table["analyte"])
    gids = {ln.get_gid() for ln in ax.lines if ln.get_gid()}
    assert gids == {f"analyte_{a}" for a in table["analyte"]}
    texts = {t.get_text() for t in ax.texts}
    assert set(table["conclusion"]) <= texts
    # the margin band of each row spans 0.8 to 1.25
    bands = [c.get_paths()[0].vertices[:, 0] for c in ax.collections]
    assert len(bands) == len(table)
    for b in bands:
        assert b.min() == pytest.approx(0.8) and b.max() == pytest.approx(1.25)
