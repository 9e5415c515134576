"""Arm differences with equivalence tests (TOST), per analyte of a panel.

A cytokine panel that "shows no systemic inflammation" must show it positively: a large
p-value of a difference test only says the data could not tell. Here each analyte gets

- the arm difference (treated minus control) with its ``1 - alpha`` confidence interval
  and the two-sided Welch t test; and
- the equivalence test of Schuirmann: two one-sided Welch t tests (TOST) of
  ``H0: difference <= lower`` and ``H0: difference >= upper``; equivalence is shown when
  both are rejected, i.e. when the ``1 - 2 alpha`` interval lies inside the margin.

:func:`welch_tost` is one such comparison on two samples; :func:`equivalence_panel` runs
it for every analyte (and every arm against the control) of a tidy table, handles
censored values, adjusts across analytes and states a conclusion: ``equivalent within
the margin``, ``different`` or ``inconclusive`` (never "no difference").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from nocilab.errors import AnalysisError, one_of, shown
from nocilab.stats.censoring import tobit_fit
from nocilab.stats.multiplicity import benjamini_hochberg, holm

SCALES = ("log10", "linear")
MARGIN_UNITS = ("ratio", "absolute")
PANEL_ADJUST = ("holm", "bh", "none")
CONCLUSIONS = ("equivalent within the margin", "different", "inconclusive")
EQUIVALENCE_COLUMNS = (
    "analyte", "arm", "control", "scale", "unit", "n", "n_control", "n_censored",
    "n_censored_control", "mean", "mean_control", "difference", "se", "df", "ci_low",
    "ci_high", "p", "tost_ci_low", "tost_ci_high", "margin_low", "margin_high", "p_lower",
    "p_upper", "p_tost", "ratio", "ratio_ci_low", "ratio_ci_high", "tobit_difference",
    "tobit_se", "tobit_p", "tobit_p_tost", "p_used", "p_tost_used", "p_adj", "p_tost_adj",
    "adjust", "conclusion", "note",
)
"""Columns of :attr:`EquivalencePanel.table`. ``mean``, ``difference``, the intervals and
the margins are on the analysis ``scale`` (log10 units, or the concentration's ``unit``);
``ratio*`` are ``10 ** difference`` and its 95% interval (geometric mean ratio; NaN on
the linear scale). ``tobit_*`` are the censored-normal sensitivity analysis (NaN without
censored values). ``p_used``/``p_tost_used`` are the p-values the conclusion rests on
(the larger of the bound and the Tobit analysis when values are censored), ``p_adj`` and
``p_tost_adj`` those adjusted across the panel."""


@dataclass(frozen=True)
class Tost:
    """One two-sample comparison: Welch t test and the two one-sided tests.

    ``difference = mean(treated) - mean(control)``; ``ci_low, ci_high`` its ``1 - alpha``
    interval with ``t``, ``p`` the two-sided Welch test of zero difference; ``p_lower``
    tests ``H0: difference <= lower``, ``p_upper`` tests ``H0: difference >= upper``,
    ``p_tost`` is the larger of the two; ``tost_ci_low, tost_ci_high`` the
    ``1 - 2 alpha`` interval (inside ``[lower, upper]`` exactly when ``p_tost < alpha``).
    """

    n: int
    n_control: int
    mean: float
    mean_control: float
    difference: float
    se: float
    df: float
    t: float
    p: float
    ci_low: float
    ci_high: float
    lower: float
    upper: float
    t_lower: float
    p_lower: float
    t_upper: float
    p_upper: float
    p_tost: float
    tost_ci_low: float
    tost_ci_high: float
    alpha: float

    @property
    def equivalent(self) -> bool:
        """Whether both one-sided tests reject at ``alpha`` (unadjusted)."""
        return bool(self.p_tost < self.alpha)


def welch_tost(treated, control, *, lower: float, upper: float,
               alpha: float = 0.05) -> Tost:
    """Welch's t test and Schuirmann's two one-sided tests for two independent samples.

    Parameters
    ----------
    treated, control
        The two samples (at least two finite values each, not both constant).
    lower, upper
        The equivalence margin for ``mean(treated) - mean(control)`` (``lower < 0 <
        upper`` is usual but not required).
    alpha
        Level of each one-sided test; the TOST interval has coverage ``1 - 2 alpha``.

    Returns
    -------
    Tost

    Notes
    -----
    Each one-sided test is R's ``t.test(treated, control, mu = lower, alternative =
    "greater")`` and ``t.test(treated, control, mu = upper, alternative = "less")``:
    ``t = (difference - bound) / se`` with ``se`` and the Welch-Satterthwaite ``df`` of
    the two-sample test.

    Examples
    --------
    >>> r = welch_tost([2, 4, 6], [3, 5, 5, 7], lower=-3, upper=3)
    >>> round(r.difference, 3), round(r.se ** 2, 3), round(r.df, 4)
    (-1.0, 2.0, 3.8571)
    >>> round(r.t_lower, 4), round(r.t_upper, 4)
    (1.4142, -2.8284)
    """
    x = _finite(treated, "treated")
    y = _finite(control, "control")
    if not 0 < alpha < 0.5:
        raise AnalysisError(f"alpha must be between 0 and 0.5; got {shown(alpha)}")
    if not lower < upper:
        raise AnalysisError(f"the margin's lower bound ({shown(lower)}) must be below its "
                            f"upper bound ({shown(upper)})")
    vx, vy = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
    se = float(np.sqrt(vx + vy))
    if not se > 0:
        raise AnalysisError("both samples are constant: no test can be computed")
    df = float((vx + vy) ** 2 / (vx**2 / (len(x) - 1) + vy**2 / (len(y) - 1)))
    d = float(x.mean() - y.mean())
    t0 = d / se
    q1 = float(stats.t.isf(alpha / 2, df))
    q2 = float(stats.t.isf(alpha, df))
    t_lo, t_hi = (d - lower) / se, (d - upper) / se
    p_lo, p_hi = float(stats.t.sf(t_lo, df)), float(stats.t.cdf(t_hi, df))
    return Tost(n=len(x), n_control=len(y), mean=float(x.mean()), mean_control=float(y.mean()),
                difference=d, se=se, df=df, t=t0, p=float(2 * stats.t.sf(abs(t0), df)),
                ci_low=d - q1 * se, ci_high=d + q1 * se, lower=float(lower),
                upper=float(upper), t_lower=t_lo, p_lower=p_lo, t_upper=t_hi, p_upper=p_hi,
                p_tost=max(p_lo, p_hi), tost_ci_low=d - q2 * se, tost_ci_high=d + q2 * se,
                alpha=float(alpha))


def _finite(values, name: str) -> np.ndarray:
    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v)]
    if len(v) < 2:
        raise AnalysisError(f"the {name} sample needs at least 2 values; it has {len(v)}")
    return v


@dataclass(frozen=True, eq=False)
class EquivalencePanel:
    """Arm differences and equivalence tests for every analyte of a panel.

    ``table`` has :data:`EQUIVALENCE_COLUMNS`, one row per analyte and treated arm.
    """

    table: pd.DataFrame
    control: str
    scale: str
    margin_unit: str
    alpha: float
    adjust: str

    def to_frame(self) -> pd.DataFrame:
        """The table (:data:`EQUIVALENCE_COLUMNS`)."""
        return self.table.copy()

    def methods(self) -> str:
        """A methods paragraph stating what was done."""
        scale = ("on log10 concentrations (cytokine concentrations are log-normal; the "
                 "difference is a ratio of geometric means)" if self.scale == "log10"
                 else "on the concentrations")
        if self.margin_unit == "ratio":
            margin = ("the margin is a ratio of treated to control geometric means" if
                      self.scale == "log10" else "the margin is a fraction of the control "
                      "mean")
        else:
            margin = "the margin is given on the analysis scale"
        adjust = {"holm": "Holm's step-down method (family-wise error)",
                  "bh": "the Benjamini-Hochberg method (false discovery rate)",
                  "none": "no adjustment"}[self.adjust]
        pct = 100 * (1 - 2 * self.alpha)
        return (f"Each analyte was compared between arms {scale} by Welch's t test "
                f"(two-sided, alpha {self.alpha:g}) and tested for equivalence by two "
                f"one-sided Welch t tests (TOST; {pct:g}% interval inside the margin); "
                f"{margin}. Values below the LLOQ (above the ULOQ) were set to their bound, "
                "and where an analyte had such values a censored-normal (Tobit) model "
                "was fitted as well; a conclusion was drawn only when both analyses "
                "supported it (the larger of their p-values was used). P-values were "
                f"adjusted across analytes by {adjust}. An analyte is 'equivalent within "
                "the margin' when the adjusted TOST p is below alpha, 'different' when "
                "the adjusted difference test is, and otherwise 'inconclusive'.")


def equivalence_panel(values: pd.DataFrame, *, control: str, analyte: str = "analyte",
                      arm: str = "arm", value: str = "concentration",
                      censored: str | None = "censored", bound: str | None = "bound",
                      unit: str | None = "unit", scale: str = "log10",
                      margin: tuple[float, float] = (0.8, 1.25),
                      margins: Mapping[str, tuple[float, float]] | None = None,
                      margin_unit: str = "ratio", alpha: float = 0.05,
                      adjust: str = "holm") -> EquivalencePanel:
    """Per analyte: the arm difference, its CI and the equivalence test, adjusted.

    Parameters
    ----------
    values
        One row per animal (sample) and analyte: ``analyte``, ``arm``, ``value`` and, for
        censored readings, ``censored`` (``none``, ``left`` below the LLOQ, ``right``
        above the ULOQ) with the ``bound`` (the limit times the dilution).
    control
        The control arm; every other arm is compared with it.
    scale
        ``"log10"`` (default: cytokines are log-normal, and a ratio margin is natural)
        or ``"linear"``.
    margin, margins
        The equivalence margin ``(low, high)`` for every analyte, and per-analyte
        overrides.
    margin_unit
        ``"ratio"``: ``low, high`` are ratios of treated to control (default 0.8, 1.25):
        on the log10 scale the bounds are ``log10(low), log10(high)`` (a ratio of
        geometric means); on the linear scale ``(low - 1) x, (high - 1) x`` with ``x``
        the control mean (a fraction of the control mean). ``"absolute"``: the bounds of
        the difference on the analysis scale (log10 units, or the concentration unit).
    alpha
        Level of each test (the TOST interval covers ``1 - 2 alpha``).
    adjust
        Across the panel's rows: ``"holm"`` (family-wise error), ``"bh"``
        (Benjamini-Hochberg false discovery rate) or ``"none"``. Difference tests and
        equivalence tests are adjusted as two separate families.

    Returns
    -------
    EquivalencePanel

    Notes
    -----
    Censored values. Substituting a fixed fraction of the LLOQ (such as LLOQ/2) or zero
    would invent data. Instead each censored value is first set to its bound (the
    primary Welch analysis), and, for an analyte with any censored value, a
    censored-normal (Tobit) regression with the arm as covariate is fitted by maximum
    likelihood on the same scale (``nocilab.stats.tobit_fit``, as
    ``survival::survreg(dist = "gaussian")``), giving a difference, its SE and z-based
    one-sided tests. The p-value used for each family is the larger of the two, so an
    analyte is declared equivalent (or different) only when both the bound analysis and
    the censoring-aware analysis say so. The Tobit model assumes a common SD in the arms;
    it cannot be fitted when an arm has no quantified value, and such an analyte is
    inconclusive. The margin as a fraction of the control mean (linear scale) uses the
    observed control mean as though it were fixed. Each row's unit of analysis is one
    row of ``values`` (an animal); animals are taken as independent.
    """
    if scale not in SCALES:
        raise AnalysisError(f"unknown scale {scale!r}; expected {one_of(SCALES)}")
    if margin_unit not in MARGIN_UNITS:
        raise AnalysisError(f"unknown margin unit {margin_unit!r}; expected "
                            f"{one_of(MARGIN_UNITS)}")
    if adjust not in PANEL_ADJUST:
        raise AnalysisError(f"unknown adjustment {adjust!r}; expected {one_of(PANEL_ADJUST)}")
    need = [analyte, arm, value] + [c for c in (censored, bound) if c is not None]
    missing = [c for c in need if c not in values.columns]
    if missing:
        raise AnalysisError(f"the values table lacks column(s) {', '.join(missing)}; it has "
                            f"{', '.join(map(str, values.columns))}")
    arms = sorted(values[arm].astype(str).unique())
    if control not in arms:
        raise AnalysisError(f"control arm {control!r} is not in column {arm!r}; expected "
                            f"{one_of(arms)}")
    if len(arms) < 2:
        raise AnalysisError("only one arm in the table: nothing to compare")
    margins = dict(margins or {})
    unknown = sorted(set(margins) - set(values[analyte].astype(str)))
    if unknown:
        raise AnalysisError(f"margin given for analyte(s) not in the table: {', '.join(unknown)}")
    for name, m in [("all", margin), *margins.items()]:
        _check_margin(name, m, margin_unit)
    rows = []
    for name, g in values.groupby(values[analyte].astype(str), sort=True):
        for treated in (a for a in arms if a != control):
            rows.append(_one_row(g, name, treated, control, arm=arm, value=value,
                                 censored=censored, bound=bound, unit=unit, scale=scale,
                                 margin=margins.get(name, margin), margin_unit=margin_unit,
                                 alpha=alpha))
    table = pd.DataFrame(rows, columns=list(EQUIVALENCE_COLUMNS))
    table["p_adj"] = _adjust(table["p_used"].to_numpy(float), adjust)
    table["p_tost_adj"] = _adjust(table["p_tost_used"].to_numpy(float), adjust)
    table["adjust"] = adjust
    table["conclusion"] = [_conclusion(pt, pd_, alpha) for pt, pd_ in
                           zip(table["p_tost_adj"], table["p_adj"], strict=True)]
    both = (table["p_tost_adj"] < alpha) & (table["p_adj"] < alpha)
    table.loc[both, "note"] = table.loc[both, "note"].map(
        lambda s: _join(s, "differs from zero, by less than the margin"))
    return EquivalencePanel(table=table, control=control, scale=scale,
                            margin_unit=margin_unit, alpha=float(alpha), adjust=adjust)


def _check_margin(name: str, m, margin_unit: str) -> None:
    try:
        lo, hi = (float(v) for v in m)
    except (TypeError, ValueError):
        raise AnalysisError(f"margin for {name} must be two numbers LOW,HIGH") from None
    if not lo < hi:
        raise AnalysisError(f"margin for {name}: LOW ({lo:g}) must be below HIGH ({hi:g})")
    if margin_unit == "ratio" and not 0 < lo < 1 < hi:
        raise AnalysisError(f"ratio margin for {name} must have 0 < LOW < 1 < HIGH (e.g. "
                            f"0.8,1.25); got {lo:g},{hi:g}")


def _adjust(p: np.ndarray, method: str) -> np.ndarray:
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = {"holm": holm, "bh": benjamini_hochberg, "none": np.asarray}[method](p[ok])
    return out


def _conclusion(p_tost_adj: float, p_adj: float, alpha: float) -> str:
    if np.isfinite(p_tost_adj) and p_tost_adj < alpha:
        return CONCLUSIONS[0]
    if np.isfinite(p_adj) and p_adj < alpha:
        return CONCLUSIONS[1]
    return CONCLUSIONS[2]


def _join(a: str, b: str) -> str:
    return f"{a}; {b}" if a else b


def _one_row(g: pd.DataFrame, name: str, treated: str, control: str, *, arm: str,
             value: str, censored: str | None, bound: str | None, unit: str | None,
             scale: str, margin, margin_unit: str, alpha: float) -> dict[str, object]:
    g = g[g[arm].astype(str).isin([treated, control])]
    y = g[value].to_numpy(float).copy()
    kind = np.zeros(len(g), dtype=int)
    if censored is not None:
        c = g[censored].fillna("none").astype(str).to_numpy()
        bad = sorted(set(c) - {"none", "left", "right"})
        if bad:
            raise AnalysisError(f"analyte {name}: column {censored!r} must hold none, left or "
                                f"right; found {shown(bad)}")
        kind = np.where(c == "left", -1, np.where(c == "right", 1, 0))
        if bound is not None:
            b = g[bound].to_numpy(float)
            y[kind != 0] = b[kind != 0]
    is_t = (g[arm].astype(str) == treated).to_numpy()
    units = sorted(set(g[unit].astype(str))) if unit is not None and unit in g.columns else []
    row: dict[str, object] = {c: np.nan for c in EQUIVALENCE_COLUMNS}
    row.update(analyte=name, arm=treated, control=control, scale=scale,
               unit=", ".join(units), n=int(is_t.sum()), n_control=int((~is_t).sum()),
               n_censored=int((kind[is_t] != 0).sum()),
               n_censored_control=int((kind[~is_t] != 0).sum()), note="")
    usable = np.isfinite(y) & ((y > 0) if scale == "log10" else True)
    if scale == "log10" and np.any(np.isfinite(y) & (y <= 0)):
        row["note"] = _join(row["note"], "values <= 0 cannot be logged and were left out")
    y, kind, is_t = y[usable], kind[usable], is_t[usable]
    if scale == "log10":
        y = np.log10(y)
    lo, hi = (float(v) for v in margin)
    try:
        if margin_unit == "absolute":
            bounds = (lo, hi)
        elif scale == "log10":
            bounds = (float(np.log10(lo)), float(np.log10(hi)))
        else:
            mc = float(np.mean(y[~is_t])) if (~is_t).any() else np.nan
            bounds = ((lo - 1) * mc, (hi - 1) * mc)
            if not mc > 0:
                raise AnalysisError("the control mean is not > 0: no fractional margin")
        r = welch_tost(y[is_t], y[~is_t], lower=min(bounds), upper=max(bounds), alpha=alpha)
    except AnalysisError as exc:
        row["note"] = _join(row["note"], f"not tested: {exc}")
        return row
    row.update(mean=r.mean, mean_control=r.mean_control, difference=r.difference, se=r.se,
               df=r.df, ci_low=r.ci_low, ci_high=r.ci_high, p=r.p, tost_ci_low=r.tost_ci_low,
               tost_ci_high=r.tost_ci_high, margin_low=r.lower, margin_high=r.upper,
               p_lower=r.p_lower, p_upper=r.p_upper, p_tost=r.p_tost, p_used=r.p,
               p_tost_used=r.p_tost)
    if scale == "log10":
        row.update(ratio=10**r.difference, ratio_ci_low=10**r.ci_low,
                   ratio_ci_high=10**r.ci_high)
    if (kind != 0).any():
        n_c = int((kind != 0).sum())
        tob = _tobit(y, is_t, kind, r.lower, r.upper)
        if tob is None:
            row.update(p_used=np.nan, p_tost_used=np.nan)
            row["note"] = _join(row["note"], f"{n_c} censored value(s) set to their bound; "
                                "the censored-normal model cannot be fitted (an arm has no "
                                "quantified value or it did not converge): inconclusive")
        else:
            d, se, p, p_tost = tob
            row.update(tobit_difference=d, tobit_se=se, tobit_p=p, tobit_p_tost=p_tost,
                       p_used=max(r.p, p), p_tost_used=max(r.p_tost, p_tost))
            row["note"] = _join(row["note"], f"{n_c} censored value(s) set to their bound; "
                                "conclusion also needs the censored-normal model")
    return row


def _tobit(y: np.ndarray, is_t: np.ndarray, kind: np.ndarray, lower: float, upper: float):
    if not ((kind[is_t] == 0).any() and (kind[~is_t] == 0).any()) or (kind == 0).sum() < 3:
        return None
    X = np.column_stack([np.ones(len(y)), is_t.astype(float)])
    try:
        fit = tobit_fit(y, X, kind)
    except AnalysisError:
        return None
    se = float(np.sqrt(fit.vcov[1, 1]))
    if not (fit.converged and np.isfinite(se) and se > 0):
        return None
    d = float(fit.beta[1])
    p = float(2 * stats.norm.sf(abs(d) / se))
    p_tost = max(float(stats.norm.sf((d - lower) / se)), float(stats.norm.cdf((d - upper) / se)))
    return d, se, p, p_tost
