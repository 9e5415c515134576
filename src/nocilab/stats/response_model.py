"""The response-course model of a passive-transfer study, fitted by REML.

This is the model the power simulation draws from (:mod:`nocilab.design.power`), fitted
to a past study's readings so that every one of its variance components, the day-to-day
correlation included, can be carried into the planning of the next study. The reading
of animal ``k`` given donor ``j``'s IgG on its ``i``-th test day is::

    y = mu(arm, day) + l_k + [day > 0] * (u_j + v_k) + e_k,i
    l_k ~ N(0, sd_level^2)       the animal's own level, on every day
    u_j ~ N(0, sd_donor^2)       how strongly donor j's IgG acts, after injection
    v_k ~ N(0, sd_animal^2)      how strongly mouse k responds, after injection
    e_k ~ N(0, sd_residual^2 R)  R[i, i'] = rho ** |i - i'|   (AR(1) over test days)

``mu`` has one free mean per arm and study day (the cell means), so no shape of the
time course is assumed. Test days are counted by their rank among the outcome's study
days (baseline days included), as in the simulation. Animals without a donor (a vehicle
arm) have no donor term. Missing readings are left out; the AR(1) lags of the readings
that remain keep their gaps.

In R the same model is ``nlme::lme(value ~ 0 + cell, random = list(donor = pdIdent(~ 0
+ post), animal = pdDiag(~ 1 + post)), correlation = corAR1(form = ~ idx | donor /
animal), method = "REML")``; ``tests/stats/r/response_model.R`` makes the reference
values the tests compare with.

The fit works donor by donor: the marginal covariance of a donor's readings is a small
dense matrix, so the restricted likelihood is a sum over donors of Cholesky terms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize

from nocilab.errors import AnalysisError

_PARAMS = ("sd_level", "sd_donor", "sd_animal", "sd_residual", "rho")
_RHO_BOUND = 0.99


PLANNING_COLUMNS = ("sd_level", "sd_donor", "sd_animal", "sd_residual", "rho", "loglik",
                    "n_readings", "n_animals", "n_donors", "n_days", "converged", "note")
"""The columns of :meth:`ResponseModelFit.to_frame` (the report's planning table)."""


@dataclass(frozen=True)
class ResponseModelFit:
    """REML estimates of the response-course model, with what they came from."""

    sd_level: float
    sd_donor: float
    sd_animal: float
    sd_residual: float
    rho: float
    loglik: float
    n_readings: int
    n_animals: int
    n_donors: int
    n_days: int
    rho_fixed: bool
    converged: bool
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One row with the columns of :data:`PLANNING_COLUMNS`."""
        row = {c: getattr(self, c) for c in PLANNING_COLUMNS if c != "note"}
        row["note"] = "; ".join(self.notes)
        return pd.DataFrame([row], columns=list(PLANNING_COLUMNS))


@dataclass
class _Group:
    """Donors (or lone animals) with the same number of readings, stacked for batching."""

    x: np.ndarray            # (B, m, p) fixed-effects rows (cell indicators)
    y: np.ndarray            # (B, m) readings, scaled
    same_animal: np.ndarray  # (B, m, m) 1 where both readings are of one animal
    both_post_same: np.ndarray  # (B, m, m) both after injection, same animal
    post_post: np.ndarray    # (B, m, m) both after injection (donor term; 0 without donor)
    lag: np.ndarray          # (B, m, m) |rank difference| of the test days


def _groups(frame: pd.DataFrame, cells: np.ndarray, n_cells: int, scale: float) -> list[_Group]:
    stacks: dict[int, list[tuple]] = {}
    for _, part in frame.groupby("_block", sort=True):
        part = part.sort_values(["_animal", "_rank"])
        animal = part["_animal"].to_numpy()
        rank = part["_rank"].to_numpy().astype(float)
        post = part["_post"].to_numpy().astype(float)
        x = np.zeros((len(part), n_cells))
        x[np.arange(len(part)), cells[part.index.to_numpy()]] = 1.0
        same = (animal[:, None] == animal[None, :]).astype(float)
        pp = np.outer(post, post)
        donor_pp = pp if bool(part["_has_donor"].iloc[0]) else np.zeros_like(pp)
        stacks.setdefault(len(part), []).append(
            (x, part["_y"].to_numpy() / scale, same, pp * same, donor_pp,
             np.abs(rank[:, None] - rank[None, :])))
    return [_Group(*(np.stack(parts) for parts in zip(*items, strict=True)))
            for items in stacks.values()]


def _neg2_reml(theta: np.ndarray, groups: list[_Group], p: int) -> float:
    """-2 x restricted log-likelihood (without the constant) at sds and rho ``theta``."""
    s_l, s_d, s_a, s_e, rho = theta
    xtx = np.zeros((p, p))
    xty = np.zeros(p)
    yty = 0.0
    logdet = 0.0
    for g in groups:
        v = (s_l**2 * g.same_animal + s_a**2 * g.both_post_same + s_d**2 * g.post_post
             + s_e**2 * g.same_animal * rho ** g.lag)
        try:
            chol = np.linalg.cholesky(v)
            xw = np.linalg.solve(chol, g.x)
            yw = np.linalg.solve(chol, g.y[..., None])[..., 0]
        except np.linalg.LinAlgError:
            return math.inf
        logdet += 2.0 * float(np.log(np.diagonal(chol, axis1=1, axis2=2)).sum())
        xtx += np.einsum("bmi,bmj->ij", xw, xw)
        xty += np.einsum("bmi,bm->i", xw, yw)
        yty += float((yw * yw).sum())
    try:
        cx = np.linalg.cholesky(xtx)
        z = np.linalg.solve(cx, xty)
    except np.linalg.LinAlgError:
        return math.inf
    return logdet + 2.0 * float(np.log(np.diag(cx)).sum()) + yty - float(z @ z)


def _neg2_reml_grad(theta: np.ndarray, groups: list[_Group], p: int
                    ) -> tuple[float, np.ndarray]:
    """:func:`_neg2_reml` and its gradient in ``theta`` (sds and rho).

    With ``P = V^-1 - V^-1 X (X'V^-1 X)^-1 X'V^-1`` the derivative of the criterion
    along ``dV`` is ``tr(P dV) - y'P dV P y``; every term is a sum over donors.
    """
    s_l, s_d, s_a, s_e, rho = theta
    xtx = np.zeros((p, p))
    xty = np.zeros(p)
    logdet = 0.0
    parts = []
    for g in groups:
        ar = g.same_animal * rho ** g.lag
        v = s_l**2 * g.same_animal + s_a**2 * g.both_post_same + s_d**2 * g.post_post + s_e**2 * ar
        try:
            chol = np.linalg.cholesky(v)
            linv = np.linalg.solve(chol, np.broadcast_to(np.eye(v.shape[1]), v.shape))
        except np.linalg.LinAlgError:
            return math.inf, np.zeros(5)
        logdet += 2.0 * float(np.log(np.diagonal(chol, axis1=1, axis2=2)).sum())
        vinv = np.swapaxes(linv, 1, 2) @ linv              # V^-1 = L^-T L^-1
        w = vinv @ g.x                                     # V^-1 X
        xtx += np.einsum("bmi,bmj->ij", g.x, w)
        xty += np.einsum("bmi,bm->i", w, g.y)
        with np.errstate(divide="ignore", invalid="ignore"):
            drho = np.where(g.lag > 0, g.lag * rho ** np.maximum(g.lag - 1, 0), 0.0)
        dvs = (2 * s_l * g.same_animal, 2 * s_d * g.post_post, 2 * s_a * g.both_post_same,
               2 * s_e * ar, s_e**2 * g.same_animal * drho)
        parts.append((g, vinv, w, dvs))
    try:
        cx = np.linalg.cholesky(xtx)
        cinv = np.linalg.solve(cx, np.eye(p))
    except np.linalg.LinAlgError:
        return math.inf, np.zeros(5)
    minv = cinv.T @ cinv                                   # (X'V^-1 X)^-1
    beta = minv @ xty
    value = logdet + 2.0 * float(np.log(np.diag(cx)).sum())
    grad = np.zeros(5)
    for g, vinv, w, dvs in parts:
        r = np.einsum("bmn,bn->bm", vinv, g.y - g.x @ beta)  # P y, donor by donor
        value += float((r * (g.y - g.x @ beta)).sum())
        for k, dv in enumerate(dvs):
            t1 = float((vinv * dv).sum())
            gk = np.einsum("bmi,bmj->ij", w, dv @ w)
            t2 = float((minv * gk).sum())
            t3 = float((r * np.einsum("bmn,bn->bm", dv, r)).sum())
            grad[k] += t1 - t2 - t3
    return value, grad


def fit_response_model(frame: pd.DataFrame, *, value: str = "value", arm: str = "arm",
                       day: str = "study_day", animal: str = "animal", donor: str = "donor",
                       rho: float | None = None) -> ResponseModelFit:
    """Fit the response-course model to one outcome's readings by REML.

    Parameters
    ----------
    frame
        One row per reading: value, arm, study day (baseline days negative or 0),
        animal and donor (empty or missing for animals without a donor).
    rho
        Fix the AR(1) correlation at this value instead of estimating it.

    Raises
    ------
    AnalysisError
        Missing columns, no baseline or no post-injection day, too few readings, or an
        animal with two readings on one day.
    """
    missing = [c for c in (value, arm, day, animal) if c not in frame.columns]
    if missing:
        raise AnalysisError(f"the response-course model needs column(s) {', '.join(missing)}")
    if rho is not None and not -_RHO_BOUND <= rho <= _RHO_BOUND:
        raise AnalysisError(f"rho must lie between -{_RHO_BOUND} and {_RHO_BOUND}, got {rho!r}")
    data = pd.DataFrame({
        "_y": pd.to_numeric(frame[value], errors="coerce"),
        "_arm": frame[arm].astype(str),
        "_day": pd.to_numeric(frame[day], errors="coerce"),
        "_animal": frame[animal].astype(str),
        "_donor": (frame[donor].fillna("").astype(str) if donor in frame.columns else ""),
    }).dropna(subset=["_y", "_day"]).reset_index(drop=True)
    if data.empty:
        raise AnalysisError("the response-course model has no readings to fit")
    dup = data.duplicated(["_animal", "_day"])
    if dup.any():
        row = data[dup].iloc[0]
        raise AnalysisError(f"animal {row['_animal']!r} has more than one reading on day "
                            f"{row['_day']:g}; give one value per animal and day")
    days = np.sort(data["_day"].unique())
    if not (days <= 0).any() or not (days > 0).any():
        raise AnalysisError("the response-course model needs baseline days (<= 0) and days "
                            f"after injection (> 0); the readings have days "
                            f"{', '.join(f'{d:g}' for d in days)}")
    data["_rank"] = np.searchsorted(days, data["_day"].to_numpy())
    data["_post"] = data["_day"] > 0
    data["_has_donor"] = data["_donor"] != ""
    data["_block"] = np.where(data["_has_donor"], "d:" + data["_donor"], "a:" + data["_animal"])
    cell = data["_arm"] + "\x00" + data["_day"].astype(str)
    cells, uniques = pd.factorize(cell)
    n, p = len(data), len(uniques)
    if n - p < 4:
        raise AnalysisError(f"the response-course model needs more readings than arm x day "
                            f"cells plus 4 parameters: {n} readings, {p} cells")

    notes: list[str] = []
    animals_per_donor = data[data["_has_donor"]].groupby("_donor")["_animal"].nunique()
    fit_animal = bool((animals_per_donor > 1).any()) or not len(animals_per_donor)
    fit_donor = bool(len(animals_per_donor)) and bool((animals_per_donor > 1).any())
    if len(animals_per_donor) and not fit_donor:
        # one mouse per donor: donor and animal response terms coincide; keep the donor
        fit_animal = False
        fit_donor = True
        notes.append("one animal per donor: the donor and animal response variances "
                     "cannot be told apart; their sum is reported as donor variation")
    if not len(animals_per_donor):
        notes.append("no donors: no donor term")

    # centre and scale for the optimiser; estimates are scaled back
    resid = data["_y"] - data.groupby(cell)["_y"].transform("mean")
    scale = float(resid.std(ddof=0)) or 1.0
    groups = _groups(data, cells, p, scale)

    free = np.array([True, fit_donor, fit_animal, True, rho is None])
    start = np.array([0.5, 0.3 if fit_donor else 0.0, 0.3 if fit_animal else 0.0, 0.6,
                      0.3 if rho is None else rho])
    bounds = [(0.0, None), (0.0, None), (0.0, None), (1e-6, None),
              (-_RHO_BOUND, _RHO_BOUND)]

    def full(z: np.ndarray) -> np.ndarray:
        theta = start.copy()
        theta[free] = z
        return theta

    def objective(z: np.ndarray) -> tuple[float, np.ndarray]:
        val, grad = _neg2_reml_grad(full(z), groups, p)
        if not math.isfinite(val):
            return 1e300, np.zeros(int(free.sum()))
        return val, grad[free]

    try:
        runs = [optimize.minimize(objective, s0, method="L-BFGS-B", jac=True,
                                  bounds=[b for b, f in zip(bounds, free, strict=True) if f],
                                  options={"maxiter": 1000, "ftol": 1e-15, "gtol": 1e-10})
                for s0 in (start[free], _alternative_start(start, free))]
    except (ValueError, np.linalg.LinAlgError) as exc:
        raise AnalysisError(f"the response-course model could not be fitted: {exc}") from None
    best = min(runs, key=lambda r: r.fun)
    theta = full(best.x)
    neg2 = _neg2_reml(theta, groups, p)
    # the restricted log-likelihood of the unscaled readings, as nlme reports it
    loglik = -0.5 * (neg2 + (n - p) * math.log(2 * math.pi) + 2 * (n - p) * math.log(scale))
    # a line search that cannot improve any more ends 'abnormally' at the optimum too:
    # count the fit as converged when both starting points reach the same maximum
    agree = abs(runs[0].fun - runs[1].fun) <= 1e-7 * max(1.0, abs(best.fun))
    converged = math.isfinite(neg2) and (bool(best.success) or agree)
    if not converged:
        notes.append(f"the optimiser did not converge: {best.message}")
    for name, value_, on in zip(_PARAMS[:3], theta[:3], free[:3], strict=True):
        if on and value_ < 1e-3 * theta[3]:
            notes.append(f"{name} is estimated at about 0 (on the boundary)")
    if rho is None and abs(theta[4]) >= _RHO_BOUND - 1e-6:
        notes.append(f"rho reached its bound {theta[4]:+.2f}")
    return ResponseModelFit(
        sd_level=float(theta[0] * scale), sd_donor=float(theta[1] * scale),
        sd_animal=float(theta[2] * scale), sd_residual=float(theta[3] * scale),
        rho=float(theta[4]), loglik=float(loglik), n_readings=n,
        n_animals=int(data["_animal"].nunique()),
        n_donors=int(data.loc[data["_has_donor"], "_donor"].nunique()),
        n_days=len(days), rho_fixed=rho is not None, converged=converged, notes=tuple(notes))


def _alternative_start(start: np.ndarray, free: np.ndarray) -> np.ndarray:
    alt = start.copy()
    alt[0], alt[3] = 0.8, 0.4
    if free[4]:
        alt[4] = 0.6
    return alt[free]
