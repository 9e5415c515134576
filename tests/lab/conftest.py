"""Fixtures of the nocilab.lab tests: the simulated study of lab_synth, open and blinded."""

from __future__ import annotations

import lab_synth as ls
import pandas as pd
import pytest

from nocilab.lab import lab_readouts


@pytest.fixture(scope="session")
def lab_study(tmp_path_factory):
    return ls.load(tmp_path_factory.mktemp("labstudy"))


@pytest.fixture(scope="session")
def lab_wells() -> pd.DataFrame:
    return pd.concat([ls.serum_wells(), ls.panel_wells()], ignore_index=True)


@pytest.fixture(scope="session")
def lab_cells():
    return ls.cells()


@pytest.fixture(scope="session")
def lab_behaviour() -> pd.DataFrame:
    return ls.behaviour()


@pytest.fixture(scope="session")
def readouts(lab_study, lab_wells, lab_cells, lab_behaviour):
    cells, images = lab_cells
    return lab_readouts(lab_study, lab_wells, cells, images, lab_behaviour, ls.assign_open(),
                        control=ls.CONTROL, blinded=False)


@pytest.fixture(scope="session")
def blinded_readouts(lab_study, lab_wells, lab_behaviour):
    cells, images = ls.cells(blinded=True)
    codes = ls.blind_codes()
    return lab_readouts(lab_study, lab_wells, cells, images, ls.blind_frame(lab_behaviour),
                        ls.assign_blinded(), control=codes[ls.CONTROL], blinded=True)
