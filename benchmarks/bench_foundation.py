"""Foundation benchmark: import and threshold derivation on a synthetic 10,000-animal study.

Prints rows per second for

1. importing 100,000 paw-pressure readings (10,000 animals x 10 study days) from a CSV
   through the full importer (read, validate every cell against the study, write the
   readings and one audit event per reading in one transaction), against a reference
   measured in the same run: the same rows read with pandas and written to a bare
   SQLite table with ``executemany`` (no validation, no audit), the floor of any import;
2. deriving the 100,000 readings into the derived table;
3. von Frey thresholds for 1,000,000 simulated up-down series (``bench_vonfrey``).

Targets: 100,000 readings imported in under 30 s; 1,000,000 von Frey series in under 5 s.

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_foundation.py``
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from nocilab.derive import derive_table
from nocilab.ingest import build_mapping, import_file
from nocilab.model import load_study, render_study_toml
from nocilab.store import Store

N_ANIMALS = 10_000
DAYS = [-3, -1, 1, 3, 5, 7, 10, 14, 21, 28]


def write_study(folder: Path) -> Path:
    per_donor = N_ANIMALS // 100
    donors = [{"id": f"D{i:03d}", "arm": "patient" if i < 50 else "control", "sex": "F"}
              for i in range(100)]
    study = {
        "study": {"id": "bench", "title": "Synthetic 10,000-animal study", "species": "mouse"},
        "arms": [{"id": "patient", "label": "patient"},
                 {"id": "control", "label": "control", "control": True}],
        "donors": donors,
        "preparations": [{"id": f"IgG-{d['id']}", "donors": [d["id"]], "concentration_mg_ml": 20.0}
                         for d in donors],
        "dosing": {"amount_mg": 8.0, "route": "i.p.", "days": [0, 1, 2, 3]},
        "animals": [{"id": f"M{i:05d}", "preparation": f"IgG-D{i // per_donor:03d}", "sex": "F",
                     "strain": "C57BL/6J", "cage": f"K{i // 4:04d}", "age_weeks": 10}
                    for i in range(N_ANIMALS)],
        "schedule": {"paw_pressure": DAYS},
        "assays": {"paw_pressure": {"cutoff_g": 250.0, "trials": 1}},
    }
    path = folder / "study.toml"
    path.write_text(render_study_toml(study), encoding="utf-8")
    return path


def main() -> None:
    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        study = load_study(write_study(folder))
        rows = pd.DataFrame({
            "animal": np.repeat([a.id for a in study.animals], len(DAYS)),
            "study_day": np.tile(DAYS, N_ANIMALS),
            "trial": 1,
            "force_g": np.round(rng.normal(120, 15, N_ANIMALS * len(DAYS)), 1),
        })
        csv = folder / "pp.csv"
        rows.to_csv(csv, index=False)
        n = len(rows)

        t0 = time.perf_counter()
        ref = pd.read_csv(csv)
        con = sqlite3.connect(folder / "ref.sqlite")
        con.execute("CREATE TABLE obs (animal TEXT, study_day INT, trial INT, force_g REAL)")
        con.executemany("INSERT INTO obs VALUES (?,?,?,?)", ref.itertuples(index=False, name=None))
        con.commit()
        con.close()
        t_ref = time.perf_counter() - t0

        mapping = build_mapping(layout="long", assay="paw_pressure", animal="animal",
                                day="study_day", trial="trial", quantity=["force_g"],
                                columns=None, sheet=None, skip_rows=0)
        with Store.open(study.database_url()) as store:
            t0 = time.perf_counter()
            report = import_file(csv, study, store, mapping, actor="bench")
            t_import = time.perf_counter() - t0
            assert report.n_readings == n
            t0 = time.perf_counter()
            derived = derive_table(study, store)
            t_derive = time.perf_counter() - t0
            assert len(derived) == n

    print(f"import   {n:>9,} readings  {t_import:6.2f} s  {n / t_import:>10,.0f} rows/s  "
          f"(bare pandas+sqlite3 floor {t_ref:.2f} s; ratio {t_import / t_ref:.1f}x; target < 30 s)")
    print(f"derive   {n:>9,} readings  {t_derive:6.2f} s  {n / t_derive:>10,.0f} rows/s")

    sys.path.insert(0, str(Path(__file__).parent))
    import bench_vonfrey

    sys.argv = sys.argv[:1]
    bench_vonfrey.main()


if __name__ == "__main__":
    main()
