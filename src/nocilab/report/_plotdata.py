"""Checks and summaries shared by the figure modules (no drawing here)."""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from nocilab import schema
from nocilab.errors import SchemaError


def check_derived(frame: pd.DataFrame, *, what: str, control: str | None,
                  one_day: bool = False) -> pd.DataFrame:
    """Validate a subset of the derived table for one figure or export.

    The subset must be non-empty, hold one outcome in one unit (and one study day when
    ``one_day``), and contain ``control`` among its arms. Returns a copy with two more
    columns: ``plot_value`` (the value; for a censored row without a value, its
    bound; NaN for a row without a value, which then is left out) and ``is_censored``.
    """
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(f"{what}: expected a DataFrame of the derived table, got "
                          f"{type(frame).__name__}")
    frame = schema.validate(frame, schema.DERIVED, table=f"{what}: derived")
    if frame.empty:
        raise SchemaError(f"{what}: the derived table has no rows")
    outcomes = sorted(frame["outcome"].astype(str).unique())
    if len(outcomes) != 1:
        raise SchemaError(f"{what}: needs the rows of one outcome; found {', '.join(outcomes)} "
                          "(select one with derived[derived.outcome == ...])")
    units = sorted(frame["unit"].fillna("").astype(str).unique())
    if len(units) != 1:
        raise SchemaError(f"{what}: outcome {outcomes[0]!r} has rows in several units "
                          f"({', '.join(repr(u) for u in units)}); expected one")
    if one_day:
        days = sorted(int(d) for d in frame["study_day"].unique())
        if len(days) != 1:
            raise SchemaError(f"{what}: needs the rows of one study day; found days "
                              f"{', '.join(str(d) for d in days)}")
    if control is not None:
        arms = sorted(frame["arm"].astype(str).unique())
        if control not in arms:
            raise SchemaError(f"{what}: control arm {control!r} is not in the table; "
                              f"arms found: {', '.join(arms)}")
    dup = frame.duplicated(["animal", "study_day"], keep=False)
    if dup.any():
        first = frame[dup].iloc[0]
        raise SchemaError(f"{what}: animal {first['animal']!r} has {int(dup.sum())} rows for "
                          f"study day {int(first['study_day'])} of outcome {outcomes[0]!r}; "
                          "expected one row per animal and day")
    out = frame.copy()
    out["arm"] = out["arm"].astype(str)
    out["donor"] = out["donor"].astype(str)
    out["animal"] = out["animal"].astype(str)
    out["study_day"] = out["study_day"].astype(int)
    value = out["value"].astype(float).to_numpy()
    bound = out["bound"].astype(float).to_numpy()
    cens = out["censored"].fillna("none").astype(str).to_numpy() != "none"
    out["is_censored"] = cens
    out["plot_value"] = np.where(np.isfinite(value), value, np.where(cens, bound, np.nan))
    return out


def arm_day_summary(frame: pd.DataFrame, *, geometric: bool = False) -> pd.DataFrame:
    """Mean and SEM of ``plot_value`` per arm and study day.

    Columns: arm, study_day, n (animals with a value), mean, sem (NaN when n < 2:
    drawn without an error bar), low and high (the error bar's ends: mean ∓ sem).
    ``geometric``: the summary of log10 values taken back to the values' scale, so
    ``mean`` is the geometric mean, ``sem`` the SEM of log10 values, and the bar runs
    from mean ÷ 10^sem to mean × 10^sem (values at or below zero are left out).
    """
    ok = frame[np.isfinite(frame["plot_value"])]
    if geometric:
        ok = ok[ok["plot_value"] > 0].assign(plot_value=lambda f: np.log10(f["plot_value"]))
    g = ok.groupby(["arm", "study_day"])["plot_value"]
    out = g.agg(n="count", mean="mean", sd="std").reset_index()
    out["sem"] = out["sd"] / np.sqrt(out["n"])
    out["low"] = out["mean"] - out["sem"]
    out["high"] = out["mean"] + out["sem"]
    if geometric:
        for c in ("mean", "low", "high"):
            out[c] = 10.0 ** out[c]
    return out.drop(columns="sd")


def slug(text: str) -> str:
    """``text`` reduced to characters safe in an SVG id."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", str(text)) or "_"


def arm_counts(frame: pd.DataFrame) -> Mapping[str, tuple[int, int]]:
    """arm -> (animals, donors) with at least one row."""
    g = frame.groupby("arm")
    return {arm: (int(sub["animal"].nunique()), int(sub["donor"].nunique())) for arm, sub in g}


def natural_key(text: str) -> list[object]:
    """Sort key that puts ``P2`` before ``P10``."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(text))]
