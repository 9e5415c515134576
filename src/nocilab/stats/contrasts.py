"""Per-day contrasts of each arm against the control arm, from a mixed-model fit.

The numbers are emmeans' ``contrast(emmeans(m, ~ arm | day), "trt.vs.ctrl", ref =
control)`` with ``lmer.df = "satterthwaite"``: the difference of the model-based cell
means (a covariate held at its mean, which cancels), its SE from cov(beta), Satterthwaite
df, t and two-sided p.

The multiplicity adjustment is made over a *family* that the caller chooses and that the
``method`` column names:

- ``family="all"`` (default): every arm-vs-control comparison on every analysed day is one
  family, which is what Prism does for "compare each cell mean with the control in that
  row" (one family for all rows);
- ``family="day"``: each day is its own family (emmeans' default ``by = day``).

Baseline days are not tested for a treatment effect: no arm has had IgG yet. Contrasts
on the days given as ``baseline_days`` (every day before the first injection, see
:func:`pre_injection_days`) stay out of every family; they are reported as a *baseline
imbalance check*, unadjusted (``p_adj`` missing), with a ``method`` that says so. The
family sizes, and so the adjusted p-values of the post-injection days, count the
post-injection comparisons only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nocilab.errors import AnalysisError, one_of
from nocilab.stats._design import _day_label, day_values
from nocilab.stats.mixed import MixedModelFit
from nocilab.stats.multiplicity import ADJUST_METHODS, adjust_pvalues

CONTRAST_COLUMNS = (
    "day", "contrast", "arm", "estimate", "se", "df", "t", "p", "p_adj", "method",
)
FAMILIES = ("all", "day")
BASELINE_CHECK = "baseline imbalance check: unadjusted, not in the family"


def pre_injection_days(days: Sequence[float],
                       baseline_days: Sequence[float] = ()) -> tuple[float, ...]:
    """The days of ``days`` that are baselines: before day 0, or named in ``baseline_days``.

    Examples
    --------
    >>> pre_injection_days([-3, -1, 0, 1, 7])
    (-3.0, -1.0)
    """
    named = {float(d) for d in baseline_days}
    return tuple(sorted({float(d) for d in days if float(d) < 0 or float(d) in named}))


@dataclass(frozen=True)
class ContrastTable:
    """Arm-vs-control contrasts per day. ``to_frame()`` has :data:`CONTRAST_COLUMNS`."""

    frame: pd.DataFrame
    adjust: str
    family: str

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()


def check_adjust(adjust: str, family: str) -> tuple[str, str]:
    """Validate the adjustment method and the family; return them lower-cased."""
    a, f = adjust.lower(), family.lower()
    if a not in ADJUST_METHODS:
        raise AnalysisError(f"unknown adjustment {adjust!r}; expected {one_of(ADJUST_METHODS)}")
    if f not in FAMILIES:
        raise AnalysisError(f"unknown family {family!r}; expected {one_of(FAMILIES)}")
    return a, f


def adjust_table(
    table: pd.DataFrame, cov: np.ndarray, *, adjust: str, family: str,
    baseline_days: Sequence[float] = (),
) -> pd.DataFrame:
    """Fill ``p_adj`` and ``method`` of a contrast table, given the contrasts' covariance.

    Rows on ``baseline_days`` are left out of the families: their ``p_adj`` is missing
    and their ``method`` is :data:`BASELINE_CHECK`.
    """
    out = table.copy()
    day = out["day"].to_numpy(dtype=float)
    base = np.isin(day, np.asarray([float(d) for d in baseline_days], dtype=float))
    post = np.flatnonzero(~base)
    groups = [post] if family == "all" else [
        np.flatnonzero((day == d) & ~base) for d in pd.unique(day[~base])
    ]
    groups = [g for g in groups if g.size]
    p_adj = np.full(len(out), np.nan)
    for idx in groups:
        sub = cov[np.ix_(idx, idx)]
        sd = np.sqrt(np.diag(sub))
        p_adj[idx] = adjust_pvalues(
            out["p"].to_numpy()[idx], method=adjust, t=out["t"].to_numpy()[idx],
            df=out["df"].to_numpy()[idx], corr=sub / np.outer(sd, sd),
        )
    out["p_adj"] = p_adj
    sizes = sorted({len(g) for g in groups})
    size = "/".join(map(str, sizes))
    which = "post-injection " if base.any() else ""
    scope = f"all {which}days" if family == "all" else f"each {which}day"
    out["method"] = (
        "none" if adjust == "none" else f"{adjust} over {size} comparison(s) ({scope})"
    )
    out.loc[base, "method"] = BASELINE_CHECK
    return out


def day_contrasts(
    fit: MixedModelFit,
    *,
    adjust: str = "sidak",
    family: str = "all",
    days: Sequence[float] | None = None,
    baseline_days: Sequence[float] = (),
) -> ContrastTable:
    """Contrasts of each arm against the control arm (the fit's first arm) on each day.

    Parameters
    ----------
    fit : a fitted model from :func:`~nocilab.stats.mixed.fit_mixed_model`.
    adjust : ``none``, ``holm``, ``sidak``, ``bonferroni`` or ``dunnett``.
    family : ``all`` (one family over every day) or ``day`` (one family per day).
    days : the days to compare (default: every day of the model); the family is made of
        the days listed.
    baseline_days : days before any injection: their contrasts are a baseline imbalance
        check, outside the family (see the module docstring). Default: none.

    Returns
    -------
    ContrastTable with columns day, contrast (``"arm - control"``), arm, estimate, se,
    df, t, p, p_adj, method.
    """
    adjust, family = check_adjust(adjust, family)
    design = fit.design
    day_index = list(range(len(design.days)))
    if days is not None:
        wanted = {float(d) for d in days}
        unknown = wanted - set(design.days)
        if unknown:
            raise AnalysisError(
                f"day(s) {sorted(unknown)} not in the model; days: {list(design.days)}"
            )
        day_index = [j for j, d in enumerate(design.days) if d in wanted]
    control = design.arms[0]
    rows, Ls = [], []
    for j in day_index:
        ref = fit.cell_row(0, j)
        for i in range(1, len(design.arms)):
            L = fit.cell_row(i, j) - ref
            est, se, df, t, p = fit.contrast(L)
            Ls.append(L)
            rows.append((design.days[j], f"{design.arms[i]} - {control}", design.arms[i],
                         est, se, df, t, p))
    table = pd.DataFrame(rows, columns=list(CONTRAST_COLUMNS[:8]))
    table["day"] = day_values(table["day"])
    L = np.array(Ls)
    out = adjust_table(table, L @ fit.vcov @ L.T, adjust=adjust, family=family,
                       baseline_days=baseline_days)
    return ContrastTable(frame=out[list(CONTRAST_COLUMNS)], adjust=adjust, family=family)


def day_label(d: float) -> str:
    """A day as written in tables: ``3`` for 3.0."""
    return _day_label(d)
