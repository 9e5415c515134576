"""REML for a linear model with nested random intercepts, from sufficient statistics.

The model is ``y = X beta + Z_in u_in + Z_out u_out + e`` with ``u_in ~ N(0, rho_in
sigma^2)`` one per inner group (the animal), ``u_out ~ N(0, rho_out sigma^2)`` one per
outer group (the donor), inner groups nested in outer groups, ``e ~ N(0, sigma^2)``. In
lme4's terms ``theta = sqrt(rho)`` (the relative standard deviations) and ``sigma`` is
the residual standard deviation.

With ``H = V / sigma^2`` block-diagonal by outer group, ``H^-1`` has a closed form
(Woodbury twice): for inner group ``i`` of size ``n_i`` let ``w_i = 1 / (1 + n_i rho_in)``,
for outer group ``d`` let ``m_d = sum_i n_i w_i``. Then for any two columns ``a, b``::

    a' H^-1 b = a'b - rho_in sum_i w_i A_i B_i
                    - sum_d rho_out / (1 + rho_out m_d) (sum_i w_i A_i)(sum_i w_i B_i)
    log |H|   = sum_i log(1 + n_i rho_in) + sum_d log(1 + rho_out m_d)

where ``A_i`` is the sum of ``a`` over group ``i``. So every quantity REML needs comes
from ``G'G`` (``G = [X y]``) and the per-group sums of ``G``, at a cost per evaluation
of ``O(m q^2)`` for ``m`` groups and ``q`` columns, whatever the number of rows.

The profiled REML criterion is lme4's::

    d(rho) = log|H| + log|X'H^-1 X| + (n - p) (1 + log(2 pi pwrss / (n - p)))

and the criterion as a function of ``(theta, sigma)`` (lmerTest's ``devfun_vp``)::

    D(theta, sigma) = log|H| + log|X'H^-1 X| + pwrss / sigma^2 + (n - p) log(2 pi sigma^2)

Both come with analytic gradients.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg, optimize

from nocilab.errors import AnalysisError


class RemlProblem:
    """Sufficient statistics of one model; methods evaluate the REML criteria.

    Parameters
    ----------
    X : (n, p) fixed-effects design, first column the intercept.
    y : (n,) response.
    inner : (n,) integer group code of each row (0..m-1), or None for no random term.
    outer : (m,) integer outer-group code of each inner group, or None.
    """

    def __init__(
        self,
        X: np.ndarray,
        y: np.ndarray,
        inner: np.ndarray | None,
        outer: np.ndarray | None,
    ) -> None:
        n, p = X.shape
        if n <= p:
            raise AnalysisError(f"{n} observations for {p} fixed-effect parameters; need more")
        self.n, self.p = n, p
        # centre and scale y: the intercept absorbs the shift, sigma the scale
        self.shift = float(np.mean(y))
        self.scale = float(np.std(y)) or 1.0
        ys = (y - self.shift) / self.scale
        G = np.column_stack([X, ys])
        self.T = G.T @ G
        self.k = 0 if inner is None else (1 if outer is None else 2)
        if inner is not None:
            m = int(inner.max()) + 1
            self.n_i = np.bincount(inner, minlength=m).astype(float)
            order = np.argsort(inner, kind="stable")
            starts = np.flatnonzero(np.r_[True, np.diff(inner[order]) != 0])
            self.S = np.add.reduceat(G[order], starts, axis=0)
        if outer is not None:
            # inner groups sorted by outer group, so that outer sums are contiguous
            perm = np.argsort(outer, kind="stable")
            self.S, self.n_i = self.S[perm], self.n_i[perm]
            self._starts = np.flatnonzero(np.r_[True, np.diff(outer[perm]) != 0])

    def _outer_sum(self, A: np.ndarray) -> np.ndarray:
        """Sums of the rows of ``A`` (one per inner group) within each outer group."""
        return np.add.reduceat(A, self._starts, axis=0)

    # ------------------------------------------------------------------ core pieces
    def _pieces(self, rho: np.ndarray, derivatives: bool) -> dict[str, object]:
        Q = self.T.copy()
        logdet = 0.0
        dQ: list[np.ndarray] = []
        dlogdet: list[float] = []
        if self.k >= 1:
            ra = rho[0]
            n_i = self.n_i
            w = 1.0 / (1.0 + n_i * ra)
            Sw = self.S * w[:, None]
            Q -= ra * (self.S.T @ Sw)
            logdet += float(np.sum(np.log1p(n_i * ra)))
            if derivatives:
                dQ.append(-(Sw.T @ Sw))
                dlogdet.append(float(np.sum(n_i * w)))
        if self.k == 2:
            rd = rho[1]
            R = self._outer_sum(Sw)
            m_d = self._outer_sum(n_i * w)
            den = 1.0 + rd * m_d
            u = rd / den
            Q -= R.T @ (R * u[:, None])
            logdet += float(np.sum(np.log1p(rd * m_d)))
            if derivatives:
                dw = -n_i * w * w
                R1 = self._outer_sum(self.S * dw[:, None])
                m1 = self._outer_sum(n_i * dw)
                du = -(rd * rd) * m1 / (den * den)
                cross = R1.T @ (R * u[:, None])
                dQ[0] = dQ[0] - (cross + cross.T + R.T @ (R * du[:, None]))
                dlogdet[0] += float(np.sum(rd * m1 / den))
                dQ.append(-(R.T @ (R / (den * den)[:, None])))
                dlogdet.append(float(np.sum(m_d / den)))
        p = self.p
        Qxx, Qxy, Qyy = Q[:p, :p], Q[:p, p], Q[p, p]
        try:
            cf = linalg.cho_factor(Qxx, lower=True, check_finite=False)
        except linalg.LinAlgError as exc:
            raise AnalysisError(
                "the fixed-effects design is rank deficient (an arm x day cell may be "
                "empty or a covariate constant)"
            ) from exc
        beta = linalg.cho_solve(cf, Qxy, check_finite=False)
        pwrss = float(Qyy - Qxy @ beta)
        logdet_x = 2.0 * float(np.sum(np.log(np.diag(cf[0]))))
        out: dict[str, object] = dict(
            beta=beta, pwrss=pwrss, logdet=logdet, logdet_x=logdet_x, cf=cf
        )
        if derivatives:
            Qinv = linalg.cho_solve(cf, np.eye(p), check_finite=False)
            d_logdet_x, d_pwrss, d_Qxx = [], [], []
            for D in dQ:
                Dxx, Dxy, Dyy = D[:p, :p], D[:p, p], D[p, p]
                d_Qxx.append(Dxx)
                d_logdet_x.append(float(np.sum(Qinv * Dxx)))
                d_pwrss.append(float(Dyy - 2.0 * beta @ Dxy + beta @ Dxx @ beta))
            out.update(
                Qinv=Qinv, dlogdet=dlogdet, d_logdet_x=d_logdet_x, d_pwrss=d_pwrss,
                d_Qxx=d_Qxx,
            )
        return out

    # ------------------------------------------------------------------ criteria
    def profiled(self, rho: np.ndarray) -> tuple[float, np.ndarray]:
        """Profiled REML criterion (scaled response) and its gradient in ``rho``."""
        P = self._pieces(np.asarray(rho, dtype=float), derivatives=True)
        r = self.n - self.p
        pw = P["pwrss"]
        val = P["logdet"] + P["logdet_x"] + r * (1.0 + np.log(2.0 * np.pi * pw / r))
        grad = np.array(
            [
                P["dlogdet"][j] + P["d_logdet_x"][j] + r * P["d_pwrss"][j] / pw
                for j in range(self.k)
            ]
        )
        return float(val), grad

    def deviance(self, varpar: np.ndarray) -> float:
        """``D(theta, sigma)`` on the scaled response (lmerTest's ``devfun_vp``)."""
        theta, sigma = varpar[:-1], varpar[-1]
        P = self._pieces(theta * theta, derivatives=False)
        r = self.n - self.p
        return float(P["logdet"] + P["logdet_x"] + P["pwrss"] / sigma**2
                     + r * np.log(2.0 * np.pi * sigma**2))

    def deviance_grad(self, varpar: np.ndarray) -> np.ndarray:
        """Gradient of ``D(theta, sigma)`` (scaled response) in ``(theta, sigma)``."""
        theta, sigma = varpar[:-1], varpar[-1]
        P = self._pieces(theta * theta, derivatives=True)
        g = np.empty(self.k + 1)
        for j in range(self.k):
            d_rho = P["dlogdet"][j] + P["d_logdet_x"][j] + P["d_pwrss"][j] / sigma**2
            g[j] = 2.0 * theta[j] * d_rho
        g[-1] = -2.0 * P["pwrss"] / sigma**3 + 2.0 * (self.n - self.p) / sigma
        return g

    def covbeta_jacobian(self, varpar: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``C = sigma^2 (X'H^-1 X)^-1`` (scaled) and ``dC / d(theta, sigma)`` (k+1, p, p)."""
        theta, sigma = varpar[:-1], varpar[-1]
        P = self._pieces(theta * theta, derivatives=True)
        Qinv = P["Qinv"]
        C = sigma**2 * Qinv
        J = np.empty((self.k + 1, self.p, self.p))
        for j in range(self.k):
            J[j] = -2.0 * theta[j] * sigma**2 * (Qinv @ P["d_Qxx"][j] @ Qinv)
        J[-1] = 2.0 * sigma * Qinv
        return C, J

    # ------------------------------------------------------------------ fit
    def fit(self) -> dict[str, object]:
        """Minimise the profiled criterion over ``rho >= 0``; estimates in original units."""
        converged, message = True, ""
        if self.k:
            best = None
            for start in (np.ones(self.k), np.full(self.k, 0.1)):
                res = optimize.minimize(
                    self.profiled, start, jac=True, method="L-BFGS-B",
                    bounds=[(0.0, None)] * self.k,
                    options=dict(ftol=1e-15, gtol=1e-11, maxiter=2000, maxcor=20),
                )
                if best is None or res.fun < best.fun - 1e-10:
                    best = res
            rho = np.asarray(best.x, dtype=float)
            free = rho > 0
            _, g = self.profiled(rho)
            if np.any(np.abs(g[free]) > 1e-4) or np.any(g[~free] < -1e-4):
                converged, message = False, f"REML optimiser stopped: {best.message}"
        else:
            rho = np.zeros(0)
        P = self._pieces(rho, derivatives=False)
        r = self.n - self.p
        sigma_s = float(np.sqrt(P["pwrss"] / r))
        beta = self.scale * P["beta"]
        beta[0] += self.shift
        Qinv = linalg.cho_solve(P["cf"], np.eye(self.p), check_finite=False)
        vcov = (self.scale * sigma_s) ** 2 * Qinv
        crit = (
            P["logdet"] + P["logdet_x"]
            + r * (1.0 + np.log(2.0 * np.pi * P["pwrss"] * self.scale**2 / r))
        )
        return dict(
            rho=rho, theta=np.sqrt(rho), sigma=self.scale * sigma_s, sigma_scaled=sigma_s,
            beta=beta, vcov=vcov, reml_criterion=float(crit), converged=converged,
            message=message,
        )
