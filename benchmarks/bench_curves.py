"""Speed of standard-curve fitting: 1,000 plates x 40 analytes in one call.

Simulates PLATES plates x ANALYTES analytes (a multiplex cytokine panel), each with its
own standard curve of 8 two-fold standards in duplicate (16 wells): rising and falling
curves, 1-5% CV plus an OD noise floor of 0.005, about 1 curve in 200 with its standards
out of order. Times ``nocilab.elisa.fit_curves`` on all of them, and in the same run a
per-curve loop of ``scipy.optimize.curve_fit`` (the 4PL or 5PL function, its starting
values from the data as ``fit_curve`` takes them, ``maxfev=5000``) and a loop of
``fit_curve`` on a random subsample, extrapolated to all curves. Prints the ratio and
whether the target (all curves under 10 s) is met; the vectorised result is checked
against ``fit_curve`` on the subsample.

Run: .venv/bin/python benchmarks/bench_curves.py [--plates 1000] [--analytes 40]
     [--model 4pl] [--weights none] [--sample 2000] [--repeat 1] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import warnings

import numpy as np
import pandas as pd
from _shared import timed
from scipy.optimize import OptimizeWarning, curve_fit

from nocilab.elisa import CurveFitError, fit_curve, fit_curves
from nocilab.elisa._fit import _starts

TARGET_S = 10.0
CONC = np.repeat(1000 / 2.0 ** np.arange(8), 2)


def simulate(plates: int, analytes: int, model: str, seed: int = 20240601) -> pd.DataFrame:
    """One row per standard well: plate, analyte, concentration, od."""
    rng = np.random.default_rng(seed)
    n = plates * analytes
    r0, rinf = rng.uniform(0.02, 0.2, n), rng.uniform(1.0, 3.5, n)
    fall = rng.random(n) < 0.3
    r0, rinf = np.where(fall, rinf, r0), np.where(fall, r0, rinf)
    ec50 = np.exp(rng.uniform(np.log(20), np.log(300), n))
    hill = rng.uniform(0.7, 1.6, n)
    g = rng.uniform(0.6, 1.8, n) if model == "5pl" else np.ones(n)
    cv = rng.uniform(0.01, 0.05, n)
    mean = r0[:, None] + (rinf - r0)[:, None] / (
        1 + (ec50[:, None] / CONC) ** hill[:, None]) ** g[:, None]
    od = mean * (1 + cv[:, None] * rng.standard_normal((n, 16))) \
        + 0.005 * rng.standard_normal((n, 16))
    swapped = rng.random(n) < 0.005
    od[swapped] = od[swapped][:, ::-1][:, rng.permutation(16)]
    curve = np.repeat(np.arange(n), 16)
    return pd.DataFrame({
        "plate": np.char.add("P", (curve // analytes).astype(str)),
        "analyte": np.char.add("A", (curve % analytes).astype(str)),
        "concentration": np.tile(CONC, n), "od": od.ravel()})


def logistic(lx, r0, rinf, xmid, scal, g=1.0):
    return r0 + (rinf - r0) * np.exp(-g * np.logaddexp(0.0, (xmid - lx) / scal))


def curve_fit_loop(groups: list[pd.DataFrame], model: str, weights: str) -> int:
    """Per-curve scipy.optimize.curve_fit from fit_curve's first start; returns how many
    converged."""
    ok = 0
    for g in groups:
        x, y = g["concentration"].to_numpy(), g["od"].to_numpy()
        lx = np.log(x)
        with np.errstate(all="ignore"):
            p0 = _starts(lx, y, "4pl", np.ones_like(y))[0]
        if model == "5pl":
            p0 = np.append(p0, 1.0)
        sigma = None if weights == "none" else (y if weights == "1/y" else y**2) ** 0.5
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore", OptimizeWarning)
                curve_fit(logistic, lx, y, p0=p0, sigma=sigma, maxfev=5000)
            ok += 1
        except (RuntimeError, ValueError):
            pass
    return ok


def fit_curve_loop(groups: list[pd.DataFrame], model: str, weights: str) -> list:
    """fit_curve on each curve: (theta, se) in fit_curves' orientation, or None."""
    out = []
    for g in groups:
        try:
            with np.errstate(all="ignore"):
                fit = fit_curve(g["concentration"], g["od"], model=model, weights=weights)
        except (CurveFitError, np.linalg.LinAlgError):
            out.append(None)
            continue
        theta, se = fit.theta, np.array([p.se for p in fit.parameters])
        if model == "4pl" and theta[3] < 0:  # the mirror image: the same curve
            theta, se = theta[[1, 0, 2, 3]] * [1, 1, 1, -1], se[[1, 0, 2, 3]]
        out.append((theta, se))
    return out


def agreement(batch: pd.DataFrame, pick: np.ndarray, single: list, model: str) -> str:
    """How far fit_curves is from fit_curve on the subsample."""
    names = ["r0", "rinf", "xmid", "scal"] + (["g"] if model == "5pl" else [])
    same_status, worst = 0, 0.0
    for i, ref in zip(pick, single, strict=True):
        row = batch.iloc[i]
        same_status += bool(row["converged"]) == (ref is not None)
        if ref is not None and row["converged"]:
            est = row[names].to_numpy(float)
            worst = max(worst, float(np.max(np.abs(est - ref[0]) / np.maximum(
                np.abs(ref[0]), ref[1]))))
    return (f"{same_status} of {len(pick)} with the same outcome; largest parameter "
            f"difference {worst:.1e} (relative to the larger of value and SE)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plates", type=int, default=1000)
    ap.add_argument("--analytes", type=int, default=40)
    ap.add_argument("--model", default="4pl", choices=("4pl", "5pl"))
    ap.add_argument("--weights", default="none", choices=("none", "1/y", "1/y^2"))
    ap.add_argument("--sample", type=int, default=2000, help="curves in the per-curve loops")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2, help="processes for the refits")
    args = ap.parse_args()

    table = simulate(args.plates, args.analytes, args.model)
    n = args.plates * args.analytes
    print(f"data: {args.plates} plates x {args.analytes} analytes = {n} {args.model.upper()} "
          f"curves, {len(table)} wells; weights {args.weights}; {os.cpu_count()} cores, "
          f"{args.workers} worker processes for the curves fit_curve refits")
    kw = dict(by=["plate", "analyte"], model=args.model, weights=args.weights,
              workers=args.workers)
    fit_curves(table.iloc[:1600], **kw)  # warm-up
    took, batch = timed(lambda: fit_curves(table, **kw), args.repeat)
    fitted = int(batch["converged"].sum())
    refit = int((batch["converged"] & batch["refitted"]).sum())
    print(f"fit_curves      {took:8.2f} s for all {n} curves ({n / took:,.0f} curves/s): "
          f"{fitted} fitted, {n - fitted} failed with a reason, {refit} fitted curves "
          f"settled by fit_curve")

    rng = np.random.default_rng(1)
    pick = np.sort(rng.choice(n, size=min(args.sample, n), replace=False))
    by_curve = {k: g for k, g in table.groupby(["plate", "analyte"], sort=True)}
    keys = list(batch[["plate", "analyte"]].itertuples(index=False, name=None))
    groups = [by_curve[keys[i]] for i in pick]
    t_cf, ok_cf = timed(lambda: curve_fit_loop(groups, args.model, args.weights), 1)
    t_fc, single = timed(lambda: fit_curve_loop(groups, args.model, args.weights), 1)
    ok_fc = sum(r is not None for r in single)
    per_cf, per_fc = t_cf / len(groups), t_fc / len(groups)
    print(f"curve_fit loop  {t_cf:8.2f} s for {len(groups)} curves ({ok_cf} converged): "
          f"{per_cf * 1e3:.2f} ms per curve, {per_cf * n:,.0f} s for all {n} (extrapolated)")
    print(f"fit_curve loop  {t_fc:8.2f} s for {len(groups)} curves ({ok_fc} fitted): "
          f"{per_fc * 1e3:.2f} ms per curve, {per_fc * n:,.0f} s for all {n} (extrapolated)")
    print(f"fit_curves vs fit_curve on the subsample: "
          f"{agreement(batch, pick, single, args.model)}")
    print(f"ratio curve_fit loop / fit_curves: {per_cf * n / took:,.0f}x;  "
          f"fit_curve loop / fit_curves: {per_fc * n / took:,.0f}x")
    print(f"target: all curves under {TARGET_S:g} s: "
          f"{'met' if took < TARGET_S else 'NOT met'} ({took:.2f} s)")
    return 0 if took < TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
