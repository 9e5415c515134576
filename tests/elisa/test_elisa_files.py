"""Plate layouts and reader exports: the shapes labs have, and every bad well named."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook

from nocilab.errors import ImportProblems
from nocilab.ingest.plates import (
    load_plate,
    parse_well,
    plate_wells,
    read_layout,
    read_plate_reader,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "elisa"
LAYOUT = DATA / "igg_plate_layout.csv"
READER = DATA / "igg_plate_reader.csv"
ROWS = "ABCDEFGH"


def grid_values() -> np.ndarray:
    """The committed export's 8 x 12 ODs."""
    lines = READER.read_text().splitlines()[4:12]
    return np.array([[float(v) for v in ln.split(",")[1:]] for ln in lines])


def problems_of(exc: pytest.ExceptionInfo) -> list[str]:
    return [str(p) for p in exc.value.problems]


def write_layout(path: Path, rows: list[str],
                 header: str = "well,kind,sample,dilution,concentration") -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def test_committed_plate_reads_into_the_tidy_wells_table():
    wells, plate = load_plate(READER, LAYOUT)
    expected = pd.read_csv(DATA / "igg_plate_wells.csv", keep_default_na=False, na_values=[""])
    assert list(wells["well"]) == list(expected["well"])
    np.testing.assert_array_equal(wells["od"], expected["od"])
    assert not wells["saturated"].any()
    assert plate.label == "plate 1 (labelled grid)"
    assert set(wells["kind"]) == {"standard", "blank", "sample"}
    assert wells.loc[wells["well"] == "H1", "concentration"].item() == 7.8125
    # unused wells (C3-H3, column 12) are not in the table
    assert "A12" not in set(wells["well"])


def test_xlsx_with_titles_and_two_plates_on_two_sheets(tmp_path):
    values = grid_values()
    book = Workbook()
    for k, ws in enumerate([book.active, book.create_sheet("Plate 2")]):
        ws.title = f"Plate {k + 1}"
        ws["A1"] = "Gen5 export"
        ws["A2"] = "Read 450 nm"
        ws.cell(row=5, column=3, value=None)
        for j in range(12):
            ws.cell(row=5, column=3 + j, value=j + 1)  # numbers 1..12 in C5:N5
        for i in range(8):
            ws.cell(row=6 + i, column=2, value=ROWS[i])
            for j in range(12):
                ws.cell(row=6 + i, column=3 + j, value=float(values[i, j]) + k)
    path = tmp_path / "reader.xlsx"
    book.save(path)
    plates = read_plate_reader(path)
    assert [p.label for p in plates] == ["Plate 1, plate 1 (labelled grid)",
                                         "Plate 2, plate 2 (labelled grid)"]
    assert plates[0].where["B2"] == f"{path}, sheet 'Plate 1', cell D7"
    with pytest.raises(ImportProblems, match="holds 2 plates .*choose one with --plate N"):
        load_plate(path, LAYOUT)
    wells, _ = load_plate(path, LAYOUT, plate=2)
    assert wells.loc[wells["well"] == "A1", "od"].item() == pytest.approx(values[0, 0] + 1)
    wells, _ = load_plate(path, LAYOUT, sheet="Plate 1")
    assert wells.loc[wells["well"] == "A1", "od"].item() == pytest.approx(values[0, 0])
    with pytest.raises(ImportProblems, match="there is no plate 3"):
        load_plate(path, LAYOUT, plate=3)


@pytest.mark.parametrize("shape", ["bare", "letters", "numbers"])
def test_grids_without_full_labels(tmp_path, shape):
    values = grid_values()
    lines = []
    if shape == "numbers":
        lines.append("," + ",".join(str(j) for j in range(1, 13)))
    for i in range(8):
        cells = [f"{v:.3f}" for v in values[i]]
        lead = {"bare": [], "letters": [ROWS[i]], "numbers": [""]}[shape]
        lines.append(",".join(lead + cells))
    path = tmp_path / "grid.csv"
    path.write_text("\n".join(lines) + "\n")
    (plate,) = read_plate_reader(path)
    assert float(plate.values["H12"]) == values[7, 11]
    assert float(plate.values["A1"]) == values[0, 0]


def test_semicolons_and_decimal_commas(tmp_path):
    values = grid_values()
    lines = [";" + ";".join(str(j) for j in range(1, 13))]
    for i in range(8):
        lines.append(";".join([ROWS[i]] + [f"{v:.3f}".replace(".", ",") for v in values[i]]))
    path = tmp_path / "eu.csv"
    path.write_text("\n".join(lines) + "\n")
    wells, _ = load_plate(path, LAYOUT)
    assert wells.loc[wells["well"] == "D7", "od"].item() == values[3, 6]


def test_no_grid_is_said_plainly(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("this,is\nnot,a plate\n")
    with pytest.raises(ImportProblems, match="no 8 x 12 grid of optical densities found"):
        read_plate_reader(path)
    with pytest.raises(ImportProblems, match="file not found"):
        read_plate_reader(tmp_path / "missing.csv")


def reader_with(tmp_path: Path, changes: dict[str, str]) -> Path:
    text = READER.read_text().splitlines()
    grid = [ln.split(",") for ln in text[4:12]]
    for well, value in changes.items():
        grid[ROWS.index(well[0])][int(well[1:])] = value
    path = tmp_path / "reader.csv"
    path.write_text("\n".join(text[:4] + [",".join(r) for r in grid]) + "\n")
    return path


def test_every_bad_reader_cell_is_named_with_file_cell_well_and_value(tmp_path):
    path = reader_with(tmp_path, {"B5": "abc", "C6": "", "A3": "OVRFLW", "A12": "junk"})
    with pytest.raises(ImportProblems) as exc:
        load_plate(path, LAYOUT)
    got = problems_of(exc)
    assert len(got) == 3, got  # A12 is not used by the layout
    assert got[0] == (f"{path}, row 5, column 4 (well A3): the layout's blank is saturated "
                      "(found 'OVRFLW')")
    assert got[1].startswith(f"{path}, row 6, column 6 (well B5): expected an optical density "
                             "(a number) or a saturation mark such as OVRFLW for the layout's "
                             "sample S02")
    assert got[1].endswith("(found 'abc')")
    assert got[2] == (f"{path}, row 7, column 7 (well C6): empty, but it holds the layout's "
                      "sample S11")
    assert "nothing was imported" in str(exc.value)


def test_saturated_sample_and_standard_wells_are_kept_as_saturated(tmp_path):
    path = reader_with(tmp_path, {"A4": "OVRFLW", "A1": ">3.5", "B1": "*"})
    wells, _ = load_plate(path, LAYOUT)
    sat = wells.set_index("well")["saturated"]
    assert sat[["A4", "A1", "B1"]].all() and sat.sum() == 3
    assert wells.set_index("well").loc[["A4", "A1"], "od"].isna().all()


def test_layout_problems_are_all_reported_at_once(tmp_path):
    path = write_layout(tmp_path / "layout.csv", [
        "A1,standard,,,1000",
        "A01,standard,,,1000",        # duplicate of A1
        "I3,blank,,,",                # no row I on a 96-well plate
        "A13,blank,,,",               # no column 13
        "B1,standrd,,,500",           # unknown kind
        "C1,standard,,,",             # no concentration
        "D1,standard,,,0",            # zero standard
        "E1,standard,,,1;000",        # not a number
        "A4,sample,,1000,",           # no sample id
        "A5,sample,S1,abc,",          # bad dilution
        "A6,sample,S2,,",             # no dilution
        "A7,sample,S3,0.5,",          # dilution below 1
        "A8,sample,S4,1:2000,",       # fine
        "A9,sample,S5,1/500,",        # fine
    ])
    with pytest.raises(ImportProblems) as exc:
        read_layout(path)
    got = problems_of(exc)
    assert len(got) == 11, got
    assert got[0] == f"{path}, row 3, column 'well': well A1 appears twice (also row 2)"
    assert got[1] == (f"{path}, row 4, column 'well': not a well of a 96-well plate "
                      "(A1 to H12) (found 'I3')")
    assert "(found 'A13')" in got[2]
    assert got[3].endswith("kind must be one of standard, blank, sample, empty (found 'standrd')")
    assert got[4] == (f"{path}, row 7, column 'concentration': well C1: a standard needs its "
                      "concentration (a number)")
    assert "a zero standard is kind blank" in got[5]
    assert "(found '1;000')" in got[6]
    assert got[7] == f"{path}, row 10, column 'sample': well A4: a sample well needs its sample id"
    assert "(found 'abc')" in got[8] and "1 for an undiluted sample" in got[9]
    assert "(found '0.5')" in got[10]


def test_layout_dilutions_extra_columns_and_empty_wells(tmp_path):
    path = write_layout(tmp_path / "layout.csv", [
        "A1,standard,,,1000", "A2,std,,,500", "A3,blank,,,", "A4,empty,,,",
        "A5,sample,M1-d3,1:2000,,M1,3", "A6,unknown,M1-d3,1/2000,,M1,3",
    ], header="well,kind,sample,dilution,concentration,animal,study_day")
    lay = read_layout(path)
    assert list(lay["well"]) == ["A1", "A2", "A3", "A5", "A6"]
    assert list(lay["kind"]) == ["standard", "standard", "blank", "sample", "sample"]
    assert list(lay.loc[lay["kind"] == "sample", "dilution"]) == [2000.0, 2000.0]
    assert list(lay.columns) == ["well", "kind", "sample", "dilution", "concentration",
                                 "animal", "study_day"]


def test_layout_needs_its_columns_and_standards(tmp_path):
    path = tmp_path / "layout.csv"
    path.write_text("position,type\nA1,standard\n")
    with pytest.raises(ImportProblems) as exc:
        read_layout(path)
    assert [p.why for p in exc.value.problems][0].startswith("no column 'well'")
    assert len(exc.value.problems) == 2
    path = write_layout(tmp_path / "layout2.csv", ["A3,blank,,,", "A5,sample,S1,10,"])
    with pytest.raises(ImportProblems, match="the layout has no standard wells"):
        read_layout(path)


def test_layout_from_xlsx(tmp_path):
    lay = pd.read_csv(LAYOUT, keep_default_na=False)
    path = tmp_path / "layout.xlsx"
    lay.to_excel(path, index=False)
    got = read_layout(path)
    np.testing.assert_array_equal(got["concentration"], pd.to_numeric(lay["concentration"]))
    assert list(got["well"]) == list(lay["well"])


def test_wells_of_96_and_384_plates():
    assert parse_well("a01") == "A1" and parse_well(" H12 ") == "H12"
    assert parse_well("I1") is None and parse_well("A13") is None and parse_well("1A") is None
    assert parse_well("P24", plate_format=384) == "P24"
    assert parse_well("Q1", plate_format=384) is None


def test_plate_wells_keeps_the_layout_order_and_columns():
    lay = read_layout(LAYOUT)
    (plate,) = read_plate_reader(READER)
    wells = plate_wells(lay, plate)
    assert list(wells.columns) == list(lay.columns) + ["od", "saturated"]
    assert wells["od"].dtype == float and wells["saturated"].dtype == bool
