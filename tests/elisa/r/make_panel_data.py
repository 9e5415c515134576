"""Write the simulated cytokine values used by the equivalence tests.

Run from the repository root (once; the file is committed):
    .venv/bin/python tests/elisa/r/make_panel_data.py

SIMULATED serum cytokines of 10 mice given patient IgG and 10 given control IgG, log-normal
per analyte (geometric mean, SD of log10, true ratio patient/control):

    TNF    20 pg/mL, 0.03, 1.0    tight, no true difference (equivalence expected)
    IL1B   15 pg/mL, 0.10, 2.0    a real difference
    IL10   30 pg/mL, 0.40, 1.0    no true difference but too noisy to show equivalence
    IL6    12 pg/mL, 0.15, 1.0    LLOQ 8 pg/mL: some values left-censored
    CXCL1  50 pg/mL, 0.12, 1.05   ULOQ 60 pg/mL: some values right-censored

Values are rounded to 4 significant digits; a censored value has no concentration and
its bound (the LLOQ or ULOQ) in ``bound``.

Writes tests/data/elisa/cytokine_values.csv:
    analyte, animal, arm, concentration, censored, bound, unit
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[2] / "data" / "elisa" / "cytokine_values.csv"
ANALYTES = [("TNF", 20, 0.03, 1.0, None, None), ("IL1B", 15, 0.10, 2.0, None, None),
            ("IL10", 30, 0.40, 1.0, None, None), ("IL6", 12, 0.15, 1.0, 8.0, None),
            ("CXCL1", 50, 0.12, 1.05, None, 60.0)]


def main() -> None:
    rng = np.random.default_rng(20240917)
    rows = []
    for name, gm, sd, ratio, lloq, uloq in ANALYTES:
        for arm, mult in (("patient", ratio), ("control", 1.0)):
            for i in range(10):
                animal = f"{'P' if arm == 'patient' else 'C'}{i + 1:02d}"
                v = float(f"{gm * mult * 10 ** rng.normal(0, sd):.4g}")
                cen, bound = "none", np.nan
                if lloq is not None and v < lloq:
                    cen, bound, v = "left", lloq, np.nan
                elif uloq is not None and v > uloq:
                    cen, bound, v = "right", uloq, np.nan
                rows.append((name, animal, arm, v, cen, bound, "pg/mL"))
    frame = pd.DataFrame(rows, columns=["analyte", "animal", "arm", "concentration",
                                        "censored", "bound", "unit"])
    frame.to_csv(OUT, index=False)


if __name__ == "__main__":
    main()
