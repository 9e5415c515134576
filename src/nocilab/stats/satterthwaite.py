"""Satterthwaite degrees of freedom for linear mixed models, as lmerTest computes them.

The variance parameters are lme4's ``(theta, sigma)``: relative standard deviations of
the random terms and the residual standard deviation. With ``D`` the REML criterion as a
function of them (``-2`` REML log-likelihood), ``A = 2 H^+`` is the asymptotic covariance
of their estimates (``H`` the Hessian of ``D``, ``+`` the Moore-Penrose inverse over the
eigenvalues above ``1e-8``, as in ``lmerTest:::as_lmerModLT``), and ``J_k = dC/dvarpar_k``
the Jacobian of ``C = cov(beta-hat)``. For a contrast ``l``::

    df = 2 (l' C l)^2 / (g' A g),   g_k = l' J_k l.

For a multi-row ``L`` (an F test) the method of Fai and Cornelius (1996) is used as in
``lmerTest::contestMD``: eigen-decompose ``L C L'``, take the Satterthwaite df ``nu_m`` of
each eigen-contrast and set ``E = sum nu_m / (nu_m - 2)``, ``ddf = 2 E / (E - q)`` (2 when
any ``nu_m <= 2``).

Here ``H`` is the numerical Jacobian of the analytic gradient of ``D`` (central
differences with Richardson extrapolation) and ``J`` is analytic. Because ``(theta,
sigma)`` is a stationary point of ``D`` at an interior optimum, the df do not depend on
how the variance parameters are parametrised; at a boundary (``theta = 0``) they do, and
this parametrisation is lmerTest's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

from nocilab.stats._reml import RemlProblem


@dataclass(frozen=True, eq=False)
class SatterthwaiteState:
    """What Satterthwaite df need: ``vcov_varpar`` (A) and the Jacobian of cov(beta)."""

    varpar: np.ndarray
    hessian: np.ndarray
    vcov_varpar: np.ndarray
    jacobian: np.ndarray
    warnings: tuple[str, ...]


def richardson_jacobian(
    fun: Callable[[np.ndarray], np.ndarray], x: np.ndarray, *, levels: int = 4
) -> np.ndarray:
    """Jacobian of a vector function by central differences with Richardson extrapolation.

    The first step is ``1e-3 max(|x_k|, 0.01)``, halved at each of ``levels`` levels;
    the extrapolation removes the error terms in ``h^2, h^4, ...``.
    """
    x = np.asarray(x, dtype=float)
    f0 = np.asarray(fun(x), dtype=float)
    out = np.empty((f0.size, x.size))
    for k in range(x.size):
        h = 1e-3 * max(abs(x[k]), 1e-2)
        table = []
        for _ in range(levels):
            e = np.zeros_like(x)
            e[k] = h
            table.append((np.asarray(fun(x + e)) - np.asarray(fun(x - e))) / (2.0 * h))
            h /= 2.0
        for m in range(1, levels):
            f = 4.0**m
            table = [(f * table[i + 1] - table[i]) / (f - 1.0) for i in range(len(table) - 1)]
        out[:, k] = table[0]
    return out


def satterthwaite_state(
    problem: RemlProblem, theta: np.ndarray, sigma_scaled: float, *, tol: float = 1e-8
) -> SatterthwaiteState:
    """Hessian of the REML criterion and Jacobian of cov(beta) at the estimates.

    Computed on the scaled response of ``problem`` and returned in original units
    (``sigma = scale * sigma_scaled``; ``C`` scales by ``scale^2``).
    """
    s = problem.scale
    vp = np.append(np.asarray(theta, dtype=float), sigma_scaled)
    h_scaled = richardson_jacobian(problem.deviance_grad, vp)
    h_scaled = 0.5 * (h_scaled + h_scaled.T)
    # to original units: sigma = s * sigma_scaled
    t = np.ones(vp.size)
    t[-1] = 1.0 / s
    hess = h_scaled * np.outer(t, t)
    evals, evecs = np.linalg.eigh(hess)
    warnings: list[str] = []
    neg = evals < -tol
    zero = np.abs(evals) <= tol
    if neg.any():
        warnings.append(
            f"REML Hessian has {int(neg.sum())} negative eigenvalue(s): the fit may not "
            "have converged"
        )
    if zero.any():
        warnings.append(
            f"REML Hessian has {int(zero.sum())} eigenvalue(s) close to zero: the fit may "
            "not have converged"
        )
    pos = evals > tol
    h_inv = (evecs[:, pos] / evals[pos]) @ evecs[:, pos].T
    _, jac = problem.covbeta_jacobian(vp)
    jac = jac * s**2
    jac[-1] = jac[-1] / s
    varpar = vp.copy()
    varpar[-1] *= s
    return SatterthwaiteState(
        varpar=varpar, hessian=hess, vcov_varpar=2.0 * h_inv, jacobian=jac,
        warnings=tuple(warnings),
    )


def _satt_df(L: np.ndarray, var: float, state: SatterthwaiteState) -> float:
    grad = np.einsum("i,kij,j->k", L, state.jacobian, L)
    denom = float(grad @ state.vcov_varpar @ grad)
    return 2.0 * var**2 / denom if denom > 0 else np.inf


def contest1d(
    L: np.ndarray, beta: np.ndarray, vcov: np.ndarray, state: SatterthwaiteState
) -> tuple[float, float, float, float, float]:
    """Estimate, SE, Satterthwaite df, t and two-sided p of the contrast ``L beta``."""
    L = np.asarray(L, dtype=float).ravel()
    est = float(L @ beta)
    var = float(L @ vcov @ L)
    se = float(np.sqrt(var))
    df = _satt_df(L, var, state)
    t = est / se
    p = float(2.0 * stats.t.sf(abs(t), df))
    return est, se, df, t, p


def fstat_ddf(nu: np.ndarray, tol: float = 1e-8) -> float:
    """lmerTest's ``get_Fstat_ddf``: combine eigen-contrast df into one F ddf."""
    nu = np.asarray(nu, dtype=float)
    if nu.size == 1:
        return float(nu[0])
    if np.all(np.abs(np.diff(nu)) < tol):
        return float(nu.mean())
    if np.any(nu <= 2):
        return 2.0
    E = float(np.sum(nu / (nu - 2.0)))
    return 2.0 * E / (E - nu.size)


def contest_md(
    L: np.ndarray,
    beta: np.ndarray,
    vcov: np.ndarray,
    state: SatterthwaiteState,
    *,
    eps: float = float(np.sqrt(np.finfo(float).eps)),
) -> tuple[float, int, float, float]:
    """F test of ``L beta = 0``: F value, numerator df, Satterthwaite ddf, p."""
    L = np.atleast_2d(np.asarray(L, dtype=float))
    if L.shape[0] == 1:
        _, _, df, t, _ = contest1d(L[0], beta, vcov, state)
        return t * t, 1, df, float(stats.f.sf(t * t, 1, df))
    VL = L @ vcov @ L.T
    d, P = np.linalg.eigh(VL)
    order = np.argsort(d)[::-1]
    d, P = d[order], P[:, order]
    tol = max(eps * d[0], 0.0)
    q = int(np.sum(d > tol))
    PtL = (P.T @ L)[:q]
    if q == 1:
        _, _, df, t, _ = contest1d(PtL[0], beta, vcov, state)
        return t * t, 1, df, float(stats.f.sf(t * t, 1, df))
    t2 = (PtL @ beta) ** 2 / d[:q]
    F = float(t2.sum() / q)
    nu = np.array([_satt_df(PtL[m], d[m], state) for m in range(q)])
    ddf = fstat_ddf(nu)
    return F, q, ddf, float(stats.f.sf(F, q, ddf))
