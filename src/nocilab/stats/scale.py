"""The scale an outcome is analysed on: its values as measured, or their log10.

Withdrawal thresholds from von Frey filaments are close to log-normal (the filaments
are spaced evenly in log force, and the up-down threshold is estimated in log units),
so they are commonly analysed as log10(threshold). On that scale every model of
nocilab.stats is fitted to log10(value), censored values enter at log10(bound), and a
difference d between arms is a ratio 10^d of geometric means, which the tables give
beside it (:func:`add_ratios`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from nocilab.errors import AnalysisError

SCALES = ("linear", "log10")
"""``linear``: the values as measured; ``log10``: their base-10 logarithm."""

RATIO_COLUMNS = ("ratio", "ratio_ci_low", "ratio_ci_high")
"""10^estimate and its confidence limits on the log10 scale; NaN on the linear scale."""


def check_scale(scale: str) -> str:
    if scale not in SCALES:
        raise AnalysisError(f"scale must be one of {', '.join(SCALES)}; got {scale}")
    return scale


def log10_values(frame: pd.DataFrame, *, value: str, bound: str | None = None,
                 day: str | None = None, animal: str | None = None,
                 what: str = "") -> pd.DataFrame:
    """A copy of ``frame`` with ``value`` (and ``bound``, where given) as log10.

    Raises
    ------
    AnalysisError
        A value or bound is zero or negative (no logarithm); the message names the
        first such row by animal and day when those columns are given.
    """
    out = frame.copy()
    cols = [value] + ([bound] if bound is not None and bound in out.columns else [])
    for col in cols:
        x = pd.to_numeric(out[col], errors="coerce").astype(float)
        bad = x.notna() & (x <= 0)
        if bad.any():
            row = out.loc[bad].iloc[0]
            at = ", ".join(f"{c} {row[c]}" for c in (animal, day) if c is not None and c in out)
            label = f"{what}: " if what else ""
            raise AnalysisError(
                f"{label}the log scale needs positive values; {int(bad.sum())} {col} value(s) "
                f"are zero or negative (first: {row[col]:g}{' at ' + at if at else ''}); "
                "analyse this outcome on the linear scale")
        out[col] = np.log10(x)
    return out


def add_ratios(frame: pd.DataFrame, *, scale: str, estimate: str = "estimate",
               ci: Sequence[str] | None = None, se: str = "se", df: str = "df",
               level: float = 0.95) -> pd.DataFrame:
    """``frame`` with :data:`RATIO_COLUMNS` appended (NaN unless ``scale`` is log10).

    The limits are 10^ of ``ci`` (two columns) when given, else of
    ``estimate ± t(level, df) se`` (normal quantile where df is missing or infinite):
    unadjusted intervals, whatever adjustment the p-values carry.
    """
    out = frame.copy()
    if check_scale(scale) != "log10" or out.empty:
        for c in RATIO_COLUMNS:
            out[c] = np.nan
        return out
    est = out[estimate].astype(float).to_numpy()
    if ci is not None:
        lo, hi = (out[c].astype(float).to_numpy() for c in ci)
    else:
        dfs = out[df].astype(float).to_numpy() if df in out else np.full(len(out), np.inf)
        dfs = np.where(np.isfinite(dfs) & (dfs > 0), dfs, np.inf)
        q = stats.t.ppf(0.5 + level / 2, dfs)
        s = out[se].astype(float).to_numpy()
        lo, hi = est - q * s, est + q * s
    out["ratio"] = 10.0 ** est
    out["ratio_ci_low"] = 10.0 ** lo
    out["ratio_ci_high"] = 10.0 ** hi
    return out


def parse_scale(text: str, *, option: str = "--scale") -> str:
    """A scale as typed on the command line: ``linear``, or ``log`` / ``log10``.

    >>> parse_scale("log")
    'log10'
    """
    word = str(text).strip().lower()
    if word in ("log", "log10"):
        return "log10"
    if word == "linear":
        return "linear"
    raise AnalysisError(f"{option} must be linear or log; got {text}")
