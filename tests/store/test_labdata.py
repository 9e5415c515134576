"""Plate wells, plate exclusions and binding cells in the store: all or nothing, audited,
replayed by ``verify_audit`` so that a change behind the store's back is found."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from nocilab.errors import StoreError
from nocilab.store import PLATE_WELL_COLUMNS, Store

SHA_A, SHA_B, SHA_L = "a" * 64, "b" * 64, "c" * 64


def wells(n_samples: int = 3, *, analyte: str = "human_igg") -> pd.DataFrame:
    rows = [{"analyte": analyte, "well": f"A{i + 1}", "kind": "standard", "sample": "",
             "animal": None, "study_day": None, "dilution": np.nan,
             "concentration": 100.0 / 2**i, "unit": "ng/mL", "od": 3.0 / (i + 1),
             "saturated": False} for i in range(4)]
    rows.append({"analyte": analyte, "well": "H12", "kind": "blank", "sample": "",
                 "animal": None, "study_day": None, "dilution": np.nan,
                 "concentration": np.nan, "unit": "ng/mL", "od": 0.05, "saturated": False})
    for i in range(n_samples):
        rows.append({"analyte": analyte, "well": f"B{i + 1}", "kind": "sample",
                     "sample": f"M{i + 1} d5", "animal": f"M{i + 1}", "study_day": 5,
                     "dilution": 2000.0, "concentration": np.nan, "unit": "ng/mL",
                     "od": np.nan if i == 0 else 1.0 + i / 10, "saturated": i == 0})
    return pd.DataFrame(rows)


def imported(store: Store, names=("day5:1", "day5:2"), sha=SHA_A):
    return store.import_plates([(n, "serum_igg", f"plate {k + 1} (labelled)", wells())
                                for k, n in enumerate(names)],
                               file_name="day5.xlsx", file_sha256=sha,
                               layout_name="layout_day5.csv", layout_sha256=SHA_L,
                               actor="jk")


def test_import_plates_round_trip_and_audit(store_url):
    with Store.open(store_url) as store:
        res = imported(store)
        assert res.names == ("day5:1", "day5:2") and res.n_rows == 16
        got = store.plate_wells()
        assert list(got.columns) == list(PLATE_WELL_COLUMNS)
        assert len(got) == 16 and set(got["plate"]) == {"day5:1", "day5:2"}
        first = got[got["plate"] == "day5:1"]
        sat = first[first["well"] == "B1"].iloc[0]
        assert bool(sat["saturated"]) and np.isnan(sat["od"]) and sat["animal"] == "M1"
        assert first.loc[first["well"] == "B2", "od"].iloc[0] == pytest.approx(1.1)
        assert first.loc[first["well"] == "A1", "concentration"].iloc[0] == 100.0
        assert int(first.loc[first["well"] == "B2", "study_day"].iloc[0]) == 5
        assert pd.isna(first.loc[first["well"] == "A1", "study_day"].iloc[0])
        assert not got["excluded"].any()
        ev = store.audit_events(entity="plate")
        assert list(ev["action"]) == ["import", "import"] and set(ev["actor"]) == {"jk"}
        assert store.verify_audit().ok
        plates = store.plates()
        assert list(plates["plate"]) == ["day5:1", "day5:2"]
        assert plates["n_samples"].tolist() == [3, 3] and plates["study_days"].tolist() == ["5", "5"]
        # the same file again writes nothing
        again = imported(store)
        assert again.already_imported and again.names == ("day5:1", "day5:2")
        assert len(store.plate_wells()) == 16


def test_a_plate_name_already_stored_is_refused_and_nothing_is_written(store_url):
    with Store.open(store_url) as store:
        imported(store)
        n_events = len(store.audit_events())
        with pytest.raises(StoreError, match="day5:2.*already stored"):
            imported(store, names=("day7:1", "day5:2"), sha=SHA_B)
        assert len(store.audit_events()) == n_events and len(store.imports()) == 1
        assert set(store.plate_wells()["plate"]) == {"day5:1", "day5:2"}


def test_a_bad_well_names_plate_and_well(store_url):
    bad = wells()
    bad.loc[6, "kind"] = "control"
    with Store.open(store_url) as store:
        with pytest.raises(StoreError, match=r"plate 'p1', well B2: kind must be one of"):
            store.import_plates([("p1", "serum_igg", "plate 1", bad)], file_name="f.csv",
                                file_sha256=SHA_A, layout_name="l.csv", layout_sha256=SHA_L,
                                actor="jk")
        dup = pd.concat([wells(), wells().iloc[[6]]], ignore_index=True)
        with pytest.raises(StoreError, match="well B2 of human_igg is given twice"):
            store.import_plates([("p1", "serum_igg", "plate 1", dup)], file_name="f.csv",
                                file_sha256=SHA_A, layout_name="l.csv", layout_sha256=SHA_L,
                                actor="jk")
        assert store.imports().empty and store.audit_events().empty


def test_exclude_and_include_a_plate_are_audited_with_reasons(store_url):
    with Store.open(store_url) as store:
        imported(store)
        store.exclude_plate("day5:2", actor="pi", reason="standards pipetted in wrong order")
        assert set(store.plate_wells()["plate"]) == {"day5:1"}
        all_wells = store.plate_wells(include_excluded=True)
        ex = all_wells[all_wells["plate"] == "day5:2"]
        assert ex["excluded"].all()
        assert set(ex["exclusion_reason"]) == {"standards pipetted in wrong order"}
        with pytest.raises(StoreError, match="already excluded"):
            store.exclude_plate("day5:2", actor="pi", reason="again")
        with pytest.raises(StoreError, match="reason"):
            store.include_plate("day5:2", actor="pi", reason=" ")
        with pytest.raises(StoreError, match=r"no plate 'day9'.*day5:1, day5:2"):
            store.exclude_plate("day9", actor="pi", reason="x")
        store.include_plate("day5:2", actor="pi", reason="order checked against the sheet")
        assert len(store.plate_wells()) == 16
        ev = store.audit_events(entity="plate")
        assert list(ev["action"]) == ["import", "import", "exclude", "include"]
        assert ev["reason"].iloc[2] == "standards pipetted in wrong order"
        assert store.verify_audit().ok
        assert store.plates()["excluded"].tolist() == [False, False]


def cells_and_images():
    cells = pd.DataFrame({"image": ["img1"] * 3 + ["img2"] * 2,
                          "cell": ["1", "2", "3", "1", "2"],
                          "cell_class": ["Neuron", "SGC ring", "SGC ring", "Neuron", "SGC ring"],
                          "intensity": [10.0, 25.5, 30.0, 8.0, 12.25],
                          "area_um2": [400.0, np.nan, 90.0, 350.0, 80.0],
                          "source": ["cells.csv"] * 5})
    images = pd.DataFrame({"image": ["img1", "img2", "img3"], "vial": ["V1", "V2", "V3"]})
    return cells, images


def test_binding_round_trip_and_audit(store_url):
    cells, images = cells_and_images()
    with Store.open(store_url) as store:
        res = store.import_binding(cells, images, file_name="cells.csv", file_sha256=SHA_A,
                                   actor="jk")
        assert res.names == ("img1", "img2") and res.n_rows == 5  # img3 has no cells
        got = store.binding_cells()
        assert got["intensity"].tolist() == [10.0, 25.5, 30.0, 8.0, 12.25]
        assert np.isnan(got["area_um2"].iloc[1])
        assert store.binding_images()["vial"].tolist() == ["V1", "V2"]
        assert store.verify_audit().ok
        assert store.import_binding(cells, images, file_name="cells.csv", file_sha256=SHA_A,
                                    actor="jk").already_imported
        with pytest.raises(StoreError, match="img1, img2 already stored"):
            store.import_binding(cells, images, file_name="cells2.csv", file_sha256=SHA_B,
                                 actor="jk")
        stray = cells.assign(image=["img1"] * 4 + ["img9"])
        with pytest.raises(StoreError, match="image 'img9', which the images table does not"):
            store.import_binding(stray, images, file_name="c3.csv", file_sha256="d" * 64,
                                 actor="jk")
        assert len(store.binding_cells()) == 5


@pytest.mark.parametrize("sql, finds", [
    ("UPDATE plate_wells SET od = 9.9 WHERE well = 'B2'", "wells of plate 'day5:1'"),
    ("DELETE FROM plate_wells WHERE well = 'H12' AND plate_id = 2", "wells of plate 'day5:2'"),
    ("UPDATE plates SET assay = 'cytokines' WHERE id = 1", "plates row 1 does not match"),
    ("UPDATE plate_status SET reason = 'no reason'", "plate_status row 1 does not match"),
    ("UPDATE binding_cells SET intensity = 99 WHERE id = 2", "binding images or cells"),
    ("DELETE FROM binding_images WHERE image = 'img2'", "binding images or cells"),
])
def test_changes_behind_the_stores_back_are_found(sqlite_url, sql, finds):
    cells, images = cells_and_images()
    with Store.open(sqlite_url) as store:
        imported(store)
        store.exclude_plate("day5:1", actor="pi", reason="bubbles")
        store.import_binding(cells, images, file_name="cells.csv", file_sha256=SHA_B,
                             actor="jk")
        assert store.verify_audit().ok
        with store.engine.begin() as conn:
            conn.execute(sa.text(sql))
        report = store.verify_audit()
        assert not report.ok and finds in report.why


def test_other_layers_cannot_write_plate_events(sqlite_url):
    with Store.open(sqlite_url) as store:
        with pytest.raises(StoreError, match="written by the store itself"):
            store.append_event("import", "plate", 1, actor="x", after={"id": 1})
