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
    table: pd.DataFrame, cov: np.ndarray, *, adjust: str, family: str
) -> pd.DataFrame:
    """Fill ``p_adj`` and ``method`` of a contrast table, given the contrasts' covariance."""
    out = table.copy()
    groups = [np.arange(len(out))] if family == "all" else [
        np.flatnonzero(out["day"].to_numpy() == d) for d in pd.unique(out["day"])
    ]
    p_adj = np.empty(len(out))
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
    scope = "all days" if family == "all" else "each day"
    out["method"] = (
        "none" if adjust == "none" else f"{adjust} over {size} comparison(s) ({scope})"
    )
    return out


def day_contrasts(
    fit: MixedModelFit,
    *,
    adjust: str = "sidak",
    family: str = "all",
    days: Sequence[float] | None = None,
) -> ContrastTable:
    """Contrasts of each arm against the control arm (the fit's first arm) on each day.

    Parameters
    ----------
    fit : a fitted model from :func:`~nocilab.stats.mixed.fit_mixed_model`.
    adjust : ``none``, ``holm``, ``sidak``, ``bonferroni`` or ``dunnett``.
    family : ``all`` (one family over every day) or ``day`` (one family per day).
    days : the days to compare (default: every day of the model); the family is made of
        the days listed.

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
    out = adjust_table(table, L @ fit.vcov @ L.T, adjust=adjust, family=family)
    return ContrastTable(frame=out[list(CONTRAST_COLUMNS)], adjust=adjust, family=family)


def day_label(d: float) -> str:
    """A day as written in tables: ``3`` for 3.0."""
    return _day_label(d)
