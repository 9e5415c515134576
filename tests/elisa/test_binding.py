"""IgG binding from per-cell tables: thresholds, fractions, donor scores, arm tests.

Against R (tests/elisa/r/binding.R on tests/data/elisa/binding_*.csv): thresholds
(quantile type 7), donor fractions, Welch t and exact Wilcoxon-Mann-Whitney on the donor
scores, to 1e-12 relative (closed forms).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nocilab.errors import AnalysisError, TableProblems
from nocilab.ingest.cells import read_cells, read_images
from nocilab.stats.binding import DONOR_TABLE_COLUMNS, binding_analysis, donor_arm_test

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data" / "elisa"
R = HERE / "r"
QUPATH = {"image": "Image", "cell": "Object ID", "cell_class": "Class",
          "intensity": "Mean intensity", "area": "Area um^2"}


@pytest.fixture(scope="module")
def cells() -> pd.DataFrame:
    return read_cells(DATA / "binding_cells.csv", **QUPATH)


@pytest.fixture(scope="module")
def images() -> pd.DataFrame:
    return read_images(DATA / "binding_images.csv")


def test_matches_r(cells, images):
    res = binding_analysis(cells, images, control="control")
    thr = pd.read_csv(R / "reference_binding_thresholds.csv")
    np.testing.assert_allclose(res.thresholds["threshold"], thr["threshold"], rtol=1e-12)
    ref = pd.read_csv(R / "reference_binding_donors.csv").set_index("donor")
    d = res.donors.set_index("donor").loc[ref.index]
    assert (d["arm"] == ref["arm"]).all()
    for col in ("neuron_fraction", "sgc_fraction"):
        np.testing.assert_allclose(d[col], ref[col], rtol=1e-12, atol=1e-15, err_msg=col)
    np.testing.assert_array_equal(d["binding_score"], d["sgc_fraction"])
    tests = pd.read_csv(R / "reference_binding_tests.csv").set_index("test")
    w = res.comparison.iloc[0]
    assert w["test"] == "welch" and w["n_donors"] == 6 and w["n_donors_control"] == 4
    for col in ("statistic", "df", "p", "ci_low", "ci_high"):
        assert w[col] == pytest.approx(tests.loc["welch", col], rel=1e-12), col
    mw = binding_analysis(cells, images, control="control", test="mann-whitney").comparison
    assert mw["statistic"].iloc[0] == tests.loc["mann-whitney", "statistic"]
    assert mw["p"].iloc[0] == pytest.approx(tests.loc["mann-whitney", "p"], rel=1e-12)
    assert "exact" in mw["method"].iloc[0]


def test_the_non_binding_donor_and_the_tables(cells, images):
    res = binding_analysis(cells, images, control="control")
    assert tuple(res.donors.columns) == DONOR_TABLE_COLUMNS
    d = res.donors.set_index("donor")
    assert d.loc["F6", "binding_score"] < 0.05 < d.loc["F4", "binding_score"]
    im = res.images
    assert len(im) == 30 and (im["n_sgc"] > 0).all()
    np.testing.assert_allclose(im["sgc_fraction"], im["n_sgc_above"] / im["n_sgc"])
    # the comparison has donors as units, not cells
    assert res.comparison["n_donors"].iloc[0] + res.comparison["n_donors_control"].iloc[0] == 10
    assert "99th percentile" in res.methods() and "one value per donor" in res.methods()


def test_threshold_quantile_is_configurable(cells, images):
    lo = binding_analysis(cells, images, control="control", quantile=0.95)
    hi = binding_analysis(cells, images, control="control", quantile=0.99)
    assert (lo.thresholds["threshold"] < hi.thresholds["threshold"]).all()
    assert (lo.donors["binding_score"] >= hi.donors["binding_score"]).all()


def test_an_image_without_rings_has_no_fraction_not_zero(images):
    cells = pd.DataFrame({"image": ["DRG_H1_1.tif"] * 3 + ["DRG_F1_1.tif"] * 2,
                          "cell": ["1", "2", "3", "1", "2"],
                          "cell_class": ["Neuron", "SGC ring", "SGC ring", "Neuron", "Neuron"],
                          "intensity": [100.0, 50.0, 60.0, 500.0, 90.0]})
    res = binding_analysis(cells, images, control="control")
    im = res.images.set_index("image")
    assert np.isnan(im.loc["DRG_F1_1.tif", "sgc_fraction"])
    assert im.loc["DRG_F1_1.tif", "neuron_fraction"] == 0.5
    f1 = res.donors.set_index("donor").loc["F1"]
    assert "without sgc cells left out" in f1["note"]


def test_too_few_donors_is_said(images):
    donors = pd.DataFrame({"donor": ["a", "b", "c"], "arm": ["control", "control", "patient"],
                           "binding_score": [0.01, 0.02, 0.4]})
    t = donor_arm_test(donors, control="control")
    assert np.isnan(t["p"].iloc[0]) and "at least 2 donors" in t["method"].iloc[0]


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"control": "healthy"}, "control arm 'healthy' is not in the images table"),
    ({"control": "control", "quantile": 99}, "between 0 and 1"),
    ({"control": "control", "test": "t"}, "expected one of welch, mann-whitney"),
    ({"control": "control", "sgc_names": ["glia"]}, "no SGC rings in the control arm"),
])
def test_bad_settings(cells, images, kwargs, words):
    with pytest.raises(AnalysisError) as info:
        binding_analysis(cells, images, **kwargs)
    assert words in str(info.value)


def test_unlisted_image_is_named(cells, images):
    with pytest.raises(AnalysisError, match="not in the images table: DRG_H1_1.tif"):
        binding_analysis(cells, images[images["image"] != "DRG_H1_1.tif"], control="control")


def test_bad_cells_table_names_file_row_and_column(tmp_path):
    p = tmp_path / "cells.csv"
    p.write_text("image,cell,class,mean_intensity,area\n"
                 "a.tif,1,Neuron,120,300\n"
                 "a.tif,2,Neuron,n/a,300\n"
                 "a.tif,1,SGC ring,80,-4\n"
                 ",3,Neuron,10,20\n", encoding="utf-8")
    with pytest.raises(TableProblems) as info:
        read_cells(p)
    text = info.value.render()
    assert f"{p}, row 3, column 'mean_intensity': expected a mean intensity (a finite " \
           "number >= 0) (found 'n/a')" in text
    assert "row 4, column 'area': expected an area (a number > 0) (found '-4')" in text
    assert "row 4, column 'cell': cell 1 of image a.tif appears twice" in text
    assert "row 5, column 'image': empty" in text


def test_missing_column_lists_the_columns(tmp_path):
    p = tmp_path / "cells.csv"
    p.write_text("Image,Class,Mean\na.tif,Neuron,3\n", encoding="utf-8")
    with pytest.raises(TableProblems) as info:
        read_cells(p, image="Image", cell_class="Class", intensity="Mean", area=None)
    assert "no column 'cell' (the cell id column" in info.value.render()
    assert "the table has columns Image, Class, Mean" in info.value.render()


def test_bad_images_table(tmp_path):
    p = tmp_path / "images.csv"
    p.write_text("image,donor,arm\na.tif,H1,control\na.tif,H2,control\nb.tif,,patient\n",
                 encoding="utf-8")
    with pytest.raises(TableProblems) as info:
        read_images(p)
    text = info.value.render()
    assert "row 3, column 'image': image a.tif is listed twice (also row 2)" in text
    assert "row 4, column 'donor': image b.tif: empty" in text
