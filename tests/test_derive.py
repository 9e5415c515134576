"""A few readings are pivoted in plain Python into exactly the frame the pivot makes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nocilab import derive
from nocilab.demo.run import DEMO_MAPPINGS
from nocilab.ingest import import_file
from nocilab.model import load_study
from nocilab.store import Store


@pytest.fixture(scope="module")
def observations(tmp_path_factory, simulated_small):
    from nocilab.demo import write_demo_files

    folder = tmp_path_factory.mktemp("derive") / "study"
    write_demo_files(simulated_small, folder)
    study = load_study(folder)
    with Store.open(study.database_url()) as store:
        for f in ("paw_pressure_wide.xlsx", "von_frey.csv", "grip.csv", "ienfd.csv"):
            import_file(folder / "raw" / f, study, store, study.mappings[DEMO_MAPPINGS[f][0]],
                        actor="tester")
        return store.observations()


def _both(obs, assay, monkeypatch):
    monkeypatch.setattr(derive, "_FEW", 0)
    by_pivot = derive._readings(obs, assay)
    monkeypatch.setattr(derive, "_FEW", 10**9)
    plain = derive._readings(obs, assay)
    for a, b in zip(plain, by_pivot, strict=True):
        pd.testing.assert_frame_equal(a, b)
    return plain


@pytest.mark.parametrize("assay", ["paw_pressure", "von_frey", "grip", "ienfd"])
@pytest.mark.parametrize("animals", [["M002"], ["M001", "M004"]])
def test_few_readings_pivot_like_the_frame(observations, assay, animals, monkeypatch):
    obs = observations[observations["animal"].isin(animals)]
    wide, ids = _both(obs, assay, monkeypatch)
    assert len(wide) == len(ids) > 0


def test_odd_cells_pivot_like_the_frame(observations, monkeypatch):
    obs = observations[(observations["animal"] == "M003")
                       & (observations["assay"] == "von_frey")].copy()
    obs = obs.astype({"value_text": object})
    obs.loc[obs.index[0], "value_text"] = None  # a text quantity holding a number
    obs.loc[obs.index[0], "value_num"] = 7.0
    extra = obs.iloc[[1]].assign(observation_id=9999, value_text="XXXX")  # given twice
    nothing = obs.iloc[[2]].assign(observation_id=9998, trial=2, value_text=np.nan)
    wide, _ids = _both(pd.concat([obs, extra, nothing], ignore_index=True), "von_frey",
                       monkeypatch)
    assert 2 not in set(wide["trial"])  # a reading without any value is no reading
    pp = observations[(observations["animal"] == "M003")
                      & (observations["assay"] == "paw_pressure")].copy()
    pp = pp.astype({"value_text": object})
    pp.loc[pp.index[0], ["value_num", "value_text"]] = [np.nan, "12"]  # a number as text
    _both(pp, "paw_pressure", monkeypatch)
    pp.loc[pp.index[0], "value_text"] = "twelve"  # a number quantity holding a text
    wide, _ids = _both(pp, "paw_pressure", monkeypatch)
    assert "twelve" in set(wide["force_g"])
    _both(pp.drop(columns="observation_id"), "paw_pressure", monkeypatch)
