"""``nocilab elisa``: one plate's standard curve and sample concentrations (thin command)."""

from __future__ import annotations

from pathlib import Path

import typer

from nocilab.errors import NocilabError


def _limits(text: str) -> tuple[float, float]:
    lo, sep, hi = text.partition(",")
    try:
        if not sep:
            raise ValueError
        return float(lo), float(hi)
    except ValueError:
        raise NocilabError(f"--recovery must be LOW,HIGH in percent (e.g. 80,120); "
                           f"got {text!r}") from None


def _g(v: float) -> str:
    return f"{v:.4g}"


def register(app: typer.Typer) -> None:
    """Add the ``elisa`` command to the app."""

    @app.command()
    def elisa(
        plate: Path = typer.Argument(..., metavar="PLATE", help="The plate reader's export (CSV/XLSX): an "
                                     "8 x 12 grid of ODs."),
        layout: Path = typer.Option(..., "--layout", help="CSV/XLSX: well, kind (standard, "
                                    "blank, sample, empty), concentration, sample, dilution "
                                    "[, animal ...]."),
        out: Path = typer.Option(..., "--out", "-o", help="Where to write the samples' "
                                 "concentrations (.csv or .xlsx)."),
        model: str = typer.Option("4pl", "--model", help="Standard curve: 4pl or 5pl."),
        weights: str = typer.Option("none", "--weights",
                                    help="Weighting of the fit: none, 1/y or 1/y^2."),
        blank: str = typer.Option("mean", "--blank", help="Blank subtraction: mean (of the blank "
                                  "wells) or none."),
        recovery: str = typer.Option("80,120", "--recovery", help="Recovery limits of the "
                                     "standards in percent, LOW,HIGH (they set the LLOQ and "
                                     "ULOQ)."),
        cv_limit: float = typer.Option(20.0, "--cv-limit", help="Flag replicate %CV above this."),
        unit: str = typer.Option("ng/mL", "--unit", help="Unit of the standards' concentrations."),
        sheet: str | None = typer.Option(None, "--sheet", help="XLSX export: the sheet to read."),
        plate_number: int | None = typer.Option(None, "--plate", help="The export holds several "
                                                "plates: which one (1, 2 ...)."),
        plate_format: int = typer.Option(96, "--plate-format", help="96 or 384 wells."),
        standards_out: Path | None = typer.Option(None, "--standards", help="Also write the "
                                                  "standards' recovery and CV table here."),
        parameters_out: Path | None = typer.Option(None, "--parameters", help="Also write the "
                                                   "curve's parameters with SEs here."),
    ) -> None:
        """Fit one plate's standard curve (4PL/5PL) and read its samples back, with QC."""
        from rich.console import Console
        from rich.table import Table

        from nocilab.elisa import analyse_plate
        from nocilab.ingest.files import write_table
        from nocilab.ingest.plates import load_plate

        console = Console(highlight=False)
        targets = [p for p in (out, standards_out, parameters_out) if p is not None]
        for p in targets:
            if p.suffix.lower() not in (".csv", ".xlsx"):
                raise NocilabError(f"{p}: output must end in .csv or .xlsx")
        wells, which = load_plate(plate, layout, sheet=sheet, plate=plate_number,
                                  plate_format=plate_format)
        result = analyse_plate(wells, model=model, weights=weights, blank=blank,
                               recovery_limits=_limits(recovery), cv_limit=cv_limit, unit=unit)
        s = result.summary()
        curve = result.curve
        kinds = wells["kind"].value_counts()
        blank_text = ("no blank subtracted" if result.blank_od is None else
                      f"{kinds.get('blank', 0)} blank wells, mean OD {result.blank_od:.4g} "
                      "subtracted")
        console.print(f"{which.file}, {which.label}: {kinds.get('standard', 0)} standard wells, "
                      f"{blank_text}, {s['n_samples']} samples")
        weight_text = "unweighted" if curve.weights == "none" else f"weighted {curve.weights}"
        console.print(f"{curve.model.upper()} fit, {weight_text}: R² {curve.r_squared:.5f}, "
                      f"residual SE {curve.sigma:.4g} on {curve.df_residual} df")
        table = Table(show_header=True, box=None)
        for col in ("parameter", "estimate", "SE"):
            table.add_column(col, justify="left" if col == "parameter" else "right")
        for _, row in curve.to_frame().iterrows():
            table.add_row(str(row["parameter"]), _g(row["estimate"]), _g(row["se"]))
        console.print(table)
        power = "^g" if curve.model == "5pl" else ""
        console.print(f"  (od = r0 + (rinf - r0) / (1 + exp((xmid - ln conc) / scal)){power}; "
                      f"ec50 in {unit}, hill = 1/scal)")
        if result.excluded_wells:
            console.print(f"saturated standard wells left out of the fit: "
                          f"{', '.join(result.excluded_wells)}")
        lo, hi = result.recovery_limits
        bad = result.standards.loc[~result.standards["recovery_ok"], "concentration"]
        outside = ("all within" if bad.empty else
                   f"{len(bad)} outside ({', '.join(_g(c) for c in bad)} {unit}) of")
        console.print(f"standards: recovery {s['recovery_min_percent']:.1f}-"
                      f"{s['recovery_max_percent']:.1f}% ({outside} {lo:g}-{hi:g}%), "
                      f"{s['n_standards_cv_high']} with replicate CV above {cv_limit:g}%; "
                      f"LLOQ {_g(result.lloq)} {unit}, ULOQ {_g(result.uloq)} {unit} (in the well)")
        console.print(f"samples: {s['n_quantified']} quantified, {s['n_below_lloq']} below the "
                      f"LLOQ, {s['n_above_uloq']} above the ULOQ (censored: no concentration, "
                      f"the bound times the dilution), {s['n_samples_cv_high']} with replicate "
                      f"CV above {cv_limit:g}%")
        written = [write_table(result.samples, out, sheet_name="samples")]
        if standards_out is not None:
            written.append(write_table(result.standards, standards_out, sheet_name="standards"))
        if parameters_out is not None:
            written.append(write_table(curve.to_frame(), parameters_out, sheet_name="parameters"))
        console.print(f"wrote {', '.join(map(str, written))}")
