"""Exports: CSV and XLSX round-trip exactly; the Prism file parses, has the grouped
layout Prism expects, and gives back every number, row title and data-set title."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from nocilab.errors import NocilabError, SchemaError
from nocilab.report.exports import sheet_names as excel_sheet_names
from nocilab.report.exports import (
    tables_by_outcome,
    to_pzfx,
    write_csv_tables,
    write_pzfx,
    write_xlsx,
)

NS = {"p": "http://graphpad.com/prism/Prism.htm"}
DAYS = (-3, -1, 2, 7)
WHEN = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)


def make_derived(seed: int = 3, *, donors: dict[str, int] | None = None, mice: int = 2,
                 outcome: str = "threshold_g", unit: str = "g", assay: str = "paw_pressure",
                 cutoff: float = 150.0) -> pd.DataFrame:
    """Seeded derived rows; values with many decimals so that rounding would show."""
    rng = np.random.default_rng(seed)
    donors = donors or {"patient": 3, "control": 2}
    rows, n = [], 0
    for arm, k in donors.items():
        for j in range(k):
            donor = f"{arm[0].upper()}{j + 1}"
            for _ in range(mice):
                n += 1
                for day in DAYS:
                    v = float(rng.normal(120 if arm == "control" or day < 0 else 80, 20))
                    cens, bound = ("right", cutoff) if v >= cutoff else ("none", np.nan)
                    rows.append({"animal": f"A{n}", "donor": donor, "preparation": f"IgG-{donor}",
                                 "arm": arm, "sex": "F", "cage": "K1", "study_day": day,
                                 "assay": assay, "outcome": outcome,
                                 "value": min(v, cutoff), "unit": unit, "censored": cens,
                                 "bound": bound, "n_trials": 3, "note": ""})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- CSV

def test_csv_round_trips_exactly(tmp_path):
    d = make_derived()
    summary = d.groupby(["arm", "study_day"])["value"].agg(["mean", "count"])  # named index
    paths = write_csv_tables({"derived": d, "summary.csv": summary}, tmp_path / "out")
    assert [p.name for p in paths] == ["derived.csv", "summary.csv"]
    back = pd.read_csv(paths[0], keep_default_na=False, na_values=[""])
    assert list(back.columns) == list(d.columns)
    np.testing.assert_array_equal(back["value"].to_numpy(), d["value"].to_numpy())
    assert back["animal"].tolist() == d["animal"].tolist()
    assert back["bound"].isna().tolist() == d["bound"].isna().tolist()
    s = pd.read_csv(paths[1])
    assert list(s.columns) == ["arm", "study_day", "mean", "count"]
    np.testing.assert_array_equal(s["mean"].to_numpy(), summary["mean"].to_numpy())
    assert b"\r\n" not in paths[0].read_bytes()


@pytest.mark.parametrize("name", ["../escape", "a b", "CON", "nul.txt", "", "x.", ".hidden",
                                  "é", "a/b", "x" * 101])
def test_csv_rejects_unsafe_names(tmp_path, name):
    with pytest.raises(NocilabError, match="not a safe file name"):
        write_csv_tables({name: pd.DataFrame({"a": [1]})}, tmp_path)


def test_csv_rejects_names_equal_but_for_case_and_non_frames(tmp_path):
    with pytest.raises(NocilabError, match="case-insensitive"):
        write_csv_tables({"Derived": pd.DataFrame(), "derived": pd.DataFrame()}, tmp_path)
    with pytest.raises(SchemaError, match="'x' is a list"):
        write_csv_tables({"x": [1, 2]}, tmp_path)


# ---------------------------------------------------------------------------- XLSX

def test_xlsx_one_sheet_per_table_numbers_as_numbers(tmp_path):
    d = make_derived()
    d.loc[0, "note"] = "=HYPERLINK(\"http://example.org\")"
    d.loc[1, "value"] = np.nan
    d["flag"] = d["censored"] != "none"
    d["when"] = pd.Timestamp("2024-01-02 03:04:05")
    path = tmp_path / "sub" / "tables.xlsx"
    long1, long2 = "a very long table name that Excel cuts", "a very long table name that Excel c"
    names = write_xlsx({"derived": d, long1: d.head(3), long2: d.head(2)}, path)
    assert names == {"derived": "derived", long1: "a very long table name that Exc",
                     long2: "a very long table name that E~2"}
    wb = load_workbook(path)
    assert wb.sheetnames == list(names.values())
    ws = wb["derived"]
    header = [c.value for c in ws[1]]
    assert header == list(d.columns)
    assert all(c.font.b for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:{ws.cell(1, len(header)).column_letter}{len(d) + 1}"
    col = {name: i + 1 for i, name in enumerate(header)}
    values = [ws.cell(r + 2, col["value"]) for r in range(len(d))]
    assert values[1].value is None
    for r, cell in enumerate(values):
        if r != 1:
            assert cell.data_type == "n" and cell.value == d["value"].iloc[r]  # exact
    day = ws.cell(2, col["study_day"])
    assert day.value == -3 and day.data_type == "n"
    note = ws.cell(2, col["note"])
    assert note.data_type == "s" and note.value.startswith("=HYPERLINK")  # text, not formula
    assert isinstance(ws.cell(2, col["flag"]).value, bool)
    assert ws.cell(2, col["when"]).value == datetime(2024, 1, 2, 3, 4, 5)
    # widths fitted: at least the header, more for long text
    for name in ("animal", "preparation", "note"):
        letter = ws.cell(1, col[name]).column_letter
        assert ws.column_dimensions[letter].width >= len(name) + 2
    letter = ws.cell(1, col["note"]).column_letter
    assert ws.column_dimensions[letter].width >= len(d.loc[0, "note"])
    # and pandas reads the same table back
    back = pd.read_excel(path, sheet_name="derived")
    np.testing.assert_array_equal(back["value"].to_numpy(), d["value"].to_numpy())


def test_sheet_names_are_excel_safe_and_unique():
    got = excel_sheet_names(["a/b:c", "A_B_C", "History", "'quoted'", "[x]*?", ""])
    assert got == {"a/b:c": "a_b_c", "A_B_C": "A_B_C~2", "History": "History_",
                   "'quoted'": "quoted", "[x]*?": "_x___", "": "Sheet"}
    assert all(len(v) <= 31 for v in got.values())


# ---------------------------------------------------------------------------- pzfx

def _table(root: ET.Element, i: int = 0) -> ET.Element:
    return root.findall("p:Table", NS)[i]


def _read_grouped(table: ET.Element) -> tuple[list[str], dict[str, list[list[str | None]]]]:
    """Row titles and data set -> subcolumns (lists of cell texts) of a grouped table."""
    rows = [d.text for d in table.findall("p:RowTitlesColumn/p:Subcolumn/p:d", NS)]
    sets = {}
    for col in table.findall("p:YColumn", NS):
        title = col.find("p:Title", NS).text
        sets[title] = [[d.text for d in sc.findall("p:d", NS)]
                       for sc in col.findall("p:Subcolumn", NS)]
    return rows, sets


def test_pzfx_grouped_table_round_trips_numbers_and_titles():
    d = make_derived(donors={"patient": 3, "control": 2})
    # a missing value (no row) and one with no value: both must come back as empty cells
    d = d[~((d["animal"] == "A1") & (d["study_day"] == 7))].copy()
    injured = (d["animal"] == "A2") & (d["study_day"] == 2)
    d.loc[injured, ["value", "note"]] = [np.nan, "paw injured"]
    text = to_pzfx(d, control="control", arm_labels={"patient": "FMS IgG", "control": "HC IgG"},
                   created=WHEN)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<GraphPadPrismFile')
    root = ET.fromstring(text)
    assert root.tag == "{http://graphpad.com/prism/Prism.htm}GraphPadPrismFile"
    assert root.get("PrismXMLVersion") == "5.00"
    created = root.find("p:Created/p:OriginalVersion", NS)
    assert created.get("DateTime") == "2024-05-06T07:08:09+00:00"
    assert root.find("p:InfoSequence/p:Ref", NS).get("ID") == root.find("p:Info", NS).get("ID")
    refs = [r.get("ID") for r in root.findall("p:TableSequence/p:Ref", NS)]
    tables = root.findall("p:Table", NS)
    assert refs == [t.get("ID") for t in tables] == ["Table0"]
    t = tables[0]
    assert t.get("TableType") == "TwoWay" and t.get("XFormat") == "none"
    assert t.get("YFormat") == "replicates" and t.get("Replicates") == "6"
    assert t.find("p:XColumn", NS) is None
    assert t.find("p:Title", NS).text == "Threshold (g)"

    rows, sets = _read_grouped(t)
    assert rows == ["Day -3", "Day -1", "Day 2", "Day 7"]
    assert list(sets) == ["HC IgG", "FMS IgG"]  # control first
    for col in t.findall("p:YColumn", NS):
        assert col.get("Subcolumns") == "6" and len(col.findall("p:Subcolumn", NS)) == 6
    # HC IgG has 4 animals: subcolumns 5 and 6 are padding, all empty
    assert all(v is None for sc in sets["HC IgG"][4:] for v in sc)
    # every number back exactly, animals in donor then animal order, empties where no value
    for arm, label in (("control", "HC IgG"), ("patient", "FMS IgG")):
        sub = d[d["arm"] == arm]
        animals = sorted(sub["animal"].unique(), key=lambda a: (sub.loc[sub.animal == a, "donor"]
                                                                  .iloc[0], int(a[1:])))
        for k, animal in enumerate(animals):
            for j, day in enumerate(DAYS):
                row = sub[(sub["animal"] == animal) & (sub["study_day"] == day)]
                cell = sets[label][k][j]
                if row.empty or not np.isfinite(row["value"].iloc[0]):
                    assert cell is None, (animal, day)
                else:
                    assert float(cell) == row["value"].iloc[0], (animal, day)
    notes = "".join(root.find("p:Info/p:Notes", NS).itertext())
    assert "FMS IgG: 1 = A1 (P1), 2 = A2 (P1)" in notes
    assert "A2 Day 2 (paw injured)" in notes


def test_pzfx_censored_values_are_written_at_their_bound_and_listed():
    d = make_derived()
    i = d.index[0]
    d.loc[i, ["value", "censored", "bound"]] = [np.nan, "right", 150.0]
    root = ET.fromstring(to_pzfx(d, control="control", created=WHEN))
    rows, sets = _read_grouped(_table(root))
    assert d.loc[i, "arm"] == "patient" and d.loc[i, "study_day"] == DAYS[0]
    assert float(sets["patient"][0][0]) == 150.0
    notes = "".join(root.find("p:Info/p:Notes", NS).itertext())
    assert f"{d.loc[i, 'animal']} Day -3 (right at 150)" in notes


def test_write_pzfx_several_outcomes_one_table_each(tmp_path):
    d = pd.concat([make_derived(), make_derived(5, outcome="latency_s", unit="s",
                                                assay="cold_plate", cutoff=1e9)])
    tables = tables_by_outcome(d)
    assert list(tables) == ["cold_plate.latency_s", "paw_pressure.threshold_g"]
    path = write_pzfx(tmp_path / "prism" / "study.pzfx", tables, control="control", created=WHEN)
    root = ET.parse(path).getroot()
    titles = [t.find("p:Title", NS).text for t in root.findall("p:Table", NS)]
    assert titles == list(tables)
    assert [r.get("ID") for r in root.findall("p:TableSequence/p:Ref", NS)] == ["Table0", "Table1"]
    # same input, same time stamp -> same bytes
    again = write_pzfx(tmp_path / "again.pzfx", tables, control="control", created=WHEN)
    assert path.read_bytes() == again.read_bytes()


def _read_column_table(table: ET.Element) -> dict[str, list[float | None]]:
    """Data set -> values of a column (one-way) table."""
    out = {}
    for col in table.findall("p:YColumn", NS):
        (sub,) = col.findall("p:Subcolumn", NS)
        out[col.find("p:Title", NS).text] = [None if c.text is None else float(c.text)
                                             for c in sub.findall("p:d", NS)]
    return out


def test_write_pzfx_adds_the_donor_means_of_the_donor_level_test(tmp_path):
    from scipy import stats as sps

    from nocilab.report.exports import donor_means
    from nocilab.stats.donor_test import donor_level_test

    d = make_derived(donors={"patient": 4, "control": 3}, mice=3)
    tables = tables_by_outcome(d)
    means = donor_means(d, baseline_days=(-3, -1), window=(1, None))
    path = write_pzfx(tmp_path / "study.pzfx", tables, control="control", created=WHEN,
                      arm_labels={"patient": "FMS IgG", "control": "HC IgG"},
                      donor_tables={"paw_pressure.threshold_g": means})
    root = ET.parse(path).getroot()  # parses as XML
    grouped, column = root.findall("p:Table", NS)
    assert [r.get("ID") for r in root.findall("p:TableSequence/p:Ref", NS)] == ["Table0", "Table1"]
    assert column.get("TableType") == "OneWay" and column.get("XFormat") == "none"
    assert column.find("p:Title", NS).text == "paw_pressure.threshold_g donor means"
    values = _read_column_table(column)
    assert list(values) == ["HC IgG", "FMS IgG"]  # control first
    assert len(values["FMS IgG"]) == 4 and len(values["HC IgG"]) == 3
    # the donor means are the input of the donor-level test, number for number ...
    units = means.units.set_index("unit")["value"]
    assert values["FMS IgG"] == [units[f"donor P{j}"] for j in range(1, 5)]
    assert values["HC IgG"] == [units[f"donor C{j}"] for j in range(1, 4)]
    # ... so that Prism's unpaired t test on the two columns gives the test's t, df and p
    test = donor_level_test(d, control="control", baseline_days=(-3, -1)).iloc[0]
    t = sps.ttest_ind(values["FMS IgG"], values["HC IgG"], equal_var=True)
    assert t.statistic == pytest.approx(test["t"], rel=1e-12)
    assert t.pvalue == pytest.approx(test["p"], rel=1e-10)
    assert len(values["FMS IgG"]) + len(values["HC IgG"]) - 2 == test["df"]
    # each value is the mean over the donor's mice of their mean change from baseline
    a1 = d[d["donor"] == "P1"]
    per_animal = (a1[a1.study_day > 0].groupby("animal")["value"].mean()
                  - a1[a1.study_day < 0].groupby("animal")["value"].mean())
    assert values["FMS IgG"][0] == pytest.approx(per_animal.mean(), rel=1e-12)
    notes = "".join(root.find("p:Info/p:Notes", NS).itertext())
    assert "FMS IgG: 1 = P1 (3 mice), 2 = P2 (3 mice)" in notes
    assert "mean change from baseline over days 2-7" in notes and "unpaired t test" in notes


def test_write_pzfx_donor_means_are_checked(tmp_path):
    from nocilab.report.exports import donor_means

    d = make_derived()
    means = donor_means(d, baseline_days=(-3, -1), window=(1, None))
    with pytest.raises(NocilabError, match="donor means for cold_plate.x"):
        write_pzfx(tmp_path / "a.pzfx", tables_by_outcome(d), control="control",
                   donor_tables={"cold_plate.x": means})
    with pytest.raises(NocilabError, match="no control arm 'vehicle'"):
        write_pzfx(tmp_path / "b.pzfx", tables_by_outcome(d.replace({"control": "vehicle"})),
                   control="vehicle", donor_tables={"paw_pressure.threshold_g": means})
    assert not (tmp_path / "a.pzfx").exists() and not (tmp_path / "b.pzfx").exists()


def test_pzfx_checks_its_input():
    d = make_derived()
    with pytest.raises(SchemaError, match="one outcome"):
        to_pzfx(pd.concat([d, d.assign(outcome="x")]), control="control")
    with pytest.raises(SchemaError, match="control arm 'vehicle'"):
        to_pzfx(d, control="vehicle")
    with pytest.raises(SchemaError, match="A1.*2 rows for study day -3"):
        to_pzfx(pd.concat([d, d.head(1)]), control="control")
    with pytest.raises(SchemaError, match="lacks column"):
        to_pzfx(d.drop(columns="donor"), control="control")


def test_pzfx_reads_back_in_the_pzfx_reader(tmp_path):
    """Reference check with Yue Jiang's `pzfx` reader (Python port of the R package) when
    it is installed; that reader does not resolve the Prism namespace, so it reads a copy
    without it."""
    pzfx = pytest.importorskip("pzfx")
    d = make_derived()
    text = to_pzfx(d, control="control", created=WHEN)
    plain = tmp_path / "plain.pzfx"
    plain.write_text(re.sub(r' xmlns="[^"]+"', "", text, count=1), encoding="utf-8")
    frame = pzfx.read_pzfx(str(plain))
    assert frame["ROWTITLE"].tolist() == [f"Day {x}" for x in DAYS]
    assert list(frame.columns[1:]) == [f"{arm}_{k}" for arm in ("control", "patient")
                                       for k in range(1, 7)]
    first = d[d["animal"] == "A1"].sort_values("study_day")["value"].to_numpy()
    np.testing.assert_array_equal(frame["patient_1"].to_numpy(dtype=float), first)
    assert frame["control_5"].isna().all()


def test_demo_study_exports_every_value(tmp_path):
    """The simulated demo study, imported and derived as a user would: every outcome goes
    into one Prism file and one workbook, and every value comes back."""
    from rich.console import Console

    from nocilab.demo.run import run_demo

    derived = run_demo(tmp_path / "study", console=Console(quiet=True))
    tables = tables_by_outcome(derived)
    root = ET.parse(write_pzfx(tmp_path / "demo.pzfx", tables, control="control")).getroot()
    assert len(root.findall("p:Table", NS)) == len(tables) == derived.groupby(
        ["assay", "outcome"]).ngroups
    n_cells = 0
    for t in root.findall("p:Table", NS):
        rows, sets = _read_grouped(t)
        sub = tables[t.find("p:Title", NS).text]
        got = sorted(float(v) for cols in sets.values() for sc in cols for v in sc if v is not None)
        expected = sorted(sub["value"].dropna().astype(float))
        assert got == expected
        n_cells += len(got)
    assert n_cells == derived["value"].notna().sum()
    write_xlsx({"derived": derived}, tmp_path / "demo.xlsx")
    back = pd.read_excel(tmp_path / "demo.xlsx", sheet_name="derived")
    np.testing.assert_array_equal(back["value"].to_numpy(), derived["value"].to_numpy())
    assert back["animal"].tolist() == derived["animal"].tolist()
