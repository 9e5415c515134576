"""One set of "no reading" markers, the same in CSV and XLSX, long and wide sheets."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from nocilab.errors import ImportProblems
from nocilab.ingest import build_mapping, read_observations
from nocilab.ingest.files import MISSING_MARKERS
from nocilab.model import load_study

# every documented marker, as labs type them (case and spaces vary)
SPELLINGS = ["-", " - ", "\u2013", "\u2014", "n/a", "N/A", "na", "NA", "nt", "NT",
             "not tested", "Not Tested", "missing", "MISSING", "", "   "]
NOT_MARKERS = ["abc", "n.a.", "none", "?", "0,5", "#N/A", "#DIV/0!"]
"""Not missing: any other text, and spreadsheet formula errors (a formula that failed is
not a reading left out)."""


def test_the_spellings_cover_every_documented_marker():
    assert {s.strip().lower() for s in SPELLINGS} == set(MISSING_MARKERS) | {""}


def _write(frame: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        with pd.ExcelWriter(path) as xl:
            frame.to_excel(xl, sheet_name="week 1", index=False)
    return path


def _long(tmp_path: Path, cell: object, suffix: str) -> tuple[Path, object]:
    frame = pd.DataFrame({"animal": ["M001", "M002", "M003"], "study_day": [-3, -3, -3],
                          "trial": [1, 1, 1], "force_g": [120.5, cell, 98.0]}, dtype=object)
    mapping = build_mapping(layout="long", assay="paw_pressure", animal="animal",
                            day="study_day", trial="trial", quantity=["force_g"],
                            columns=None, sheet=None, skip_rows=0)
    return _write(frame, tmp_path / f"long{suffix}"), mapping


def _wide(tmp_path: Path, cell: object, suffix: str, study) -> tuple[Path, object]:
    frame = pd.DataFrame({"Mouse": ["M001", "M002"], "D-3_t1": [120.5, 101.0],
                          "D-3_t2": [cell, 98.0]}, dtype=object)
    return _write(frame, tmp_path / f"wide{suffix}"), study.mappings["paw_pressure_wide"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@pytest.mark.parametrize("layout", ["long", "wide"])
@pytest.mark.parametrize("cell", SPELLINGS)
def test_a_marker_means_no_reading(study_dir, tmp_path, suffix, layout, cell):
    study = load_study(study_dir)
    path, mapping = (_long(tmp_path, cell, suffix) if layout == "long"
                     else _wide(tmp_path, cell, suffix, study))
    rows = read_observations(path, study, mapping)
    # the marker cell is left out; every other cell is read
    expected = [120.5, 98.0] if layout == "long" else [120.5, 101.0, 98.0]
    assert sorted(rows["value_num"]) == sorted(expected)
    if layout == "long":
        assert "M002" not in set(rows["animal"])
    else:
        assert rows[["animal", "trial"]].values.tolist() == [["M001", 1], ["M002", 1],
                                                              ["M002", 2]]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@pytest.mark.parametrize("layout", ["long", "wide"])
@pytest.mark.parametrize("cell", NOT_MARKERS)
def test_any_other_text_is_a_bad_cell_named_by_file_sheet_row_and_column(
        study_dir, tmp_path, suffix, layout, cell):
    study = load_study(study_dir)
    path, mapping = (_long(tmp_path, cell, suffix) if layout == "long"
                     else _wide(tmp_path, cell, suffix, study))
    with pytest.raises(ImportProblems) as info:
        read_observations(path, study, mapping)
    (p,) = info.value.problems
    sheet = ", sheet 'week 1'" if suffix == ".xlsx" else ""
    column = "force_g" if layout == "long" else "D-3_t2"
    row = 3 if layout == "long" else 2
    assert p.where == f"{path}{sheet}, row {row}, column {column!r}"
    assert "force_g must be a number" in p.why and p.value == cell


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_rows_keep_their_numbers_after_a_blank_row(study_dir, tmp_path, suffix):
    study = load_study(study_dir)
    frame = pd.DataFrame({"animal": ["M001", None, "M003"], "study_day": [-3, None, -3],
                          "trial": [1, None, 1], "force_g": [120.5, None, "abc"]},
                         dtype=object)
    path, mapping = _long(tmp_path, 0, suffix)
    if suffix == ".csv":  # a truly empty line, as an editor leaves it
        path.write_text("animal,study_day,trial,force_g\nM001,-3,1,120.5\n\nM003,-3,1,abc\n")
    else:
        _write(frame, path)
    with pytest.raises(ImportProblems) as info:
        read_observations(path, study, mapping)
    (p,) = info.value.problems
    assert p.where.endswith("row 4, column 'force_g'")
