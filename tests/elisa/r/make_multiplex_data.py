"""Write the simulated multiplex cytokine plate used by the panel tests and the CLI.

Run from the repository root (once; the files are committed):
    .venv/bin/python tests/elisa/r/make_multiplex_data.py

SIMULATED bead-array plate of mouse serum, four analytes read in every well:
- standards: a 7-point 3-fold series in duplicate (A1-G2), the top standard per analyte
  (IL6 10000, TNF 5000, IL10 2000, IL17A 2000 pg/mL); blanks H1, H2;
- samples: 20 mice (10 given patient IgG, 10 control IgG) in duplicate in columns 3-7,
  serum diluted 1:2;
- signals (MFI) follow a 4PL, 30 to 20000 MFI, with 4% multiplicative noise, rounded to
  0.1; serum concentrations are log-normal with no true arm difference (geometric means
  IL6 25, TNF 60, IL10 40 pg/mL, SD 0.15 log10), so some IL6 samples fall below the LLOQ;
- IL17A's standards were pipetted in the wrong order (rows C and E swapped): its curve
  must fail with the reason;
- well C5 of TNF reads OVRFLW.

Writes tests/data/elisa/multiplex_signals.csv (analyte, well, signal) and
tests/data/elisa/multiplex_layout.csv (well, kind, analyte, concentration, sample,
dilution, animal, arm).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[2] / "data" / "elisa"
TOP = {"IL6": 10000.0, "TNF": 5000.0, "IL10": 2000.0, "IL17A": 2000.0}
EC50 = {"IL6": 600.0, "TNF": 400.0, "IL10": 150.0, "IL17A": 150.0}
GM = {"IL6": 25.0, "TNF": 60.0, "IL10": 40.0, "IL17A": 30.0}


def mfi(conc: np.ndarray, ec50: float) -> np.ndarray:
    return 30 + (20000 - 30) / (1 + (ec50 / conc) ** 1.1)


def main() -> None:
    rng = np.random.default_rng(7)
    layout = [("H1", "blank", "", "", "", "", "", ""), ("H2", "blank", "", "", "", "", "", "")]
    for name, top in TOP.items():
        for i, row in enumerate("ABCDEFG"):
            for col in (1, 2):
                layout.append((f"{row}{col}", "standard", name, f"{top / 3 ** i:.6g}", "", "",
                               "", ""))
    mice = [(f"{'P' if k < 10 else 'C'}{k % 10 + 1:02d}", "patient" if k < 10 else "control")
            for k in range(20)]
    wells = [f"{r}{c}" for c in range(3, 8) for r in "ABCDEFGH"]
    for k, (animal, arm) in enumerate(mice):
        for w in wells[2 * k:2 * k + 2]:
            layout.append((w, "sample", "", "", f"S{k + 1:02d}", "2", animal, arm))
    lay = pd.DataFrame(layout, columns=["well", "kind", "analyte", "concentration", "sample",
                                        "dilution", "animal", "arm"])
    signals = []
    for name in TOP:
        true = {}
        for animal, _ in mice:
            true[animal] = GM[name] * 10 ** rng.normal(0, 0.15) / 2  # in the well
        for _, r in lay.iterrows():
            if r["analyte"] not in ("", name):
                continue
            if r["kind"] == "blank":
                c = 0.0
            elif r["kind"] == "standard":
                c = float(r["concentration"])
                if name == "IL17A" and r["well"][0] in "CE":
                    c = TOP[name] / 3 ** (4 if r["well"][0] == "C" else 2)
            else:
                c = true[r["animal"]]
            s = 30.0 if c == 0 else float(mfi(np.array([c]), EC50[name])[0])
            s *= np.exp(rng.normal(0, 0.04))
            text = f"{s:.1f}"
            if name == "TNF" and r["well"] == "C5":
                text = "OVRFLW"
            signals.append((name, r["well"], text))
    pd.DataFrame(signals, columns=["analyte", "well", "signal"]).to_csv(
        DATA / "multiplex_signals.csv", index=False)
    lay.to_csv(DATA / "multiplex_layout.csv", index=False)


if __name__ == "__main__":
    main()
