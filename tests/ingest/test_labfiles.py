"""Importing a study's plate-reader exports and binding cell tables: every bad well and
row named, nothing half-written, the raw wells in the store as the reader wrote them."""

from __future__ import annotations

import pandas as pd
import pytest
from _lab_files import STANDARDS, write_cells, write_serum_day

from nocilab.cli import main
from nocilab.elisa import analyse_plate
from nocilab.errors import ImportProblems
from nocilab.ingest.labfiles import import_cells, import_plates
from nocilab.model import load_study
from nocilab.store import Store


@pytest.fixture
def study(study_dir):
    return load_study(study_dir)


def test_two_plates_of_one_day_are_imported_with_their_layout(study, tmp_path):
    animals = list(study.animal_ids)
    export, layout = write_serum_day(tmp_path, animals, 5)
    with Store.open(study.database_url()) as store:
        rep = import_plates(export, layout, study, store, assay="serum_igg", actor="jk")
        assert rep.plates == ("serum_day05:1", "serum_day05:2") and not rep.already_imported
        assert rep.n_samples == 2 * len(animals) and rep.analytes == ("human_igg",)
        wells = store.plate_wells()
        assert store.verify_audit().ok
        again = import_plates(export, layout, study, store, assay="serum_igg", actor="jk")
        assert again.already_imported and len(store.plate_wells()) == len(wells)
    samples = wells[wells["kind"] == "sample"]
    assert set(samples["animal"]) == set(animals) and set(samples["study_day"]) == {5}
    assert set(samples["sample"]) == {f"{a} d5" for a in animals}
    assert (samples["dilution"] == 2000).all() and set(wells["unit"]) == {"ng/mL"}
    std = wells[(wells["kind"] == "standard") & (wells["plate"] == "serum_day05:1")]
    assert sorted(set(std["concentration"]), reverse=True) == STANDARDS
    # the stored raw wells give the curve and the concentrations back
    res = analyse_plate(wells[wells["plate"] == "serum_day05:1"], unit="ng/mL")
    got = res.samples.groupby("animal")["concentration"].mean()
    assert got[animals[0]] == pytest.approx(200_000.0, rel=0.02)


def test_animal_codes_unknown_animals_and_days_are_named(study, tmp_path):
    animals = list(study.animal_ids)
    export, layout = write_serum_day(tmp_path, animals, 5)
    lay = pd.read_csv(layout)
    first = lay.index[lay["kind"] == "sample"][0]
    lay.loc[first, "animal"] = "M999"
    lay["study_day"] = lay["study_day"].astype(object)
    lay.loc[first + 2, "study_day"] = "five"
    lay.to_csv(layout, index=False)
    with Store.open(study.database_url()) as store:
        with pytest.raises(ImportProblems) as info:
            import_plates(export, layout, study, store, assay="serum_igg", actor="jk")
        assert store.imports().empty and store.audit_events().empty
    text = info.value.render()
    assert f"row {first + 2}" in text and "'M999'" in text and "not an animal" in text
    assert "expected the study day" in text and "'five'" in text


def test_a_bad_od_is_named_with_plate_cell_and_well(study, tmp_path):
    export, layout = write_serum_day(tmp_path, list(study.animal_ids), 7)
    text = export.read_text().splitlines()
    row = next(i for i, line in enumerate(text) if line.startswith("B,"))
    cells = text[row].split(",")
    cells[3] = "n/a"
    text[row] = ",".join(cells)
    export.write_text("\n".join(text) + "\n")
    with Store.open(study.database_url()) as store:
        with pytest.raises(ImportProblems) as info:
            import_plates(export, layout, study, store, assay="serum_igg", actor="jk")
        assert store.plate_wells().empty
    msg = info.value.render()
    assert "well B3" in msg and "'n/a'" in msg and "optical density" in msg


def test_several_plates_without_a_plate_column_need_a_choice(study, tmp_path):
    export, layout = write_serum_day(tmp_path, list(study.animal_ids), 7)
    lay = pd.read_csv(layout)
    lay[lay["plate"] == 2].drop(columns="plate").to_csv(layout, index=False)
    with Store.open(study.database_url()) as store:
        with pytest.raises(ImportProblems, match="holds 2 plates.*--plate N"):
            import_plates(export, layout, study, store, assay="serum_igg", actor="jk")
        rep = import_plates(export, layout, study, store, assay="serum_igg", actor="jk",
                            plate=2, name="d7b")
        assert rep.plates == ("d7b:2",)


def test_cells_are_imported_with_the_vial_of_each_image(study, tmp_path):
    preps = [p.id for p in study.preparations]
    cells, images = write_cells(tmp_path, {f"img{i}": p for i, p in enumerate(preps[:3])})
    with Store.open(study.database_url()) as store:
        reps = import_cells([cells], images, study, store, actor="jk")
        assert reps[0].n_cells == 120 and reps[0].images == ("img0", "img1", "img2")
        assert store.binding_images()["vial"].tolist() == preps[:3]
        assert len(store.binding_cells()) == 120 and store.verify_audit().ok
    pd.DataFrame({"image": ["img9", "img9", "x"], "vial": ["IgG-P01", "IgG-P02", "V-none"]}
                 ).to_csv(tmp_path / "bad_images.csv", index=False)
    with Store.open(study.database_url()) as store:
        with pytest.raises(ImportProblems) as info:
            import_cells([cells], tmp_path / "bad_images.csv", study, store, actor="jk")
    msg = info.value.render()
    assert "listed twice" in msg and "'V-none'" in msg and "not a vial code" in msg


def test_cli_import_list_exclude_and_include(study, tmp_path, capsys):
    export, layout = write_serum_day(tmp_path, list(study.animal_ids), 10)
    folder = str(study.folder)
    assert main(["import-plates", folder, str(export), "--layout", str(layout),
                 "--assay", "serum_igg", "--by", "jk"]) == 0
    assert "imported 2 plate(s)" in capsys.readouterr().out
    assert main(["exclude-plate", folder, "serum_day10:2", "--reason", "edge effect",
                 "--by", "pi"]) == 0
    assert main(["plates", folder]) == 0
    out = capsys.readouterr().out
    assert "serum_day10:1" in out and "excluded" in out and "edge" in out
    assert main(["exclude-plate", folder, "serum_day10:2", "--reason", "x"]) != 0
    assert "already excluded" in capsys.readouterr().err
    assert main(["include-plate", folder, "serum_day10:2", "--reason", "re-read"]) == 0
    assert main(["import-plates", folder, str(export), "--layout", str(layout),
                 "--assay", "elisa"]) != 0
    err = capsys.readouterr().err
    assert "assay must be serum_igg or cytokines" in err and "Traceback" not in err
    with Store.open(study.database_url()) as store:
        ev = store.audit_events(entity="plate")
    assert list(ev["action"]) == ["import", "import", "exclude", "include"]
    assert list(ev["actor"]) == ["jk", "jk", "pi", ev["actor"].iloc[3]]


def test_a_multiplex_panel_is_one_plate_with_a_curve_per_analyte(study, tmp_path):
    from _lab_files import write_panel

    from nocilab.elisa import analyse_panel

    animals = list(study.animal_ids)
    export, layout = write_panel(tmp_path, animals, 21)
    with Store.open(study.database_url()) as store:
        rep = import_plates(export, layout, study, store, assay="cytokines", actor="jk")
        assert rep.plates == ("panel_day21",) and rep.analytes == ("IL6", "TNF")
        wells = store.plate_wells(assay="cytokines")
        assert store.verify_audit().ok
    assert set(wells["unit"]) == {"pg/mL"} and len(wells) == 2 * (14 + 2 + 2 * len(animals))
    panel = analyse_panel(wells.drop(columns=["plate", "assay"]), unit="pg/mL")
    assert panel.failures == {}
    got = panel.samples.groupby("analyte")["concentration"].median()
    assert got["IL6"] == pytest.approx(80.0, rel=0.02)  # 40 pg/mL in the well, diluted 1:2


def test_a_grid_export_of_a_cytokine_needs_its_analyte(study, tmp_path):
    export, layout = write_serum_day(tmp_path, list(study.animal_ids), 21)
    with Store.open(study.database_url()) as store:
        with pytest.raises(ImportProblems, match="name it .--analyte IL6"):
            import_plates(export, layout, study, store, assay="cytokines", actor="jk")
        rep = import_plates(export, layout, study, store, assay="cytokines", actor="jk",
                            analyte="IL10")
        assert rep.analytes == ("IL10",)
        assert set(store.plate_wells()["unit"]) == {"ng/mL"}  # the layout's unit column
