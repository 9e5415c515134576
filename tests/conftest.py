"""Shared fixtures: small simulated studies written to real folders with real SQLite stores."""

from __future__ import annotations

from pathlib import Path

import pytest

from nocilab.demo import simulate_study, write_demo_files

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
