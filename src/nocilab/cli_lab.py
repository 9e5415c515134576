"""``nocilab cytokines`` and ``nocilab binding``: laboratory readouts without a study (thin).

For labs that only want a cytokine panel with equivalence tests, or IgG binding from
their image software's per-cell tables: files in, tables and figures out. The
calculators are :mod:`nocilab.elisa`, :mod:`nocilab.stats.equivalence` and
:mod:`nocilab.stats.binding`; the readers :mod:`nocilab.ingest.multiplex` and
:mod:`nocilab.ingest.cells`.
"""

from __future__ import annotations

import math
from pathlib import Path

import typer

from nocilab.errors import NocilabError


def _choice(value: str, options: tuple[str, ...], option: str) -> str:
    if value not in options:
        raise typer.BadParameter(f"expected one of {', '.join(options)}; got {value!r}",
                                 param_hint=f"'{option}'")
    return value


def _pair(text: str, option: str) -> tuple[float, float]:
    lo, sep, hi = text.partition(",")
    try:
        if not sep:
            raise ValueError
        pair = float(lo), float(hi)
    except ValueError:
        raise typer.BadParameter(f"expected LOW,HIGH (e.g. 0.8,1.25); got {text!r}",
                                 param_hint=f"'{option}'") from None
    if not all(math.isfinite(v) for v in pair):
        raise typer.BadParameter(f"expected finite numbers LOW,HIGH; got {text!r}",
                                 param_hint=f"'{option}'")
    return pair


def _margins(items: list[str]) -> dict[str, tuple[float, float]]:
    out = {}
    for item in items:
        name, sep, rest = item.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(f"expected ANALYTE=LOW,HIGH (e.g. IL6=0.67,1.5); got "
                                     f"{item!r}", param_hint="'--margin-for'")
        out[name.strip()] = _pair(rest, "--margin-for")
    return out


def _out_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise NocilabError(f"{out} exists and is not a folder; --out needs a folder")


def _g(v: float) -> str:
    return "-" if v != v else f"{v:.3g}"


def register(app: typer.Typer) -> None:
    """Add ``cytokines`` and ``binding`` to the app."""

    @app.command()
    def cytokines(
        table: Path = typer.Argument(..., metavar="TABLE", help="Multiplex export (CSV/XLSX): "
                                     "one row per analyte and well with the signal."),
        layout: Path = typer.Option(..., "--layout", help="CSV/XLSX: well, kind, analyte, "
                                    "concentration, sample, dilution, animal, arm (standards "
                                    "per analyte; rows without an analyte hold for all)."),
        control: str = typer.Option(..., "--control", help="The control arm (layout column "
                                    "arm)."),
        out: Path = typer.Option(..., "--out", "-o", help="Folder for the tables and the "
                                 "forest plot."),
        margin: str = typer.Option("0.8,1.25", "--margin", help="Equivalence margin LOW,HIGH: "
                                   "a ratio treated/control (default), or with --margin-unit "
                                   "absolute the bounds of the difference."),
        margin_for: list[str] = typer.Option([], "--margin-for", help="ANALYTE=LOW,HIGH: a "
                                             "margin for one analyte (repeat)."),
        margin_unit: str = typer.Option("ratio", "--margin-unit", help="ratio or absolute."),
        scale: str = typer.Option("log10", "--scale", help="log10 (cytokines are log-normal; "
                                  "a ratio of geometric means) or linear (a ratio margin is "
                                  "then a fraction of the control mean)."),
        adjust: str = typer.Option("holm", "--adjust", help="Across analytes: holm, bh "
                                   "(Benjamini-Hochberg) or none."),
        alpha: float = typer.Option(0.05, "--alpha", help="Level of each test (TOST interval "
                                    "1 - 2 alpha)."),
        unit_of: str = typer.Option("animal", "--by", help="Layout column naming the unit of "
                                    "analysis (one value each)."),
        arm: str = typer.Option("arm", "--arm", help="Layout column holding the arm."),
        analyte: str = typer.Option("analyte", "--analyte", help="Column of analyte names."),
        well: str = typer.Option("well", "--well", help="Column of wells."),
        signal: str = typer.Option("signal", "--signal", help="Column of signals (MFI, OD)."),
        model: str = typer.Option("4pl", "--model", help="Standard curve: 4pl or 5pl."),
        weights: str = typer.Option("none", "--weights", help="none, 1/y or 1/y^2."),
        blank: str = typer.Option("mean", "--blank", help="mean (of the blank wells) or none."),
        recovery: str = typer.Option("80,120", "--recovery", help="Recovery limits of the "
                                     "standards in percent (set the LLOQ and ULOQ)."),
        cv_limit: float = typer.Option(20.0, "--cv-limit", help="Flag replicate %CV above this."),
        unit: str = typer.Option("pg/mL", "--unit", help="Unit of the standards."),
    ) -> None:
        """Cytokine panel: a curve per analyte, arm difference and equivalence test (TOST)."""
        from rich.console import Console
        from rich.table import Table

        from nocilab.elisa import analyse_panel, equivalence_forest, panel_values
        from nocilab.ingest.files import write_table
        from nocilab.ingest.multiplex import load_panel
        from nocilab.report.figures import save_figure
        from nocilab.stats.equivalence import (
            MARGIN_UNITS,
            PANEL_ADJUST,
            SCALES,
            equivalence_panel,
        )

        _choice(scale, SCALES, "--scale")
        _choice(adjust, PANEL_ADJUST, "--adjust")
        _choice(margin_unit, MARGIN_UNITS, "--margin-unit")
        limits = _pair(recovery, "--recovery")
        m = _pair(margin, "--margin")
        per = _margins(margin_for)
        _out_dir(out)
        console = Console(highlight=False)
        wells = load_panel(table, layout, analyte=analyte, well=well, signal=signal)
        for col, opt in ((unit_of, "--by"), (arm, "--arm")):
            if col not in wells.columns:
                raise NocilabError(f"{layout}: the layout has no column {col!r} ({opt}); its "
                                   f"columns are {', '.join(c for c in wells.columns if c not in ('od', 'saturated', 'analyte'))}")
        panel = analyse_panel(wells, model=model, weights=weights, blank=blank,
                              recovery_limits=limits, cv_limit=cv_limit, unit=unit)
        if not panel.plates:
            raise NocilabError("no analyte's standard curve could be fitted:\n" + "\n".join(
                f"  - {a}: {why}" for a, why in panel.failures.items()))
        values = panel_values(panel.samples, by=unit_of)
        if arm not in values.columns:
            raise NocilabError(f"{layout}: column {arm!r} differs between the wells of one "
                               f"{unit_of}; each {unit_of} needs one arm")
        values = values[values[arm].astype(str).str.strip() != ""]
        eq = equivalence_panel(values, control=control, arm=arm, scale=scale, margin=m,
                               margins=per, margin_unit=margin_unit, alpha=alpha,
                               adjust=adjust)
        res = eq.table
        t = Table(show_header=True, box=None)
        for col in ("analyte", "LLOQ", "n", "censored", "ratio" if scale == "log10"
                    else "difference", f"{100 * (1 - 2 * alpha):g}% CI", "margin", "conclusion"):
            t.add_column(col)
        curves = panel.curves.set_index("analyte")
        for _, r in res.iterrows():
            log = scale == "log10"
            f = (lambda v: 10**v) if log else (lambda v: v)
            t.add_row(r["analyte"] + ("" if res["arm"].nunique() == 1 else f" ({r['arm']})"),
                      f"{_g(curves.loc[r['analyte'], 'lloq'])} {unit}",
                      f"{r['n']} + {r['n_control']}",
                      f"{r['n_censored']} + {r['n_censored_control']}",
                      _g(r["ratio"] if log else r["difference"]),
                      f"{_g(f(r['tost_ci_low']))} to {_g(f(r['tost_ci_high']))}",
                      f"{_g(f(r['margin_low']))} to {_g(f(r['margin_high']))}",
                      r["conclusion"])
        console.print(t)
        for a, why in panel.failures.items():
            console.print(f"[yellow]{a}: no curve[/] ({why}); not tested")
        console.print(eq.methods(), style="dim")
        written = [
            write_table(panel.samples, out / "concentrations.csv"),
            write_table(values, out / "values.csv"),
            write_table(panel.curves, out / "curves.csv"),
            write_table(panel.standards, out / "standards.csv"),
            write_table(res, out / "equivalence.csv"),
        ]
        written += save_figure(equivalence_forest(res), out / "forest", formats=("png", "svg"))
        (out / "methods.txt").write_text(eq.methods() + "\n", encoding="utf-8")
        console.print(f"wrote {len(written) + 1} files to {out}")

    @app.command()
    def binding(
        tables: list[Path] = typer.Argument(..., metavar="TABLE...", help="Per-cell "
                                            "measurement tables (CSV/XLSX) from QuPath, "
                                            "CellProfiler or Fiji."),
        images: Path = typer.Option(..., "--images", help="CSV/XLSX: image, donor, arm "
                                    "[, preparation]: whose IgG stained each image."),
        control: str = typer.Option(..., "--control", help="The control arm: its donors' "
                                    "cells set the threshold."),
        out: Path = typer.Option(..., "--out", "-o", help="Folder for the tables."),
        quantile: float = typer.Option(0.99, "--quantile", help="Threshold: this quantile of "
                                       "the control cells' intensities, per class."),
        score: str = typer.Option("sgc", "--score", help="Donor binding score: mean over "
                                  "images of the sgc (ring) or neuron fraction."),
        test: str = typer.Option("welch", "--test", help="Arm test on donor scores: welch or "
                                 "mann-whitney."),
        image: str = typer.Option("image", "--image", help="Column of image names."),
        cell: str = typer.Option("cell", "--cell", help="Column of cell or ring ids."),
        cell_class: str = typer.Option("class", "--class", help="Column of cell classes."),
        intensity: str = typer.Option("mean_intensity", "--intensity", help="Column of mean "
                                      "intensities."),
        area: str = typer.Option("area", "--area", help="Column of areas ('' for none)."),
        neuron_class: list[str] = typer.Option([], "--neuron-class", help="A class name "
                                               "counted as neuron (repeat; default neuron)."),
        sgc_class: list[str] = typer.Option([], "--sgc-class", help="A class name counted as "
                                            "SGC ring (repeat; default sgc, sgc ring, "
                                            "satellite glia ring ...)."),
    ) -> None:
        """IgG binding: fractions of neurons and SGC rings above a control threshold, by donor."""
        from rich.console import Console
        from rich.table import Table

        from nocilab.ingest.cells import read_cells, read_images
        from nocilab.ingest.files import write_table
        from nocilab.stats.binding import (
            CLASSES,
            NEURON_NAMES,
            SGC_NAMES,
            TESTS,
            binding_analysis,
        )

        _choice(score, CLASSES, "--score")
        _choice(test, TESTS, "--test")
        if not 0 < quantile < 1:
            raise typer.BadParameter(f"expected a number between 0 and 1; got {quantile:g}",
                                     param_hint="'--quantile'")
        _out_dir(out)
        console = Console(highlight=False)
        cells = read_cells(tables, image=image, cell=cell, cell_class=cell_class,
                           intensity=intensity, area=area or None)
        imgs = read_images(images)
        res = binding_analysis(cells, imgs, control=control, quantile=quantile,
                               neuron_names=tuple(neuron_class) or NEURON_NAMES,
                               sgc_names=tuple(sgc_class) or SGC_NAMES, score=score,
                               test=test)
        thr = ", ".join(f"{r['cell_class']} {r['threshold']:.4g}"
                        for _, r in res.thresholds.iterrows())
        console.print(f"{len(cells)} cells in {len(res.images)} images of "
                      f"{len(res.donors)} donors; thresholds ({100 * quantile:g}th percentile "
                      f"of the control cells): {thr}")
        t = Table(show_header=True, box=None)
        for col in ("donor", "arm", "images", "neurons", "rings", "neuron fraction",
                    "ring fraction", "score"):
            t.add_column(col)
        for _, r in res.donors.iterrows():
            t.add_row(r["donor"], r["arm"], str(r["n_images"]), str(r["n_neurons"]),
                      str(r["n_sgc"]), _g(r["neuron_fraction"]), _g(r["sgc_fraction"]),
                      _g(r["binding_score"]))
        console.print(t)
        for _, r in res.comparison.iterrows():
            ci = ("" if r["ci_low"] != r["ci_low"] else
                  f", 95% CI {_g(r['ci_low'])} to {_g(r['ci_high'])}")
            console.print(f"{r['arm']} ({r['n_donors']} donors) vs {r['control']} "
                          f"({r['n_donors_control']}): difference {_g(r['difference'])}{ci}, "
                          f"p = {_g(r['p'])} ({r['method']})")
        written = [write_table(res.thresholds, out / "thresholds.csv"),
                   write_table(res.images, out / "images.csv"),
                   write_table(res.donors, out / "donors.csv"),
                   write_table(res.comparison, out / "comparison.csv")]
        (out / "methods.txt").write_text(res.methods() + "\n", encoding="utf-8")
        console.print(f"wrote {len(written) + 1} files to {out}")
