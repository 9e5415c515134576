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
                           show_default=False)
BY_OPT = typer.Option(None, "--by", help="Who does this (default: $NOCILAB_USER or the login name).")


# ----------------------------------------------------------------------------- commands

@app.command()
def init(
    folder: Path = typer.Argument(..., help="Folder for the new study (created if needed)."),
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


@app.command()
def check(study_path: Path = STUDY_ARG) -> None:
    """Validate a study file and summarise it."""
    study = _load(study_path)
    table = Table(title=f"{study.info.id}: {study.info.title}", show_header=True)
    table.add_column("arm")
    table.add_column("donors", justify="right")
    table.add_column("preparations", justify="right")
    table.add_column("animals", justify="right")
    animals = study.animal_table()
    for arm in study.arms:
        n_donors = sum(1 for d in study.donors if d.arm == arm.id)
        n_preps = sum(1 for p in study.preparations if study.arm_of_preparation(p.id) == arm.id)
        n_animals = int((animals["arm"] == arm.id).sum())
        label = f"{arm.id}{' (control)' if arm.control else ''}"
        table.add_row(label, str(n_donors), str(n_preps), str(n_animals))
    console.print(table)
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
    files: list[Path] = typer.Argument(..., help="CSV or XLSX files of raw readings."),
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
    from nocilab.ingest import build_mapping, import_file

    study = _load(study_path)
    if mapping is not None:
        if mapping not in study.mappings:
            known = ", ".join(sorted(study.mappings)) or "none"
            raise NocilabError(f"no mapping {mapping!r} in {study.path}; mappings: {known}")
        m = study.mappings[mapping]
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
    console.print(f"wrote {len(derived)} derived values ({derived['outcome'].nunique()} outcomes, "
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
    table = Table(show_header=True)
    cols = ["observation_id", "animal", "study_day", "assay", "trial", "quantity", "value_num", "value_text"]
    for c in cols:
        table.add_column(c)
    for row in obs[cols].head(50).itertuples(index=False):
        table.add_row(*["" if (isinstance(v, float) and v != v) or v is None else str(v) for v in row])
    console.print(table)
    if len(obs) > 50:
        console.print(f"... {len(obs) - 50} more; use --out to write them all")


def _parse_value(value: str) -> tuple[float | None, str | None]:
    try:
        return float(value), None
    except ValueError:
        return None, value


@app.command()
def correct(
    study_path: Path = STUDY_ARG,
    observation_id: int = typer.Argument(..., help="The observation to correct (see `nocilab observations`)."),
    value: str = typer.Option(..., "--value", help="The corrected value."),
    reason: str = typer.Option(..., "--reason", help="Why (recorded in the audit trail)."),
    by: str | None = BY_OPT,
) -> None:
    """Correct a raw reading: a new version is stored, the old one stays retrievable."""
    study = _load(study_path)
    num, text = _parse_value(value)
    with _open_store(study, create=False) as store:
        new_id = store.correct_observation(observation_id, value_num=num, value_text=text,
                                           actor=_actor(by), reason=reason)
    console.print(f"observation {observation_id} corrected; the new version is {new_id}")


@app.command()
def delete(
    study_path: Path = STUDY_ARG,
    observation_id: int = typer.Argument(..., help="The observation to delete."),
    reason: str = typer.Option(..., "--reason", help="Why (recorded in the audit trail)."),
    by: str | None = BY_OPT,
) -> None:
    """Delete a raw reading (it stays in the history and the audit trail)."""
    study = _load(study_path)
    with _open_store(study, create=False) as store:
        store.delete_observation(observation_id, actor=_actor(by), reason=reason)
    console.print(f"observation {observation_id} deleted")


@app.command()
def history(
    study_path: Path = STUDY_ARG,
    observation_id: int = typer.Argument(..., help="Any version of the reading."),
) -> None:
    """Show every version of one raw reading."""
    study = _load(study_path)
    with _open_store(study, create=False) as store:
        versions = store.history(observation_id)
    console.print(versions.to_string(index=False))


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
    cols = [c for c in ("id", "at", "actor", "action", "entity", "entity_id", "reason") if c in events]
    console.print(events[cols].tail(last).to_string(index=False))


@app.command()
def vonfrey(
    table: Path = typer.Argument(..., help="CSV or XLSX with an X/O series column and a last-filament column."),
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
    n_cens = int((result["censored"] != "none").sum())
    console.print(f"wrote {len(result)} thresholds ({n_cens} censored) to {out}", highlight=False)


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
    from nocilab import cli_analysis, cli_design, cli_power, cli_users, cli_web

    cli_analysis.register(app)
    cli_design.register(app)
    cli_power.register(app)
    cli_users.register(app)
    cli_web.register(app)


_register_commands()


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning library errors into messages and exit codes."""
    try:
        rv = app(args=argv, standalone_mode=False)
    except NocilabError as exc:
        err_console.print(f"[bold red]error:[/] {exc.render()}", highlight=False, soft_wrap=True)
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        err_console.print("aborted")
        return 130
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            return exc.exit_code
        raise
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":
    sys.exit(main())
