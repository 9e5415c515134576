"""Write the seeded von Frey-like data set on which tests/stats/r/log_scale.R computes the
reference values of the log10-scale analysis.

Run from the repository root::

    .venv/bin/python tests/stats/r/make_log_data.py
    Rscript tests/stats/r/log_scale.R

Thresholds are log-normal: log10(threshold) = day mean + arm effect + donor + animal +
residual, normal terms around log10(0.8 g), patient IgG lowering it by 0.35 (a ratio of
0.45) from day 1. Values beyond the ends of the mouse
filament set (0.008 g and 2 g) are censored there, as the up-down method does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "reference"

LOW, HIGH = 0.008, 2.0


def main() -> None:
    rng = np.random.default_rng(808)
    days = (-3, -1, 1, 3, 7, 14)
    day_mean = {day: np.log10(0.8) + rng.normal(0, 0.03) for day in days}
    rows = []
    for arm_i, (arm, effect, n_donors) in enumerate((("control", 0.0, 5),
                                                      ("patient", -0.35, 6))):
        for k in range(n_donors):
            donor, u_d = f"{arm[:3].upper()}{k + 1:02d}", rng.normal(0, 0.10)
            for m in range(3):
                animal, u_a = f"M{arm_i + 1}{k + 1:02d}{m + 1:02d}", rng.normal(0, 0.08)
                for day in days:
                    log_value = (day_mean[day] + (effect if day > 0 else 0.0) + u_d + u_a
                                 + rng.normal(0, 0.15))
                    rows.append((animal, donor, arm, day, 10.0 ** log_value))
    d = pd.DataFrame(rows, columns=["animal", "donor", "arm", "study_day", "value"])
    d["censored"] = "none"
    d["bound"] = np.nan
    for side, at, beyond in (("left", LOW, d["value"] <= LOW), ("right", HIGH, d["value"] >= HIGH)):
        d.loc[beyond, ["value", "censored", "bound"]] = [at, side, at]
    d.to_csv(OUT / "vonfrey_log.csv", index=False, float_format="%.17g")
    print(f"vonfrey_log: {len(d)} rows, {int((d['censored'] != 'none').sum())} censored, "
          f"values {d['value'].min():.3g}-{d['value'].max():.3g} g; "
          f"median {np.median(d['value']):.3g}")


if __name__ == "__main__":
    main()
