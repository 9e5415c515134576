"""Censored values: counts, a flag, and a sensitivity analysis.

A reading at an assay's cut-off (paw pressure, cold plate, heat) or beyond the end of a
filament set is *censored*: the true value lies beyond ``bound``. The derived table says
so in ``censored`` (``none``/``left``/``right``) and ``bound``.

- :func:`censoring_summary` counts censored values per arm and day and flags cells where
  the fraction exceeds a threshold (default 10%).
- :func:`tobit_fit` fits a censored normal (Tobit) regression by maximum likelihood
  (as R's ``survival::survreg(..., dist = "gaussian")``), and :func:`tobit_day_contrasts`
  uses it per day for each arm against the control arm (z tests, as survreg reports).
- :func:`censoring_sensitivity` sets beside each other the per-day arm contrasts of
  (a) the mixed model with censored values at their bound, (b) the mixed model without
  the censored values (both after the main analysis' baseline handling), and (c) the
  Tobit model per day on the raw values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg, optimize, special, stats

from nocilab.errors import AnalysisError, shown
from nocilab.stats._design import day_values
from nocilab.stats.baseline import apply_baseline
from nocilab.stats.contrasts import day_contrasts
from nocilab.stats.mixed import fit_mixed_model
from nocilab.stats.satterthwaite import richardson_jacobian

CENSORING_COLUMNS = ("arm", "day", "n", "n_left", "n_right", "n_censored", "fraction",
                     "flagged")
TOBIT_COLUMNS = ("day", "contrast", "arm", "estimate", "se", "z", "p", "n", "n_censored",
                 "note")
SENSITIVITY_COLUMNS = ("analysis", "day", "contrast", "arm", "estimate", "se", "df", "p",
                       "note")


@dataclass(frozen=True)
class CensoringSummary:
    """Censored counts per arm x day; ``flagged`` when any cell exceeds ``threshold``."""

    table: pd.DataFrame
    n_censored: int
    fraction: float
    threshold: float
    flagged: bool

    def to_frame(self) -> pd.DataFrame:
        """Columns arm, day, n, n_left, n_right, n_censored, fraction, flagged."""
        return self.table.copy()


def censoring_summary(
    frame: pd.DataFrame, *, arm: str, day: str, censored: str = "censored",
    value: str | None = None, threshold: float = 0.10,
) -> CensoringSummary:
    """Count censored values per arm and day.

    Parameters
    ----------
    frame : long table with a ``censored`` column (``none``/``left``/``right``).
    arm, day, censored : column names.
    value : if given, rows with a missing value are not counted.
    threshold : a cell is flagged when its censored fraction exceeds this.
    """
    for col in (arm, day, censored):
        if col not in frame.columns:
            raise AnalysisError(f"table lacks column {col!r} needed for the censoring summary")
    f = frame if value is None else frame[frame[value].notna()]
    c = f[censored].fillna("none").astype(str)
    bad = set(c.unique()) - {"none", "left", "right"}
    if bad:
        raise AnalysisError(f"column {censored!r} must hold none/left/right (none, left or right); found {shown(sorted(bad))}")
    t = pd.DataFrame({"arm": f[arm].astype(str), "day": f[day].astype(float),
                      "left": c == "left", "right": c == "right"})
    g = t.groupby(["arm", "day"], sort=True)
    table = pd.DataFrame({"n": g.size(), "n_left": g["left"].sum(),
                          "n_right": g["right"].sum()}).reset_index()
    table["n_censored"] = table["n_left"] + table["n_right"]
    table["fraction"] = table["n_censored"] / table["n"]
    table["flagged"] = table["fraction"] > threshold
    table["day"] = day_values(table["day"])
    table = table[list(CENSORING_COLUMNS)].astype({"n": int, "n_left": int, "n_right": int,
                                                   "n_censored": int})
    n_c = int(table["n_censored"].sum())
    total = int(table["n"].sum())
    return CensoringSummary(table=table, n_censored=n_c, fraction=n_c / total if total else 0.0,
                            threshold=threshold, flagged=bool(table["flagged"].any()))


@dataclass(frozen=True, eq=False)
class TobitFit:
    """Censored normal regression: coefficients, their covariance, scale, log-likelihood."""

    beta: np.ndarray
    vcov: np.ndarray
    scale: float
    loglik: float
    converged: bool


def _tobit_nll(params: np.ndarray, y: np.ndarray, X: np.ndarray, kind: np.ndarray):
    beta, logs = params[:-1], params[-1]
    s = np.exp(logs)
    z = (y - X @ beta) / s
    obs, right, left = kind == 0, kind == 1, kind == -1
    ll = np.empty_like(z)
    ll[obs] = -0.5 * z[obs] ** 2 - 0.5 * np.log(2 * np.pi) - logs
    ll[right] = special.log_ndtr(-z[right])
    ll[left] = special.log_ndtr(z[left])
    # d ll / d z
    dz = np.empty_like(z)
    dz[obs] = -z[obs]
    dz[right] = -np.exp(stats.norm.logpdf(z[right]) - special.log_ndtr(-z[right]))
    dz[left] = np.exp(stats.norm.logpdf(z[left]) - special.log_ndtr(z[left]))
    g_beta = -(X.T @ dz) / s
    g_logs = float(-np.sum(dz * z) - obs.sum())
    return -float(ll.sum()), -np.append(g_beta, g_logs)


def tobit_fit(y: np.ndarray, X: np.ndarray, kind: np.ndarray) -> TobitFit:
    """Maximum-likelihood censored normal regression.

    Parameters
    ----------
    y : observed values; for censored rows, the bound.
    X : design matrix.
    kind : 0 observed, 1 right-censored (true value >= y), -1 left-censored (<= y).
    """
    y, X, kind = np.asarray(y, float), np.asarray(X, float), np.asarray(kind, int)
    beta0, *_ = linalg.lstsq(X, y)
    s0 = max(float(np.std(y - X @ beta0)), 1e-8 * max(1.0, float(np.std(y))), 1e-12)
    start = np.append(beta0, np.log(s0))
    res = optimize.minimize(_tobit_nll, start, args=(y, X, kind), jac=True, method="BFGS",
                            options=dict(gtol=1e-10, maxiter=5000))
    hess = richardson_jacobian(lambda p: _tobit_nll(p, y, X, kind)[1], res.x)
    hess = 0.5 * (hess + hess.T)
    try:
        cov = linalg.inv(hess)
    except linalg.LinAlgError as exc:
        raise AnalysisError("Tobit model: information matrix is singular") from exc
    p = X.shape[1]
    ok = bool(np.max(np.abs(res.jac)) < 1e-5)
    return TobitFit(beta=res.x[:p], vcov=cov[:p, :p], scale=float(np.exp(res.x[-1])),
                    loglik=-float(res.fun), converged=ok)


def _kind(frame: pd.DataFrame, censored: str) -> np.ndarray:
    c = frame[censored].fillna("none").astype(str).to_numpy()
    return np.where(c == "right", 1, np.where(c == "left", -1, 0))


def _at_bound(frame: pd.DataFrame, value: str, censored: str, bound: str | None) -> np.ndarray:
    y = frame[value].to_numpy(float).copy()
    if bound is not None and bound in frame.columns:
        b = frame[bound].to_numpy(float)
        cen = frame[censored].fillna("none").astype(str).to_numpy() != "none"
        use = cen & np.isfinite(b)
        y[use] = b[use]
    return y


def tobit_day_contrasts(
    frame: pd.DataFrame, *, value: str, arm: str, day: str, control: str,
    censored: str = "censored", bound: str | None = "bound",
) -> pd.DataFrame:
    """Per day, Tobit regression ``value ~ arm`` (control as reference); columns
    :data:`TOBIT_COLUMNS`. Censored values enter at their bound. A day on which an arm
    has no uncensored value has no finite estimate: the row carries the reason in
    ``note``.
    """
    f = frame[frame[value].notna()].copy()
    f["_y"] = _at_bound(f, value, censored, bound)
    f["_k"] = _kind(f, censored)
    arms_all = [control] + sorted(a for a in f[arm].astype(str).unique() if a != control)
    rows = []
    for d, g in f.groupby(f[day].astype(float), sort=True):
        arms = [a for a in arms_all if a in set(g[arm].astype(str))]
        others = [a for a in arms if a != control]
        n_c = int((g["_k"] != 0).sum())
        stuck = [a for a in arms if (g.loc[g[arm].astype(str) == a, "_k"] == 0).sum() == 0]
        if control not in arms or stuck:
            why = (f"no uncensored value in arm(s) {', '.join(stuck)}" if stuck
                   else "no control value")
            rows += [(d, f"{a} - {control}", a, *(np.nan,) * 4, len(g), n_c, why)
                     for a in others]
            continue
        X = np.column_stack([np.ones(len(g))] + [(g[arm].astype(str) == a).to_numpy(float)
                                                  for a in others])
        fit = tobit_fit(g["_y"].to_numpy(), X, g["_k"].to_numpy())
        note = "" if fit.converged else "Tobit fit did not converge"
        for j, a in enumerate(others, start=1):
            est, se = float(fit.beta[j]), float(np.sqrt(fit.vcov[j, j]))
            z = est / se
            rows.append((d, f"{a} - {control}", a, est, se, z, float(2 * stats.norm.sf(abs(z))),
                         len(g), n_c, note))
    out = pd.DataFrame(rows, columns=list(TOBIT_COLUMNS))
    out["day"] = day_values(out["day"])
    return out


def censoring_sensitivity(
    frame: pd.DataFrame, *, value: str, arm: str, day: str, animal: str, control: str,
    donor: str | None = None, censored: str = "censored", bound: str | None = "bound",
    baseline_days: Sequence[float] = (), baseline: str = "raw",
) -> pd.DataFrame:
    """Per-day arm contrasts under three treatments of censored values (unadjusted p).

    ``analysis`` is ``at_bound`` (mixed model, censored values set to their bound),
    ``dropped`` (mixed model without them) or ``tobit`` (censored normal per day on the
    raw values, z test: ``df`` is infinite). The two mixed models use the same baseline
    handling as the main analysis, applied after the censored values were set or
    dropped. Columns :data:`SENSITIVITY_COLUMNS`; an analysis that cannot be computed
    gives one row with the reason in ``note``.
    """
    if censored not in frame.columns:
        raise AnalysisError(f"table lacks column {censored!r} needed for censoring analysis")
    f = frame[frame[value].notna()].copy()
    cen = f[censored].fillna("none").astype(str) != "none"
    parts = []
    for name, data in (
        ("at_bound", f.assign(**{value: _at_bound(f, value, censored, bound)})),
        ("dropped", f[~cen.to_numpy()]),
    ):
        try:
            b = apply_baseline(data, value=value, day=day, animal=animal,
                               baseline_days=baseline_days, mode=baseline)
            fit = fit_mixed_model(b.frame, value=value, arm=arm, day=day, animal=animal,
                                  donor=donor, control=control, covariate=b.covariate)
            con = day_contrasts(fit, adjust="none").to_frame()
            con["note"] = ""
            con["analysis"] = name
            parts.append(con)
        except AnalysisError as exc:
            parts.append(pd.DataFrame([{"analysis": name, "note": str(exc)}]))
    tob = tobit_day_contrasts(f, value=value, arm=arm, day=day, control=control,
                              censored=censored, bound=bound)
    tob = tob.assign(analysis="tobit", df=np.inf)
    parts.append(tob)
    out = pd.concat([p for p in parts if not p.empty], ignore_index=True)
    for col in SENSITIVITY_COLUMNS:
        if col not in out.columns:
            out[col] = np.nan
    out["note"] = out["note"].fillna("")
    return out[list(SENSITIVITY_COLUMNS)]
