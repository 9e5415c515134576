"""Write the simulated per-cell binding measurements used by the binding tests and CLI.

Run from the repository root (once; the files are committed):
    .venv/bin/python tests/elisa/r/make_binding_data.py

SIMULATED DRG sections stained with the IgG of 4 control donors (H1-H4) and 6 patient
donors (F1-F6), 3 images per donor, about 40 neurons and 60 satellite-glial rings per
image, as QuPath exports them (columns Image, Object ID, Class, "Mean intensity",
"Area um^2"). Intensities are log-normal (neurons around 300, rings around 200 grey
levels); for patient donors F1-F5 a donor-specific share (25-55%) of the rings, and 3% of
the neurons, are 2.5 to 4 times brighter; F6 does not bind.

Writes tests/data/elisa/binding_cells.csv and tests/data/elisa/binding_images.csv
(image, donor, preparation, arm).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[2] / "data" / "elisa"


def main() -> None:
    rng = np.random.default_rng(11)
    donors = [(f"H{i}", "control", 0.0) for i in range(1, 5)]
    donors += [(f"F{i}", "patient", share) for i, share in
               enumerate((0.45, 0.3, 0.55, 0.25, 0.4, 0.0), start=1)]
    cells, images = [], []
    for donor, arm, share in donors:
        for k in range(1, 4):
            image = f"DRG_{donor}_{k}.tif"
            images.append((image, donor, f"IgG-{donor}", arm))
            n_neu, n_sgc = rng.poisson(40), rng.poisson(60)
            for j in range(n_neu + n_sgc):
                neuron = j < n_neu
                base = rng.lognormal(np.log(300 if neuron else 200), 0.25)
                p_bind = (0.03 if neuron else share) if share > 0 else 0.0
                if rng.random() < p_bind:
                    base *= rng.uniform(2.5, 4.0)
                area = rng.lognormal(np.log(600 if neuron else 250), 0.3)
                cells.append((image, j + 1, "Neuron" if neuron else "SGC ring",
                              round(base, 2), round(area, 1)))
    pd.DataFrame(cells, columns=["Image", "Object ID", "Class", "Mean intensity",
                                 "Area um^2"]).to_csv(DATA / "binding_cells.csv", index=False)
    pd.DataFrame(images, columns=["image", "donor", "preparation", "arm"]).to_csv(
        DATA / "binding_images.csv", index=False)


if __name__ == "__main__":
    main()
