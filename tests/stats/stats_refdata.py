"""Shared helpers of the stats tests: the reference data sets and R's values.

The data sets and reference CSVs in ``reference/`` are written by ``r/make_data.py``,
``r/make_reference.R`` and the other scripts in ``r/`` (lme4 1.1, lmerTest 3.1, emmeans
1.8, afex 1.2, survival 3.5).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

REF = Path(__file__).resolve().parent / "reference"


def data(name: str) -> pd.DataFrame:
    """A reference data set (one row per animal x day)."""
    return pd.read_csv(REF / f"{name}.csv")


def ref(name: str, table: str) -> pd.DataFrame:
    """R's reference table ``<name>__<table>.csv``."""
    return pd.read_csv(REF / f"{name}__{table}.csv")


def assert_rel(actual, expected, rtol: float, what: str, atol: float = 0.0) -> None:
    """Element-wise ``|a - e| <= atol + rtol |e|``, with a message naming the quantity."""
    a = np.asarray(actual, dtype=float)
    e = np.asarray(expected, dtype=float)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != {e.shape}"
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=what)
