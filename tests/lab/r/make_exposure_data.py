"""Write the simulated exposure-response data set used by tests/lab/test_exposure_r.py.

Run from the repository root (once; the file is committed):
    .venv/bin/python tests/lab/r/make_exposure_data.py

SIMULATED: 4 donors x 3 mice given one donor's IgG, serum human IgG on days 1, 3, 7, 14
and 21 falling with a half-life of about 6 days (mouse-to-mouse spread in level and rate),
and a behavioural change from baseline that follows log10 serum IgG within each mouse
(slope -0.8 per tenfold) with donor, mouse and residual noise. Two mice miss a day, so the
design is unbalanced. ``within`` and ``between`` are the within-mouse centred log10 IgG
and the mouse mean, computed here as nocilab.lab computes them.

Writes tests/lab/r/exposure_response_data.csv:
    animal, donor, study_day, log10_igg, within, between, change
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def main() -> None:
    rng = np.random.default_rng(20240917)
    rows = []
    for d in range(4):
        donor_shift = rng.normal(0, 0.6)
        for m in range(3):
            animal = f"M{d}{m}"
            c0 = np.log10(900) + rng.normal(0, 0.15)
            k = np.log(2) / (6.0 * np.exp(rng.normal(0, 0.2)))
            mouse_shift = rng.normal(0, 0.4)
            for day in (1, 3, 7, 14, 21):
                if (animal, day) in {("M11", 14), ("M32", 3)}:
                    continue
                lx = c0 - k * day / np.log(10) + rng.normal(0, 0.05)
                change = -2.0 - 0.8 * (lx - 2.5) + donor_shift + mouse_shift + rng.normal(0, 0.5)
                rows.append((animal, f"D{d}", day, lx, round(change, 6)))
    f = pd.DataFrame(rows, columns=["animal", "donor", "study_day", "log10_igg", "change"])
    f["log10_igg"] = f["log10_igg"].round(6)
    f["between"] = f.groupby("animal")["log10_igg"].transform("mean")
    f["within"] = f["log10_igg"] - f["between"]
    f = f[["animal", "donor", "study_day", "log10_igg", "within", "between", "change"]]
    f.to_csv(HERE / "exposure_response_data.csv", index=False, float_format="%.17g")


if __name__ == "__main__":
    main()
