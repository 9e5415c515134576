"""Fitting a 4PL or 5PL standard curve by (weighted) nonlinear least squares."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from nocilab.elisa import _logistic as lg
from nocilab.errors import AssayError

WEIGHTS = ("none", "1/y", "1/y^2")
ORDER_TOLERANCE = 0.05
"""A standard may read below the next lower one by at most this fraction of the span of
the standards' mean responses (noise on a plateau) before the series counts as out of
order."""


class CurveFitError(AssayError):
    """A standard curve cannot be fitted; the message gives the reason (too few standards,
    standards out of order, no convergence, parameters not identifiable)."""


@dataclass(frozen=True)
class Parameter:
    """One fitted parameter with its standard error (from the Gauss-Newton covariance,
    as R's ``summary.nls`` reports it)."""

    name: str
    estimate: float
    se: float


@dataclass(frozen=True, eq=False)
class CurveFit:
    """A fitted standard curve.

    Attributes
    ----------
    model
        ``"4pl"`` or ``"5pl"``.
    weights
        ``"none"``, ``"1/y"`` or ``"1/y^2"`` (``y``: the observed response).
    parameters
        ``r0``, ``rinf``, ``xmid``, ``scal`` (and ``g`` for the 5PL) with their SEs;
        the curve is ``r0 + (rinf - r0) / (1 + exp((xmid - ln x) / scal)) ** g``.
    covariance
        Covariance matrix of the parameters, in the order of ``parameters``.
    concentration, od, fitted, residuals
        The standards' concentrations and responses (one entry per well), the fitted
        responses and the residuals ``od - fitted``.
    sigma
        Residual standard error (weighted residuals), on ``df_residual`` degrees of freedom.
    r_squared
        ``1 - sum(w r^2) / sum(w (y - ybar_w)^2)`` (the ordinary R² without weights).
    iterations
        Function evaluations of the solver that won.
    """

    model: str
    weights: str
    parameters: tuple[Parameter, ...]
    covariance: np.ndarray = field(repr=False)
    concentration: np.ndarray = field(repr=False)
    od: np.ndarray = field(repr=False)
    fitted: np.ndarray = field(repr=False)
    residuals: np.ndarray = field(repr=False)
    n_points: int
    df_residual: int
    sigma: float
    r_squared: float
    iterations: int

    @property
    def theta(self) -> np.ndarray:
        """The parameter estimates as an array, in the order of ``parameters``."""
        return np.array([p.estimate for p in self.parameters])

    def parameter(self, name: str) -> Parameter:
        """The parameter called ``name`` (``r0``, ``rinf``, ``xmid``, ``scal``, ``g``)."""
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(name)

    @property
    def increasing(self) -> bool:
        """Whether the response rises with the concentration (a sandwich ELISA): the sign
        of ``(rinf - r0) / scal`` (a 4PL may settle with ``scal`` < 0 and the asymptotes'
        names swapped; the curve is the same)."""
        span = self.parameter("rinf").estimate - self.parameter("r0").estimate
        return span * self.parameter("scal").estimate > 0

    def predict(self, concentration) -> np.ndarray:
        """Expected responses at the given concentrations (> 0)."""
        with np.errstate(divide="ignore"):
            x = np.atleast_1d(np.asarray(concentration, dtype=float))
            return lg.response(self.theta, np.log(x))

    def back_calculate(self, od) -> np.ndarray:
        """Concentrations read back from responses; NaN outside the asymptotes."""
        return lg.inverse(self.theta, np.atleast_1d(np.asarray(od, dtype=float)))

    def ec50(self) -> tuple[float, float]:
        """Concentration of the half-way response and its SE (delta method)."""
        value, grad = lg.ec50(self.theta)
        return value, float(np.sqrt(grad @ self.covariance @ grad))

    def hill(self) -> tuple[float, float]:
        """The Hill slope ``1 / scal`` and its SE (delta method)."""
        p = self.parameter("scal")
        return 1.0 / p.estimate, p.se / p.estimate**2

    def to_frame(self) -> pd.DataFrame:
        """Parameters, then the derived ``ec50`` and ``hill``: columns ``parameter,
        estimate, se``."""
        rows = [(p.name, p.estimate, p.se) for p in self.parameters]
        rows.append(("ec50", *self.ec50()))
        rows.append(("hill", *self.hill()))
        return pd.DataFrame(rows, columns=["parameter", "estimate", "se"])


def fit_curve(concentration, od, *, model: str = "4pl", weights: str = "none",
              order_tolerance: float = ORDER_TOLERANCE) -> CurveFit:
    """Fit a 4PL or 5PL curve to standards by nonlinear least squares.

    Parameters
    ----------
    concentration
        Nominal concentration of each standard well (> 0; replicates repeat the value).
    od
        Response of each well (usually blank-subtracted optical density).
    model
        ``"4pl"`` or ``"5pl"``.
    weights
        ``"none"``, ``"1/y"`` or ``"1/y^2"``: each residual weighted by the reciprocal
        of the observed response (or its square), as Prism and R's ``nls(weights = )``
        do. Weighting needs every response > 0.
    order_tolerance
        How far (fraction of the span of the mean responses) a standard may fall behind
        the next lower one before the series is refused as out of order.

    Returns
    -------
    CurveFit

    Raises
    ------
    CurveFitError
        Fewer distinct standards than parameters + 1, standards out of order, responses
        unusable for the weighting, no convergence from any starting point, or
        parameters that the standards do not determine.

    Notes
    -----
    Starting values come from the data: the asymptotes just beyond the lowest and
    highest mean responses, ``xmid`` and ``scal`` from a straight line through the
    logits; several such starts are tried (and for the 5PL, ``g`` in 0.5, 1, 2 from
    the 4PL solution) and the lowest weighted residual sum of squares wins. The solver
    is MINPACK's Levenberg-Marquardt (``scipy.optimize.least_squares``) with analytic
    derivatives and tolerances of 1e-15. Standard errors are ``sigma^2 (J'WJ)^-1``,
    as R's ``summary.nls`` gives them.

    Examples
    --------
    >>> import numpy as np
    >>> conc = np.repeat(1000 / 2.0 ** np.arange(8), 2)
    >>> od = 0.05 + 3.0 / (1 + (120 / conc) ** 1.2)
    >>> fit = fit_curve(conc, od)
    >>> round(fit.parameter("rinf").estimate, 6), round(float(np.exp(fit.theta[2])), 4)
    (3.05, 120.0)
    >>> round(float(fit.back_calculate(0.05 + 1.5)[0]), 4)
    120.0
    """
    if model not in lg.MODELS:
        raise CurveFitError(f"unknown curve model {model!r}; expected one of "
                            f"{', '.join(lg.MODELS)}")
    if weights not in WEIGHTS:
        raise CurveFitError(f"unknown weighting {weights!r}; expected one of {', '.join(WEIGHTS)}")
    x = np.asarray(concentration, dtype=float).ravel()
    y = np.asarray(od, dtype=float).ravel()
    if x.shape != y.shape:
        raise CurveFitError(f"{len(x)} concentrations but {len(y)} responses")
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if np.any(x <= 0):
        raise CurveFitError("standard concentrations must be > 0 (a zero standard is a blank)")
    names = lg.PARAMETERS[model]
    levels = np.unique(x)
    if len(levels) < len(names) + 1:
        raise CurveFitError(f"a {model.upper()} curve needs at least {len(names) + 1} standard "
                            f"concentrations; found {len(levels)}")
    if len(y) <= len(names):
        raise CurveFitError(f"a {model.upper()} curve needs more than {len(names)} standard wells")
    _check_order(x, y, levels, order_tolerance)
    w = _weights(y, weights)
    lx = np.log(x)
    sw = np.sqrt(w)

    best = None
    for start in _starts(lx, y, model, sw):
        res = _solve(start, lx, y, sw, model)
        if res is not None and (best is None or res.cost < best.cost):
            best = res
    if best is None:
        raise CurveFitError(f"the {model.upper()} fit did not converge from any starting point")
    theta = _external(best.x, model)
    jac = sw[:, None] * lg.jacobian(theta, lx)
    fitted = lg.response(theta, lx)
    resid = y - fitted
    df = len(y) - len(names)
    rss = float(np.sum(w * resid**2))
    sigma2 = rss / df
    if np.linalg.matrix_rank(jac) < len(names):
        raise CurveFitError(f"the standards do not determine the {model.upper()} parameters "
                            "(the curve is flat or the fit ran onto an asymptote)")
    try:
        cov = sigma2 * np.linalg.inv(jac.T @ jac)
    except np.linalg.LinAlgError:
        raise CurveFitError(f"the standards do not determine the {model.upper()} parameters "
                            "(their covariance matrix is singular: the curve is flat or the "
                            "fit ran onto an asymptote)") from None
    with np.errstate(invalid="ignore"):
        se = np.sqrt(np.diag(cov))
    if not (np.all(np.isfinite(theta)) and np.all(np.isfinite(se))):
        raise CurveFitError(f"the {model.upper()} fit did not converge to finite parameters")
    ybar = np.sum(w * y) / np.sum(w)
    r2 = 1.0 - rss / float(np.sum(w * (y - ybar) ** 2))
    params = tuple(Parameter(n, float(v), float(s))
                   for n, v, s in zip(names, theta, se, strict=True))
    return CurveFit(model=model, weights=weights, parameters=params, covariance=cov,
                    concentration=x, od=y, fitted=fitted, residuals=resid, n_points=len(y),
                    df_residual=df, sigma=float(np.sqrt(sigma2)), r_squared=float(r2),
                    iterations=int(best.nfev))


def _weights(y: np.ndarray, weights: str) -> np.ndarray:
    if weights == "none":
        return np.ones_like(y)
    if np.any(y <= 0):
        bad = ", ".join(f"{v:.4g}" for v in y[y <= 0][:5])
        raise CurveFitError(f"weighting {weights} needs every standard response > 0; found {bad} "
                            "(after blank subtraction): use weights none")
    return 1.0 / y if weights == "1/y" else 1.0 / y**2


def _check_order(x: np.ndarray, y: np.ndarray, levels: np.ndarray, tolerance: float) -> None:
    means = np.array([y[x == c].mean() for c in levels])
    span = means.max() - means.min()
    if span <= 0:
        raise CurveFitError("the standards all give the same response: no curve to fit")
    sign = 1.0 if means[-1] >= means[0] else -1.0
    steps = sign * np.diff(means)
    bad = np.flatnonzero(steps < -tolerance * span)
    if len(bad):
        i = bad[0]
        raise CurveFitError(
            f"standards out of order: {levels[i + 1]:g} reads {means[i + 1]:.4g}, "
            f"{'below' if sign > 0 else 'above'} {levels[i]:g} ({means[i]:.4g}); "
            "check the layout and the dilution series")


def _internal(theta: np.ndarray, model: str) -> np.ndarray:
    """The 5PL's g is searched on the log scale (it must stay > 0)."""
    t = np.array(theta, dtype=float)
    if model == "5pl":
        t[4] = np.log(t[4])
    return t


def _external(t: np.ndarray, model: str) -> np.ndarray:
    theta = np.array(t, dtype=float)
    if model == "5pl":
        theta[4] = np.exp(theta[4])
    return theta


def _solve(start: np.ndarray, lx: np.ndarray, y: np.ndarray, sw: np.ndarray, model: str):
    def fun(t):
        return sw * (lg.response(_external(t, model), lx) - y)

    def jac(t):
        theta = _external(t, model)
        j = lg.jacobian(theta, lx)
        if model == "5pl":
            j[:, 4] *= theta[4]
        return sw[:, None] * j

    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            res = least_squares(fun, _internal(start, model), jac=jac, method="lm",
                                xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=5000)
    except (ValueError, np.linalg.LinAlgError):
        return None
    if res.status <= 0 or not np.all(np.isfinite(res.x)) or not np.isfinite(res.cost):
        return None
    return res


def _starts(lx: np.ndarray, y: np.ndarray, model: str, sw: np.ndarray) -> list[np.ndarray]:
    """Starting values from the data (see :func:`fit_curve`, Notes)."""
    levels = np.unique(lx)
    means = np.array([y[lx == v].mean() for v in levels])
    span = means.max() - means.min()
    rising = means[-1] >= means[0]
    lo, hi = means.min(), means.max()
    starts = []
    for below, above in ((0.05, 0.05), (0.05, 0.5), (0.2, 1.0)):
        r_lo, r_hi = lo - below * span, hi + above * span
        r0, rinf = (r_lo, r_hi) if rising else (r_hi, r_lo)
        frac = (y - r0) / (rinf - r0)
        ok = (frac > 0) & (frac < 1)  # single wells may fall beyond the mean responses
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.log(frac[ok] / (1.0 - frac[ok]))  # = (ln x - xmid) / scal
        slope = intercept = np.nan
        if len(np.unique(lx[ok])) >= 2:
            slope, intercept = np.polyfit(lx[ok], z, 1)
        if not np.isfinite(slope) or abs(slope) < 1e-8:
            scal, xmid = (levels[-1] - levels[0]) / 4.0, float(np.median(levels))
        else:
            scal, xmid = 1.0 / slope, -intercept / slope
        starts.append(np.array([r0, rinf, xmid, scal]))
    if model == "4pl":
        return starts
    four = [r for r in (_solve(s, lx, y, sw, "4pl") for s in starts) if r is not None]
    base = min(four, key=lambda r: r.cost).x if four else starts[0]
    return [np.append(base, g) for g in (1.0, 0.5, 2.0)] + [np.append(s, 1.0) for s in starts]
