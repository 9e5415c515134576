"""Fitting many standard curves at once (plates x analytes) by one vectorised solver."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
from scipy.special import expit

from nocilab.elisa import _logistic as lg
from nocilab.elisa._fit import ORDER_TOLERANCE, WEIGHTS, CurveFitError, fit_curve
from nocilab.errors import SchemaError, shown

FIT_COLUMNS = (
    "model", "weights", "n_points", "df_residual",
    "r0", "r0_se", "rinf", "rinf_se", "xmid", "xmid_se", "scal", "scal_se", "g", "g_se",
    "sigma", "r_squared", "converged", "reason", "refitted",
)
"""Columns of :func:`fit_curves` after the key columns."""

SINGULAR = ("the standards do not determine the {} parameters (the curve is flat or the "
            "fit ran onto an asymptote)")
"""The reason given when :func:`fit_curve`'s covariance matrix is singular."""
CHUNK = 4096
"""Curves solved together: bounds the memory of the stacked Jacobians."""
_OFFSET = 1e-8
"""A curve has converged when the Gauss-Newton step moves its fitted values by less than
this fraction of the residual norm (the relative offset criterion of Bates and Watts
that R's ``nls`` stops at with 1e-5), or by less than ``_FLOOR`` of the data's norm;
that last step is then taken. Below about 1e-8 a step no longer changes the residual
sum of squares by more than its rounding error."""
_FLOOR = 1e-13
_NEAR = 1e-6
"""Within this relative offset of the minimum, Gauss-Newton steps are taken without
comparing residual sums of squares (whose rounding error they approach)."""
_TIE = 1e-9
"""Two starts whose costs agree to this relative tolerance but whose parameters differ
are an ambiguous minimum: the curve is handed to ``fit_curve``."""


def fit_curves(table: pd.DataFrame, *, by: str | Sequence[str], model: str = "4pl",
               weights: str = "none", concentration: str = "concentration", od: str = "od",
               order_tolerance: float = ORDER_TOLERANCE,
               max_iterations: int = 200, workers: int = 1) -> pd.DataFrame:
    """Fit one 4PL or 5PL standard curve per group of a long table, all at once.

    Gives what :func:`fit_curve` gives for each group (same parameters, standard errors,
    checks and failure reasons) but solves all the curves together, so that a thousand
    plates with forty analytes each take seconds rather than minutes.

    Parameters
    ----------
    table
        One row per standard well: the key columns named in ``by``, the nominal
        concentration and the response (usually blank-subtracted OD).
    by
        The column or columns that name a curve (``["plate", "analyte"]``).
    model, weights, order_tolerance
        As for :func:`fit_curve`.
    concentration, od
        Names of the concentration and response columns.
    max_iterations
        Levenberg-Marquardt iterations of the vectorised pass; a curve that has not
        converged by then is refitted by :func:`fit_curve`.
    workers
        Processes for the curves refitted one by one (1: none started).

    Returns
    -------
    pandas.DataFrame
        One row per curve, sorted by the keys: the key columns, then
        :data:`FIT_COLUMNS`. ``r0, rinf, xmid, scal, g`` are the parameters of
        :func:`fit_curve` with their standard errors (``_se``); for the 4PL ``g`` is 1
        by definition and ``g_se`` is NaN. ``converged`` is False for a curve that
        cannot be fitted; ``reason`` then gives :func:`fit_curve`'s reason (too few
        standards, out of order, no convergence ...) and the parameters are NaN.
        ``refitted`` is True where the vectorised pass handed the curve to
        :func:`fit_curve` (every failed curve, and any curve whose vectorised fit did
        not settle from every start).

    Raises
    ------
    SchemaError
        A named column is missing or holds values that are not numbers.
    CurveFitError
        Unknown model or weighting.

    Notes
    -----
    Each curve is fitted from :func:`fit_curve`'s starting values (for the 5PL from its
    4PL solutions) by Levenberg-Marquardt on the stacked curves, with a damping factor
    and a convergence flag per curve; a curve stops when its Gauss-Newton step moves the
    fitted values by less than 1e-8 of the residual norm (that step is taken). The
    lowest weighted residual sum of squares over the starts wins, as in
    :func:`fit_curve`. A curve is handed to
    :func:`fit_curve` when one of its starts did not converge within
    ``max_iterations``, when two starts end at different parameters with the same cost,
    or when any of :func:`fit_curve`'s checks fails (its message is the reason). Rows
    with a missing concentration or response are left out, as :func:`fit_curve` does.
    Parameters agree with :func:`fit_curve` to within 1e-6 of the larger of their value
    and their standard error, standard errors and sigma to 1e-6 relative
    (tests/elisa/test_batch.py). A 4PL is always reported with ``scal > 0`` (``r0`` the
    response at zero concentration); where :func:`fit_curve` ends at the mirror image
    (``scal < 0``, ``r0`` and ``rinf`` swapped: the same curve) it is turned round.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> conc = np.repeat(1000 / 2.0 ** np.arange(8), 2)
    >>> t = pd.DataFrame({"plate": np.repeat(["P1", "P2"], 16), "concentration": np.tile(conc, 2),
    ...                   "od": np.r_[0.05 + 3.0 / (1 + (120 / conc) ** 1.2), np.zeros(16)]})
    >>> f = fit_curves(t, by="plate")
    >>> f[["plate", "rinf", "converged"]].round(6).to_string(index=False)
    'plate  rinf  converged\\n   P1  3.05       True\\n   P2   NaN      False'
    >>> f.loc[1, "reason"]
    'the standards all give the same response: no curve to fit'
    """
    if model not in lg.MODELS:
        raise CurveFitError(f"unknown curve model {model!r}; expected one of "
                            f"{', '.join(lg.MODELS)}")
    if weights not in WEIGHTS:
        raise CurveFitError(f"unknown weighting {weights!r}; expected one of {', '.join(WEIGHTS)}")
    keys = [by] if isinstance(by, str) else list(by)
    if not keys:
        raise SchemaError("fit_curves needs at least one key column in by")
    _check_columns(table, keys, (concentration, od))
    x_all = table[concentration].to_numpy(dtype=float)
    y_all = table[od].to_numpy(dtype=float)
    grouped = table.groupby(keys, sort=True, dropna=False)
    codes = grouped.ngroup().to_numpy()
    key_frame = grouped.size().reset_index()[keys]
    n_curves = len(key_frame)
    out = _empty(n_curves, model, weights)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(n_curves + 1))
    for lo in range(0, n_curves, CHUNK):
        hi = min(lo + CHUNK, n_curves)
        rows = order[bounds[lo]:bounds[hi]]
        _fit_chunk(codes[rows] - lo, x_all[rows], y_all[rows], hi - lo, model, weights,
                   order_tolerance, max_iterations, {k: v[lo:hi] for k, v in out.items()})
    refit = np.flatnonzero(out["refitted"])
    tasks = [(x_all[order[bounds[c]:bounds[c + 1]]], y_all[order[bounds[c]:bounds[c + 1]]],
              model, weights, order_tolerance) for c in refit]
    if workers > 1 and len(tasks) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_single, tasks, chunksize=8))
    else:
        results = [_single(task) for task in tasks]
    for c, result in zip(refit, results, strict=True):
        _fill(out, c, result, model)
    frame = pd.DataFrame({k: out[k] for k in FIT_COLUMNS})
    return pd.concat([key_frame.reset_index(drop=True), frame], axis=1)


def _check_columns(table: pd.DataFrame, keys: list[str], numeric: tuple[str, str]) -> None:
    missing = [c for c in (*keys, *numeric) if c not in table.columns]
    if missing:
        raise SchemaError(f"the standards table lacks column(s) {', '.join(missing)}; "
                          f"it has {', '.join(map(str, table.columns))}")
    for col in numeric:
        values = table[col]
        if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
            as_num = pd.to_numeric(values, errors="coerce")
            bad = values.notna() & as_num.isna()
            if bad.any() or pd.api.types.is_bool_dtype(values):
                i = int(np.flatnonzero(bad.to_numpy())[0]) if bad.any() else 0
                raise SchemaError(f"column {col}, row {i + 1}: {shown(values.iloc[i])} is not "
                                  "a number")


def _empty(n: int, model: str, weights: str) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {c: np.full(n, np.nan) for c in FIT_COLUMNS}
    out["model"] = np.full(n, model, dtype=object)
    out["weights"] = np.full(n, weights, dtype=object)
    out["n_points"] = np.zeros(n, dtype=int)
    out["df_residual"] = np.zeros(n, dtype=int)
    out["converged"] = np.zeros(n, dtype=bool)
    out["reason"] = np.full(n, "", dtype=object)
    out["refitted"] = np.zeros(n, dtype=bool)
    return out


def _single(task: tuple) -> tuple:
    """fit_curve on one curve: ``(n_points, reason)`` or ``(n_points, df, theta, se,
    sigma, r_squared)`` (a 4PL mirror image turned round, see :func:`_oriented`)."""
    x, y, model, weights, order_tolerance = task
    try:
        with np.errstate(all="ignore"):
            fit = fit_curve(x, y, model=model, weights=weights, order_tolerance=order_tolerance)
    except (CurveFitError, np.linalg.LinAlgError) as exc:
        reason = str(exc) if isinstance(exc, CurveFitError) else SINGULAR.format(model.upper())
        return int(np.sum(np.isfinite(x) & np.isfinite(y))), reason
    theta, se = fit.theta, np.array([p.se for p in fit.parameters])
    if model == "4pl" and theta[3] < 0:
        theta, se = theta[[1, 0, 2, 3]] * [1, 1, 1, -1], se[[1, 0, 2, 3]]
    return fit.n_points, fit.df_residual, theta, se, fit.sigma, fit.r_squared


def _fill(out: dict[str, np.ndarray], c: int, result: tuple, model: str) -> None:
    out["n_points"][c] = result[0]
    if len(result) == 2:
        out["reason"][c] = result[1]
        return
    _, df, theta, se, sigma, r2 = result
    for name, v, e in zip(lg.PARAMETERS[model], theta, se, strict=True):
        out[name][c], out[f"{name}_se"][c] = v, e
    if model == "4pl":
        out["g"][c] = 1.0
    out["df_residual"][c], out["sigma"][c], out["r_squared"][c] = df, sigma, r2
    out["converged"][c] = True


# --- the vectorised pass ---------------------------------------------------------------

def _fit_chunk(code: np.ndarray, x: np.ndarray, y: np.ndarray, n: int, model: str,
               weights: str, tol: float, max_iter: int, out: dict[str, np.ndarray]) -> None:
    """Fit curves ``0..n-1`` (rows ``code``); write into ``out`` (views of one chunk)."""
    keep = np.isfinite(x) & np.isfinite(y)
    code, x, y = code[keep], x[keep], y[keep]
    refit = np.zeros(n, dtype=bool)
    refit[np.unique(code[x <= 0])] = True
    if weights != "none":
        refit[np.unique(code[y <= 0])] = True
    x = np.where(x > 0, x, 1.0)
    srt = np.lexsort((x, code))
    code, x, y = code[srt], x[srt], y[srt]
    counts = np.bincount(code, minlength=n)
    start = np.r_[0, np.cumsum(counts)[:-1]]
    pos = np.arange(len(code)) - start[code]
    width = max(int(counts.max(initial=0)), 1)
    mask = np.zeros((n, width), dtype=bool)
    mask[code, pos] = True
    lx = np.zeros((n, width))
    yy = np.zeros((n, width))
    lx[code, pos], yy[code, pos] = np.log(x), y
    # levels: distinct concentrations of each curve, with their mean responses
    new_level = np.r_[True, (np.diff(code) != 0) | (np.diff(x) != 0)]
    level = np.cumsum(new_level) - 1
    lcode = code[new_level]
    lcount = np.bincount(lcode, minlength=n)
    lpos = np.arange(len(lcode)) - np.r_[0, np.cumsum(lcount)[:-1]][lcode]
    lwidth = max(int(lcount.max(initial=0)), 1)
    means = np.full((n, lwidth), np.nan)
    levels = np.full((n, lwidth), np.nan)
    means[lcode, lpos] = np.bincount(level, weights=y) / np.bincount(level)
    levels[lcode, lpos] = np.log(x[new_level])
    n_par = len(lg.PARAMETERS[model])
    refit |= (lcount < n_par + 1) | (counts <= n_par)
    with np.errstate(invalid="ignore"):
        lo = np.nanmin(_filled(means, np.inf), axis=1)
        hi = np.nanmax(_filled(means, -np.inf), axis=1)
    span = hi - lo
    last = np.maximum(lcount - 1, 0)
    rows = np.arange(n)
    rising = means[rows, last] >= means[:, 0]
    sign = np.where(rising, 1.0, -1.0)
    with np.errstate(invalid="ignore"):
        bad_step = np.any(sign[:, None] * np.diff(means, axis=1) < -tol * span[:, None], axis=1)
    refit |= ~(span > 0) | bad_step
    ok = np.flatnonzero(~refit)
    out["refitted"][:] = refit
    if not len(ok):
        return
    lx, yy, mask, levels = lx[ok], yy[ok], mask[ok], levels[ok]
    lo, hi, span, rising, lcount = lo[ok], hi[ok], span[ok], rising[ok], lcount[ok]
    w = _weights(yy, weights) * mask
    sw = np.sqrt(w)
    starts = _starts(lx, yy, mask, levels, lcount, lo, hi, span, rising)  # (3, m, 4)
    if model == "5pl":
        t4, c4, conv4 = _solve_many(starts, lx, yy, sw, "4pl", max_iter)
        good4 = conv4.all(axis=0)
        base = t4[np.argmin(np.where(conv4, c4, np.inf), axis=0), np.arange(len(ok))]
        g0 = np.log(np.array([1.0, 0.5, 2.0]))
        starts = np.concatenate([
            np.stack([np.column_stack([base, np.full(len(ok), g)]) for g in g0]),
            np.concatenate([starts, np.zeros((3, len(ok), 1))], axis=2)])
    else:
        good4 = np.ones(len(ok), dtype=bool)
    t, cost, conv = _solve_many(starts, lx, yy, sw, model, max_iter)
    if model == "4pl":
        t = _oriented(t)
    m = np.arange(len(ok))
    best = np.argmin(np.where(conv, cost, np.inf), axis=0)
    tb, cb = t[best, m], cost[best, m]
    # another start with the same cost but other parameters: an ambiguous minimum
    same_cost = conv & (np.abs(cost - cb) <= _TIE * np.maximum(cb, 1e-300))
    differ = np.any(np.abs(t - tb) > 1e-7 * (np.abs(tb) + 1e-7), axis=2)
    settled = good4 & conv.all(axis=0) & ~np.any(same_cost & differ, axis=0)
    theta = tb.copy()
    if model == "5pl":
        theta[:, 4] = np.exp(theta[:, 4])
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        fitted, jac = _model(theta, lx, n_par, scaled=False)
        resid = yy - fitted
        jw = sw[:, :, None] * jac
        sv = np.linalg.svd(np.where(np.isfinite(jw), jw, 0.0), compute_uv=False)
    npts = mask.sum(axis=1)
    rank_tol = sv.max(axis=1) * np.maximum(npts, n_par) * np.finfo(float).eps
    full_rank = np.all(sv > rank_tol[:, None], axis=1) & np.all(np.isfinite(jw), axis=(1, 2))
    settled &= full_rank
    df = npts - n_par
    rss = np.sum(w * np.where(mask, resid, 0.0) ** 2, axis=1)
    sigma2 = rss / df
    jtj = np.einsum("kni,knj->kij", jw, jw)
    jtj[~settled] = np.eye(n_par)
    cov = sigma2[:, None, None] * np.linalg.inv(jtj)
    se = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
    settled &= np.all(np.isfinite(theta), axis=1) & np.all(np.isfinite(se), axis=1)
    ybar = np.sum(w * yy, axis=1) / np.sum(w, axis=1)
    r2 = 1.0 - rss / np.sum(w * (yy - ybar[:, None]) ** 2, axis=1)
    idx = ok[settled]
    for j, name in enumerate(lg.PARAMETERS[model]):
        out[name][idx], out[f"{name}_se"][idx] = theta[settled, j], se[settled, j]
    if model == "4pl":
        out["g"][idx] = 1.0
    out["n_points"][idx], out["df_residual"][idx] = npts[settled], df[settled]
    out["sigma"][idx], out["r_squared"][idx] = np.sqrt(sigma2[settled]), r2[settled]
    out["converged"][idx] = True
    out["refitted"][ok[~settled]] = True


def _oriented(t: np.ndarray) -> np.ndarray:
    """The 4PL with ``scal < 0`` is the same curve as with ``r0`` and ``rinf`` swapped and
    ``scal > 0``: give it the orientation in which ``r0`` is the response at zero."""
    t = t.copy()
    flip = t[..., 3] < 0
    t[flip, 0], t[flip, 1] = t[flip, 1], t[flip, 0].copy()
    t[flip, 3] = -t[flip, 3]
    return t


def _filled(a: np.ndarray, value: float) -> np.ndarray:
    return np.where(np.isnan(a), value, a)


def _weights(y: np.ndarray, weights: str) -> np.ndarray:
    with np.errstate(divide="ignore"):
        if weights == "none":
            return np.ones_like(y)
        return 1.0 / np.where(y > 0, y, 1.0) ** (1 if weights == "1/y" else 2)


def _starts(lx, y, mask, levels, lcount, lo, hi, span, rising) -> np.ndarray:
    """:func:`fit_curve`'s three 4PL starting values for every curve, stacked."""
    m = len(lx)
    rows = np.arange(m)
    npts = mask.sum(axis=1)
    mx = np.sum(lx * mask, axis=1) / npts
    dx = np.where(mask, lx - mx[:, None], 0.0)
    sxx = np.sum(dx**2, axis=1)
    lvl_span = levels[rows, lcount - 1] - levels[:, 0]
    with np.errstate(invalid="ignore"):
        lvl_mid = np.nanmedian(levels, axis=1)
    out = np.empty((3, m, 4))
    for k, (below, above) in enumerate(((0.05, 0.05), (0.05, 0.5), (0.2, 1.0))):
        r_lo, r_hi = lo - below * span, hi + above * span
        r0, rinf = np.where(rising, r_lo, r_hi), np.where(rising, r_hi, r_lo)
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = (y - r0[:, None]) / (rinf - r0)[:, None]
            z = np.where(mask, np.log(frac / (1.0 - frac)), 0.0)
            mz = np.sum(z, axis=1) / npts
            slope = np.sum(dx * (z - mz[:, None]), axis=1) / sxx
            intercept = mz - slope * mx
            fallback = ~np.isfinite(slope) | (np.abs(slope) < 1e-8)
            scal = np.where(fallback, lvl_span / 4.0, 1.0 / slope)
            xmid = np.where(fallback, lvl_mid, -intercept / slope)
        out[k] = np.column_stack([r0, rinf, xmid, scal])
    return out


def _model(theta: np.ndarray, lx: np.ndarray, n_par: int, *,
           scaled: bool) -> tuple[np.ndarray, np.ndarray]:
    """Responses (k, n) and Jacobians (k, n, p) of many curves; ``scaled``: the 5PL's
    column for ``g`` is taken with respect to ``ln g``, as the solver searches it."""
    r0, rinf, xmid, scal = (theta[:, i, None] for i in range(4))
    g = theta[:, 4, None] if n_par > 4 else 1.0
    t = (xmid - lx) / scal
    log1pu = np.logaddexp(0.0, t)
    s = np.exp(-g * log1pu)
    d = rinf - r0
    common = d * g * s * expit(t) / scal
    cols = [1.0 - s, s, -common, common * t]
    if n_par > 4:
        cols.append(-d * s * log1pu * (g if scaled else 1.0))
    return r0 + d * s, np.stack(cols, axis=2)


def _solve_many(starts: np.ndarray, lx, y, sw, model: str,
                max_iter: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Levenberg-Marquardt from each of ``starts`` (s, m, p): solutions (s, m, p), costs
    and convergence flags (s, m)."""
    s, m, p = starts.shape
    t, cost, conv = _lm(starts.reshape(s * m, p), np.tile(lx, (s, 1)), np.tile(y, (s, 1)),
                        np.tile(sw, (s, 1)), model, max_iter)
    return t.reshape(s, m, p), cost.reshape(s, m), conv.reshape(s, m)


def _lm(t0: np.ndarray, lx, y, sw, model: str, max_iter: int):
    """Vectorised Levenberg-Marquardt (Marquardt's diagonal scaling), one damping factor
    and one convergence flag per problem (internal parameters: ``ln g`` for the 5PL)."""
    k, p = t0.shape
    t = t0.copy()
    floor = (_FLOOR**2) * np.sum((sw * y) ** 2, axis=1)

    def evaluate(tt, idx):
        th = tt.copy()
        if p > 4:
            th[:, 4] = np.exp(th[:, 4])
        f, j = _model(th, lx[idx], p, scaled=True)
        r = sw[idx] * (f - y[idx])
        return r, sw[idx][:, :, None] * j

    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        r, jac = evaluate(t, np.arange(k))
        cost = 0.5 * np.sum(r**2, axis=1)
        lam = np.full(k, 1e-3)
        conv = np.zeros(k, dtype=bool)
        active = np.isfinite(cost) & np.all(np.isfinite(jac), axis=(1, 2))
        for _ in range(max_iter):
            idx = np.flatnonzero(active)
            if not len(idx):
                break
            ja, ra = jac[idx], r[idx]
            a = np.einsum("kni,knj->kij", ja, ja)
            grad = np.einsum("kni,kn->ki", ja, ra)
            diag = np.maximum(np.diagonal(a, axis1=1, axis2=2), 1e-300)
            damped = a + (lam[idx, None] * diag)[:, :, None] * np.eye(p)
            delta = -_solve(damped, grad)
            t_new = t[idx] + delta
            r_new, j_new = evaluate(t_new, idx)
            c_new = 0.5 * np.sum(r_new**2, axis=1)
            ok_new = np.isfinite(c_new) & np.all(np.isfinite(j_new), axis=(1, 2))
            accept = ok_new & (c_new <= cost[idx])
            near_crit = np.maximum(_NEAR**2 * 2.0 * cost[idx], floor[idx])
            near = _offset(delta, a) <= near_crit
            done = np.zeros(len(idx), dtype=bool)
            took_gn = np.zeros(len(idx), dtype=bool)
            if near.any():  # close to the minimum: Gauss-Newton steps, taken as they come
                q = np.flatnonzero(near)
                step = -_solve(a[q], grad[q])
                size = _offset(step, a[q])
                q, step, size = q[size <= near_crit[q]], step[size <= near_crit[q]], \
                    size[size <= near_crit[q]]
                t_gn = t[idx[q]] + step
                r_gn, j_gn = evaluate(t_gn, idx[q])
                c_gn = 0.5 * np.sum(r_gn**2, axis=1)
                fine = np.isfinite(c_gn) & np.all(np.isfinite(j_gn), axis=(1, 2))
                q, size = q[fine], size[fine]
                gi = idx[q]
                t[gi], r[gi], jac[gi], cost[gi] = t_gn[fine], r_gn[fine], j_gn[fine], c_gn[fine]
                done[q] = size <= np.maximum(_OFFSET**2 * 2.0 * cost[gi], floor[gi])
                accept[q], took_gn[q] = False, True
            ai = idx[accept]
            t[ai], r[ai], jac[ai], cost[ai] = t_new[accept], r_new[accept], j_new[accept], \
                c_new[accept]
            lam[idx] = np.where(accept, np.maximum(lam[idx] / 10.0, 1e-15),
                                np.where(took_gn, np.minimum(lam[idx], 1e-3), lam[idx] * 10.0))
            conv[idx[done]] = True
            stuck = ~done & (lam[idx] > 1e16)
            active[idx[done | stuck]] = False
    return t, cost, conv


def _offset(delta: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Squared length of the change of the fitted values a step makes: delta' J'J delta."""
    out = np.einsum("ki,kij,kj->k", delta, a, delta)
    return np.where(np.isfinite(out), out, np.inf)


def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(a, b[:, :, None])[:, :, 0]
    except np.linalg.LinAlgError:
        return np.einsum("kij,kj->ki", np.linalg.pinv(a), b)
