"""The von Frey table reader on the real pre/post data, and its reports of bad cells.

Real data: ../shared/data/vonfrey_prepost (github.com/raqueladaia/vf_updown_analysis, MIT,
Sandoval Ortega 2026): 144 rows, 120 series with the last filament given as the lab's
filament number 1..8; the lab's filaments are in tests/data/vonfrey_lab_filaments.csv.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nocilab.cli import main
from nocilab.errors import AssayError, ImportProblems
from nocilab.ingest.vonfrey_table import NOT_TESTED, RESULT_COLUMNS, vonfrey_table, write_table

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
DATA = SHARED / "data" / "vonfrey_prepost"
LAB_SET = Path(__file__).resolve().parents[1] / "data" / "vonfrey_lab_filaments.csv"
LAB_LOG = {1: 1.65, 2: 2.36, 3: 2.83, 4: 3.22, 5: 3.61, 6: 4.08, 7: 4.31, 8: 4.74}


@pytest.fixture
def prepost() -> Path:
    path = DATA / "data_pre-post_experiment.xlsx"
    if not path.is_file():
        pytest.skip(f"{path} is missing (../shared is not beside the repository)")
    return path


def _dixon_table() -> dict[str, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl: "Cannot parse header or footer"
        t = pd.read_excel(DATA / "VF_Calculator_Up-down.xlsx", sheet_name="values_analysis",
                          usecols="A:B").dropna()
    return dict(zip(t.iloc[:, 0].str.strip(), t.iloc[:, 1].astype(float), strict=True))


def test_real_pre_post_data(prepost):
    t = vonfrey_table(prepost, series_column="xo_series", last_column="last_filament",
                      filaments=LAB_SET, delta=0.441)
    assert len(t) == 144
    assert list(t.columns) == ["mouse", "drug", "treatment", "timepoint", "xo_series",
                               "last_filament", *RESULT_COLUMNS]
    tested = t["xo_series"].notna()
    assert tested.sum() == 120
    assert t.loc[tested, "threshold_g"].notna().all()
    assert (t.loc[tested, "note"] == "").all()
    assert (t.loc[~tested, "note"] == NOT_TESTED).all()
    assert t.loc[~tested, ["k", "threshold_g", "bound_g"]].isna().all().all()
    assert (t["censored"] == "none").all()  # every series of this experiment changes response

    # by hand: k from the lab's copy of Dixon's table, 10**(Xf + k * delta) / 10**4
    table = _dixon_table()
    checked = 0
    for _, row in t[tested].iterrows():
        pattern = row["xo_series"].upper()
        if pattern not in table:
            continue
        k = table[pattern]
        xf = LAB_LOG[int(row["last_filament"])]
        assert round(row["k"], 3) == pytest.approx(k, abs=1e-9), pattern
        assert row["threshold_g"] == pytest.approx(10 ** (xf + k * 0.441) / 1e4, rel=1.1e-3)
        checked += 1
    assert checked >= 40

    # two rows worked through completely
    first = t.iloc[0]  # mouse 4812, ooooxxoxx, filament 6 (log 4.08)
    assert (first["xo_series"], int(first["last_filament"])) == ("ooooxxoxx", 6)
    assert first["threshold_g"] == pytest.approx(10 ** (4.08 + first["k"] * 0.441) / 1e4)
    row = t.iloc[1]  # mouse 4813, ooxoxox, filament 6; Dixon: OOXOXOX = -0.458
    assert row["k"] == pytest.approx(-0.458, abs=5e-4)
    assert row["threshold_g"] == pytest.approx(10 ** (4.08 - 0.458 * 0.441) / 1e4, rel=1e-3)


def test_round_trip_csv_and_xlsx(tmp_path):
    src = tmp_path / "vf.csv"
    src.write_text("animal,series,last\nm1,OXOOXX,5\nm2,xxxx,1\nm3,,\n")
    t = vonfrey_table(src, series_column="series", last_column="last", filaments="mouse")
    assert t["censored"].tolist() == ["none", "left", "none"]
    assert t.loc[2, "note"] == NOT_TESTED
    for name in ("out.csv", "out.xlsx"):
        out = write_table(t, tmp_path / name)
        back = pd.read_csv(out) if name.endswith(".csv") else pd.read_excel(out)
        assert back["threshold_g"].to_numpy() == pytest.approx(
            t["threshold_g"].to_numpy(dtype=float), nan_ok=True)
        assert back["censored"].tolist() == ["none", "left", "none"]


def test_every_bad_cell_is_listed(tmp_path):
    src = tmp_path / "vf.xlsx"
    pd.DataFrame({
        "animal": ["m1", "m2", "m3", "m4", "m5"],
        "XO": ["OXOX", "OXZ", None, "OX", "OXO"],
        "Last": [4, 3, 5, 12, None],
    }).to_excel(src, sheet_name="day 1", index=False)
    with pytest.raises(ImportProblems) as err:
        vonfrey_table(src, series_column="XO", last_column="Last", filaments="mouse")
    msg = err.value.render()
    got = [(p.where, p.value) for p in err.value.problems]
    assert got == [
        (f"{src}, sheet 'day 1', row 3, column 'XO'", "OXZ"),
        (f"{src}, sheet 'day 1', row 4, column 'XO'", None),
        (f"{src}, sheet 'day 1', row 5, column 'Last'", 12),
        (f"{src}, sheet 'day 1', row 6, column 'Last'", None),
    ]
    assert "found 'Z'" in msg and "no X/O series recorded" in msg
    assert "not a filament of set 'mouse'" in msg and "no last filament recorded" in msg


def test_missing_columns_name_the_columns_found(tmp_path):
    src = tmp_path / "vf.csv"
    src.write_text("animal,xo,last\nm1,OX,3\n")
    with pytest.raises(ImportProblems) as err:
        vonfrey_table(src, series_column="xo_series", last_column="last", filaments="rat")
    (problem,) = err.value.problems
    assert "no column 'xo_series'" in problem.why
    assert "columns found: 'animal', 'xo', 'last'" in problem.why


def test_result_columns_are_not_overwritten(tmp_path):
    src = tmp_path / "vf.csv"
    src.write_text("xo,last,threshold_g\nOX,3,1.0\n")
    with pytest.raises(ImportProblems, match="already has column"):
        vonfrey_table(src, series_column="xo", last_column="last")


def test_bad_filament_set_and_delta(tmp_path):
    src = tmp_path / "vf.csv"
    src.write_text("xo,last\nOX,3\n")
    with pytest.raises(AssayError, match="not a built-in set"):
        vonfrey_table(src, series_column="xo", last_column="last", filaments="hamster")
    with pytest.raises(AssayError, match="delta"):
        vonfrey_table(src, series_column="xo", last_column="last", delta=0.0)


def test_the_command_line(prepost, tmp_path, capsys):
    out = tmp_path / "thresholds.xlsx"
    rc = main(["vonfrey", str(prepost), "--series", "xo_series", "--last", "last_filament",
               "--filaments", str(LAB_SET), "--delta", "0.441", "--out", str(out)])
    assert rc == 0
    back = pd.read_excel(out)
    assert len(back) == 144 and np.isfinite(back["threshold_g"]).sum() == 120
