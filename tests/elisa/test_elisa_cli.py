"""``nocilab elisa`` as a user meets it: the summary, the files, the refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nocilab.cli import main

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data" / "elisa"
LAYOUT = DATA / "igg_plate_layout.csv"
READER = DATA / "igg_plate_reader.csv"


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("model", "weights"), [("4pl", "none"), ("5pl", "1/y^2")])
def test_concentrations_written_match_r(tmp_path, capsys, model, weights):
    out = tmp_path / "res" / "results.csv"
    code, text, err = run(capsys, "elisa", READER, "--layout", LAYOUT, "--out", out,
                          "--model", model, "--weights", weights,
                          "--standards", tmp_path / "std.xlsx", "--parameters", tmp_path / "p.csv")
    assert code == 0, err
    text = " ".join(text.split())  # the console wraps long lines
    assert f"{model.upper()} fit" in text and "R² 0.999" in text
    assert "recovery" in text and "LLOQ 7.812 ng/mL, ULOQ 1000 ng/mL" in text
    assert "24 quantified, 5 below the LLOQ, 3 above the ULOQ" in text
    assert "2 blank wells, mean OD 0.0685 subtracted, 32 samples" in text
    got = pd.read_csv(out).set_index("sample")
    ref = pd.read_csv(HERE / "r" / "reference_samples.csv")
    ref = ref[(ref["model"] == model) & (ref["weights"] == weights)].set_index("sample")
    got = got.loc[ref.index]
    assert list(got["censored"]) == list(ref["censored"])
    np.testing.assert_allclose(got["concentration"], ref["concentration"], rtol=1e-6,
                               equal_nan=True)
    np.testing.assert_allclose(got["bound"], ref["bound"], rtol=1e-12, equal_nan=True)
    assert (got["unit"] == "ng/mL").all()
    std = pd.read_excel(tmp_path / "std.xlsx")
    assert len(std) == 8 and std["recovery_ok"].all()
    params = pd.read_csv(tmp_path / "p.csv")
    n = 4 if model == "4pl" else 5
    assert list(params["parameter"]) == ["r0", "rinf", "xmid", "scal", "g"][:n] + ["ec50", "hill"]


def test_a_bad_reader_file_names_the_well_and_writes_nothing(tmp_path, capsys):
    lines = READER.read_text().splitlines()
    lines[5] = lines[5].replace("1.928", "1.9x8")  # well B4
    bad = tmp_path / "reader.csv"
    bad.write_text("\n".join(lines) + "\n")
    out = tmp_path / "results.csv"
    code, _, err = run(capsys, "elisa", bad, "--layout", LAYOUT, "--out", out)
    assert code == 3
    err = " ".join(err.split())
    assert "(well B4): expected an optical density" in err and "'1.9x8'" in err
    assert "Traceback" not in err and not out.exists()


def test_a_failed_curve_is_an_error_with_the_reason(tmp_path, capsys):
    lines = READER.read_text().splitlines()
    # swap the 250 and 125 standards (rows C and D, columns 1-2)
    c, d = lines[6].split(","), lines[7].split(",")
    c[1:3], d[1:3] = d[1:3], c[1:3]
    lines[6], lines[7] = ",".join(c), ",".join(d)
    bad = tmp_path / "reader.csv"
    bad.write_text("\n".join(lines) + "\n")
    out = tmp_path / "results.csv"
    code, _, err = run(capsys, "elisa", bad, "--layout", LAYOUT, "--out", out)
    assert code == 1 and "standards out of order: 250 reads" in " ".join(err.split())
    assert "Traceback" not in err and not out.exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--model", "3pl"], "unknown curve model '3pl'; expected one of 4pl, 5pl"),
    (["--weights", "1/x"], "expected one of none, 1/y, 1/y^2"),
    (["--blank", "median"], "expected one of mean, none"),
    (["--recovery", "80"], "--recovery must be LOW,HIGH"),
    (["--plate", "2"], "there is no plate 2: the file holds 1"),
])
def test_bad_options_are_refused_plainly(tmp_path, capsys, args, message):
    out = tmp_path / "results.csv"
    code, _, err = run(capsys, "elisa", READER, "--layout", LAYOUT, "--out", out, *args)
    assert code != 0 and message in " ".join(err.split())
    assert "Traceback" not in err and not out.exists()


def test_output_must_be_csv_or_xlsx(tmp_path, capsys):
    code, _, err = run(capsys, "elisa", READER, "--layout", LAYOUT, "--out", tmp_path / "r.txt")
    assert code == 1 and "output must end in .csv or .xlsx" in err
    assert not (tmp_path / "r.txt").exists()


def test_layout_may_not_carry_reader_columns(tmp_path, capsys):
    code, _, err = run(capsys, "elisa", READER, "--layout", DATA / "igg_plate_wells.csv",
                       "--out", tmp_path / "r.csv")
    assert code == 3 and "column 'od' belongs in the reader's export" in " ".join(err.split())
