"""Shared fixtures: small simulated studies written to real folders with real SQLite stores."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from nocilab.demo import simulate_study, write_demo_files

# Property tests draw the same examples on every run, so a result never depends on
# the day: `make test` is repeatable. HYPOTHESIS_PROFILE=explore draws fresh ones.
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session")
def simulated_small():
    """A simulated study with one mouse per donor (14 mice)."""
    return simulate_study(seed=7, mice_per_donor=1)


@pytest.fixture
def study_dir(tmp_path: Path, simulated_small) -> Path:
    """A study folder (study.toml + raw/) with nothing imported yet."""
    folder = tmp_path / "study"
    write_demo_files(simulated_small, folder)
    return folder


@pytest.fixture
def shared_data() -> Path:
    path = SHARED / "data"
    if not path.is_dir():
        pytest.skip("../shared/data is not beside the repository")
    return path
