"""Write the simulated human-IgG ELISA plate used by the ELISA tests.

Run from the repository root (once; the files are committed):
    .venv/bin/python tests/elisa/r/make_data.py

The plate is SIMULATED, laid out as a lab runs a human-IgG sandwich ELISA on mouse serum:
an 8-point two-fold standard series (1000 to 7.8125 ng/mL) in duplicate in columns 1-2,
two blank wells (A3, B3) and 32 serum samples in duplicate (columns 4-11) at dilutions
of 1:1,000 to 1:100,000. Optical densities at 450 nm follow a five-parameter logistic
curve with 2% proportional and 0.004 additive noise, rounded to 3 decimals as a plate
reader prints them; unused wells read the plate's background.

Writes tests/data/elisa/:
    igg_plate_wells.csv    tidy: well, kind, sample, dilution, concentration, od
    igg_plate_layout.csv   the layout: well, kind, sample, dilution, concentration
    igg_plate_reader.csv   the reader's export: title lines, then an 8 x 12 grid
    igg_serum_clearance.csv  human IgG in the serum of 8 mice (2 preparations), dosed on
                           days 0-3, sampled on days 1-21: first-order elimination with a
                           half-life of about 6 days per mouse, 12% log-normal noise; readings
                           below 120 ug/mL are left-censored (the plates' LLOQ x dilution);
                           mouse M8 lost after day 7
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path("tests/data/elisa")
ROWS = "ABCDEFGH"
BACKGROUND, TOP, C, HILL, G = 0.048, 3.45, 140.0, 1.25, 0.75


def od_of(conc: np.ndarray) -> np.ndarray:
    conc = np.asarray(conc, dtype=float)
    with np.errstate(divide="ignore"):
        frac = 1.0 / (1.0 + (C / conc) ** HILL) ** G
    return BACKGROUND + 0.012 + (TOP - 0.012) * np.where(conc > 0, frac, 0.0)


def main() -> None:
    rng = np.random.default_rng(20240509)
    rows = []
    standards = 1000.0 / 2.0 ** np.arange(8)
    for i, conc in enumerate(standards):
        for col in (1, 2):
            rows.append(dict(well=f"{ROWS[i]}{col}", kind="standard", sample="",
                             dilution=np.nan, concentration=conc))
    for well in ("A3", "B3"):
        rows.append(dict(well=well, kind="blank", sample="", dilution=np.nan,
                         concentration=np.nan))
    # 32 serum samples: 8 mice x 4 study days; human IgG in serum (ug/mL) falls with a
    # half-life of about 6 days from ~1.5 mg/mL, plus a few that fall outside the range
    true_serum = []
    dilutions = [1000, 10000, 20000, 100000]
    k = 0
    for pair, col in enumerate((4, 6, 8, 10)):
        for r in range(8):
            k += 1
            day = (1, 4, 7, 14)[pair]
            level_ug = 1500.0 * 0.5 ** (day / 6.0) * rng.lognormal(0.0, 0.35)
            dil = dilutions[(r + pair) % 4]
            true_serum.append(level_ug)
            for dc in (0, 1):
                rows.append(dict(well=f"{ROWS[r]}{col + dc}", kind="sample", sample=f"S{k:02d}",
                                 dilution=float(dil), concentration=np.nan,
                                 _in_well=level_ug * 1000.0 / dil))
    frame = pd.DataFrame(rows)
    in_well = np.where(frame["kind"].eq("standard"), frame["concentration"],
                       frame.get("_in_well", np.nan))
    in_well = np.where(frame["kind"].eq("blank"), 0.0, in_well)
    mean = od_of(np.nan_to_num(in_well))
    od = mean * (1 + 0.02 * rng.standard_normal(len(mean))) + 0.004 * rng.standard_normal(len(mean))
    frame["od"] = np.round(np.maximum(od, 0.001), 3)
    frame = frame.drop(columns="_in_well")
    OUT.mkdir(parents=True, exist_ok=True)
    frame.to_csv(OUT / "igg_plate_wells.csv", index=False, float_format="%.10g")
    frame.drop(columns="od").to_csv(OUT / "igg_plate_layout.csv", index=False, float_format="%.10g")
    grid = pd.DataFrame(index=list(ROWS), columns=range(1, 13), dtype=float)
    grid[:] = np.round(BACKGROUND + 0.004 * rng.standard_normal((8, 12)), 3)
    for well, value in zip(frame["well"], frame["od"], strict=True):
        grid.loc[well[0], int(well[1:])] = value
    with open(OUT / "igg_plate_reader.csv", "w", encoding="utf-8") as fh:
        fh.write("Plate 1,Human IgG ELISA\nWavelength,450 nm\n\n")
        fh.write("," + ",".join(str(c) for c in range(1, 13)) + "\n")
        for r in ROWS:
            fh.write(r + "," + ",".join(f"{v:.3f}" for v in grid.loc[r]) + "\n")


def clearance() -> None:
    rng = np.random.default_rng(20240510)
    rows = []
    for m in range(1, 9):
        prep = "P1" if m <= 4 else "C1"
        arm = "patient" if m <= 4 else "control"
        half_life = 6.0 * rng.lognormal(0.0, 0.2)
        peak = 1400.0 * rng.lognormal(0.0, 0.15)
        for day in (1, 4, 7, 10, 14, 21):
            if m == 8 and day > 7:
                continue
            level = peak * (0.7 if day == 1 else 0.5 ** ((day - 4) / half_life))
            value = level * rng.lognormal(0.0, 0.12)
            cens = "left" if value < 120.0 else "none"
            rows.append(dict(animal=f"M{m}", preparation=prep, arm=arm, study_day=day,
                             concentration=round(value, 2) if cens == "none" else np.nan,
                             censored=cens, bound=120.0 if cens == "left" else np.nan))
    pd.DataFrame(rows).to_csv(OUT / "igg_serum_clearance.csv", index=False, float_format="%.10g")


if __name__ == "__main__":
    main()
    clearance()
