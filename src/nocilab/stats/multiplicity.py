"""Multiplicity adjustment: Holm, Sidak, Bonferroni and Dunnett, within a family.

``adjust_pvalues`` adjusts one family of tests. Dunnett's adjustment is exact for the
family's joint distribution: the adjusted p of a test with statistic ``t`` is
``1 - P(max_j |T_j| < |t|)`` where ``T`` is multivariate t with the family's correlation
matrix and the test's degrees of freedom (infinite df: multivariate normal). When the
correlation matrix is block-diagonal with blocks of one-factor form ``r_ij = l_i l_j``
(always for two tests; for comparisons of independent groups with one control; for
such comparisons on several days under a pooled error) the probability is an integral
over the common normal factor and the chi-distributed scale, computed by the trapezoid
rule (spectrally accurate here; agrees with R's mvtnorm/Miwa to about 1e-8). Otherwise it
is computed by scipy's randomised quasi-Monte Carlo with a fixed seed (absolute error
about 1e-4).

``benjamini_hochberg`` controls the false discovery rate instead of the family-wise
error (as R's ``p.adjust(p, "BH")``); it is offered for panels of many analytes, not
for the post-tests of one outcome.

``holm_across_outcomes`` applies Holm's step-down correction across the outcomes of a
study (one p-value per outcome, or per outcome within groups).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import special, stats

from nocilab.errors import AnalysisError, one_of

ADJUST_METHODS = ("none", "holm", "sidak", "bonferroni", "dunnett")


def _check_method(method: str) -> str:
    m = method.lower()
    if m not in ADJUST_METHODS:
        raise AnalysisError(
            f"unknown multiple-comparison method {method!r}; expected {one_of(ADJUST_METHODS)}"
        )
    return m


def holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (as R's ``p.adjust(p, "holm")``)."""
    p = np.asarray(p, dtype=float)
    m = p.size
    order = np.argsort(p, kind="mergesort")
    adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adj
    return out


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg step-up adjusted p-values (as R's ``p.adjust(p, "BH")``).

    >>> benjamini_hochberg([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    p = np.asarray(p, dtype=float)
    m = p.size
    order = np.argsort(p, kind="mergesort")[::-1]
    adj = np.minimum(1.0, np.minimum.accumulate(m / np.arange(m, 0, -1) * p[order]))
    out = np.empty(m)
    out[order] = adj
    return out


def _one_factor(R: np.ndarray) -> np.ndarray | None:
    """Loadings ``l`` with ``R_ij = l_i l_j`` off the diagonal, or None."""
    k = R.shape[0]
    if k == 2:
        r = R[0, 1]
        lam = np.array([np.sqrt(abs(r)), np.sign(r) * np.sqrt(abs(r))])
    else:
        off = R - np.diag(np.diag(R))
        i, j = np.unravel_index(np.argmax(np.abs(off)), R.shape)
        rest = [m for m in range(k) if m not in (i, j)]
        m = max(rest, key=lambda c: abs(R[i, c]) * abs(R[j, c]))
        if abs(R[j, m]) < 1e-12 or R[i, j] * R[i, m] / R[j, m] <= 0:
            return None
        li = np.sqrt(R[i, j] * R[i, m] / R[j, m])
        lam = R[i] / li
        lam[i] = li
    full = np.outer(lam, lam)
    np.fill_diagonal(full, 1.0)
    if np.max(np.abs(full - R)) > 1e-9 or np.any(np.abs(lam) >= 1.0):
        return None
    return lam


_Z = np.linspace(-9.0, 9.0, 361)
_WZ = stats.norm.pdf(_Z) * (_Z[1] - _Z[0])


def _blocks(R: np.ndarray) -> list[np.ndarray]:
    """Index sets of the connected blocks of non-zero correlation."""
    k = R.shape[0]
    label = -np.ones(k, dtype=int)
    for start in range(k):
        if label[start] >= 0:
            continue
        stack, label[start] = [start], start
        while stack:
            i = stack.pop()
            for j in np.flatnonzero(np.abs(R[i]) > 1e-12):
                if label[j] < 0:
                    label[j] = start
                    stack.append(j)
    return [np.flatnonzero(label == v) for v in np.unique(label)]


def _scale_grid(df: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights for ``s = sqrt(chi2_df / df)`` (trapezoid rule in log s)."""
    if np.isinf(df):
        return np.ones(1), np.ones(1)
    lo = 0.5 * np.log(stats.chi2.ppf(1e-16, df) / df)
    hi = 0.5 * np.log(stats.chi2.isf(1e-16, df) / df)
    x = np.linspace(lo, hi, 301)
    s = np.exp(x)
    w = 2.0 * df * s * s * stats.chi2.pdf(df * s * s, df) * (x[1] - x[0])
    return s, w


def _box_one_factor(cs: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """``P(|Z_j| < c s for all j)`` for each ``c s``, one-factor correlation ``lam``."""
    sd = np.sqrt(1.0 - lam * lam)
    mid = lam[None, None, :] * _Z[None, :, None]
    upper = (cs[:, None, None] - mid) / sd
    lower = (-cs[:, None, None] - mid) / sd
    inner = np.prod(special.ndtr(upper) - special.ndtr(lower), axis=2)
    return inner @ _WZ


def _box_probability(c: float, df: float, R: np.ndarray) -> float:
    """``P(max_j |T_j| < c)`` for multivariate t (df) with correlation ``R``."""
    blocks = _blocks(R)
    loads = []
    for b in blocks:
        if b.size == 1:
            loads.append(np.zeros(1))
            continue
        lam = _one_factor(R[np.ix_(b, b)])
        if lam is None:
            return _box_probability_qmc(c, df, R)
        loads.append(lam)
    s, w = _scale_grid(df)
    prob = np.ones_like(s)
    for lam in loads:
        prob *= _box_one_factor(c * s, lam)
    return float(prob @ w)


def _box_probability_qmc(c: float, df: float, R: np.ndarray) -> float:
    k = R.shape[0]
    upper = np.full(k, c)
    if np.isinf(df):
        return float(
            stats.multivariate_normal.cdf(
                upper, mean=np.zeros(k), cov=R, allow_singular=True, maxpts=20_000 * k,
                abseps=1e-6, releps=0.0, lower_limit=-upper, rng=np.random.default_rng(0),
            )
        )
    return float(
        stats.multivariate_t(loc=np.zeros(k), shape=R, df=df, allow_singular=True).cdf(
            upper, lower_limit=-upper, maxpts=20_000 * k, random_state=0
        )
    )


def dunnett(t: np.ndarray, df: np.ndarray, corr: np.ndarray) -> np.ndarray:
    """Dunnett-adjusted two-sided p-values of one family of tests.

    Parameters
    ----------
    t : test statistics of the family.
    df : their degrees of freedom (``np.inf`` for z tests).
    corr : correlation matrix of the estimates in the family.
    """
    t = np.asarray(t, dtype=float)
    df = np.broadcast_to(np.asarray(df, dtype=float), t.shape)
    R = np.asarray(corr, dtype=float)
    if t.size == 1:
        return np.array([2.0 * stats.t.sf(abs(t[0]), df[0])])
    probs = [_box_probability(abs(ti), di, R) for ti, di in zip(t, df, strict=True)]
    return np.clip(1.0 - np.array(probs), 0.0, 1.0)


def dunnett_critical_value(alpha: float, df: float, corr: np.ndarray) -> float:
    """The two-sided critical |t| of Dunnett's single-step test at family-wise ``alpha``.

    ``P(max_j |T_j| < c) = 1 - alpha`` for multivariate t (``df``) with correlation
    ``corr``; the value that :func:`dunnett` p-values are compared with.
    """
    from scipy import optimize

    R = np.asarray(corr, dtype=float)
    k = R.shape[0]
    if k == 1:
        return float(stats.t.isf(alpha / 2, df))
    lo = float(stats.t.isf(alpha / 2, df))          # no adjustment
    hi = float(stats.t.isf(alpha / (2 * k), df))    # Bonferroni
    f = lambda c: 1.0 - _box_probability(c, df, R) - alpha  # noqa: E731
    if f(hi) > 0:  # only by integration error at the bound
        return hi
    return float(optimize.brentq(f, lo, hi, xtol=1e-10))


def adjust_pvalues(
    p: Sequence[float] | np.ndarray,
    *,
    method: str,
    t: np.ndarray | None = None,
    df: np.ndarray | None = None,
    corr: np.ndarray | None = None,
) -> np.ndarray:
    """Adjust the p-values of one family; Dunnett needs ``t``, ``df`` and ``corr``.

    Parameters
    ----------
    p : unadjusted two-sided p-values of the family.
    method : one of ``none``, ``holm``, ``sidak``, ``bonferroni``, ``dunnett``.

    Examples
    --------
    >>> adjust_pvalues([0.01, 0.04], method="holm").round(3).tolist()
    [0.02, 0.04]
    """
    method = _check_method(method)
    p = np.asarray(p, dtype=float)
    m = p.size
    if method == "none" or m <= 1:
        return p.copy()
    if method == "bonferroni":
        return np.minimum(1.0, m * p)
    if method == "sidak":
        with np.errstate(divide="ignore"):  # p = 1: log1p(-1) = -inf, adjusted p = 1
            return -np.expm1(m * np.log1p(-p))
    if method == "holm":
        return holm(p)
    if t is None or df is None or corr is None:
        raise AnalysisError("Dunnett's adjustment needs the t statistics, df and correlations")
    return dunnett(t, df, corr)


def holm_across_outcomes(
    table: pd.DataFrame, *, p: str = "p", by: Sequence[str] = (), out: str = "p_holm"
) -> pd.DataFrame:
    """Holm-adjust the p-values in column ``p`` across the rows (the outcomes) of ``table``.

    Parameters
    ----------
    table : one row per outcome (and per group of ``by``), column ``p`` the p-value.
    p : the column holding the p-values; rows where it is missing are left out of the
        family and get a missing adjusted value.
    by : columns defining separate families (e.g. ``["term"]``); none: one family.
    out : name of the new column.

    Returns
    -------
    A copy of ``table`` with column ``out`` added.
    """
    if p not in table.columns:
        raise AnalysisError(f"p-value table has no column {p!r}; columns: {', '.join(map(str, table.columns))}")
    res = table.copy()
    res[out] = np.nan
    groups = [g.index for _, g in res.groupby(list(by), sort=False)] if by else [res.index]
    for idx in groups:
        vals = res.loc[idx, p].astype(float)
        ok = vals.notna()
        if ok.any():
            res.loc[vals.index[ok], out] = holm(vals[ok].to_numpy())
    return res
