"""Write the seeded data sets on which tests/stats/r/make_reference.R computes reference values.

Run from the repository root::

    .venv/bin/python tests/stats/r/make_data.py
    Rscript tests/stats/r/make_reference.R

Each data set is a long table with the columns of the derived table that the statistics
use (animal, donor, arm, study_day, value, censored, bound). The generating model is
value = day mean + arm-by-day effect + donor + animal + residual, with normal terms.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "reference"


def simulate(
    seed: int,
    *,
    arms: dict[str, float],
    donors_per_arm: int,
    mice_per_donor: int | tuple[int, int],
    days: tuple[int, ...],
    sd_donor: float,
    sd_animal: float,
    sd_resid: float,
    base: float = 100.0,
    onset_day: int = 1,
) -> pd.DataFrame:
    """Simulate one study; ``arms`` maps arm name to its effect after ``onset_day``."""
    rng = np.random.default_rng(seed)
    day_means = {d: base + rng.normal(0, 2) for d in days}
    rows = []
    for arm_i, (arm, effect) in enumerate(arms.items()):
        for d in range(donors_per_arm):
            donor = f"{arm[:3].upper()}{d + 1:02d}"
            u_d = rng.normal(0, sd_donor)
            if isinstance(mice_per_donor, tuple):
                k = int(rng.integers(mice_per_donor[0], mice_per_donor[1] + 1))
            else:
                k = mice_per_donor
            for m in range(k):
                animal = f"M{arm_i + 1}{d + 1:02d}{m + 1:02d}"
                u_a = rng.normal(0, sd_animal)
                for day in days:
                    eff = effect if day >= onset_day else 0.0
                    value = day_means[day] + eff + u_d + u_a + rng.normal(0, sd_resid)
                    rows.append((animal, donor, arm, day, value))
    frame = pd.DataFrame(rows, columns=["animal", "donor", "arm", "study_day", "value"])
    frame["censored"] = "none"
    frame["bound"] = np.nan
    return frame


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    days6 = (-1, 1, 2, 4, 7, 10)
    sets: dict[str, pd.DataFrame] = {}

    sets["balanced"] = simulate(
        101, arms={"control": 0.0, "patient": -12.0}, donors_per_arm=6, mice_per_donor=3,
        days=days6, sd_donor=5.0, sd_animal=4.0, sd_resid=6.0,
    )

    unb = simulate(
        202, arms={"control": 0.0, "patient": -10.0}, donors_per_arm=6,
        mice_per_donor=(2, 4), days=days6, sd_donor=4.0, sd_animal=5.0, sd_resid=6.0,
    )
    rng = np.random.default_rng(203)
    keep = rng.random(len(unb)) > 0.1
    sets["unbalanced"] = unb[keep].reset_index(drop=True)

    nod = simulate(
        303, arms={"control": 0.0, "patient": -8.0}, donors_per_arm=1, mice_per_donor=10,
        days=days6, sd_donor=0.0, sd_animal=5.0, sd_resid=5.0,
    )
    # unequal group sizes: drop two patient animals entirely
    nod = nod[~nod["animal"].isin(["M20109", "M20110"])]
    sets["no_donor"] = nod.drop(columns="donor").reset_index(drop=True)

    sets["three_arms"] = simulate(
        404, arms={"control": 0.0, "depleted": -2.0, "patient": -11.0}, donors_per_arm=5,
        mice_per_donor=3, days=(-1, 1, 3, 7, 14), sd_donor=4.0, sd_animal=3.0, sd_resid=5.0,
    )

    sets["singular"] = simulate(
        505, arms={"control": 0.0, "patient": -9.0}, donors_per_arm=5, mice_per_donor=3,
        days=(-1, 1, 3, 7, 14), sd_donor=0.0, sd_animal=4.0, sd_resid=6.0,
    )

    sets["one_per_donor"] = simulate(
        606, arms={"control": 0.0, "patient": -10.0}, donors_per_arm=8, mice_per_donor=1,
        days=(-1, 1, 3, 7), sd_donor=5.0, sd_animal=0.0, sd_resid=5.0,
    )

    # cold-plate-like latencies, right-censored at a 30 s cut-off
    cen = simulate(
        707, arms={"control": 0.0, "patient": 6.0}, donors_per_arm=6, mice_per_donor=3,
        days=(-1, 1, 3, 7), sd_donor=2.0, sd_animal=2.0, sd_resid=3.0, base=24.0,
    )
    over = cen["value"] >= 30.0
    cen.loc[over, "value"] = 30.0
    cen.loc[over, "censored"] = "right"
    cen.loc[over, "bound"] = 30.0
    sets["censored"] = cen

    for name, frame in sets.items():
        frame.to_csv(OUT / f"{name}.csv", index=False, float_format="%.17g")
        print(f"{name}: {len(frame)} rows, {frame['animal'].nunique()} animals")


if __name__ == "__main__":
    main()
