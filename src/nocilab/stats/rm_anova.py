"""Prism-style two-way repeated-measures ANOVA: arm between animals, day within.

The ANOVA table is the univariate split-plot analysis that Prism, afex (``aov_ez`` with
``type = 3``) and car compute: the between-animal stratum from each animal's mean over
days, the within-animal stratum from the days projected on orthonormal contrasts. Type
III sums of squares (they differ from Type I only for the between term's companions
when arms have unequal numbers of animals). The Geisser-Greenhouse epsilon comes from
the within-animal error matrix ``E`` on orthonormal contrasts, ``(tr E)^2 / ((k-1)
tr E^2)``, and corrects the df of day and arm:day.

Post-tests compare each arm with the control arm on each day. Following Prism (GraphPad
FAQ "How does Prism compute post tests following repeated measures two-way ANOVA?"):
when the groups compared at one time point are different animals, the repeated measures
are irrelevant to the comparison and the error is the *within-cells* mean square
``(SS_subject + SS_residual) / (df_subject + df_residual)`` with ``df_subject +
df_residual`` degrees of freedom (the residual mean square of the ordinary two-way
ANOVA). The multiplicity family is every comparison on every day (``family="all"``, as
Prism treats the comparisons of all rows as one family) or each day (``family="day"``);
the comparisons on ``baseline_days`` are a baseline imbalance check outside the family
(as in :mod:`nocilab.stats.contrasts`).

Repeated-measures ANOVA needs every animal measured on every day. With a missing value
the result is *refused*: ``RmAnovaResult.available`` is False and ``reason`` says why,
and the caller reports the mixed model instead (as Prism switches to its mixed model).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import linalg, stats

from nocilab.errors import AnalysisError
from nocilab.stats._design import arm_levels, day_values
from nocilab.stats.contrasts import CONTRAST_COLUMNS, ContrastTable, adjust_table, check_adjust
from nocilab.stats.mixed import _one_per, _require

RM_ANOVA_COLUMNS = (
    "term", "sum_sq", "df", "mean_sq", "F", "p", "gg_epsilon", "df_num_gg", "df_den_gg",
    "p_gg",
)


def _empty_table() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object if c == "term" else float)
                         for c in RM_ANOVA_COLUMNS})


@dataclass(frozen=True)
class RmAnovaResult:
    """Two-way RM ANOVA, or the reason it was refused.

    ``table`` has :data:`RM_ANOVA_COLUMNS` and rows arm, day, arm:day, subject (animals
    within arms) and residual. ``gg_epsilon`` / ``df_num_gg`` / ``df_den_gg`` / ``p_gg``
    apply to day and arm:day; the arm row repeats its uncorrected p in ``p_gg`` (no
    correction applies to a between-animal term) and leaves epsilon empty; the subject
    row tests animals against the residual; the residual row has no test.
    """

    available: bool
    reason: str
    table: pd.DataFrame
    posttests: ContrastTable | None
    gg_epsilon: float | None
    n_animals: dict[str, int] = field(default_factory=dict)
    days: tuple[float, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The ANOVA table (empty, with its columns, when refused)."""
        return self.table.copy()


def refused(reason: str) -> RmAnovaResult:
    """An RM ANOVA result that was not computed, and why."""
    return RmAnovaResult(available=False, reason=reason, table=_empty_table(),
                         posttests=None, gg_epsilon=None)


def _orthonormal_contrasts(k: int) -> np.ndarray:
    """A k x (k-1) matrix with orthonormal columns orthogonal to the ones vector."""
    C = np.eye(k)[:, :-1] - np.eye(k)[:, [-1]]
    Q, _ = linalg.qr(C, mode="economic")
    return Q


def rm_anova(
    frame: pd.DataFrame,
    *,
    value: str,
    arm: str,
    day: str,
    animal: str,
    control: str,
    posttest: str = "sidak",
    family: str = "all",
    baseline_days: Sequence[float] = (),
) -> RmAnovaResult:
    """Two-way repeated-measures ANOVA (arm between, day within) with per-day post-tests.

    Parameters
    ----------
    frame : long table, one row per animal x day.
    value, arm, day, animal : column names.
    control : the control arm of the post-tests.
    posttest : ``sidak`` (default), ``bonferroni``, ``holm``, ``dunnett`` or ``none``.
    family : ``all`` (every comparison of every day, Prism's family) or ``day``.
    baseline_days : days before any injection: their post-tests are reported as a
        baseline imbalance check, unadjusted and outside the family. Default: none.

    Returns
    -------
    RmAnovaResult; ``available`` is False (with ``reason``) when a value is missing,
    an arm has fewer than two animals, or there is only one day.
    """
    posttest, family = check_adjust(posttest, family)
    _require(frame, [value, arm, day, animal])
    df = frame[[value, arm, day, animal]].copy()
    df[animal] = df[animal].astype(str)
    df[arm] = df[arm].astype(str)
    _one_per(df, animal, arm)
    arms = arm_levels(df[arm], control, column=arm)
    dup = df.duplicated([animal, day])
    if dup.any():
        first = df.loc[dup].iloc[0]
        raise AnalysisError(
            f"animal {first[animal]} has several rows on day {first[day]}; "
            "expected one value per animal and day"
        )
    wide = df.pivot(index=animal, columns=day, values=value)
    days = tuple(float(d) for d in wide.columns)
    if len(days) < 2:
        return refused("repeated-measures ANOVA needs two or more days")
    holes = wide.isna()
    if holes.to_numpy().any():
        n_missing = int(holes.to_numpy().sum())
        animals = list(wide.index[holes.any(axis=1)])
        return refused(
            f"{n_missing} missing value(s) (animals {', '.join(animals[:5])}"
            f"{' ...' if len(animals) > 5 else ''}); repeated-measures ANOVA needs every "
            "animal on every day: use the mixed model"
        )
    arm_of = df.groupby(animal)[arm].first().reindex(wide.index)
    n_per = arm_of.value_counts().reindex(arms).fillna(0).astype(int)
    if (n_per < 2).any():
        few = [a for a in arms if n_per[a] < 2]
        return refused(f"arm(s) {', '.join(few)} have fewer than two animals")

    Y = wide.to_numpy(float)
    if np.ptp(Y) == 0:
        return refused(f"every value is {Y.flat[0]:g}: with no variation there is nothing to test")
    g = pd.Categorical(arm_of, categories=list(arms)).codes
    N, k = Y.shape
    a = len(arms)
    n_g = np.bincount(g, minlength=a).astype(float)

    # between animals: animal means
    m = Y.mean(axis=1)
    mg = np.bincount(g, weights=m, minlength=a) / n_g
    ss_arm = k * float(np.sum(n_g * (mg - m.mean()) ** 2))
    ss_subj = k * float(np.sum((m - mg[g]) ** 2))
    df_arm, df_subj = a - 1, N - a
    # within animals: orthonormal day contrasts
    Z = Y @ _orthonormal_contrasts(k)
    zg = np.vstack([Z[g == i].mean(axis=0) for i in range(a)])
    R = Z - zg[g]
    E = R.T @ R
    mu = zg.mean(axis=0)  # unweighted mean of arm means: Type III intercept
    ss_day = float(mu @ mu) / float(np.sum(1.0 / n_g) / a**2)
    zbar = (n_g @ zg) / N
    ss_int = float(np.sum(n_g[:, None] * (zg - zbar) ** 2))
    ss_res = float(np.trace(E))
    df_day, df_int, df_res = k - 1, (a - 1) * (k - 1), (N - a) * (k - 1)
    eps = 1.0 if k == 2 else float(np.trace(E) ** 2 / ((k - 1) * np.sum(E * E)))

    if df_res <= 0 or df_subj <= 0 or ss_res <= 0 or ss_subj <= 0:
        return refused("no variation between the animals of an arm or between an animal's days "
                       "beyond the arm means: the F tests are undefined")
    ms_res = ss_res / df_res
    ms_subj = ss_subj / df_subj
    rows = []
    f_arm = (ss_arm / df_arm) / ms_subj
    p_arm = float(stats.f.sf(f_arm, df_arm, df_subj))
    rows.append(("arm", ss_arm, df_arm, ss_arm / df_arm, f_arm, p_arm, np.nan, df_arm,
                 df_subj, p_arm))
    for term, ss, d1 in (("day", ss_day, df_day), ("arm:day", ss_int, df_int)):
        f = (ss / d1) / ms_res
        rows.append((term, ss, d1, ss / d1, f, float(stats.f.sf(f, d1, df_res)), eps,
                     eps * d1, eps * df_res, float(stats.f.sf(f, eps * d1, eps * df_res))))
    f_subj = ms_subj / ms_res
    p_subj = float(stats.f.sf(f_subj, df_subj, df_res))
    rows.append(("subject", ss_subj, df_subj, ms_subj, f_subj, p_subj, np.nan, np.nan,
                 np.nan, np.nan))
    rows.append(("residual", ss_res, df_res, ms_res, np.nan, np.nan, np.nan, np.nan, np.nan,
                 np.nan))
    table = pd.DataFrame(rows, columns=list(RM_ANOVA_COLUMNS))

    post = _posttests(Y, g, n_g, arms, days, ss_subj + ss_res, df_subj + df_res,
                      posttest, family, baseline_days)
    return RmAnovaResult(
        available=True, reason="", table=table, posttests=post, gg_epsilon=eps,
        n_animals={a_: int(n) for a_, n in n_per.items()}, days=days,
    )


def _posttests(
    Y: np.ndarray, g: np.ndarray, n_g: np.ndarray, arms: tuple[str, ...],
    days: tuple[float, ...], ss_wc: float, df_wc: int, adjust: str, family: str,
    baseline_days: Sequence[float],
) -> ContrastTable:
    ms_wc = ss_wc / df_wc
    means = np.vstack([Y[g == i].mean(axis=0) for i in range(len(arms))])
    rows, keys = [], []
    for j, d in enumerate(days):
        for i in range(1, len(arms)):
            est = float(means[i, j] - means[0, j])
            se = float(np.sqrt(ms_wc * (1.0 / n_g[i] + 1.0 / n_g[0])))
            t = est / se
            p = float(2.0 * stats.t.sf(abs(t), df_wc))
            rows.append((d, f"{arms[i]} - {arms[0]}", arms[i], est, se, float(df_wc), t, p))
            keys.append((j, i))
    table = pd.DataFrame(rows, columns=list(CONTRAST_COLUMNS[:8]))
    table["day"] = day_values(table["day"])
    cov = np.zeros((len(keys), len(keys)))
    for r, (j, i) in enumerate(keys):
        for c, (jj, ii) in enumerate(keys):
            if j == jj:
                cov[r, c] = ms_wc * (1.0 / n_g[0] + (1.0 / n_g[i] if i == ii else 0.0))
    out = adjust_table(table, cov, adjust=adjust, family=family, baseline_days=baseline_days)
    return ContrastTable(frame=out[list(CONTRAST_COLUMNS)], adjust=adjust, family=family)


