"""Column sets of the tidy tables passed between layers, written down once.

``observations``: the raw readings as they come out of the store, one row per
animal x study day x assay x trial x quantity (``force_g``, ``xo_series`` ...).

``derived``: one row per animal x assay x study day x outcome; the one table that
``stats`` and ``report`` read.

Every layer that receives one of these tables calls :func:`validate` on it, so a
wrong column fails where it enters, not three layers later.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from nocilab.errors import SchemaError, one_of, shown

# column -> kind: "str", "int", "float", "datetime"
OBSERVATIONS: Mapping[str, str] = {
    "animal": "str",
    "study_day": "int",
    "assay": "str",
    "trial": "int",
    "quantity": "str",
    "value_num": "float",
    "value_text": "str",
    "entered_by": "str",
    "entered_at": "str",
}

DERIVED: Mapping[str, str] = {
    "animal": "str",
    "donor": "str",
    "preparation": "str",
    "arm": "str",
    "sex": "str",
    "cage": "str",
    "study_day": "int",
    "assay": "str",
    "outcome": "str",
    "value": "float",
    "unit": "str",
    "censored": "str",
    "bound": "float",
}

CENSORED_LEVELS = ("none", "left", "right")


def validate(frame: pd.DataFrame, columns: Mapping[str, str], *, table: str) -> pd.DataFrame:
    """Check that ``frame`` has every column of ``columns`` with a compatible dtype.

    Returns the frame with columns in the canonical order (extra columns follow).
    Raises :class:`~nocilab.errors.SchemaError` naming the table and column.
    """
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{table} table lacks column(s) {', '.join(missing)}; "
            f"expected {', '.join(columns)}"
        )
    for col, kind in columns.items():
        s = frame[col]
        if kind in ("int", "float") and len(s) and not pd.api.types.is_numeric_dtype(s):
            raise SchemaError(f"{table} table: column {col!r} must be numeric, has dtype {s.dtype}")
    if "censored" in columns and len(frame):
        bad = set(frame["censored"].dropna().unique()) - set(CENSORED_LEVELS)
        if bad:
            raise SchemaError(
                f"{table} table: column 'censored' must be {one_of(CENSORED_LEVELS)}, found {shown(sorted(bad))}"
            )
    extra = [c for c in frame.columns if c not in columns]
    return frame[list(columns) + extra]


def empty(columns: Mapping[str, str]) -> pd.DataFrame:
    """An empty frame with the given columns and dtypes."""
    dtypes = {"str": "object", "int": "int64", "float": "float64", "datetime": "object"}
    return pd.DataFrame({c: pd.Series(dtype=dtypes[k]) for c, k in columns.items()})
