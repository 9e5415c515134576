"""Benchmark: power of the reference design, fast simulation against an lme4 refit loop.

Times nocilab.design.power on the reference design (2 arms x 8 donors x 3 mice x 8 test
days, 10,000 simulated studies) by the sufficient-statistic route, the full route and
the statsmodels refit loop, the default power grid in-process and on a Dask
LocalCluster, and runs benchmarks/power_lme4.R (a simr-style lme4 + lmerTest loop on
the same design) when Rscript is on the PATH. Times of the slow loops are measured on a
few hundred studies and extrapolated to 10,000 (labelled so).

Run: .venv/bin/python benchmarks/bench_power.py [--r-sims 300] [--refit-sims 100]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
from _shared import run_rscript, timed

from nocilab.design._power_sim import wilson_interval
from nocilab.design.power import (
    contrast_weights,
    exact_power,
    power_grid,
    reference_design,
    refit_power,
    simulate_power,
)

N = 10_000


def run_r(design, n_sims: int, seed: int) -> dict[str, str] | None:
    days = np.asarray(design.test_days)
    eff = design.effect_for(design.arms[1])
    effect = eff.at(days) if eff is not None else np.zeros(len(days))
    window = (contrast_weights(design) > 0).astype(int)
    v = design.variance
    args = {
        "n_sims": n_sims, "seed": seed, "donors": design.donors_per_arm,
        "mice": design.mice_per_donor, "days": ",".join(map(str, days)),
        "effect": ",".join(f"{x:.12g}" for x in effect), "window": ",".join(map(str, window)),
        "sd_donor": v.sd_donor, "sd_animal": v.sd_animal, "sd_residual": v.sd_residual,
        "rho": v.rho, "alpha": design.alpha,
    }
    return run_rscript("power_lme4.R", [f"{k}={a}" for k, a in args.items()],
                       what="the lme4 comparison")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--r-sims", type=int, default=300)
    parser.add_argument("--refit-sims", type=int, default=100)
    parser.add_argument("--seed", type=int, default=20210613)
    opts = parser.parse_args()

    d = reference_design()
    print(f"reference design: arms {d.arms}, {d.donors_per_arm} donors per arm x "
          f"{d.mice_per_donor} mice, test days {d.test_days}, window {d.window_days}")
    print(f"CPU cores visible: {os.cpu_count()}; numpy {np.__version__}\n")
    exact = exact_power(d)
    print(f"exact power (noncentral t, df {d.df}): {exact:.4f}\n")

    simulate_power(d, n_sims=100, seed=0)  # warm-up (imports, first calls)
    t_fast, fast = timed(lambda: simulate_power(d, n_sims=N, seed=opts.seed), repeat=21)
    t_full, full = timed(lambda: simulate_power(d, n_sims=N, seed=opts.seed, method="full"),
                         repeat=3)
    rows = [("sufficient statistic (measured)", t_fast, fast.power, fast.ci_low, fast.ci_high),
            ("full readings (measured)", t_full, full.power, full.ci_low, full.ci_high)]

    t = time.perf_counter()
    refit = refit_power(d, n_sims=opts.refit_sims, seed=opts.seed)
    t_refit = (time.perf_counter() - t) / opts.refit_sims * N
    rows.append((f"statsmodels MixedLM refit ({opts.refit_sims} sims, extrapolated)", t_refit,
                 refit.power, refit.ci_low, refit.ci_high))

    r = run_r(d, opts.r_sims, opts.seed)
    t_r = None
    if r is not None:
        n_ok = int(r["n_sims"]) - int(r["n_failed"])
        k = int(r["n_rejected"])
        lo, hi = wilson_interval(k, n_ok)
        t_r = float(r["elapsed_s"]) / int(r["n_sims"]) * N
        rows.append((f"R lme4+lmerTest refit ({r['n_sims']} sims, extrapolated)", t_r,
                     k / n_ok, lo, hi))

    print(f"{'method (10,000 simulated studies)':<58}{'time s':>10}{'power':>8}  95% MC CI")
    for name, sec, p, lo, hi in rows:
        print(f"{name:<58}{sec:>10.4f}{p:>8.4f}  {lo:.4f}-{hi:.4f}")
    print()
    print(f"speed ratio full / sufficient:           {t_full / t_fast:10.0f}x")
    print(f"speed ratio statsmodels refit / sufficient: {t_refit / t_fast:7.0f}x (extrapolated)")
    if t_r is not None and r is not None:
        print(f"speed ratio R lme4 refit / sufficient:   {t_r / t_fast:10.0f}x (extrapolated; "
              f"target >= 100x)")
        print(f"R: lme4 {r['lme4']}, lmerTest {r['lmerTest']}; Satterthwaite df of the first "
              f"fit {float(r['df_first']):.4f} (donors - arms = {d.df}); "
              f"{r['n_singular']} singular fits, {r['n_failed']} failed")
    print(f"refit notes: {'; '.join(refit.notes) or 'none'}")

    t_grid, grid = timed(lambda: power_grid(d, n_sims=N, seed=opts.seed), repeat=1)
    t_dask, grid_dask = timed(lambda: power_grid(d, n_sims=N, seed=opts.seed,
                                                 scheduler="local"), repeat=1)
    n_cells = len(grid.cells)
    print(f"\npower grid {n_cells} cells x {N} sims: in-process {t_grid:.2f} s, "
          f"Dask LocalCluster {t_dask:.2f} s (cluster start included); identical: "
          f"{grid.cells == grid_dask.cells}")
    print(grid.choose(0.8).message)
    return 0


if __name__ == "__main__":
    sys.exit(main())
