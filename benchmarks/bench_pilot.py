"""Benchmark: the pilot fit of the power module (response-course model by REML) against
nlme::lme with corAR1 on the same data.

Simulates a pilot study with the power module's own model (2 arms x DONORS donors x MICE
mice x 2 baseline and 6 post-injection days, known variance components and AR(1)
correlation), fits it with ``nocilab.stats.fit_response_model`` and, when Rscript is on
the PATH, with benchmarks/pilot_nlme.R (timed inside R, so R's start-up is not
counted). Prints median seconds per fit, the ratio, and both log-likelihoods.

Run: .venv/bin/python benchmarks/bench_pilot.py [--donors 8] [--mice 3] [--repeat 5]
"""

from __future__ import annotations

import argparse

import pandas as pd
from _shared import run_rscript, timed

from nocilab.design.power import Effect, PowerDesign, VarianceComponents, simulate_readings
from nocilab.stats import fit_response_model

def pilot(donors: int, mice: int, seed: int = 11) -> pd.DataFrame:
    design = PowerDesign(
        arms=("control", "patient"), donors_per_arm=donors, mice_per_donor=mice,
        baseline_days=(-3, -1), days=(1, 2, 3, 7, 10, 14),
        effect=Effect(size=20.0, scale="absolute"),
        variance=VarianceComponents(sd_donor=6.0, sd_animal=4.0, sd_residual=7.0, rho=0.5))
    y = simulate_readings(design, n_sims=1, seed=seed)[0]
    rows = []
    for k in range(design.n_animals):
        donor = k // mice
        arm = design.arms[donor // donors]
        level = 100.0 + 8.0 * ((k * 7919) % 13 - 6) / 6  # an animal's own level
        rows += [(f"M{k:04d}", f"D{donor:03d}", arm, d, level + y[k, i])
                 for i, d in enumerate(design.test_days)]
    return pd.DataFrame(rows, columns=["animal", "donor", "arm", "study_day", "value"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--donors", type=int, default=8, help="donors per arm")
    ap.add_argument("--mice", type=int, default=3, help="mice per donor")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    frame = pilot(args.donors, args.mice)
    print(f"pilot: {frame['animal'].nunique()} animals, {frame['donor'].nunique()} donors, "
          f"{len(frame)} readings")
    fit_response_model(frame)  # warm-up
    ours, fit = timed(lambda: fit_response_model(frame), args.repeat)
    print(f"nocilab fit_response_model: {ours:.4f} s  (loglik {fit.loglik:.6f}; sd donor "
          f"{fit.sd_donor:.3f}, animal {fit.sd_animal:.3f}, residual {fit.sd_residual:.3f}, "
          f"rho {fit.rho:.3f})")

    got = run_rscript("pilot_nlme.R", [str(args.repeat)], what="the nlme comparison",
                      frame=frame)
    if got is None:
        return 0
    theirs = float(got["nlme_seconds"])
    print(f"R nlme {got['nlme_version']} lme + corAR1: {theirs:.4f} s  "
          f"(loglik {float(got['nlme_loglik']):.6f})")
    print(f"ratio nocilab / nlme: {ours / theirs:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
