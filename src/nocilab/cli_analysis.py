"""``nocilab analyze`` and ``nocilab stats`` (thin commands)."""

from __future__ import annotations

import math
from pathlib import Path

import typer

BASELINE_HELP = "raw, change (from baseline), percent (of baseline) or covariate."
POSTTEST_HELP = "Per-day adjustment: sidak, bonferroni, holm, dunnett or none."
SCALE_HELP = ("linear or log: fit every model to log10(value), give differences as ratios "
              "and draw log axes (usual for von Frey thresholds)")


WINDOW_HELP = ("Analysis window FIRST,LAST post-injection day of the donor-level test and "
               "the per-donor AUC, e.g. 1,14 (default: the study file's [analysis] window, "
               "else day 1 to the last day). --auc-window is the same option.")


def _window(text: str | None) -> tuple[int, int | None] | None:
    from nocilab.stats.window import parse_window

    return None if text is None else parse_window(text, option="--window")


def _scale(text: str | None) -> str | None:
    from nocilab.stats.scale import parse_scale

    return None if text is None else parse_scale(text, option="--scale")


def _baseline_days(text: str | None) -> tuple[float, ...] | None:
    """``--baseline-days -3,-1`` as numbers; anything else is a usage error."""
    if text is None or not text.strip():
        return None
    try:
        days = tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise typer.BadParameter(f"expected study days separated by commas, e.g. -3,-1; "
                                 f"got {text!r}", param_hint="'--baseline-days'") from None
    if not all(math.isfinite(d) for d in days):
        raise typer.BadParameter(f"expected finite study days, got {text!r}",
                                 param_hint="'--baseline-days'")
    return days


def register(app: typer.Typer) -> None:
    """Add ``analyze`` and ``stats`` to the app."""

    @app.command()
    def analyze(
        study_path: Path = typer.Argument(..., metavar="STUDY", help="The study: a study.toml file or its folder."),
        out: Path = typer.Option(..., "--out", "-o", help="Folder for report.html, results/, figures/."),
        baseline: str = typer.Option("raw", "--baseline", help=BASELINE_HELP),
        posttest: str = typer.Option("sidak", "--posttest", help=POSTTEST_HELP),
        window: str | None = typer.Option(None, "--window", "--auc-window", help=WINDOW_HELP),
        outcome: list[str] = typer.Option([], "--outcome",
                                          help="Analyse only this outcome, ASSAY.OUTCOME (e.g. "
                                               "von_frey.threshold_g); repeat for several."),
        scale: str | None = typer.Option(None, "--scale",
                                         help=SCALE_HELP + " (default: log for the outcomes in "
                                                           "the study file's [analysis] "
                                                           "log_outcomes)."),
        blinded: bool = typer.Option(False, "--blinded",
                                     help="Analyse a blinded study with coded groups instead of arms."),
    ) -> None:
        """Donor-aware statistics, figures and the HTML report of a study."""
        from rich.console import Console

        from nocilab.model import load_study
        from nocilab.report.analyze import analyze_study
        from nocilab.store import Store

        console = Console()
        study = load_study(study_path)
        with Store.open(study.database_url(), create=False) as store, \
                console.status("fitting models and drawing figures"):
            page = analyze_study(study, store, out, baseline=baseline, posttest=posttest,
                                 window=_window(window), window_option=f"--window {window}",
                                 blinded=blinded, outcomes=outcome or None,
                                 scale=_scale(scale))
        console.print(f"wrote {page} (and results/, results.xlsx, results.pzfx, figures/)",
                      highlight=False)

    @app.command()
    def stats(
        table: Path = typer.Argument(..., metavar="TABLE", help="A tidy CSV/XLSX: one row per animal x day."),
        value: str = typer.Option(..., "--value", help="Column of the values."),
        arm: str = typer.Option(..., "--arm", help="Column of the arms (groups)."),
        day: str = typer.Option(..., "--day", help="Column of the study days."),
        animal: str = typer.Option(..., "--animal", help="Column of the animal ids."),
        donor: str | None = typer.Option(None, "--donor", help="Column of the donors (donor-aware model)."),
        control: str | None = typer.Option(None, "--control", help="The control arm (default: first, sorted)."),
        baseline_days: str | None = typer.Option(None, "--baseline-days",
                                                 help="Baseline days, e.g. -3,-1 (default: negative days)."),
        baseline: str = typer.Option("raw", "--baseline", help=BASELINE_HELP),
        posttest: str = typer.Option("sidak", "--posttest", help=POSTTEST_HELP),
        direction: str = typer.Option("decrease", "--direction",
                                      help="Expected direction of a patient effect, for "
                                           "classifying donors: decrease, increase, either."),
        window: str | None = typer.Option(None, "--window", "--auc-window",
                                          help="Window of the donor-level test and the donor "
                                               "classes, FIRST,LAST day (default: day 1 to the last). "
                                               "--auc-window is the same option."),
        outcome: list[str] = typer.Option([], "--outcome",
                                          help="With an 'outcome' column: analyse only this "
                                               "outcome (or ASSAY.OUTCOME with an 'assay' "
                                               "column); repeat for several."),
        scale: str | None = typer.Option(None, "--scale", help=SCALE_HELP + " (default linear)."),
        sheet: str | None = typer.Option(None, "--sheet", help="XLSX: the sheet to read."),
        out: Path = typer.Option(..., "--out", "-o", help="Folder for anova.csv, contrasts.csv, donors.csv ..."),
    ) -> None:
        """The same statistics on any tidy table (no nocilab study needed)."""
        from rich.console import Console

        from nocilab.report.tidy_stats import run_tidy_stats

        console = Console()
        days = _baseline_days(baseline_days)
        written = run_tidy_stats(table, value=value, arm=arm, day=day, animal=animal, donor=donor,
                                 control=control, baseline_days=days, baseline=baseline,
                                 posttest=posttest, direction=direction, sheet=sheet, out=out,
                                 window=_window(window), window_option=f"--window {window}",
                                 outcomes=outcome or None, scale=_scale(scale) or "linear")
        for p in written:
            console.print(f"wrote {p}", highlight=False)
