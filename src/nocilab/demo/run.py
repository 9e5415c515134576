"""``nocilab demo``: write a simulated study, import it as a user would, derive, summarise."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich import box
from rich.table import Table

from nocilab.demo.simulate import DEMO_STUDY_ID, SimulatedStudy, simulate_study
from nocilab.errors import NocilabError

# file -> mapping (the [mappings.NAME] table written into study.toml)
DEMO_MAPPINGS: dict[str, tuple[str, dict]] = {
    "paw_pressure_wide.xlsx": ("paw_pressure_wide", {
        "layout": "wide", "assay": "paw_pressure", "animal": "Mouse", "quantity": "force_g",
        "columns": "D{day}_t{trial}"}),
    "body_weight_wide.csv": ("body_weight_wide", {
        "layout": "wide", "assay": "body_weight", "animal": "Mouse", "quantity": "weight_g",
        "columns": "Day {day}"}),
    "cold_plate.csv": ("cold_plate_long", {
        "layout": "long", "assay": "cold_plate", "trial": "trial",
        "quantities": {"latency_s": "latency_s"}}),
    "von_frey.csv": ("von_frey_long", {
        "layout": "long", "assay": "von_frey", "trial": "trial",
        "quantities": {"xo_series": "xo_series", "last_filament": "last_filament"}}),
    "grip.csv": ("grip_long", {
        "layout": "long", "assay": "grip", "trial": "trial", "quantities": {"force_g": "force_g"}}),
    "activity.csv": ("activity_long", {
        "layout": "long", "assay": "activity", "trial": "trial",
        "quantities": {"distance_m": "distance_m"}}),
    "ienfd.csv": ("ienfd_long", {
        "layout": "long", "assay": "ienfd", "trial": "trial",
        "quantities": {"fibres": "fibres", "length_mm": "length_mm"}}),
}


def write_demo_files(sim: SimulatedStudy, out: Path) -> Path:
    """Write study.toml and the raw files of a simulated study into ``out``."""
    from nocilab.ingest import write_table
    from nocilab.model import render_study_toml

    raw = out / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    study = dict(sim.study)
    study["mappings"] = {name: spec for name, spec in DEMO_MAPPINGS.values()}
    header = ("# SIMULATED study written by `nocilab demo`: no number in it is a measurement.\n"
              "# Raw files are in raw/; each [mappings.NAME] below says how one of them is read.\n\n")
    (out / "study.toml").write_text(header + render_study_toml(study), encoding="utf-8")
    for name, frame in sim.tables.items():
        write_table(frame, raw / name)
    sim.donor_effects.to_csv(out / "simulated_true_effects.csv", index=False)
    return out / "study.toml"


def run_demo(out: Path, *, seed: int = 20210701, force: bool = False,
             console: Console | None = None, analyze: bool = True) -> pd.DataFrame:
    """Simulate, import, derive and (unless ``analyze`` is False) analyse a complete study
    in ``out``; return the derived table."""
    from nocilab.derive import derive_table
    from nocilab.ingest import import_file
    from nocilab.model import load_study
    from nocilab.store import Store

    console = console or Console()
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        if not _is_demo(out):
            raise NocilabError(f"{out} exists and does not hold a nocilab demo study; nothing "
                               "was changed (choose another --out)")
        if not force:
            raise NocilabError(f"{out} already holds a demo study; use --force to replace it "
                               "(its simulated database is deleted)")
        shutil.rmtree(out)
    start = time.perf_counter()
    console.print("[bold]nocilab demo[/]: a [bold yellow]SIMULATED[/] passive-transfer study "
                  "(8 patient and 6 control donors, IgG 8 mg/day i.p. on days 0-3)")
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                  console=console, transient=False) as progress:
        t = progress.add_task("simulating mice and donors", total=1)
        sim = simulate_study(seed=seed)
        study_file = write_demo_files(sim, out)
        progress.update(t, completed=1)
        study = load_study(study_file)
        t = progress.add_task("importing raw files", total=len(DEMO_MAPPINGS))
        n_values = 0
        with Store.open(study.database_url()) as store:
            store.set_meta("simulation_seed", str(seed), actor="nocilab-demo")
            for name, (mapping_name, _) in DEMO_MAPPINGS.items():
                progress.update(t, description=f"importing raw/{name}")
                report = import_file(out / "raw" / name, study, store, study.mappings[mapping_name],
                                     actor="nocilab-demo")
                n_values += report.n_readings
                progress.advance(t)
            t = progress.add_task("importing the lab's plates and cell tables", total=1)
            n_wells, n_cells = import_demo_lab(sim, study, store, out, seed=seed)
            progress.update(t, completed=1)
            t = progress.add_task("deriving values", total=1)
            derived = derive_table(study, store)
            from nocilab.ingest import write_table

            write_table(derived, out / "derived.csv")
            progress.update(t, completed=1)
            logins = _demo_accounts(store)
            audit = store.verify_audit()
            if analyze:
                from nocilab.report.analyze import analyze_study

                t = progress.add_task("analysing, drawing figures, writing the report", total=1)
                page = analyze_study(study, store, out / "report")
                progress.update(t, completed=1)
    _summarise(console, study, derived)
    console.print(f"{n_values} raw values, {n_wells} plate wells and {n_cells} binding cells "
                  "imported; audit chain "
                  f"{'[green]intact[/]' if audit.ok else '[red]BROKEN[/]'} ({audit.n_events} events)")
    console.print(f"study folder: {out}  (study.toml, raw/ with raw/lab/, nocilab.sqlite, "
                  "derived.csv)", highlight=False)
    if analyze:
        console.print(f"report: {page}  (open it in a browser; every number is in report/results/)",
                      highlight=False)
    console.print(f"next: plan a study from this one as a pilot: nocilab power --from {out} "
                  "--outcome paw_pressure.threshold_g --effect 20", highlight=False)
    console.print(f"web app: nocilab serve {out}  (then http://127.0.0.1:8000/); demo accounts, "
                  "passwords shown only now:", highlight=False)
    for name, role, password in logins:
        console.print(f"  {name:<18} {role:<13} {password}", highlight=False)
    console.print(f"done in {time.perf_counter() - start:.1f} s")
    return derived


def import_demo_lab(sim: SimulatedStudy, study, store, out: Path, *, seed: int
                    ) -> tuple[int, int]:
    """Write the simulated lab files (serum ELISA plates, cytokine panel, binding cells)
    and import them as a lab would; returns the wells and cells imported."""
    from nocilab.demo.lab import QUPATH_COLUMNS, simulate_lab, write_lab_files
    from nocilab.ingest.labfiles import import_cells, import_plates

    files = write_lab_files(simulate_lab(sim, seed=seed), out)
    serum = files["serum"]
    n_wells = 0
    for export, layout in zip(serum[::2], serum[1::2], strict=True):
        n_wells += import_plates(export, layout, study, store, assay="serum_igg",
                                 actor="nocilab-demo").n_wells
    export, layout = files["cytokines"]
    n_wells += import_plates(export, layout, study, store, assay="cytokines",
                             actor="nocilab-demo").n_wells
    cells, images = files["binding"]
    reports = import_cells([cells], images, study, store, actor="nocilab-demo",
                           **QUPATH_COLUMNS)
    return n_wells, sum(r.n_cells for r in reports)


DEMO_ACCOUNTS = (("demo-admin", "admin"), ("demo-experimenter", "experimenter"),
                 ("demo-analyst", "analyst"))


def _demo_accounts(store) -> list[tuple[str, str, str]]:
    """One account per working role, each with a new random password (returned, not kept)."""
    import secrets

    from nocilab.accounts import add_user

    out = []
    for name, role in DEMO_ACCOUNTS:
        password = secrets.token_urlsafe(12)
        add_user(store, name, password, role=role, actor="nocilab-demo")
        out.append((name, role, password))
    return out


def _is_demo(folder: Path) -> bool:
    """Whether ``folder`` holds a study written by ``nocilab demo`` (and nothing else of value)."""
    import tomllib

    try:
        data = tomllib.loads((folder / "study.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return False
    return data.get("study", {}).get("id") == DEMO_STUDY_ID


def _summarise(console: Console, study, derived: pd.DataFrame) -> None:
    """Per outcome and arm: mean at baseline, over days 1-7, and on the outcome's last day.

    Fits an 80-column terminal: the outcome is named by its assay when the assay has one.
    The laboratory rows (serum IgG, cytokines, half-lives) are counted in one line after
    it: their analysis is in the report.
    """
    from nocilab.lab import LAB_ASSAYS

    lab = derived[derived["assay"].isin(LAB_ASSAYS)]
    derived = derived[~derived["assay"].isin(LAB_ASSAYS)]
    table = Table(title="Derived values, mean per arm (simulated)", show_header=True,
                  box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("outcome", "unit", "arm", "baseline", "days 1-7", "last day", "censored"):
        table.add_column(col, justify="left" if col in ("outcome", "unit", "arm") else "right",
                         no_wrap=True)
    per_assay = derived.groupby("assay")["outcome"].nunique()
    last_days = derived.groupby("assay")["study_day"].max()
    study_last = int(last_days.max())
    other = [f"{a} {int(d)}" for a, d in last_days.items() if d != study_last]
    table.caption = (f"last day: day {study_last}" + (f" ({', '.join(other)})" if other else "")
                     + "; baseline: days before injection")
    for (assay, outcome), grp in derived.groupby(["assay", "outcome"], sort=False):
        label = assay if per_assay[assay] == 1 else f"{assay}.{outcome}"
        last = grp["study_day"].max()
        for arm in [a.id for a in study.arms]:
            g = grp[grp["arm"] == arm]
            if g.empty:
                continue
            def m(sel: pd.Series) -> str:
                v = g.loc[sel, "value"].mean()
                return "" if pd.isna(v) else f"{v:.3g}"
            day = g["study_day"]
            table.add_row(label, str(g["unit"].iloc[0]), arm, m(day < 0),
                          m(day.between(1, 7)), m(day == last),
                          str(int((g["censored"] != "none").sum())))
    console.print(table)
    if len(lab):
        parts = [f"{n} {a}" for a, n in lab.groupby("assay", sort=False).size().items()]
        console.print(f"laboratory values in the derived table: {', '.join(parts)} (serum "
                      "human IgG, cytokines, half-lives; analysed in the report)",
                      highlight=False)
