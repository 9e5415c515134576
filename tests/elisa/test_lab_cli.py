"""``nocilab cytokines`` and ``nocilab binding`` as a user meets them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nocilab.cli import main
from nocilab.elisa import analyse_panel, panel_values
from nocilab.ingest.multiplex import load_panel
from nocilab.stats.binding import binding_analysis
from nocilab.stats.equivalence import equivalence_panel

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data" / "elisa"
SIGNALS = DATA / "multiplex_signals.csv"
LAYOUT = DATA / "multiplex_layout.csv"
CELLS = DATA / "binding_cells.csv"
IMAGES = DATA / "binding_images.csv"
QUPATH = ["--image", "Image", "--cell", "Object ID", "--class", "Class", "--intensity",
          "Mean intensity", "--area", "Area um^2"]


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, " ".join(out.split()), err


def test_cytokines_writes_what_the_library_computes(tmp_path, capsys):
    out = tmp_path / "panel"
    code, text, err = run(capsys, "cytokines", SIGNALS, "--layout", LAYOUT, "--control",
                          "control", "--margin-for", "TNF=0.67,1.5", "--out", out)
    assert code == 0, err
    assert "IL17A: no curve (standards out of order" in text
    assert "inconclusive" in text and "Holm" in text
    assert {p.name for p in out.iterdir()} == {
        "concentrations.csv", "values.csv", "curves.csv", "standards.csv", "equivalence.csv",
        "forest.png", "forest.svg", "methods.txt"}
    got = pd.read_csv(out / "equivalence.csv")
    values = panel_values(analyse_panel(load_panel(SIGNALS, LAYOUT)).samples, by="animal")
    want = equivalence_panel(values, control="control", margins={"TNF": (0.67, 1.5)}).table
    np.testing.assert_allclose(got["p_tost_adj"], want["p_tost_adj"], rtol=1e-12)
    assert got["conclusion"].tolist() == want["conclusion"].tolist()
    tnf = got[got["analyte"] == "TNF"].iloc[0]
    assert tnf["margin_high"] == pytest.approx(np.log10(1.5))
    conc = pd.read_csv(out / "concentrations.csv")
    left = conc[conc["censored"] == "left"]
    assert len(left) and left["concentration"].isna().all() and left["bound"].notna().all()


def test_binding_writes_donor_scores_and_the_test(tmp_path, capsys):
    out = tmp_path / "bind"
    code, text, err = run(capsys, "binding", CELLS, "--images", IMAGES, "--control",
                          "control", *QUPATH, "--test", "mann-whitney", "--out", out)
    assert code == 0, err
    assert "2990 cells in 30 images of 10 donors" in text
    assert "patient (6 donors) vs control (4)" in text and "Mann-Whitney" in text
    donors = pd.read_csv(out / "donors.csv")
    assert len(donors) == 10
    comp = pd.read_csv(out / "comparison.csv").iloc[0]
    ref = pd.read_csv(HERE / "r" / "reference_binding_tests.csv").set_index("test")
    assert comp["p"] == pytest.approx(ref.loc["mann-whitney", "p"], rel=1e-12)


@pytest.mark.parametrize(("args", "words"), [
    (["--margin", "0.8"], "Invalid value for '--margin': expected LOW,HIGH"),
    (["--scale", "ln"], "Invalid value for '--scale': expected one of log10, linear"),
    (["--adjust", "fdr"], "expected one of holm, bh, none"),
    (["--margin-for", "IL6"], "expected ANALYTE=LOW,HIGH"),
])
def test_cytokines_usage_errors_exit_2(tmp_path, capsys, args, words):
    code, _, err = run(capsys, "cytokines", SIGNALS, "--layout", LAYOUT, "--control",
                       "control", "--out", tmp_path / "o", *args)
    assert code == 2
    assert words in " ".join(err.split()) and "Usage:" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(("args", "words", "exit_code"), [
    (["--control", "vehicle"], "control arm 'vehicle' is not in column 'arm'", 1),
    (["--control", "control", "--by", "mouse"], "the layout has no column 'mouse' (--by)", 1),
    (["--control", "control", "--margin", "1.25,0.8"], "LOW (1.25) must be below HIGH", 1),
    (["--control", "control", "--signal", "MFI"], "no column 'MFI' (the signal column)", 3),
])
def test_cytokines_data_errors_are_messages(tmp_path, capsys, args, words, exit_code):
    code, _, err = run(capsys, "cytokines", SIGNALS, "--layout", LAYOUT, "--out",
                       tmp_path / "o", *args)
    assert code == exit_code, err
    assert words in " ".join(err.split()) and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_binding_bad_table_names_row_and_nothing_is_written(tmp_path, capsys):
    bad = tmp_path / "cells.csv"
    bad.write_text("image,cell,class,mean_intensity,area\nDRG_H1_1.tif,1,Neuron,abc,30\n",
                   encoding="utf-8")
    code, _, err = run(capsys, "binding", bad, "--images", IMAGES, "--control", "control",
                       "--out", tmp_path / "o")
    assert code == 3
    err = " ".join(err.split())
    assert f"{bad}, row 2, column 'mean_intensity': expected a mean intensity" in err
    assert "(found 'abc')" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_binding_usage_errors_exit_2(tmp_path, capsys):
    code, _, err = run(capsys, "binding", CELLS, "--images", IMAGES, "--control", "control",
                       "--quantile", "99", "--out", tmp_path / "o")
    assert code == 2 and "Invalid value for '--quantile'" in err and "Usage:" in err
    code, _, err = run(capsys, "binding", CELLS, "--images", IMAGES, "--control", "control",
                       "--test", "t", "--out", tmp_path / "o")
    assert code == 2 and "expected one of welch, mann-whitney" in err


def test_binding_control_without_cells_of_a_class(tmp_path, capsys):
    code, _, err = run(capsys, "binding", CELLS, "--images", IMAGES, "--control", "control",
                       *QUPATH, "--sgc-class", "glia", "--out", tmp_path / "o")
    assert code == 1 and "no SGC rings in the control arm" in " ".join(err.split())


def test_binding_result_equals_the_library(tmp_path, capsys):
    from nocilab.ingest.cells import read_cells, read_images

    out = tmp_path / "bind"
    code, _, err = run(capsys, "binding", CELLS, "--images", IMAGES, "--control", "control",
                       *QUPATH, "--quantile", "0.95", "--out", out)
    assert code == 0, err
    lib = binding_analysis(read_cells(CELLS, image="Image", cell="Object ID",
                                      cell_class="Class", intensity="Mean intensity",
                                      area="Area um^2"),
                           read_images(IMAGES), control="control", quantile=0.95)
    got = pd.read_csv(out / "donors.csv")
    np.testing.assert_allclose(got["binding_score"], lib.donors["binding_score"], rtol=1e-12)
