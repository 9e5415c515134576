"""Simulating studies and applying the donor-level test: the fast and the full route."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from nocilab.design._power_design import (
    PowerDesign,
    _fail,
    _integer,
    ar1_correlation,
    arm_contrast_means,
    contrast_weights,
    donor_mean_variance,
)

Method = Literal["sufficient", "full"]
Seed = int | np.random.SeedSequence

# simulated values held in memory at once (floats); results do not depend on it
_CHUNK_VALUES = 2_000_000


@dataclass(frozen=True)
class ArmPower:
    """Power of one treatment arm's comparison with the control arm."""

    arm: str
    power: float
    ci_low: float
    ci_high: float
    n_rejected: int
    expected_difference: float


@dataclass(frozen=True)
class PowerResult:
    """Estimated power of a design.

    ``power`` is the power of the first treatment arm's comparison with control (the
    primary comparison); ``by_arm`` holds every treatment arm. ``ci_low``/``ci_high``
    are the Wilson 95 % interval of the Monte-Carlo estimate (the simulation error, not
    a statement about the design). ``seed`` and ``spawn_key`` record the random stream:
    ``numpy.random.SeedSequence(seed, spawn_key=spawn_key)`` reproduces it (an integer
    seed has ``spawn_key=()``). ``n_sims`` counts the simulated studies the estimate
    rests on; ``n_failed`` those that could not be analysed (only the refit route can
    have any; their reasons are in ``notes``).
    """

    power: float
    ci_low: float
    ci_high: float
    n_sims: int
    seed: int | tuple[int, ...]
    method: str
    n_rejected: int
    by_arm: tuple[ArmPower, ...]
    df: int
    n_failed: int = 0
    notes: tuple[str, ...] = ()
    spawn_key: tuple[int, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One row per treatment arm: arm, expected_difference, power, ci_low, ci_high,
        n_rejected, n_sims, method."""
        return pd.DataFrame(
            {
                "arm": [a.arm for a in self.by_arm],
                "expected_difference": [a.expected_difference for a in self.by_arm],
                "power": [a.power for a in self.by_arm],
                "ci_low": [a.ci_low for a in self.by_arm],
                "ci_high": [a.ci_high for a in self.by_arm],
                "n_rejected": [a.n_rejected for a in self.by_arm],
                "n_sims": self.n_sims,
                "method": self.method,
            }
        )


def wilson_interval(count: int, n: int) -> tuple[float, float]:
    """The Wilson 95 % interval of a proportion ``count / n``."""
    lo, hi = proportion_confint(count, n, alpha=0.05, method="wilson")
    return float(lo), float(hi)


def _seed_sequence(seed: object) -> np.random.SeedSequence:
    if isinstance(seed, np.random.SeedSequence):
        return seed
    return np.random.SeedSequence(_integer("seed", seed, low=0))


def _rng(seed: object) -> np.random.Generator:
    return np.random.default_rng(_seed_sequence(seed))


def _arm_slices(design: PowerDesign) -> list[slice]:
    edges = np.cumsum((0,) + design.donors_by_arm)
    return [slice(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def _comparison_alpha(design: PowerDesign) -> float:
    """The level each comparison is tested at under a single-step adjustment."""
    m = len(design.arms) - 1
    if m == 1 or design.adjust in ("none", "holm", "dunnett"):
        return design.alpha
    if design.adjust == "bonferroni":
        return design.alpha / m
    return -math.expm1(math.log1p(-design.alpha) / m)  # sidak


def _arm_correlation(n: np.ndarray) -> np.ndarray:
    """Correlation of the treatment-vs-control t statistics: lam_i lam_j, shared control."""
    lam = np.sqrt(n[1:] / (n[1:] + n[0]))
    r = np.outer(lam, lam)
    np.fill_diagonal(r, 1.0)
    return r


def critical_values(design: PowerDesign) -> float:
    """Critical |t| (two-sided) or t (one-sided, in the effect's direction).

    For ``adjust='holm'`` this is the first (smallest-p) step's critical value; the
    step-down itself is applied by :func:`reject`.
    """
    m = len(design.arms) - 1
    if design.adjust == "dunnett" and m > 1:
        from nocilab.stats.multiplicity import dunnett_critical_value

        n = np.asarray(design.donors_by_arm, dtype=float)
        return dunnett_critical_value(design.alpha, design.df, _arm_correlation(n))
    a = design.alpha / m if design.adjust == "holm" else _comparison_alpha(design)
    q = 1 - a / 2 if design.sidedness == "two-sided" else 1 - a
    return float(stats.t.ppf(q, design.df))


def _holm_reject(t: np.ndarray, df: np.ndarray | float, design: PowerDesign) -> np.ndarray:
    """Holm's step-down over the treatment arms, one simulated study per row."""
    t = np.where(np.isnan(t), 0.0, t)
    df = np.broadcast_to(np.asarray(df, dtype=float).reshape(-1, 1), t.shape)
    ok = df >= 1
    dfs = np.where(ok, df, 1.0)
    if design.sidedness == "two-sided":
        p = 2 * stats.t.sf(np.abs(t), dfs)
    else:
        p = stats.t.sf(t * _directions(design), dfs)
    p = np.where(ok, p, 1.0)
    m = t.shape[1]
    order = np.argsort(p, axis=1)
    ps = np.take_along_axis(p, order, axis=1)
    steps = design.alpha / (m - np.arange(m))
    passed = np.cumprod(ps <= steps, axis=1).astype(bool)  # stops at the first failure
    out = np.zeros_like(passed)
    np.put_along_axis(out, order, passed, axis=1)
    return out


def _directions(design: PowerDesign) -> np.ndarray:
    out = []
    for arm in design.arms[1:]:
        eff = design.effect_for(arm)
        out.append(eff.sign if eff is not None else -1)
    return np.asarray(out, dtype=float)


def donor_t_statistics(donor_means: np.ndarray, design: PowerDesign) -> np.ndarray:
    """Student t of each treatment arm against control from donor means.

    ``donor_means`` has shape (n_sims, n_donors), donors in arm order; the variance is
    pooled over all arms (df = donors - arms). Returns shape (n_sims, n_arms - 1).
    """
    d = np.asarray(donor_means, dtype=float)
    sl = _arm_slices(design)
    means = np.stack([d[:, s].mean(axis=1) for s in sl], axis=1)
    ss = sum(((d[:, s] - means[:, [i]]) ** 2).sum(axis=1) for i, s in enumerate(sl))
    s2 = ss / design.df
    n = np.asarray(design.donors_by_arm, dtype=float)
    se = np.sqrt(s2[:, None] * (1.0 / n[1:] + 1.0 / n[0]))
    return (means[:, 1:] - means[:, [0]]) / se


def donor_t_statistics_with_losses(donor_means: np.ndarray, design: PowerDesign
                                   ) -> tuple[np.ndarray, np.ndarray]:
    """Student t of each treatment arm against control when some donors are missing.

    ``donor_means`` as for :func:`donor_t_statistics`, with NaN for a donor whose mice
    were all lost. The variance is pooled over the arms that kept donors, df = donors
    kept - arms kept, per simulated study. Returns ``(t, df)``: t of shape (n_sims,
    n_arms - 1), NaN where the comparison cannot be made (an arm without donors, or
    no df left); df of shape (n_sims,).
    """
    d = np.asarray(donor_means, dtype=float)
    valid = ~np.isnan(d)
    filled = np.where(valid, d, 0.0)
    sl = _arm_slices(design)
    counts = np.stack([valid[:, s].sum(axis=1) for s in sl], axis=1).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.stack([filled[:, s].sum(axis=1) for s in sl], axis=1) / counts
        ss = sum((np.where(valid[:, s], d[:, s] - means[:, [i]], 0.0) ** 2).sum(axis=1)
                 for i, s in enumerate(sl))
        df = counts.sum(axis=1) - (counts > 0).sum(axis=1)
        s2 = np.where(df >= 1, ss / np.maximum(df, 1), np.nan)
        se = np.sqrt(s2[:, None] * (1.0 / counts[:, 1:] + 1.0 / counts[:, [0]]))
        t = (means[:, 1:] - means[:, [0]]) / se
    return np.where(np.isfinite(t), t, np.nan), df


def reject(t: np.ndarray, design: PowerDesign, df: np.ndarray | None = None) -> np.ndarray:
    """Which comparisons are significant, from their t statistics.

    ``df`` (one per simulated study) replaces the design's df when donors were lost;
    a NaN t (a comparison that could not be made) is never significant.
    """
    if design.adjust == "holm" and len(design.arms) > 2:
        return _holm_reject(t, design.df if df is None else df, design)
    if df is None:
        c = critical_values(design)
    else:
        a = _comparison_alpha(design)
        q = 1 - a / 2 if design.sidedness == "two-sided" else 1 - a
        c = np.full(len(df), np.inf)
        ok = df >= 1
        c[ok] = stats.t.ppf(q, df[ok])
        c = c[:, None]
        t = np.where(np.isnan(t), 0.0, t)
    if design.sidedness == "two-sided":
        return np.abs(t) > c
    return t * _directions(design) > c


def _donor_means_sufficient(design: PowerDesign, n: int, rng: np.random.Generator) -> np.ndarray:
    mu = np.repeat(arm_contrast_means(design), design.donors_by_arm)
    if design.dropout > 0:
        # mice kept per donor, then the donor mean's exact normal given that number
        kept = rng.binomial(design.mice_per_donor, 1.0 - design.dropout, (n, design.n_donors))
        sd = np.sqrt(donor_mean_variance(design, np.maximum(kept, 1)))
        out = mu + sd * rng.standard_normal((n, design.n_donors))
        out[kept == 0] = np.nan
        return out
    sd = math.sqrt(donor_mean_variance(design))
    return mu + sd * rng.standard_normal((n, design.n_donors))


def simulate_readings(design: PowerDesign, *, n_sims: int, seed: Seed) -> np.ndarray:
    """Simulate every reading of ``n_sims`` studies (the full route).

    Returns an array of shape (n_sims, n_animals, n_test_days): animals ordered by arm,
    then donor, then mouse (``mice_per_donor`` consecutive animals per donor); test days
    as in ``design.test_days``. Readings are changes from a common level of 0, which is
    all the change-from-baseline analysis sees (an animal's own level cancels).
    """
    n_sims = _integer("n_sims", n_sims, low=1)
    return _simulate_readings(design, n_sims, _rng(seed))


def _simulate_readings(design: PowerDesign, n: int, rng: np.random.Generator) -> np.ndarray:
    v = design.variance
    m = design.mice_per_donor
    days = np.asarray(design.test_days, dtype=float)
    n_t = len(days)
    curves = np.zeros((len(design.arms), n_t))
    for i, arm in enumerate(design.arms):
        eff = design.effect_for(arm)
        if eff is not None:
            curves[i] = eff.at(days)
    arm_of_animal = np.repeat(np.arange(len(design.arms)), np.asarray(design.donors_by_arm) * m)
    post = (days > 0).astype(float)
    chol = np.linalg.cholesky(ar1_correlation(n_t, v.rho))
    u = v.sd_donor * rng.standard_normal((n, design.n_donors))
    shift = np.repeat(u, m, axis=1) + v.sd_animal * rng.standard_normal((n, design.n_animals))
    e = v.sd_residual * (rng.standard_normal((n, design.n_animals, n_t)) @ chol.T)
    return curves[arm_of_animal][None, :, :] + shift[:, :, None] * post + e


def donor_means_from_readings(readings: np.ndarray, design: PowerDesign) -> np.ndarray:
    """Each donor's mean window contrast from simulated readings.

    Per animal: mean over the window days minus mean over the baseline days; per donor:
    the mean over its animals. ``readings`` as from :func:`simulate_readings`; returns
    shape (n_sims, n_donors).
    """
    c = np.asarray(readings, dtype=float) @ contrast_weights(design)
    return _donor_means(c, design)


def _donor_means(contrasts: np.ndarray, design: PowerDesign) -> np.ndarray:
    """Donor means of animal contrasts (n_sims, n_animals); NaN animals are left out."""
    c = contrasts.reshape(contrasts.shape[0], design.n_donors, design.mice_per_donor)
    if not np.isnan(c).any():
        return c.mean(axis=2)
    kept = (~np.isnan(c)).sum(axis=2)
    total = np.where(np.isnan(c), 0.0, c).sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(kept > 0, total / kept, np.nan)


def _count_rejections(design: PowerDesign, n_sims: int, rng: np.random.Generator,
                      method: str) -> np.ndarray:
    if method == "sufficient":
        per_sim = design.n_donors
    else:
        per_sim = design.n_animals * len(design.test_days) * 2
    chunk = max(1, _CHUNK_VALUES // per_sim)
    counts = np.zeros(len(design.arms) - 1, dtype=np.int64)
    done = 0
    while done < n_sims:
        n = min(chunk, n_sims - done)
        if method == "sufficient":
            dm = _donor_means_sufficient(design, n, rng)
        else:
            c = _censored(design, _simulate_readings(design, n, rng), rng) \
                @ contrast_weights(design)
            if design.dropout > 0:
                c[rng.random(c.shape) < design.dropout] = np.nan
            dm = _donor_means(c, design)
        if design.dropout > 0:
            t, df = donor_t_statistics_with_losses(dm, design)
            counts += reject(t, design, df).sum(axis=0)
        else:
            counts += reject(donor_t_statistics(dm, design), design).sum(axis=0)
        done += n
    return counts


def _censored(design: PowerDesign, readings: np.ndarray, rng: np.random.Generator
              ) -> np.ndarray:
    """Readings placed at their level and held at the design's bounds (if any).

    Without bounds the readings are returned as they are (changes from a common level;
    an animal's own level cancels). With bounds each animal gets the baseline mean plus
    its own level (``sd_level``), and a reading beyond a limit is recorded at the limit.
    """
    if design.bounds is None:
        return readings
    level = design.baseline_mean + design.variance.sd_level * rng.standard_normal(
        readings.shape[:2])
    lo, hi = design.bounds
    return np.clip(readings + level[:, :, None], lo, hi)


def result_from_counts(design: PowerDesign, counts: np.ndarray, n_sims: int, *, seed: Seed,
                       method: str, n_failed: int = 0,
                       notes: tuple[str, ...] = ()) -> PowerResult:
    """Assemble a :class:`PowerResult` from rejection counts per treatment arm."""
    diffs = arm_contrast_means(design)
    arms = []
    for i, arm in enumerate(design.arms[1:]):
        k = int(counts[i])
        lo, hi = wilson_interval(k, n_sims)
        arms.append(ArmPower(arm=arm, power=k / n_sims,
                             ci_low=lo, ci_high=hi, n_rejected=k,
                             expected_difference=float(diffs[i + 1])))
    first = arms[0]
    ss = _seed_sequence(seed)
    entropy = ss.entropy if isinstance(ss.entropy, int) else tuple(ss.entropy)
    return PowerResult(power=first.power, ci_low=first.ci_low, ci_high=first.ci_high,
                       n_sims=n_sims, seed=entropy, method=method, n_rejected=first.n_rejected,
                       by_arm=tuple(arms), df=design.df, n_failed=n_failed, notes=notes,
                       spawn_key=tuple(ss.spawn_key))


def simulate_power(design: PowerDesign, *, n_sims: int = 10_000, seed: Seed,
                   method: Method = "sufficient") -> PowerResult:
    """Power of the donor-level test of a design, by simulation.

    Parameters
    ----------
    design : PowerDesign
    n_sims : int
        Simulated studies.
    seed : int or numpy.random.SeedSequence
        Seed of the simulation (recorded in the result).
    method : {'sufficient', 'full'}
        ``'sufficient'`` draws each donor's mean window contrast directly from its
        exact normal distribution (fast); ``'full'`` simulates every reading of every
        animal on every test day and computes the same statistic from them. A design
        with ``bounds`` (censored readings) is always simulated in full.

    Returns
    -------
    PowerResult

    Examples
    --------
    >>> from nocilab.design.power import reference_design, simulate_power
    >>> r = simulate_power(reference_design(), n_sims=2000, seed=1)
    >>> r.method, r.n_sims
    ('sufficient', 2000)
    >>> r.ci_low <= r.power <= r.ci_high
    True
    """
    if not isinstance(design, PowerDesign):
        raise _fail("design", "must be a PowerDesign", type(design).__name__)
    n_sims = _integer("n_sims", n_sims, low=1)
    if method not in ("sufficient", "full"):
        raise _fail("method", "must be 'sufficient' or 'full'", method)
    if design.bounds is not None:
        method = "full"  # censoring is not normal: no sufficient statistics
    rng = _rng(seed)
    counts = _count_rejections(design, n_sims, rng, method)
    return result_from_counts(design, counts, n_sims, seed=seed, method=method)


def exact_power(design: PowerDesign, *, arm: str | None = None) -> float:
    """Power of the donor-level test in closed form (noncentral t).

    In the designs handled here every donor mean is normal with the same variance
    (:func:`donor_mean_variance`), so the pooled t statistic of a treatment arm against
    control follows a noncentral t with ``donors - arms`` df and noncentrality
    ``difference / sqrt(V * (1/n_arm + 1/n_control))``. ``arm`` defaults to the first
    treatment arm.
    """
    if design.dropout > 0:
        raise _fail("design.dropout", "exact_power has no closed form when mice are lost; "
                    "use simulate_power", design.dropout)
    if design.adjust == "holm" and len(design.arms) > 2:
        raise _fail("design.adjust", "exact_power has no closed form for Holm's step-down; "
                    "use simulate_power", design.adjust)
    if design.bounds is not None:
        raise _fail("design.bounds", "exact_power has no closed form for censored readings; "
                    "use simulate_power", design.bounds)
    arm = design.arms[1] if arm is None else arm
    if arm not in design.arms[1:]:
        raise _fail("arm", f"must be one of the treatment arms {list(design.arms[1:])}", arm)
    i = design.arms.index(arm)
    n = design.donors_by_arm
    diff = float(arm_contrast_means(design)[i])
    nc = diff / math.sqrt(donor_mean_variance(design) * (1 / n[i] + 1 / n[0]))
    c = critical_values(design)
    df = design.df
    if design.sidedness == "two-sided":
        return float(stats.nct.sf(c, df, nc) + stats.nct.cdf(-c, df, nc))
    eff = design.effect_for(arm)
    sign = eff.sign if eff is not None else -1
    return float(stats.nct.sf(c, df, sign * nc))
