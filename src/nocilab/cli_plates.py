"""``nocilab import-plates``, ``plates``, ``exclude-plate``, ``include-plate`` and
``import-cells``: a study's laboratory raw files into its store (thin).

The work is :mod:`nocilab.ingest.labfiles` (reading, checking, all-or-nothing import)
and the store (``Store.import_plates``, ``Store.exclude_plate``, ``Store.import_binding``).
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path

import typer
from rich.console import Console

STUDY_ARG = typer.Argument(..., help="The study: a study.toml file or the folder holding it.",
                           show_default=False, metavar="STUDY")
BY_OPT = typer.Option(None, "--by", help="Who does this (default: $NOCILAB_USER or the login "
                                          "name).")


def _actor(by: str | None) -> str:
    return by or os.environ.get("NOCILAB_USER") or getpass.getuser()


def _study_store(study_path: Path, *, create: bool):
    from nocilab.model import load_study
    from nocilab.store import Store

    study = load_study(study_path)
    return study, Store.open(study.database_url(), create=create)


def register(app: typer.Typer) -> None:
    """Add the laboratory import commands to the app."""

    @app.command("import-plates")
    def import_plates(
        study_path: Path = STUDY_ARG,
        reader: Path = typer.Argument(..., metavar="EXPORT", help="The plate reader's export "
                                      "(CSV/XLSX grids of ODs; for cytokines also a multiplex "
                                      "table analyte, well, signal)."),
        layout: Path = typer.Option(..., "--layout", help="CSV/XLSX, one row per used well: "
                                    "well, kind, concentration, animal, study_day, dilution "
                                    "[, plate, unit, analyte, sample]."),
        assay: str = typer.Option(..., "--assay", help="serum_igg (human IgG in serum) or "
                                  "cytokines."),
        plate: int | None = typer.Option(None, "--plate", help="The grid to import when the "
                                         "export holds several and the layout has no plate "
                                         "column."),
        analyte: str | None = typer.Option(None, "--analyte", help="Cytokines from a grid "
                                           "export: the analyte it measures (e.g. IL6)."),
        name: str | None = typer.Option(None, "--name", help="The plates' name in the study "
                                        "(default: the export's file name; ':N' per grid)."),
        plate_format: int = typer.Option(96, "--format", help="96 or 384 wells."),
        by: str | None = BY_OPT,
    ) -> None:
        """Import plate-reader exports with their layout (raw ODs; all or nothing, audited)."""
        from nocilab.ingest.labfiles import import_plates as do_import

        study, store = _study_store(study_path, create=True)
        with store:
            report = do_import(reader, layout, study, store, assay=assay, actor=_actor(by),
                               plate=plate, analyte=analyte, name=name,
                               plate_format=plate_format)
        colour = "yellow" if report.already_imported else "green"
        Console(highlight=False).print(f"[{colour}]{report.summary()}[/]")

    @app.command("plates")
    def plates(
        study_path: Path = STUDY_ARG,
        out: Path | None = typer.Option(None, "--out", "-o", help="Write the list to CSV/XLSX."),
    ) -> None:
        """List the study's plates: assay, analytes, wells, samples, days, exclusions."""
        from rich.table import Table

        from nocilab.ingest import write_table

        _, store = _study_store(study_path, create=False)
        with store:
            table = store.plates()
        console = Console(highlight=False)
        if out is not None:
            write_table(table, out)
            console.print(f"wrote {len(table)} plates to {out}")
            return
        if table.empty:
            console.print("no plates imported yet (nocilab import-plates STUDY EXPORT "
                          "--layout LAYOUT --assay serum_igg)")
            return
        t = Table(show_header=True, box=None)
        for col in ("plate", "assay", "analytes", "wells", "samples", "days", "status"):
            t.add_column(col, overflow="fold")
        for _, r in table.iterrows():
            status = (f"[red]excluded[/]: {r['exclusion_reason']}" if r["excluded"]
                      else "in use")
            t.add_row(r["plate"], r["assay"], r["analytes"], str(r["n_wells"]),
                      str(r["n_samples"]), r["study_days"], status)
        console.print(t)
        console.print("files, import times and who imported: nocilab plates STUDY --out "
                      "plates.csv", style="dim")

    @app.command("exclude-plate")
    def exclude_plate(
        study_path: Path = STUDY_ARG,
        plate: str = typer.Argument(..., metavar="PLATE", help="The plate's name (nocilab "
                                    "plates lists them)."),
        reason: str = typer.Option(..., "--reason", help="Why (recorded in the audit trail)."),
        by: str | None = BY_OPT,
    ) -> None:
        """Leave a plate out of the analysis (its wells stay stored; audited)."""
        _, store = _study_store(study_path, create=False)
        with store:
            event = store.exclude_plate(plate, actor=_actor(by), reason=reason)
        Console(highlight=False).print(f"plate {plate} excluded (audit event {event}); undo "
                                       "with nocilab include-plate")

    @app.command("include-plate")
    def include_plate(
        study_path: Path = STUDY_ARG,
        plate: str = typer.Argument(..., metavar="PLATE", help="The plate's name."),
        reason: str = typer.Option(..., "--reason", help="Why (recorded in the audit trail)."),
        by: str | None = BY_OPT,
    ) -> None:
        """Take an excluded plate back into the analysis (audited)."""
        _, store = _study_store(study_path, create=False)
        with store:
            event = store.include_plate(plate, actor=_actor(by), reason=reason)
        Console(highlight=False).print(f"plate {plate} included again (audit event {event})")

    @app.command("import-cells")
    def import_cells(
        study_path: Path = STUDY_ARG,
        tables: list[Path] = typer.Argument(..., metavar="TABLE...", help="Per-cell "
                                            "measurement tables (CSV/XLSX) from QuPath, "
                                            "CellProfiler or Fiji."),
        images: Path = typer.Option(..., "--images", help="CSV/XLSX: image, vial: the vial "
                                    "code (or preparation) each image was stained with."),
        image: str = typer.Option("image", "--image", help="Column of image names."),
        cell: str = typer.Option("cell", "--cell", help="Column of cell or ring ids."),
        cell_class: str = typer.Option("class", "--class", help="Column of cell classes."),
        intensity: str = typer.Option("mean_intensity", "--intensity", help="Column of mean "
                                      "intensities."),
        area: str = typer.Option("area", "--area", help="Column of areas ('' for none)."),
        vial: str = typer.Option("vial", "--vial", help="Column of the images table holding "
                                 "the vial code."),
        by: str | None = BY_OPT,
    ) -> None:
        """Import IgG-binding cell tables (all or nothing, audited)."""
        from nocilab.ingest.labfiles import import_cells as do_import

        study, store = _study_store(study_path, create=True)
        with store:
            reports = do_import(tables, images, study, store, actor=_actor(by), image=image,
                                cell=cell, cell_class=cell_class, intensity=intensity,
                                area=area or None, vial=vial)
        console = Console(highlight=False)
        for r in reports:
            colour = "yellow" if r.already_imported else "green"
            console.print(f"[{colour}]{r.summary()}[/]")
