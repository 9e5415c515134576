"""Helpers of the store tests (imported by the test modules and conftest)."""

from __future__ import annotations

import hashlib
import sqlite3

import numpy as np
import pandas as pd
import sqlalchemy as sa


def run_sql(url: str, *statements: str) -> None:
    """Run raw SQL behind the store's back: plain sqlite3 on the file, or the server."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        con = sqlite3.connect(parsed.database)
        try:
            for s in statements:
                con.execute(s)
            con.commit()
        finally:
            con.close()
        return
    engine = sa.create_engine(parsed)
    try:
        with engine.begin() as conn:
            for s in statements:
                conn.exec_driver_sql(s)
    finally:
        engine.dispose()


def make_readings(n: int, *, seed: int = 0, assay: str = "paw_pressure",
                  first_day: int = -1) -> pd.DataFrame:
    """``n`` paw-pressure readings (force_g) of 12 mice, 3 trials per day from ``first_day``."""
    rng = np.random.default_rng(seed)
    i = np.arange(n)
    return pd.DataFrame({
        "animal": [f"m{k:02d}" for k in i % 12],
        "study_day": (i // 36) + first_day,
        "assay": assay,
        "trial": (i // 12) % 3 + 1,
        "quantity": "force_g",
        "value_num": np.round(rng.normal(120.0, 15.0, n), 1),
        "value_text": None,
    })


def vf_readings() -> pd.DataFrame:
    """Two von Frey readings with a text quantity (the X/O series) and a number."""
    return pd.DataFrame({
        "animal": ["m01", "m01"],
        "study_day": [0, 0],
        "assay": ["von_frey", "von_frey"],
        "trial": [1, 1],
        "quantity": ["xo_series", "last_filament"],
        "value_num": [np.nan, 3.61],
        "value_text": ["OOXOXO", None],
    })


def sha(text: str) -> str:
    """A stand-in file hash."""
    return hashlib.sha256(text.encode()).hexdigest()
