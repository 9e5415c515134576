"""Fixtures of the model tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nocilab.model import render_study_toml


@pytest.fixture
def write_study(tmp_path: Path):
    """Write a dict (rendered as TOML) or TOML text to tmp_path/study.toml."""

    def write(data: dict[str, Any] | str, name: str = "study.toml") -> Path:
        path = tmp_path / name
        text = data if isinstance(data, str) else render_study_toml(data)
        path.write_text(text, encoding="utf-8")
        return path

    return write
