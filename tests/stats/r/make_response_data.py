"""Write the data sets on which tests/stats/r/response_model.R fits the response-course
model with nlme (reference values for nocilab.stats.response_model).

Run from the repository root::

    .venv/bin/python tests/stats/r/make_response_data.py
    Rscript tests/stats/r/response_model.R

The generating model is the one the power simulation draws from::

    value = cell mean + level_k + [day > 0] (u_donor + v_k) + e,  e AR(1) over test days
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "reference"


def simulate(seed: int, *, arms: dict[str, float], donors_per_arm: int, mice_per_donor: int,
             days: tuple[int, ...], sd_level: float, sd_donor: float, sd_animal: float,
             sd_residual: float, rho: float, missing: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_days = len(days)
    lag = np.abs(np.subtract.outer(np.arange(n_days), np.arange(n_days)))
    chol = np.linalg.cholesky(sd_residual**2 * rho**lag)
    post = np.array([d > 0 for d in days], dtype=float)
    day_mean = 100 + rng.normal(0, 3, n_days)
    rows = []
    for a, (arm, effect) in enumerate(arms.items()):
        for j in range(donors_per_arm):
            donor = f"{arm[:3].upper()}{j + 1:02d}"
            u = rng.normal(0, sd_donor)
            for m in range(mice_per_donor):
                animal = f"M{a + 1}{j + 1:02d}{m + 1}"
                y = (day_mean + effect * post + rng.normal(0, sd_level)
                     + post * (u + rng.normal(0, sd_animal)) + chol @ rng.normal(size=n_days))
                rows += [(animal, donor, arm, d, v) for d, v in zip(days, y, strict=True)]
    frame = pd.DataFrame(rows, columns=["animal", "donor", "arm", "study_day", "value"])
    if missing:
        drop = rng.random(len(frame)) < missing
        frame = frame[~drop].reset_index(drop=True)
    return frame


def main() -> None:
    days = (-3, -1, 1, 2, 3, 7, 10, 14)
    sets = {
        "response_balanced": simulate(
            11, arms={"control": 0.0, "patient": -20.0}, donors_per_arm=8, mice_per_donor=3,
            days=days, sd_level=8.0, sd_donor=6.0, sd_animal=4.0, sd_residual=7.0, rho=0.5),
        "response_missing": simulate(
            12, arms={"control": 0.0, "patient": -15.0, "other": -5.0}, donors_per_arm=5,
            mice_per_donor=3, days=days, sd_level=6.0, sd_donor=5.0, sd_animal=3.0,
            sd_residual=6.0, rho=0.3, missing=0.08),
    }
    for name, frame in sets.items():
        frame.to_csv(OUT / f"{name}.csv", index=False, float_format="%.17g")


if __name__ == "__main__":
    main()
