"""``nocilab power``: power of a passive-transfer design by simulation (thin command)."""

from __future__ import annotations

from pathlib import Path

import typer

from nocilab.errors import DesignError


DEFAULT_DAYS = "-3,-1,1,2,3,5,7,10"


def _range(text: str, what: str) -> list[int]:
    """'4-16' or '4,6,8' -> list of ints."""
    try:
        if "-" in text.strip("-") and "," not in text:
            lo, hi = text.split("-", 1)
            return list(range(int(lo), int(hi) + 1))
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise DesignError(f"--{what} must look like 4-16 or 4,6,8; got {text!r}") from None


def _days(text: str, what: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise DesignError(f"--{what} must be study days separated by commas, e.g. -3,-1,1,3,5,7; "
                          f"got {text!r}") from None


def _bounds(text: str | None) -> tuple[float | None, float | None] | None:
    """'LOW,HIGH' with either side empty, or 'none' -> limits (None: no censoring)."""
    if text is None or text.strip().lower() == "none":
        return None
    lo, sep, hi = text.partition(",")
    try:
        if not sep:
            raise ValueError
        out = (float(lo) if lo.strip() else None, float(hi) if hi.strip() else None)
    except ValueError:
        raise DesignError(f"--bounds must be LOW,HIGH with either side empty (e.g. ,60 or "
                          f"0.008,2); got {text!r}") from None
    return out


def _bounds_text(limits: tuple[float | None, float | None]) -> str:
    return " and ".join(f"{w} {b:g}" for w, b in zip(("lower", "upper"), limits, strict=True)
                        if b is not None)


def _arm_names(n: int) -> tuple[str, ...]:
    if n < 1:
        raise DesignError(f"--treatment-arms must be at least 1; got {n}")
    if n == 1:
        return ("control", "treatment")
    return ("control",) + tuple(f"treatment {i}" for i in range(1, n + 1))


def _grid_table(frame, target: float):
    """The grid as a rich table: rows donors per arm, columns mice per donor; designs
    the grid did not compute are left blank."""
    from rich.table import Table

    table = Table(title=f"Power (target {target:g}, reached in bold); rows: donors per arm, "
                        "columns: mice per donor")
    table.add_column("donors")
    mice = sorted(int(m) for m in frame["mice_per_donor"].unique())
    for m in mice:
        table.add_column("1 mouse" if m == 1 else f"{m} mice", justify="right")
    for d, rows in frame.groupby("donors_per_arm", sort=True):
        power = dict(zip(rows["mice_per_donor"].astype(int), rows["power"], strict=True))
        table.add_row(str(int(d)), *[(f"[bold]{power[m]:.3f}[/bold]" if power[m] >= target
                                      else f"{power[m]:.3f}") if m in power else ""
                                     for m in mice])
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

        from nocilab.design.planning import pilot_variance, reading_unit, write_power_outputs
        from nocilab.design.power import (
            RULES,
            Effect,
            PowerDesign,
            VarianceComponents,
            plan_power,
        )

        from nocilab.stats.window import choose_window, parse_window

        console = Console()
        if choose not in RULES:
            raise DesignError(f"--choose must be one of {', '.join(RULES)}; got {choose}")
        if donor_cost != 0.0 and choose != "fewest-animals":
            raise DesignError("--donor-cost weighs donors against animals for --choose "
                              "fewest-animals; fewest-donors does not use it")
        if not (donor_cost >= 0.0 and donor_cost < float("inf")):
            raise DesignError(f"--donor-cost must be a number of animals >= 0; got {donor_cost:g}")
        day_list = _days(days if days is not None else DEFAULT_DAYS, "days")
        given = parse_window(window, option="--window") if window is not None else None
        win = choose_window(command_line=given, option=f"--window {window}")
        pilot = None
        if from_study is not None:
            if outcome is None:
                raise DesignError("--from needs --outcome ASSAY.OUTCOME (e.g. paw_pressure.threshold_g)")
            from nocilab.design.planning import pilot_table
            from nocilab.model import load_study
            from nocilab.store import Store

            study = load_study(from_study)
            with Store.open(study.database_url(), create=False) as store:
                derived, how = pilot_table(study, store)
            if unit is None:
                unit = reading_unit(derived, outcome)
            if how:
                console.print(how, highlight=False)
            win = choose_window(command_line=given, option=f"--window {window}",
                                study_window=study.analysis_window())
            console.print(f"analysis window: {win.describe()}", highlight=False, markup=False)
            pilot = pilot_variance(study, derived, outcome=outcome, window=win.bounds, rho=rho)
            if days is None:
                day_list = pilot.baseline_days + pilot.window_days
            variance = pilot.variance
            overrides = {n: v for n, v in (("sd_donor", sd_donor), ("sd_animal", sd_animal),
                                           ("sd_residual", sd_residual), ("sd_level", sd_level))
                         if v is not None}
            if overrides:
                from dataclasses import replace

                variance = replace(variance, **overrides)
                console.print("given on the command line instead of the pilot's: "
                              + ", ".join(f"{n} {v:g}" for n, v in overrides.items()), highlight=False)
            if baseline_mean is None:
                baseline_mean = pilot.baseline_mean
            console.print(f"variance components from {from_study}: {pilot.note}", highlight=False)
        else:
            missing = [n for n, v in (("--sd-donor", sd_donor), ("--sd-animal", sd_animal),
                                      ("--sd-residual", sd_residual)) if v is None]
            if missing:
                raise DesignError(f"give {', '.join(missing)} or take them from a pilot study "
                                  "with --from STUDY --outcome ASSAY.OUTCOME")
            variance = VarianceComponents(sd_donor=sd_donor, sd_animal=sd_animal,
                                          sd_residual=sd_residual, rho=0.0 if rho is None else rho,
                                          sd_level=sd_level or 0.0)
        limits = _bounds(bounds)
        if bounds is None and pilot is not None and pilot.bounds is not None:
            limits = pilot.bounds
            console.print(f"readings censored as in the pilot ({pilot.censored_fraction:.0%} of its "
                          f"values): {_bounds_text(limits)} (--bounds none to switch off)",
                          highlight=False)
        if limits is not None and pilot is None and sd_level is None:
            raise DesignError("--bounds needs --sd-level (the SD of the animals' baseline levels: "
                              "how close each animal sits to a limit), or a pilot study (--from)")
        eff = Effect(size=effect, scale=scale, baseline_mean=baseline_mean, onset_days=onset_days,
                     plateau_days=plateau_days, half_life_days=half_life, direction=direction)
        donor_sizes, mice_sizes = _range(donors, "donors"), _range(mice, "mice")
        post = [d for d in day_list if d > 0]
        design_window = None
        if win.bounds != (1, None) and post:
            design_window = (win.first, win.last if win.last is not None else max(post))
        design = PowerDesign(
            arms=_arm_names(treatment_arms), donors_per_arm=donor_sizes[0],
            mice_per_donor=mice_sizes[0], adjust=adjust,
            days=tuple(d for d in day_list if d > 0),
            baseline_days=tuple(d for d in day_list if d < 0), effect=eff, variance=variance,
            alpha=alpha, sidedness="one-sided" if one_sided else "two-sided",
            window=design_window, dropout=dropout, bounds=limits,
            baseline_mean=baseline_mean)
        with console.status(f"simulating {len(donor_sizes) * len(mice_sizes)} designs x {sims:,} studies"):
            plan = plan_power(design, donors=donor_sizes, mice=mice_sizes, n_sims=sims,
                              seed=seed, target=target, rule=choose, donor_cost=donor_cost,
                              scheduler=scheduler)
        summary = write_power_outputs(plan, design, out, pilot=pilot, unit=unit or "")
        console.print(_grid_table(plan.grid.to_frame(), target))
        colour = "green" if summary["reached"] else "yellow"
        for line in summary["lines"]:
            console.print(f"[{colour}]{line}[/]", highlight=False)
        console.print(f"wrote {out}/power_grid.csv, power_curves.(png|pdf|svg), power_summary.json "
                      "and sample_size.txt (a paragraph for the protocol or ethics application)",
                      highlight=False)
