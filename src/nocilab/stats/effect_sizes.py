"""Standardised effect sizes: Hedges' g per day for each arm against the control arm.

On each day, each animal contributes its value (the mean if it has several rows that
day). The difference of arm means is divided by the *pooled between-animal SD on that
day*, ``sqrt(((n1 - 1) s1^2 + (n0 - 1) s0^2) / (n1 + n0 - 2))``, which is the
standardiser readers of the animal-level literature expect and the one a reader can
recompute from a table of means and SDs. (The mixed model's total SD is the other
choice; it mixes days and is not what is reported elsewhere.) Animals, not donors, are
the units here: this is the animal-level view; the donor-level inference is the mixed
model and the per-donor effects.

``g = J d`` with the exact small-sample factor ``J = Gamma(m/2) / (sqrt(m/2)
Gamma((m-1)/2))``, ``m = n1 + n0 - 2``. The confidence interval inverts the noncentral
t distribution of ``t = d / sqrt(1/n1 + 1/n0)`` (Steiger and Fouladi 1997) and is
scaled by ``J``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from nocilab.errors import AnalysisError
from nocilab.stats._design import day_values

EFFECT_SIZE_COLUMNS = (
    "day", "contrast", "arm", "n_arm", "n_control", "mean_difference", "pooled_sd",
    "hedges_g", "ci_low", "ci_high", "note",
)


def hedges_j(m: float) -> float:
    """Exact small-sample correction factor of Hedges' g for ``m`` degrees of freedom."""
    return float(np.exp(special.gammaln(m / 2) - special.gammaln((m - 1) / 2)) / np.sqrt(m / 2))


def _nct_ci(t: float, df: float, level: float) -> tuple[float, float]:
    """Noncentrality parameters whose t distributions put ``t`` at the CI's tails."""
    if t < 0:  # symmetry; scipy's nct is accurate for t >= 0
        lo, hi = _nct_ci(-t, df, level)
        return -hi, -lo
    a = (1.0 - level) / 2.0
    step = 4.0 * np.sqrt(1.0 + t * t / (2.0 * df))

    def bound(target: float) -> float:
        f = lambda ncp: stats.nct.cdf(t, df, ncp) - target  # noqa: E731
        lo, hi = t - step, t + step
        while f(lo) < 0:
            lo -= step
        while f(hi) > 0:
            hi += step
        return float(optimize.brentq(f, lo, hi, xtol=1e-12, rtol=1e-12))

    return bound(1.0 - a), bound(a)


def hedges_g(
    frame: pd.DataFrame,
    *,
    value: str,
    arm: str,
    day: str,
    animal: str,
    control: str,
    level: float = 0.95,
) -> pd.DataFrame:
    """Hedges' g with a confidence interval, per day, for each arm against ``control``.

    Returns
    -------
    DataFrame with :data:`EFFECT_SIZE_COLUMNS`. When an arm has fewer than two animals
    on a day, or the pooled SD is zero, the row's ``note`` gives the reason and the
    effect size is missing.
    """
    for col in (value, arm, day, animal):
        if col not in frame.columns:
            raise AnalysisError(f"table lacks column {col!r} needed for effect sizes")
    f = frame[frame[value].notna()]
    per = f.groupby([f[day].astype(float), f[animal].astype(str)]).agg(
        v=(value, "mean"), a=(arm, "first"))
    rows = []
    arms = sorted(a for a in f[arm].astype(str).unique() if a != control)
    if control not in set(f[arm].astype(str)):
        raise AnalysisError(f"control arm {control!r} not found")
    for d, g in per.groupby(level=0, sort=True):
        x0 = g.loc[g["a"].astype(str) == control, "v"].to_numpy(float)
        for a in arms:
            x1 = g.loc[g["a"].astype(str) == a, "v"].to_numpy(float)
            n1, n0 = x1.size, x0.size
            base = (float(d), f"{a} - {control}", a, n1, n0)
            if n1 < 2 or n0 < 2:
                rows.append((*base, np.nan, np.nan, np.nan, np.nan, np.nan,
                             "fewer than two animals in an arm on this day"))
                continue
            m = n1 + n0 - 2
            diff = float(x1.mean() - x0.mean())
            sp = float(np.sqrt(((n1 - 1) * x1.var(ddof=1) + (n0 - 1) * x0.var(ddof=1)) / m))
            if not sp > 0:
                rows.append((*base, diff, sp, np.nan, np.nan, np.nan, "no spread: pooled SD 0"))
                continue
            dd = diff / sp
            k = np.sqrt(1.0 / n1 + 1.0 / n0)
            J = hedges_j(m)
            lo, hi = _nct_ci(dd / k, m, level)
            rows.append((*base, diff, sp, J * dd, J * lo * k, J * hi * k, ""))
    out = pd.DataFrame(rows, columns=list(EFFECT_SIZE_COLUMNS))
    out["day"] = day_values(out["day"])
    return out
