"""Importing raw files: good files in both layouts, every kind of bad cell, all or nothing."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nocilab.demo.run import DEMO_MAPPINGS
from nocilab.errors import ImportProblems
from nocilab.ingest import build_mapping, import_file, read_observations
from nocilab.model import load_study
from nocilab.store import Store


def _open(study_dir: Path):
    study = load_study(study_dir)
    return study, Store.open(study.database_url())


def _mapping(study, file_name: str):
    return study.mappings[DEMO_MAPPINGS[file_name][0]]


def _count_cells(frame: pd.DataFrame, skip: list[str]) -> int:
    vals = frame.drop(columns=skip)
    return int(vals.notna().sum().sum())


def test_wide_xlsx_and_long_csv_import_every_value(study_dir, simulated_small):
    study, store = _open(study_dir)
    with store:
        rep = import_file(study_dir / "raw" / "paw_pressure_wide.xlsx", study, store,
                          _mapping(study, "paw_pressure_wide.xlsx"), actor="tester")
        pp = simulated_small.tables["paw_pressure_wide.xlsx"]
        assert rep.n_readings == _count_cells(pp, ["Mouse"])
        rep2 = import_file(study_dir / "raw" / "von_frey.csv", study, store,
                           _mapping(study, "von_frey.csv"), actor="tester")
        vf = simulated_small.tables["von_frey.csv"]
        assert rep2.n_readings == 2 * len(vf)  # xo_series + last_filament per reading
        obs = store.observations()
        # one wide cell round-trips to its animal, day and trial
        first = pp.iloc[0]
        got = obs[(obs.animal == first["Mouse"]) & (obs.study_day == -3) & (obs.trial == 2)
                  & (obs.assay == "paw_pressure")]
        assert got["value_num"].tolist() == [first["D-3_t2"]]
        series = obs[(obs.assay == "von_frey") & (obs.quantity == "xo_series")]
        assert set(series["value_text"]) == set(vf["xo_series"])


def test_same_file_twice_adds_nothing(study_dir):
    study, store = _open(study_dir)
    with store:
        path = study_dir / "raw" / "cold_plate.csv"
        first = import_file(path, study, store, _mapping(study, "cold_plate.csv"), actor="a")
        n = len(store.observations())
        again = import_file(path, study, store, _mapping(study, "cold_plate.csv"), actor="a")
        assert not first.already_imported and again.already_imported
        assert again.import_id == first.import_id
        assert len(store.observations()) == n
        assert "already imported" in again.summary()


def _bad_long_csv(tmp_path: Path) -> Path:
    rows = [
        "animal,study_day,trial,force_g",
        "M001,-3,1,120",      # row 2: fine
        "M999,-3,1,120",      # row 3: unknown animal
        "M001,2,1,120",       # row 4: day 2 not in the paw-pressure schedule
        "M002,-3,1,abc",      # row 5: not a number
        "M003,-3,1,300",      # row 6: beyond the 250 g cut-off
        "M001,-3,1,118",      # row 7: duplicate of row 2
        "M004,-3,0,120",      # row 8: trial 0
        "M005,x,1,120",       # row 9: day not a number
        "M006,-3,1,\"12,5\"",  # row 10: decimal comma
    ]
    p = tmp_path / "bad_pp.csv"
    p.write_text("\n".join(rows) + "\n")
    return p


def test_every_bad_cell_is_reported_and_nothing_written(study_dir, tmp_path):
    study, store = _open(study_dir)
    mapping = build_mapping(layout="long", assay="paw_pressure", animal="animal", day="study_day",
                            trial="trial", quantity=["force_g"], columns=None, sheet=None, skip_rows=0)
    path = _bad_long_csv(tmp_path)
    with store:
        before = len(store.observations())
        events_before = len(store.audit_events())
        with pytest.raises(ImportProblems) as info:
            import_file(path, study, store, mapping, actor="tester")
        assert len(store.observations()) == before
        assert len(store.audit_events()) == events_before
        assert store.imports().empty
    text = info.value.render()
    problems = {p.where: p for p in info.value.problems}
    expected = {
        "row 3, column 'animal'": "unknown animal",
        "row 4, column 'study_day'": "not in the schedule",
        "row 5, column 'force_g'": "must be a number",
        "row 6, column 'force_g'": "cut-off",
        "row 7, column 'force_g'": "duplicate",
        "row 8, column 'trial'": "trial",
        "row 9, column 'study_day'": "whole number",
        "row 10, column 'force_g'": "decimal separator",
    }
    for where, why in expected.items():
        hits = [p for w, p in problems.items() if w.endswith(where)]
        assert hits, f"no problem reported at {where}:\n{text}"
        assert any(why in p.why for p in hits), f"{where}: {[p.why for p in hits]}"
    assert str(path) in text
    assert not any(w.endswith("row 2, column 'force_g'") for w in problems)


def test_bad_series_in_xlsx_names_sheet_row_and_column(study_dir, tmp_path):
    study, store = _open(study_dir)
    frame = pd.DataFrame({"animal": ["M001", "M002"], "study_day": [-3, -3], "trial": [1, 1],
                          "xo_series": ["OOXOXOX", "OOYX"], "last_filament": [7, 7]})
    path = tmp_path / "vf.xlsx"
    with pd.ExcelWriter(path) as xl:
        frame.to_excel(xl, sheet_name="week 1", index=False)
    with store, pytest.raises(ImportProblems) as info:
        import_file(path, study, store, _mapping(study, "von_frey.csv"), actor="t")
    wheres = [p.where for p in info.value.problems]
    assert any("sheet 'week 1'" in w and "row 3" in w and "xo_series" in w for w in wheres), wheres


def test_reading_already_in_store_is_refused(study_dir, tmp_path):
    study, store = _open(study_dir)
    with store:
        import_file(study_dir / "raw" / "cold_plate.csv", study, store,
                    _mapping(study, "cold_plate.csv"), actor="a")
        copy = pd.read_csv(study_dir / "raw" / "cold_plate.csv").head(3)
        other = tmp_path / "again.csv"
        copy.to_csv(other, index=False)
        with pytest.raises(ImportProblems) as info:
            import_file(other, study, store, _mapping(study, "cold_plate.csv"), actor="a")
    assert len(info.value.problems) == 3
    assert all("already in the store" in p.why for p in info.value.problems)


def test_missing_column_names_the_columns_found(study_dir, tmp_path):
    study, _ = _open(study_dir)
    path = tmp_path / "x.csv"
    path.write_text("mouse,day,force\nM001,-3,100\n")
    mapping = build_mapping(layout="long", assay="paw_pressure", animal="animal", day="study_day",
                            trial=None, quantity=["force_g"], columns=None, sheet=None, skip_rows=0)
    with pytest.raises(ImportProblems) as info:
        read_observations(path, study, mapping)
    text = info.value.render()
    assert "no column 'animal'" in text and "'mouse'" in text and "no column 'force_g'" in text


def test_wide_sheet_with_unexpected_column(study_dir, tmp_path):
    study, _ = _open(study_dir)
    path = tmp_path / "bw.csv"
    path.write_text("Mouse,Day -1,Day 1,Notes!\nM001,20.1,20.3,fine\n")
    with pytest.raises(ImportProblems) as info:
        read_observations(path, study, _mapping(study, "body_weight_wide.csv"))
    assert any("Notes!" in p.where and "pattern" in p.why for p in info.value.problems)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(row=st.integers(0, 13), garbage=st.text(alphabet="abcxyz!?;", min_size=1, max_size=5))
def test_any_garbled_force_cell_is_located(study_dir, row, garbage):
    study = load_study(study_dir)
    path = study_dir / "raw" / "grip.csv"
    frame = pd.read_csv(path)
    frame["force_g"] = frame["force_g"].astype(object)
    frame.loc[row, "force_g"] = garbage
    bad = study_dir / "raw" / "grip_bad.csv"
    frame.to_csv(bad, index=False)
    with pytest.raises(ImportProblems) as info:
        read_observations(bad, study, _mapping(study, "grip.csv"))
    assert [p.where for p in info.value.problems] == [f"{bad}, row {row + 2}, column 'force_g'"]
