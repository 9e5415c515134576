"""Dixon's k by maximum likelihood, for one X/O pattern or many at once.

The model (Dixon 1965, JASA 60:967; Dixon 1980, Annu Rev Pharmacol Toxicol 20:441):
stimulus levels are equally spaced in log units; the probability of a withdrawal (X) at
level ``x`` is ``Phi((x - mu) / sigma)`` with ``sigma`` fixed at one step. Levels follow
the up-down rule (after O one step up, after X one step down) and are counted from the
last stimulus, which sits at level 0. ``k`` is the maximum-likelihood estimate of
``mu`` in step units, so the 50% threshold is ``Xf + k * delta`` in log units.

All responses of the series enter the likelihood, including the initial run of like
responses; this reproduces Dixon's published table (248 patterns) to three decimals.
The log-likelihood is concave in ``mu`` and goes to minus infinity on both sides once
the series holds at least one X and one O, so the estimate exists and is unique; a
series without a change of response has none (it is censored).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import log_ndtr

from nocilab.errors import AssayError

_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)
_VALID = frozenset("XO")


def normalise_series(value: object) -> str | None:
    """Upper-case, space-free text of a series, or None when blank or not text."""
    if value is None or not isinstance(value, str):
        return None
    text = "".join(value.split()).upper()
    return text or None


def series_defect(text: str | None) -> str:
    """Why a normalised series cannot be used ('' when it can)."""
    if text is None:
        return "no X/O series recorded"
    bad = sorted(set(text) - _VALID)
    if bad:
        pos = next(i for i, c in enumerate(text) if c not in _VALID) + 1
        return (
            "only X (withdrawal) and O (no withdrawal) are allowed; "
            f"found {''.join(bad)!r} (first at stimulus {pos})"
        )
    return ""


def _mills(z: np.ndarray) -> np.ndarray:
    """phi(z) / Phi(z), stable for large negative z."""
    return np.exp(-0.5 * z * z - _LOG_SQRT_2PI - log_ndtr(z))


def ml_k(patterns: Sequence[str]) -> np.ndarray:
    """Maximum-likelihood k for each X/O pattern (upper case), NaN without a change.

    Patterns are solved together: right-aligned in a padded matrix (the last stimulus
    in the last column) and iterated by safeguarded Newton steps inside a bracket that
    provably holds the root of the score.
    """
    m = len(patterns)
    out = np.full(m, np.nan)
    if m == 0:
        return out
    lengths = np.fromiter((len(p) for p in patterns), dtype=np.int64, count=m)
    width = int(lengths.max())
    joined = "".join(p.rjust(width, "-") for p in patterns)
    chars = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(m, width)
    is_x = chars == ord("X")
    is_o = chars == ord("O")
    mask = is_x | is_o
    has_change = is_x.any(axis=1) & is_o.any(axis=1)
    if not has_change.any():
        return out
    is_x, is_o, mask, lengths = is_x[has_change], is_o[has_change], mask[has_change], lengths[
        has_change
    ]
    # step after each stimulus: +1 after O, -1 after X; levels counted back from the end
    step = is_o[:, :-1].astype(float) - is_x[:, :-1].astype(float)
    level = np.zeros(is_x.shape)
    level[:, :-1] = -np.cumsum(step[:, ::-1], axis=1)[:, ::-1]
    sign = np.where(is_o, 1.0, -1.0)  # log-lik term: log Phi(sign * (mu - level))
    lo = np.where(mask, level, np.inf).min(axis=1) - lengths - 1.0
    hi = np.where(mask, level, -np.inf).max(axis=1) + lengths + 1.0
    # start: mean level from the last stimulus of the initial run on (Dixon's nominal sample)
    codes = chars[has_change]
    lead = codes[np.arange(len(lengths)), width - lengths]
    after_change = np.cumsum(mask & (codes != lead[:, None]), axis=1) > 0
    nominal = after_change.copy()
    nominal[:, :-1] |= after_change[:, 1:]
    mu = np.where(nominal, level, 0.0).sum(axis=1) / nominal.sum(axis=1)
    active = np.arange(len(mu))
    for _ in range(100):
        lv, sg, mk = level[active], sign[active], mask[active]
        m0 = mu[active]
        z = sg * (m0[:, None] - lv)
        lam = _mills(z)
        score = np.where(mk, sg * lam, 0.0).sum(axis=1)
        info = np.where(mk, lam * (z + lam), 0.0).sum(axis=1)
        lo[active] = np.where(score > 0, m0, lo[active])
        hi[active] = np.where(score < 0, m0, hi[active])
        with np.errstate(divide="ignore", invalid="ignore"):
            new = m0 + score / info
        outside = ~((new > lo[active]) & (new < hi[active]))
        new = np.where(outside, 0.5 * (lo[active] + hi[active]), new)
        mu[active] = new
        active = active[np.abs(new - m0) >= 1e-12]
        if not len(active):
            break
    out[has_change] = mu
    return out


def dixon_k(series: str) -> float:
    """Dixon's k for one X/O series, by maximum likelihood.

    Parameters
    ----------
    series : str
        Responses in order, ``X`` = withdrawal, ``O`` = none (case-insensitive;
        spaces ignored). Any length.

    Returns
    -------
    float
        The 50% point in filament steps relative to the last stimulus.

    Raises
    ------
    AssayError
        The series is blank, holds other characters, or never changes response (then
        there is no estimate: the threshold is censored, see
        :func:`~nocilab.assays.von_frey.thresholds`).

    Examples
    --------
    >>> round(dixon_k("OXO"), 3), round(dixon_k("ooxx"), 3), round(dixon_k("OOOX"), 3)
    (0.842, 0.0, -0.378)
    """
    text = normalise_series(series)
    why = series_defect(text)
    if why or text is None:
        raise AssayError(f"series {series!r}: {why}")
    if "X" not in text or "O" not in text:
        raise AssayError(
            f"series {series!r}: no change of response (all {text[0]}), so no estimate; "
            "the threshold is censored at the last filament"
        )
    return float(ml_k([text])[0])
