"""Write the simulated donor table used by the correlation tests.

Run from the repository root (once; the file is committed):
    .venv/bin/python tests/elisa/r/make_correlation_data.py

SIMULATED: 14 patient donors with clinical fields pain_intensity (0-10 numeric rating,
whole numbers: ties), fiq_total (0-100, one decimal, no ties) and age_years (no ties),
and two per-donor values: binding_score (all 14 donors; rises with fiq_total) and
effect_g (the donor's mouse effect, for 8 donors only; falls with pain_intensity).

Writes tests/data/elisa/donor_correlations.csv:
    donor, pain_intensity, fiq_total, age_years, binding_score, effect_g
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[2] / "data" / "elisa" / "donor_correlations.csv"


def main() -> None:
    rng = np.random.default_rng(5)
    n = 14
    fiq = np.round(rng.uniform(30, 90, n), 1)
    pain = np.clip(np.round(fiq / 10 + rng.normal(0, 1.2, n)), 0, 10)
    age = np.round(rng.uniform(25, 65, n), 2)
    binding = np.round(0.004 * fiq + rng.normal(0, 0.08, n), 4)
    effect = np.round(-3 * pain + rng.normal(0, 6, n), 2)
    effect[[1, 4, 6, 9, 11, 13]] = np.nan
    pd.DataFrame({"donor": [f"F{i + 1:02d}" for i in range(n)], "pain_intensity": pain,
                  "fiq_total": fiq, "age_years": age, "binding_score": binding,
                  "effect_g": effect}).to_csv(OUT, index=False)


if __name__ == "__main__":
    main()
