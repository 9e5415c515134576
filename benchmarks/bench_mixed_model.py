"""Benchmark: the REML mixed model of nocilab.stats against lme4/lmerTest on the same data.

Simulates a passive-transfer study (2 arms x 40 donors x 4 mice x 7 test days: 320
animals, 2,240 values), fits ``value ~ arm * day + (1 | donor) + (1 | animal)`` with
nocilab.stats, and runs benchmarks/lmer_fit.R on the same CSV when Rscript is on the
PATH (timing inside R with system.time, so R's start-up is not counted). Prints median
seconds per fit and the ratios:

- fit:  ``fit_mixed_model`` (REML + Satterthwaite state) vs ``lmerTest::lmer``
  (and vs ``lme4::lmer``, which does not prepare Satterthwaite df);
- full: fit + Type III table + per-day contrasts vs lmerTest + ``anova`` + emmeans.

Run: .venv/bin/python benchmarks/bench_mixed_model.py [--donors 40] [--mice 4] [--repeat 5]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd
from _shared import run_rscript, timed

from nocilab.stats import day_contrasts, fit_mixed_model

DAYS = (-1, 1, 2, 4, 7, 10, 14)


def simulate(donors: int, mice: int, seed: int = 7) -> pd.DataFrame:
    """2 arms x ``donors`` donors per arm x ``mice`` mice, value = day + arm + u + v + e."""
    rng = np.random.default_rng(seed)
    rows = []
    for a, (arm, effect) in enumerate((("control", 0.0), ("patient", -12.0))):
        for d in range(donors):
            u = rng.normal(0, 5.0)
            for m in range(mice):
                v = rng.normal(0, 4.0)
                for day in DAYS:
                    eff = effect if day > 0 else 0.0
                    rows.append((f"M{a}{d:03d}{m:02d}", f"D{a}{d:03d}", arm, day,
                                 100.0 + eff + u + v + rng.normal(0, 6.0)))
    return pd.DataFrame(rows, columns=["animal", "donor", "arm", "study_day", "value"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--donors", type=int, default=40, help="donors per arm")
    ap.add_argument("--mice", type=int, default=4, help="mice per donor")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    frame = simulate(args.donors, args.mice)
    kw = dict(value="value", arm="arm", day="study_day", animal="animal", donor="donor",
              control="control")
    print(f"data: {frame['animal'].nunique()} animals, {frame['donor'].nunique()} donors, "
          f"{len(frame)} values")

    fit_mixed_model(frame, **kw)  # warm-up (imports)
    t_fit = timed(lambda: fit_mixed_model(frame, **kw), args.repeat)[0]

    def full() -> None:
        fit = fit_mixed_model(frame, **kw)
        fit.anova()
        day_contrasts(fit)

    t_full = timed(full, args.repeat)[0]
    fit = fit_mixed_model(frame, **kw)
    print(f"nocilab  fit {t_fit:8.4f} s   fit+anova+contrasts {t_full:8.4f} s")

    out = run_rscript("lmer_fit.R", [str(args.repeat)], what="the R comparison", frame=frame)
    if out is None:
        return 0
    r_lme4, r_lmt, r_full = (float(out[k]) for k in ("lme4_s", "lmertest_s", "full_s"))
    r_beta = np.array([float(out[f"fixef_{i + 1}"]) for i in range(fit.beta.size)])
    print(f"R        lme4::lmer {r_lme4:8.4f} s   lmerTest::lmer {r_lmt:8.4f} s   "
          f"lmerTest+anova+emmeans {r_full:8.4f} s")
    print(f"ratio fit  (nocilab / lmerTest::lmer): {t_fit / r_lmt:6.3f}   "
          f"(nocilab / lme4::lmer: {t_fit / r_lme4:6.3f})")
    print(f"ratio full (nocilab / lmerTest+anova+emmeans): {t_full / r_full:6.3f}")
    rel = np.max(np.abs(fit.beta - r_beta) / np.maximum(np.abs(r_beta), 1e-12))
    print(f"max relative difference of fixed effects vs lme4: {rel:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
