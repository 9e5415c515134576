"""Donor-level correlations: clinical fields against per-donor values (Spearman).

Does a donor's pain intensity go with how strongly the donor's IgG binds, or with how
much pain it transfers to mice? One value per donor on each side, so the donors are the
units. :func:`spearman` is one correlation (rho, CI, p as R's ``cor.test(method =
"spearman")`` gives it); :func:`donor_correlations` runs every outcome x clinical field
pair and adjusts across them (Holm). Donors are named only through the ``labels`` a
caller passes (codes while a study is blinded); nothing here looks a donor up.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from nocilab.errors import AnalysisError, one_of
from nocilab.stats.multiplicity import benjamini_hochberg, holm

CORRELATION_COLUMNS = ("outcome", "field", "n", "rho", "ci_low", "ci_high", "s_statistic",
                       "p", "p_method", "ties", "p_adj", "adjust", "note")
PAIR_COLUMNS = ("outcome", "field", "label", "x", "y")
ADJUST = ("holm", "bh", "none")


@dataclass(frozen=True)
class Spearman:
    """Spearman's rank correlation with a confidence interval and a two-sided p.

    ``s_statistic`` is R's ``S = (n^3 - n)(1 - rho) / 6``; ``p_method`` says how ``p``
    was computed; ``ci_low, ci_high`` are NaN for fewer than 4 pairs or |rho| = 1.
    """

    n: int
    rho: float
    ci_low: float
    ci_high: float
    s_statistic: float
    p: float
    p_method: str
    ties: bool


@functools.lru_cache(maxsize=9)
def _perm_s(n: int) -> np.ndarray:
    """S = sum (i - pi(i))^2 over every permutation pi of 1..n (n <= 9)."""
    perms = np.array(list(itertools.permutations(range(1, n + 1))), dtype=np.int64)
    return ((np.arange(1, n + 1) - perms) ** 2).sum(axis=1)


def _prho(n: int, s: float, lower_tail: bool) -> float:
    """R's ``prho`` (AS 89): ``P(S >= s)``, or ``P(S < s)`` for the lower tail; exact by
    enumeration for n <= 9, Edgeworth series above."""
    pv = 0.0 if lower_tail else 1.0
    if n <= 1 or s <= 0:
        return pv
    n3 = n * (n * n - 1) / 3.0
    if s > n3:
        return 1.0 - pv
    if n <= 9:
        all_s = _perm_s(n)
        nfac = len(all_s)
        ifr = 1 if s == n3 else int(np.sum(s <= all_s))
        return (nfac - ifr if lower_tail else ifr) / nfac
    y = float(n)
    b = 1.0 / y
    x = (6.0 * (s - 1) * b / (y * y - 1) - 1) * np.sqrt(y - 1)
    y = x * x
    u = x * b * (0.2274 + b * (0.2531 + 0.1745 * b)
                 + y * (-0.0758 + b * (0.1033 + 0.3932 * b)
                        - y * b * (0.0879 + 0.0151 * b
                                   - y * (0.0072 - 0.0831 * b + y * b * (0.0131 - 4.6e-4 * y)))))
    y = u / np.exp(y / 2.0)
    pv = (-y if lower_tail else y) + (stats.norm.cdf(x) if lower_tail else stats.norm.sf(x))
    return float(min(max(pv, 0.0), 1.0))


def spearman(x, y, *, confidence: float = 0.95) -> Spearman:
    """Spearman's rho of paired values, with a CI and R's two-sided p-value.

    Parameters
    ----------
    x, y
        Paired values; pairs with a missing value are left out.
    confidence
        Coverage of the interval.

    Returns
    -------
    Spearman

    Notes
    -----
    ``rho`` is Pearson's correlation of the mid-ranks. The p-value is R's
    ``cor.test(x, y, method = "spearman")``: without ties, from the null distribution
    of ``S`` by algorithm AS 89 (exact enumeration for n <= 9, an Edgeworth series up to
    n = 1290); with ties, or above 1290 pairs, from ``t = rho sqrt((n - 2) / (1 -
    rho^2))`` on n - 2 df. The interval is Fisher's z with the standard error of Bonett
    and Wright (2000), ``sqrt((1 + rho^2 / 2) / (n - 3))``, back-transformed by tanh.

    Examples
    --------
    >>> r = spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])
    >>> round(r.rho, 3), round(r.s_statistic, 1), round(r.p, 4)
    (0.8, 4.0, 0.1333)
    """
    a = np.asarray(x, dtype=float).ravel()
    b = np.asarray(y, dtype=float).ravel()
    if a.shape != b.shape:
        raise AnalysisError(f"{len(a)} x values but {len(b)} y values")
    if not 0 < confidence < 1:
        raise AnalysisError(f"confidence must be between 0 and 1; got {confidence:g}")
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    n = len(a)
    if n < 3:
        raise AnalysisError(f"a correlation needs at least 3 complete pairs; found {n}")
    ra, rb = stats.rankdata(a), stats.rankdata(b)
    if np.ptp(ra) == 0 or np.ptp(rb) == 0:
        raise AnalysisError("one of the two variables does not vary: no correlation")
    rho = float(np.corrcoef(ra, rb)[0, 1])
    ties = min(len(np.unique(a)), len(np.unique(b))) < n
    q = (n**3 - n) * (1 - rho) / 6
    exact = n <= 1290 and not ties

    def tail(lower: bool) -> float:
        if exact:
            return _prho(n, round(q) + 2 * lower, lower)
        r = 1 - q / ((n * (n**2 - 1)) / 6)
        t = r / np.sqrt((1 - r**2) / (n - 2)) if abs(r) < 1 else np.copysign(np.inf, r)
        return float(stats.t.cdf(t, n - 2) if not lower else stats.t.sf(t, n - 2))

    p = min(2 * (tail(False) if q > (n**3 - n) / 6 else tail(True)), 1.0)
    if exact:
        method = "exact (all permutations)" if n <= 9 else "AS 89 Edgeworth series"
    else:
        method = "asymptotic t (ties)" if ties else "asymptotic t"
    lo = hi = float("nan")
    if n >= 4 and abs(rho) < 1:
        z = float(stats.norm.isf((1 - confidence) / 2))
        se = np.sqrt((1 + rho**2 / 2) / (n - 3))
        lo, hi = float(np.tanh(np.arctanh(rho) - z * se)), float(np.tanh(np.arctanh(rho) + z * se))
    return Spearman(n=n, rho=rho, ci_low=lo, ci_high=hi, s_statistic=float(q), p=float(p),
                    p_method=method, ties=bool(ties))


@dataclass(frozen=True, eq=False)
class DonorCorrelations:
    """Every outcome x clinical field correlation, adjusted.

    ``table`` has :data:`CORRELATION_COLUMNS`; ``pairs`` (:data:`PAIR_COLUMNS`) holds
    the points behind each, one row per donor, named by ``label`` only; ``skipped``
    lists clinical fields left out, with the reason.
    """

    table: pd.DataFrame
    pairs: pd.DataFrame
    skipped: dict[str, str]
    adjust: str

    def methods(self) -> str:
        """A methods paragraph stating what was done."""
        adj = {"holm": "Holm's method", "bh": "the Benjamini-Hochberg method",
               "none": "no adjustment"}[self.adjust]
        return ("Donor-level associations were estimated by Spearman's rank correlation "
                "(one value per donor; p-values as R's cor.test: exact or AS 89 without "
                "ties, asymptotic t with ties), with 95% intervals by Fisher's z and the "
                "Bonett-Wright standard error; p-values were adjusted across all outcome x "
                f"clinical field pairs by {adj}.")


def clinical_table(donors: Sequence[object]) -> tuple[pd.DataFrame, dict[str, str]]:
    """The numeric clinical fields of a study's donors as a table.

    Parameters
    ----------
    donors
        Donor records (``nocilab.model`` ``Donor``: ``id`` and ``clinical``).

    Returns
    -------
    (table, skipped)
        ``donor`` and one column per clinical field holding numbers; fields holding
        text, dates or true/false are listed in ``skipped`` with the reason.
    """
    rows, skipped = [], {}
    for d in donors:
        rows.append({"donor": str(d.id), **dict(d.clinical)})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=["donor"]), skipped
    keep = ["donor"]
    for col in frame.columns[1:]:
        vals = frame[col].dropna()
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in vals)
        if numeric and len(vals):
            keep.append(col)
        else:
            skipped[col] = "not a number for every donor (text, a date or true/false)"
    out = frame[keep].copy()
    for col in keep[1:]:
        out[col] = out[col].astype(float)
    return out, skipped


def donor_correlations(values: pd.DataFrame, clinical: pd.DataFrame, *,
                       donor: str = "donor", outcomes: Sequence[str] | None = None,
                       fields: Sequence[str] | None = None,
                       labels: Mapping[str, str] | None = None, adjust: str = "holm",
                       confidence: float = 0.95) -> DonorCorrelations:
    """Spearman correlations of every outcome with every clinical field, over donors.

    Parameters
    ----------
    values
        One row per donor: ``donor`` and one numeric column per outcome (a donor's
        mouse effect, binding score ...).
    clinical
        One row per donor: ``donor`` and one numeric column per clinical field.
    outcomes, fields
        Which columns to use (default: every other numeric column).
    labels
        donor -> what the donor is called in ``pairs`` (codes while the study is
        blinded). Default: the donor ids.
    adjust
        ``"holm"`` (default), ``"bh"`` or ``"none"``, across all pairs.

    Returns
    -------
    DonorCorrelations

    Notes
    -----
    Each pair uses the donors that have both values. A pair with fewer than 3 such
    donors, or a variable that does not vary, has no result and says why in ``note``
    (it is left out of the adjustment).
    """
    if adjust not in ADJUST:
        raise AnalysisError(f"unknown adjustment {adjust!r}; expected {one_of(ADJUST)}")
    for name, t in (("values", values), ("clinical", clinical)):
        if donor not in t.columns:
            raise AnalysisError(f"the {name} table has no column {donor!r}")
        dup = t[donor].astype(str)[t[donor].astype(str).duplicated()]
        if len(dup):
            raise AnalysisError(f"the {name} table lists donor(s) more than once: "
                                f"{', '.join(sorted(set(dup)))}")
    outcomes = list(outcomes) if outcomes is not None else _numeric(values, donor)
    fields = list(fields) if fields is not None else _numeric(clinical, donor)
    for name, cols, t in (("values", outcomes, values), ("clinical", fields, clinical)):
        missing = [c for c in cols if c not in t.columns]
        if missing:
            raise AnalysisError(f"the {name} table has no column(s) {', '.join(missing)}; "
                                f"columns: {', '.join(map(str, t.columns))}")
    if not outcomes or not fields:
        raise AnalysisError("no numeric outcome or clinical field to correlate")
    merged = values[[donor, *outcomes]].assign(**{donor: values[donor].astype(str)}).merge(
        clinical[[donor, *fields]].assign(**{donor: clinical[donor].astype(str)}),
        on=donor, how="inner", suffixes=("", " (clinical)"))
    labels = dict(labels or {})
    names = merged[donor].map(lambda d: labels.get(d, d) if labels else d)
    rows, pairs = [], []
    for out in outcomes:
        for f in fields:
            fc = f if f in merged.columns and f not in outcomes else f"{f} (clinical)"
            x = pd.to_numeric(merged[fc], errors="coerce").to_numpy(float)
            y = pd.to_numeric(merged[out], errors="coerce").to_numpy(float)
            row = dict.fromkeys(CORRELATION_COLUMNS, np.nan)
            row.update(outcome=out, field=f, note="", ties=False, p_method="")
            try:
                r = spearman(x, y, confidence=confidence)
                row.update(n=r.n, rho=r.rho, ci_low=r.ci_low, ci_high=r.ci_high,
                           s_statistic=r.s_statistic, p=r.p, p_method=r.p_method, ties=r.ties)
            except AnalysisError as exc:
                row.update(n=int((np.isfinite(x) & np.isfinite(y)).sum()),
                           note=f"not computed: {exc}")
            rows.append(row)
            ok = np.isfinite(x) & np.isfinite(y)
            pairs.append(pd.DataFrame({"outcome": out, "field": f, "label": names[ok].to_numpy(),
                                       "x": x[ok], "y": y[ok]}))
    table = pd.DataFrame(rows, columns=list(CORRELATION_COLUMNS))
    p = table["p"].to_numpy(float)
    adj = np.full(p.shape, np.nan)
    fin = np.isfinite(p)
    if fin.any():
        adj[fin] = {"holm": holm, "bh": benjamini_hochberg, "none": np.asarray}[adjust](p[fin])
    table["p_adj"] = adj
    table["adjust"] = adjust
    table = table.astype({"n": int})
    return DonorCorrelations(table=table, pairs=pd.concat(pairs, ignore_index=True)[
        list(PAIR_COLUMNS)], skipped={}, adjust=adjust)


def _numeric(t: pd.DataFrame, donor: str) -> list[str]:
    return [c for c in t.columns if c != donor and pd.api.types.is_numeric_dtype(t[c])
            and not pd.api.types.is_bool_dtype(t[c])]
