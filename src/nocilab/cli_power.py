"""``nocilab power``: power of a passive-transfer design by simulation (thin command)."""

from __future__ import annotations

from pathlib import Path

import typer

from nocilab.design.power_request import DEFAULT_DAYS


def _grid_table(frame, target: float):
    """The grid as a rich table: rows donors per arm, columns mice per donor; designs
    the grid did not compute are left blank."""
    from rich.table import Table

    from nocilab.design.power_request import grid_rows

    table = Table(title=f"Power (target {target:g}, reached in bold); rows: donors per arm, "
                        "columns: mice per donor")
    table.add_column("donors")
    mice, rows = grid_rows(frame)
    for m in mice:
        table.add_column("1 mouse" if m == 1 else f"{m} mice", justify="right")
    for d, powers in rows:
        table.add_row(str(d), *["" if p is None else
                                f"[bold]{p:.3f}[/bold]" if p >= target else f"{p:.3f}"
                                for p in powers])
    return table


def register(app: typer.Typer) -> None:
    """Add the ``power`` command to the app."""

    @app.command()
    def power(
        out: Path = typer.Option(Path("power"), "--out", "-o", help="Folder for the grid, curves and summary."),
        donors: str = typer.Option("4-16", "--donors", help="Donors per arm to try: 4-16 or 4,6,8."),
        mice: str = typer.Option("1-6", "--mice", help="Mice per donor to try."),
        days: str | None = typer.Option(None, "--days",
                                        help="Test days (negative: baseline); default "
                                             f"{DEFAULT_DAYS}, with --from the pilot's baseline "
                                             "days and its days in the analysis window."),
        effect: float = typer.Option(..., "--effect", help="Peak effect to detect (size, >= 0)."),
        scale: str = typer.Option("percent", "--scale", help="percent (of baseline) or absolute."),
        direction: str = typer.Option("decrease", "--direction", help="decrease or increase."),
        baseline_mean: float | None = typer.Option(None, "--baseline-mean",
                                                   help="Mean baseline reading (for --scale percent)."),
        onset_days: float = typer.Option(2.0, "--onset-days", help="Days from day 0 to the full effect."),
        plateau_days: float = typer.Option(2.0, "--plateau-days", help="Days at the peak."),
        half_life: float = typer.Option(10.0, "--half-life", help="Half-life of the decay in days."),
        sd_donor: float | None = typer.Option(None, "--sd-donor", help="SD between donors of the response."),
        sd_animal: float | None = typer.Option(None, "--sd-animal", help="SD between mice of one donor."),
        sd_residual: float | None = typer.Option(None, "--sd-residual", help="SD of repeated readings."),
        rho: float | None = typer.Option(None, "--rho",
                                         help="AR(1) correlation of readings on consecutive test days "
                                              "(default 0; estimated from the pilot with --from)."),
        from_study: Path | None = typer.Option(None, "--from", help="Take the SDs and rho from this pilot study (--sd-*/--rho given beside it win)."),
        outcome: str | None = typer.Option(None, "--outcome", help="With --from: ASSAY.OUTCOME."),
        window: str | None = typer.Option(None, "--window",
                                          help="Analysis window FIRST,LAST post-injection day "
                                               "(default with --from: the pilot study file's "
                                               "[analysis] window, as nocilab analyze uses)."),
        bounds: str | None = typer.Option(None, "--bounds",
                                          help="Readings censored at LOW,HIGH (e.g. ,60 for a 60 s "
                                               "cut-off); default with --from: the pilot's own "
                                               "bounds; 'none' to leave readings uncensored."),
        sd_level: float | None = typer.Option(None, "--sd-level",
                                              help="SD of the animals' baseline levels (matters "
                                                   "only with --bounds)."),
        dropout: float = typer.Option(0.0, "--dropout",
                                      help="Probability that a mouse is lost before its "
                                           "post-injection readings (e.g. 0.1)."),
        treatment_arms: int = typer.Option(1, "--treatment-arms",
                                           help="Treatment arms, each compared with the control "
                                                "arm and given the same effect."),
        adjust: str = typer.Option("sidak", "--adjust",
                                   help="With several treatment arms: sidak, holm, dunnett, "
                                        "bonferroni or none (as analyze --posttest)."),
        alpha: float = typer.Option(0.05, "--alpha"),
        one_sided: bool = typer.Option(False, "--one-sided", help="One-sided test in the effect's direction."),
        sims: int = typer.Option(10_000, "--sims", help="Simulated studies per design."),
        seed: int = typer.Option(1, "--seed"),
        target: float = typer.Option(0.8, "--target", help="Power to reach."),
        choose: str = typer.Option("fewest-animals", "--choose",
                                   help="Which design reaching the target to choose: "
                                        "fewest-animals (the reduction principle) or "
                                        "fewest-donors; both are printed."),
        donor_cost: float = typer.Option(0.0, "--donor-cost",
                                         help="With fewest-animals: what one donor costs in "
                                              "animals (e.g. 3: a design counts its mice "
                                              "plus 3 per donor)."),
        unit: str | None = typer.Option(None, "--unit",
                                        help="Unit of the readings, to state the effect's "
                                             "scale (e.g. g or s; default with --from: the "
                                             "pilot outcome's)."),
        scheduler: str | None = typer.Option(None, "--scheduler",
                                             help="Dask: 'local' or a scheduler address (tcp://host:port)."),
    ) -> None:
        """Power of the donor-level test for a grid of donors x mice per donor, by simulation."""
        from rich.console import Console

        from nocilab.design.power_request import (
            PowerRequest,
            check_power_request,
            compute_power,
            prepare_power,
        )

        console = Console()
        request = PowerRequest(
            effect=effect, scale=scale, direction=direction, donors=donors, mice=mice,
            days=days, baseline_mean=baseline_mean, onset_days=onset_days,
            plateau_days=plateau_days, half_life=half_life, sd_donor=sd_donor,
            sd_animal=sd_animal, sd_residual=sd_residual, rho=rho, outcome=outcome,
            window=window, bounds=bounds, sd_level=sd_level, dropout=dropout,
            treatment_arms=treatment_arms, adjust=adjust, alpha=alpha, one_sided=one_sided,
            sims=sims, seed=seed, target=target, choose=choose, donor_cost=donor_cost,
            unit=unit, scheduler=scheduler)
        check_power_request(request, with_pilot=from_study is not None)
        if from_study is not None:
            from nocilab.model import load_study
            from nocilab.store import Store

            study = load_study(from_study)
            with Store.open(study.database_url(), create=False) as store:
                prepared = prepare_power(request, pilot_study=study, pilot_store=store,
                                         pilot_name=str(from_study))
        else:
            prepared = prepare_power(request)
        for note in prepared.notes:
            console.print(note, highlight=False, markup=False)
        n = len(prepared.donors) * len(prepared.mice)
        with console.status(f"simulating {n} designs x {sims:,} studies"):
            run = compute_power(prepared, out)
        summary = run.summary
        console.print(_grid_table(run.plan.grid.to_frame(), target))
        colour = "green" if summary["reached"] else "yellow"
        for line in summary["lines"]:
            console.print(f"[{colour}]{line}[/]", highlight=False)
        console.print(f"wrote {out}/power_grid.csv, power_curves.(png|pdf|svg), power_summary.json "
                      "and sample_size.txt (a paragraph for the protocol or ethics application)",
                      highlight=False)
