"""Calibration: how often the per-donor classification calls a donor affected.

Simulates STUDIES demo studies (nocilab.demo.calibrate: 8 patient and 6 control donors,
3 mice each, seeds 1..STUDIES), derives them as ``nocilab demo`` does and classifies
every donor of every outcome with the report's settings. Prints, per group of donors
(control donors against the other control donors; patient donors without a simulated
effect; patient donors with one) and per assay, the rate of "clearly affected" and of
"clearly or possibly affected" with Monte-Carlo 95% intervals (studies as clusters), the
SD of the overall rates over blocks of BLOCK studies (what the unit test's tolerances
rest on), and the time taken. The README's numbers come from this script.

Run: .venv/bin/python benchmarks/bench_donor_classes.py [--studies 200] [--block 8]
     [--out classes.csv]
"""

from __future__ import annotations

import argparse

import pandas as pd
from _shared import timed

from nocilab.demo.calibrate import GROUPS, calibration_summary, classify_studies
from nocilab.stats.donors import CLEARLY, POSSIBLY


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--studies", type=int, default=200)
    ap.add_argument("--block", type=int, default=8, help="studies per block for the SDs")
    ap.add_argument("--out", default=None, help="write every classification to this CSV")
    args = ap.parse_args()

    took, classes = timed(lambda: classify_studies(range(1, args.studies + 1)), repeat=1)
    if args.out:
        classes.to_csv(args.out, index=False)
    s = calibration_summary(classes)
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(s.round(3).to_string(index=False))
    c = classes.assign(block=(classes["seed"] - 1) // args.block)
    print(f"\nSD over blocks of {args.block} studies ({c['block'].nunique()} blocks):")
    for group, sel in ((GROUPS[0], c["arm"] == "control"),
                       (GROUPS[2], (c["arm"] != "control") & c["affected"])):
        g = c[sel]
        clearly = (g["classification"] == CLEARLY).groupby(g["block"]).mean()
        either = g["classification"].isin([CLEARLY, POSSIBLY]).groupby(g["block"]).mean()
        print(f"  {group}: clearly {clearly.std():.4f}, clearly or possibly {either.std():.4f}")
    print(f"\n{args.studies} studies in {took:.0f} s ({took / args.studies:.2f} s per study)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
