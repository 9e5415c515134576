"""The four- and five-parameter logistic curves: response, derivatives, inverse.

Both curves are written in the natural logarithm of the concentration, as R's ``SSfpl``
writes the 4PL::

    od(x) = r0 + (rinf - r0) / (1 + exp((xmid - ln x) / scal)) ** g

``r0`` is the response at zero concentration, ``rinf`` the response at infinite
concentration, ``xmid`` the natural log of the inflection concentration of the 4PL,
``scal`` the scale on the log axis (the Hill slope is ``1 / scal``), ``g`` the asymmetry
of the 5PL (``g = 1`` is the 4PL). In R: ``SSfpl(log(x), A, B, xmid, scal)`` with
``A = r0`` and ``B = rinf``.

Everything is computed in log space (``log1p(exp(t))`` as ``logaddexp(0, t)``) so that
concentrations far outside the standards neither overflow nor lose precision.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

PARAMETERS = {
    "4pl": ("r0", "rinf", "xmid", "scal"),
    "5pl": ("r0", "rinf", "xmid", "scal", "g"),
}
MODELS = tuple(PARAMETERS)


def _unpack(theta: np.ndarray) -> tuple[float, float, float, float, float]:
    r0, rinf, xmid, scal = (float(v) for v in theta[:4])
    g = float(theta[4]) if len(theta) > 4 else 1.0
    return r0, rinf, xmid, scal, g


def response(theta: np.ndarray, log_x: np.ndarray) -> np.ndarray:
    """Expected response at natural-log concentrations ``log_x``."""
    r0, rinf, xmid, scal, g = _unpack(theta)
    t = (xmid - np.asarray(log_x, dtype=float)) / scal
    return r0 + (rinf - r0) * np.exp(-g * np.logaddexp(0.0, t))


def jacobian(theta: np.ndarray, log_x: np.ndarray) -> np.ndarray:
    """Derivatives of :func:`response` with respect to each parameter (columns)."""
    r0, rinf, xmid, scal, g = _unpack(theta)
    t = (xmid - np.asarray(log_x, dtype=float)) / scal
    log1pu = np.logaddexp(0.0, t)
    s = np.exp(-g * log1pu)  # (1 + u) ** -g
    common = (rinf - r0) * g * s * expit(t) / scal  # (rinf - r0) g (1+u)^(-g-1) u / scal
    cols = [1.0 - s, s, -common, common * t]
    if len(theta) > 4:
        cols.append(-(rinf - r0) * s * log1pu)
    return np.column_stack(cols)


def inverse(theta: np.ndarray, od: np.ndarray) -> np.ndarray:
    """Concentrations whose expected response is ``od``.

    NaN where ``od`` is not strictly between the two asymptotes (no concentration gives
    that response); see :func:`side` for which end such a response lies beyond.
    """
    r0, rinf, xmid, scal, g = _unpack(theta)
    frac = (np.asarray(od, dtype=float) - r0) / (rinf - r0)
    out = np.full(frac.shape, np.nan)
    ok = (frac > 0) & (frac < 1)
    # (1 + u) = frac ** (-1/g);  u = expm1(-ln(frac) / g);  ln x = xmid - scal ln u
    u = np.expm1(-np.log(frac[ok]) / g)
    out[ok] = np.exp(xmid - scal * np.log(u))
    return out


def side(theta: np.ndarray, od: np.ndarray) -> np.ndarray:
    """Where each response lies on the concentration axis: -1 beyond the zero end, +1
    beyond the infinite end, 0 between the asymptotes.

    ``r0`` is the response at zero concentration only while ``scal`` > 0; with ``scal``
    < 0 (the same 4PL with the asymptotes' names swapped) ``rinf`` is, so the ends swap.
    """
    r0, rinf, scal = float(theta[0]), float(theta[1]), float(theta[3])
    frac = (np.asarray(od, dtype=float) - r0) / (rinf - r0)
    out = np.where(frac <= 0, -1, np.where(frac >= 1, 1, 0))
    return out if scal > 0 else -out


def ec50(theta: np.ndarray) -> tuple[float, np.ndarray]:
    """The concentration of the half-way response and its gradient in the parameters."""
    _, _, xmid, scal, g = _unpack(theta)
    a = 2.0 ** (1.0 / g)
    lg = np.log(a - 1.0)  # 0 for the 4PL
    value = float(np.exp(xmid - scal * lg))
    grad = [0.0, 0.0, value, -lg * value]
    if len(theta) > 4:
        dlg_dg = a * np.log(2.0) * (-1.0 / g**2) / (a - 1.0)
        grad.append(-scal * dlg_dg * value)
    return value, np.asarray(grad)
