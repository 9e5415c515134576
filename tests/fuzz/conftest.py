"""Fixtures of the fuzz suite: a small study with readings, copied per module."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from _fuzz_helpers import run

from nocilab.demo import write_demo_files


@pytest.fixture(scope="module")
def study_template(tmp_path_factory, simulated_small) -> Path:
    """A small study with its grip and von Frey readings imported."""
    folder = tmp_path_factory.mktemp("fuzz") / "study"
    write_demo_files(simulated_small, folder)
    assert run("import", folder, folder / "raw" / "grip.csv", "--mapping", "grip_long").code == 0
    assert run("import", folder, folder / "raw" / "von_frey.csv", "--mapping",
               "von_frey_long").code == 0
    return folder


@pytest.fixture(scope="module")
def study(study_template, tmp_path_factory) -> Path:
    """A copy of the template for one test module (examples share it: a refusal leaves it
    unchanged, an accepted write is a legitimate new state)."""
    folder = tmp_path_factory.mktemp("fuzzcopy") / "study"
    shutil.copytree(study_template, folder)
    return folder
