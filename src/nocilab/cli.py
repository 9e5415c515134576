"""The ``nocilab`` command line: parse arguments, call the layers, print.

No logic lives here. Library errors (:class:`nocilab.errors.NocilabError`) become a
clear message on stderr and a non-zero exit code; anything else is a bug.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from nocilab import __version__
from nocilab._cli_tables import cell, frame_table
from nocilab.errors import NocilabError

app = typer.Typer(
    name="nocilab",
    help="Passive-transfer pain studies: study file, audited store, assay calculators, reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")

console = Console()
err_console = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        console.print(f"nocilab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Show the version and exit."),
) -> None:
    """nocilab: from study design to report for passive-transfer pain studies."""


# ----------------------------------------------------------------------------- helpers

def _actor(by: str | None) -> str:
    if by:
        return by
    import getpass
    import os

    return os.environ.get("NOCILAB_USER") or getpass.getuser()


def _load(study_path: Path):
    from nocilab.model import load_study

    return load_study(study_path)


def _open_store(study, *, create: bool = True):
    from nocilab.store import Store

    return Store.open(study.database_url(), create=create)


STUDY_ARG = typer.Argument(..., help="The study: a study.toml file or the folder holding it.",
                           show_default=False, metavar="STUDY")
BY_OPT = typer.Option(None, "--by", help="Who does this (default: $NOCILAB_USER or the login name).")


# ----------------------------------------------------------------------------- commands

@app.command()
def init(
    folder: Path = typer.Argument(..., metavar="FOLDER", help="Folder for the new study (created if needed)."),
) -> None:
    """Start a study: write a commented study.toml to fill in."""
    from importlib.resources import files

    target = folder / "study.toml"
    if target.exists():
        raise NocilabError(f"{target} already exists; nothing was written")
    folder.mkdir(parents=True, exist_ok=True)
    text = files("nocilab.model").joinpath("example_study.toml").read_text(encoding="utf-8")
    target.write_text(text, encoding="utf-8")
    console.print(f"wrote {target}: edit it, then run `nocilab check {folder}`", highlight=False)


def _allocation_summary(study):
    """The blinding state and each animal's arm as far as it may be shown.

    Reads the store when there is one (an allocation lives there, not in the study file);
    a study without a store yet is summarised from the study file alone.
    """
    from nocilab.design.blinding import assignments, blinding_state
    from nocilab.errors import StoreError

    try:
        store = _open_store(study, create=False)
    except StoreError:
        animals = study.animal_table()
        state = "open" if len(animals) and (animals["preparation"] != "").all() else "not allocated"
        return state, animals[["animal", "arm"]].fillna("")
    with store:
        state = blinding_state(study, store)
        return state, assignments(study, store, reveal=True)


@app.command()
def check(study_path: Path = STUDY_ARG) -> None:
    """Validate a study file and summarise it."""
    study = _load(study_path)
    table = Table(title=f"{study.info.id}: {study.info.title}", show_header=True)
    table.add_column("arm")
    table.add_column("donors", justify="right")
    table.add_column("preparations", justify="right")
    table.add_column("animals", justify="right")
    state, assigned = _allocation_summary(study)
    for arm in study.arms:
        n_donors = sum(1 for d in study.donors if d.arm == arm.id)
        n_preps = sum(1 for p in study.preparations if study.arm_of_preparation(p.id) == arm.id)
        n_animals = "blinded" if state == "blinded" else str(int((assigned["arm"] == arm.id).sum()))
        label = f"{arm.id}{' (control)' if arm.control else ''}"
        table.add_row(label, str(n_donors), str(n_preps), n_animals)
    console.print(table)
    n_all = len(assigned)
    if state == "blinded":
        console.print(f"{n_all} animals allocated and blinded: animals per arm are shown after "
                      "`nocilab unblind`", highlight=False)
    elif state == "not allocated":
        n_open = int((assigned["arm"] == "").sum())
        console.print(f"{n_open} of {n_all} animals have no preparation yet: `nocilab allocate` "
                      "assigns them at random", highlight=False)
    sched = Table(title="schedule", show_header=True)
    sched.add_column("assay")
    sched.add_column("study days")
    for assay, days in study.schedule.items():
        sched.add_row(assay, ", ".join(map(str, days)))
    console.print(sched)
    console.print(f"database: {study.database_url()}")
    console.print("[green]study file is valid[/]")


@app.command("import")
def import_(
    study_path: Path = STUDY_ARG,
    files: list[Path] = typer.Argument(..., metavar="FILE", help="CSV or XLSX files of raw readings."),
    mapping: str | None = typer.Option(None, "--mapping", "-m",
                                       help="Name of a \\[mappings.NAME] table in study.toml."),
    layout: str = typer.Option("long", "--layout", help="long (tidy) or wide (one column per day)."),
    assay: str | None = typer.Option(None, "--assay", help="The assay (required for wide sheets)."),
    animal: str = typer.Option("animal", "--animal", help="Column of animal ids."),
    day: str = typer.Option("study_day", "--day", help="long: column of study days."),
    trial: str | None = typer.Option(None, "--trial", help="long: column of trial numbers."),
    quantity: list[str] = typer.Option([], "--quantity", "-q",
                                       help="long: QUANTITY=COLUMN (repeat); wide: the quantity the cells hold."),
    columns: str | None = typer.Option(None, "--columns", help="wide: column pattern, e.g. 'D{day}_t{trial}'."),
    sheet: str | None = typer.Option(None, "--sheet", help="XLSX: the sheet to read."),
    skip_rows: int = typer.Option(0, "--skip-rows", help="Rows above the header."),
    by: str | None = BY_OPT,
) -> None:
    """Import raw readings from CSV/XLSX files, each all or nothing."""
    from nocilab.ingest import build_mapping, import_file, study_mapping

    study = _load(study_path)
    if mapping is not None:
        m = study_mapping(study, mapping)
    else:
        m = build_mapping(layout=layout, assay=assay, animal=animal, day=day, trial=trial,
                          quantity=quantity, columns=columns, sheet=sheet, skip_rows=skip_rows)
    actor = _actor(by)
    with _open_store(study) as store:
        for f in files:
            report = import_file(f, study, store, m, actor=actor)
            colour = "yellow" if report.already_imported else "green"
            console.print(f"[{colour}]{report.summary()}[/]", highlight=False)


@app.command()
def derive(
    study_path: Path = STUDY_ARG,
    out: Path = typer.Option(..., "--out", "-o", help="Where to write the derived table (.csv or .xlsx)."),
) -> None:
    """Derive values (thresholds, latencies ...) from the store's raw readings."""
    from nocilab.derive import derive_table
    from nocilab.ingest import write_table

    study = _load(study_path)
    with _open_store(study, create=False) as store:
        derived = derive_table(study, store)
    write_table(derived, out)
    n_cens = int((derived["censored"] != "none").sum())
    n_outcomes = len(derived[["assay", "outcome"]].drop_duplicates())
    console.print(f"wrote {len(derived)} derived values ({n_outcomes} outcomes, "
                  f"{n_cens} censored) to {out}", highlight=False)


@app.command()
def observations(
    study_path: Path = STUDY_ARG,
    out: Path | None = typer.Option(None, "--out", "-o", help="Write them to a CSV/XLSX file."),
    history: bool = typer.Option(False, "--history", help="Include superseded and deleted versions."),
    assay: str | None = typer.Option(None, "--assay", help="Only this assay."),
) -> None:
    """List the raw readings in the store (with their observation ids)."""
    from nocilab.ingest import write_table

    study = _load(study_path)
    with _open_store(study, create=False) as store:
        obs = store.observations(current_only=not history, assay=assay)
    if out is not None:
        write_table(obs, out)
        console.print(f"wrote {len(obs)} observations to {out}")
        return
    console.print(frame_table(
        obs.head(50),
        {"observation_id": "id", "animal": "animal", "study_day": "day", "assay": "assay",
         "trial": "trial", "quantity": "quantity", "value_num": "value", "value_text": "text"},
        numeric=("observation_id", "study_day", "trial", "value_num")))
    if len(obs) > 50:
        console.print(f"... {len(obs) - 50} more; use --out to write them all")


@app.command()
def correct(
    study_path: Path = STUDY_ARG,
    observation_id: int = typer.Argument(..., metavar="OBSERVATION", help="The observation to correct (see `nocilab observations`)."),
    value: str = typer.Option(..., "--value", help="The corrected value (checked as an import checks it)."),
    reason: str = typer.Option(..., "--reason", help="Why (recorded in the audit trail)."),
    by: str | None = BY_OPT,
) -> None:
    """Correct a raw reading: a new version is stored, the old one stays retrievable."""
    from nocilab.ingest.edit import correct_reading

    study = _load(study_path)
    with _open_store(study, create=False) as store:
        new_id = correct_reading(study, store, observation_id, value, reason=reason,
                                 actor=_actor(by))
    console.print(f"observation {observation_id} corrected; the new version is {new_id}")


@app.command()
def delete(
    study_path: Path = STUDY_ARG,
    observation_ids: list[int] = typer.Argument(
        ..., metavar="OBSERVATION...", help="The observations to delete, together (e.g. the "
                                            "xo_series and last_filament of one von Frey reading)."),
    reason: str = typer.Option(..., "--reason", help="Why (recorded in the audit trail)."),
    by: str | None = BY_OPT,
) -> None:
    """Delete raw readings (they stay in the history and the audit trail)."""
    from nocilab.ingest.edit import delete_readings

    study = _load(study_path)
    with _open_store(study, create=False) as store:
        delete_readings(study, store, observation_ids, reason=reason, actor=_actor(by))
    shown = ", ".join(map(str, observation_ids))
    console.print(f"observation{'s' if len(observation_ids) > 1 else ''} {shown} deleted")


@app.command()
def history(
    study_path: Path = STUDY_ARG,
    observation_id: int = typer.Argument(..., metavar="OBSERVATION", help="Any version of the reading."),
) -> None:
    """Show every version of one raw reading."""
    study = _load(study_path)
    with _open_store(study, create=False) as store:
        versions = store.history(observation_id)
    first = versions.iloc[0]
    console.print(f"reading: animal {first['animal']}, day {first['study_day']}, {first['assay']}, "
                  f"trial {first['trial']}, {first['quantity']}", highlight=False)
    versions = versions.assign(value=versions["value_num"].map(cell).where(
        versions["value_num"].notna(), versions["value_text"]))
    console.print(frame_table(
        versions,
        {"observation_id": "id", "action": "action", "value": "value", "entered_by": "by",
         "entered_at": "at (UTC)", "reason": "reason", "superseded_by": "next"},
        numeric=("observation_id", "value", "superseded_by"), times=("entered_at",)))


@audit_app.command("verify")
def audit_verify(study_path: Path = STUDY_ARG) -> None:
    """Recompute the audit chain; name the first broken event."""
    study = _load(study_path)
    with _open_store(study, create=False) as store:
        report = store.verify_audit()
    if report.ok:
        console.print(f"[green]audit chain intact[/]: {report.n_events} events verified; "
                      f"head hash {report.head_hash}", highlight=False)
        console.print("(keep the head hash outside the database: a chain rewritten from end "
                      "to end would no longer end in it)", highlight=False, style="dim")
        return
    err_console.print(f"[bold red]audit chain broken[/] at event {report.first_broken_id}: {report.why}")
    raise typer.Exit(6)


@audit_app.command("log")
def audit_log(
    study_path: Path = STUDY_ARG,
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the whole trail to CSV/XLSX."),
    last: int = typer.Option(20, "--last", help="Show the last N events."),
) -> None:
    """Show the audit trail."""
    from nocilab.ingest import write_table

    study = _load(study_path)
    with _open_store(study, create=False) as store:
        events = store.audit_events()
    if out is not None:
        write_table(events, out)
        console.print(f"wrote {len(events)} audit events to {out}")
        return
    cols = {"event_id": "event", "at": "at (UTC)", "actor": "by", "action": "action",
            "entity": "entity", "entity_id": "id", "reason": "reason"}
    console.print(frame_table(events.tail(last), cols, numeric=("event_id", "entity_id"),
                              times=("at",)))


@app.command()
def vonfrey(
    table: Path = typer.Argument(..., metavar="TABLE", help="CSV or XLSX with an X/O series column and a last-filament column."),
    series: str = typer.Option("xo_series", "--series", help="Column of X/O series."),
    last: str = typer.Option("last_filament", "--last", help="Column of the last filament used."),
    filaments: str = typer.Option("mouse", "--filaments", help="mouse, rat, or a CSV with number,log[,grams]."),
    delta: float | None = typer.Option(None, "--delta", help="Step in log units (default: the set's mean step)."),
    sheet: str | None = typer.Option(None, "--sheet", help="XLSX: the sheet to read."),
    out: Path = typer.Option(..., "--out", "-o", help="Where to write the table with k, threshold_g, censored."),
) -> None:
    """50% thresholds (up-down method) for a table of von Frey series."""
    from nocilab.ingest.vonfrey_table import vonfrey_table, write_table

    result = vonfrey_table(table, series_column=series, last_column=last, filaments=filaments,
                           delta=delta, sheet=sheet)
    write_table(result, out)
    n_rows = len(result)
    n_tested = int(result["threshold_g"].notna().sum())
    n_cens = int((result["censored"] != "none").sum())
    summary = f"wrote {n_rows} rows to {out}: {n_tested} thresholds ({n_cens} censored)"
    if n_tested < n_rows:
        summary += f", {n_rows - n_tested} not tested (blank series and last filament: no threshold)"
    console.print(summary, highlight=False, soft_wrap=True)


@app.command()
def demo(
    out: Path = typer.Option(Path("demo-study"), "--out", "-o", help="Folder for the simulated study."),
    seed: int = typer.Option(20210701, "--seed", help="Seed of the simulation."),
    force: bool = typer.Option(False, "--force", help="Replace an existing demo folder."),
    analyze: bool = typer.Option(True, "--analyze/--no-analyze", help="End with nocilab analyze."),
) -> None:
    """Simulate a whole passive-transfer study (SIMULATED data), import, derive, analyse."""
    from nocilab.demo import run_demo

    run_demo(out, seed=seed, force=force, console=console, analyze=analyze)


def _register_commands() -> None:
    from nocilab import (cli_analysis, cli_design, cli_elisa, cli_lab, cli_plates, cli_power,
                         cli_users, cli_web)

    cli_analysis.register(app)
    cli_design.register(app)
    cli_elisa.register(app)
    cli_lab.register(app)
    cli_plates.register(app)
    cli_power.register(app)
    cli_users.register(app)
    cli_web.register(app)


_register_commands()


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning library errors into messages and exit codes."""
    try:
        rv = app(args=argv, prog_name="nocilab", standalone_mode=False)
    except NocilabError as exc:
        err_console.print(f"[bold red]error:[/] {exc.render()}", highlight=False, soft_wrap=True)
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        err_console.print("aborted")
        return 130
    except typer.TyperException as exc:  # usage errors: unknown option, missing argument ...
        show = getattr(exc, "show", None)
        if callable(show):
            show(file=sys.stderr)
        else:
            err_console.print(f"error: {exc.format_message()}", highlight=False, soft_wrap=True)
        return exc.exit_code
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":
    sys.exit(main())
