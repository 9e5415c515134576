"""The Study object: lookups, donor units, the animal table, schedule and database URL."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from _study_data import base

from nocilab.model import ANIMAL_COLUMNS, load_study
from nocilab.model.settings import ColdPlateSettings, PawPressureSettings


@pytest.fixture
def study(write_study):
    return load_study(write_study(base()))


def test_lookups(study):
    assert study.control_arm == "control"
    assert study.arm("vehicle").label == "Saline"
    assert study.donor("P02").age == 51
    assert study.animal("M03").preparation == "pool-P"
    assert study.animal_ids == ("M01", "M02", "M03", "M04", "M05")
    with pytest.raises(KeyError, match="no animal 'M99' in the study .*M01, M02"):
        study.animal("M99")
    with pytest.raises(KeyError, match="no preparation 'x'"):
        study.arm_of_preparation("x")


@pytest.mark.parametrize(
    ("prep", "arm", "unit"),
    [
        ("IgG-P01", "patient", "P01"),  # one donor: the donor is the unit
        ("IgG-C01", "control", "C01"),  # arm given explicitly, agreeing with the donor
        ("pool-P", "patient", "pool-P"),  # a pool is one unit: the preparation
        ("saline", "vehicle", "saline"),  # no donors: the preparation
    ],
)
def test_arm_and_donor_unit_of_preparation(study, prep, arm, unit):
    assert study.arm_of_preparation(prep) == arm
    assert study.donor_unit_of_preparation(prep) == unit
    assert study.dosing_of(prep) == study.dosing


def test_animal_table(study):
    table = study.animal_table()
    assert tuple(table.columns) == ANIMAL_COLUMNS
    expected = pd.DataFrame(
        {
            "animal": ["M01", "M02", "M03", "M04", "M05"],
            "preparation": ["IgG-P01", "IgG-C01", "pool-P", "saline", ""],
            "donor": ["P01", "C01", "pool-P", "saline", ""],
            "arm": ["patient", "control", "patient", "vehicle", ""],
            "sex": ["F", "F", "F", "F", "M"],
            "cage": ["A", "B", "A", "B", "3"],
            "strain": ["C57BL/6J"] * 5,
            # M01: born 2025-12-22, day 0 on 2026-03-02: 70 days = 10 weeks
            "age_weeks": [10.0, 10.0, 9.5, 11.0, 10.0],
            "weight_g": [20.4, 19.8, 21.0, math.nan, 24.5],
        }
    )
    pd.testing.assert_frame_equal(table, expected, check_dtype=False)
    assert table["age_weeks"].dtype == "float64" and table["weight_g"].dtype == "float64"
    assert not table[["preparation", "donor", "arm"]].isna().any().any()


def test_age_from_birth_date_needs_a_start_date(write_study):
    data = base()
    del data["study"]["start_date"]
    table = load_study(write_study(data)).animal_table()
    assert math.isnan(table.loc[0, "age_weeks"])
    assert table.loc[1, "age_weeks"] == 10.0


def test_empty_animal_table(write_study):
    data = base()
    del data["animals"]
    table = load_study(write_study(data)).animal_table()
    assert tuple(table.columns) == ANIMAL_COLUMNS and len(table) == 0


def test_schedule(study):
    assert study.schedule == {"paw_pressure": (-3, -1, 1, 3, 7), "body_weight": (-1, 7)}
    assert study.baseline_days("paw_pressure") == (-3, -1)
    assert study.baseline_days("von_frey") == ()
    assert study.scheduled("paw_pressure", 3)
    assert not study.scheduled("paw_pressure", 0)
    assert not study.scheduled("grip", 3)


def test_assay_settings(study):
    assert study.assay_settings("paw_pressure") == PawPressureSettings(cutoff_g=300.0)
    assert study.assay_settings("cold_plate") == ColdPlateSettings()  # not configured
    with pytest.raises(KeyError, match="unknown assay 'tail_flick'; known assays: von_frey"):
        study.assay_settings("tail_flick")


@pytest.mark.parametrize(
    ("database", "expected"),
    [
        (None, "sqlite:///{folder}/nocilab.sqlite"),
        ("sqlite:///data/lab.sqlite", "sqlite:///{folder}/data/lab.sqlite"),
        ("sqlite+pysqlite:///lab.db?timeout=30", "sqlite+pysqlite:///{folder}/lab.db?timeout=30"),
        ("sqlite:////srv/lab.sqlite", "sqlite:////srv/lab.sqlite"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
        ("sqlite://", "sqlite://"),
        ("data/lab.sqlite", "sqlite:///{folder}/data/lab.sqlite"),
        ("/srv/lab.sqlite", "sqlite:////srv/lab.sqlite"),
        ("postgresql+psycopg://lab@db/pain", "postgresql+psycopg://lab@db/pain"),
    ],
)
def test_database_url(write_study, tmp_path, database, expected):
    data = base()
    if database is not None:
        data["study"]["database"] = database
    study = load_study(write_study(data))
    assert study.database_url() == expected.format(folder=tmp_path.resolve())


def test_loading_twice_gives_equal_studies(write_study):
    path = write_study(base())
    assert load_study(path) == load_study(path)


def test_study_pickles(study):
    # studies travel to worker processes (power simulation on Dask)
    import pickle

    again = pickle.loads(pickle.dumps(study))
    assert again == study and again.animal("M03").preparation == "pool-P"


def test_public_surface():
    import nocilab.model as model

    assert model.__all__ == sorted(model.__all__)
    assert all(hasattr(model, name) for name in model.__all__)
    assert {"Study", "load_study", "ImportMapping", "render_study_toml"} <= set(model.__all__)
