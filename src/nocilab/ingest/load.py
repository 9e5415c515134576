"""All-or-nothing loading of a raw-data file into the store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from nocilab.assays.registry import assay_names, get_assay
from nocilab.errors import ImportProblems, Problem
from nocilab.ingest.files import file_sha256, read_sheets
from nocilab.ingest.layouts import long_cells, wide_cells
from nocilab.ingest.validate import OBSERVATION_ROWS, check_readings
from nocilab.model import ImportMapping, Study
from nocilab.store import Store


@dataclass(frozen=True)
class ImportReport:
    """What an import did."""

    file: str
    file_sha256: str
    n_readings: int
    already_imported: bool
    import_id: int | None
    by_assay: dict[str, int]

    def summary(self) -> str:
        if self.already_imported:
            return (f"{self.file}: already imported (import {self.import_id}); "
                    "nothing was added")
        parts = ", ".join(f"{n} {a}" for a, n in sorted(self.by_assay.items()))
        return f"{self.file}: imported {self.n_readings} raw values ({parts}) as import {self.import_id}"


def read_cells(path: str | Path, study: Study, mapping: ImportMapping, *,
               label: str | None = None) -> tuple[pd.DataFrame, list[Problem]]:
    """The cells of a file as candidate readings, and the problems of its layout
    (``label``: how messages name the file, default its path)."""
    sheets = read_sheets(path, sheet=mapping.sheet, skip_rows=mapping.skip_rows or 0,
                         label=label)
    quantities_of = {a: tuple(q.name for q in get_assay(a).quantities)
                     for a in assay_names() if a in study.schedule}
    problems: list[Problem] = []
    frames = []
    for sheet in sheets:
        if mapping.layout == "wide":
            frames.append(wide_cells(sheet, mapping, problems))
        else:
            frames.append(long_cells(sheet, mapping, quantities_of, problems))
    cells = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return cells, problems


def _checked(src: str, cells: pd.DataFrame, problems: list[Problem], study: Study,
             existing: pd.DataFrame | None, animal_codes: dict[str, str] | None
             ) -> pd.DataFrame:
    rows, more = check_readings(study, existing, cells, animal_codes=animal_codes)
    problems = problems + more
    if problems:
        raise ImportProblems(src, problems)
    if rows.empty:
        raise ImportProblems(src, [Problem(src, "the file holds no readings")])
    return rows[list(OBSERVATION_ROWS)]


def read_observations(path: str | Path, study: Study, mapping: ImportMapping, *,
                      existing: pd.DataFrame | None = None,
                      animal_codes: dict[str, str] | None = None) -> pd.DataFrame:
    """Read and validate a file; return observation rows or raise ImportProblems.

    Nothing is written. ``existing``: the store's observations, to refuse readings
    already stored and to check each reading with the stored quantities beside it (see
    :func:`nocilab.ingest.validate.check_readings`).
    """
    cells, problems = read_cells(path, study, mapping)
    return _checked(str(path), cells, problems, study, existing, animal_codes)


def import_file(path: str | Path, study: Study, store: Store, mapping: ImportMapping, *,
                actor: str, label: str | None = None) -> ImportReport:
    """Import one CSV/XLSX file into the store, all or nothing.

    The same file (same bytes) imported twice adds nothing and reports it. A file with
    problems raises :class:`~nocilab.errors.ImportProblems` listing every bad cell, and
    the store is left as it was. The readings are checked by
    :func:`nocilab.ingest.validate.check_readings` against the store as it is inside
    the write transaction that adds them.

    ``label`` names the file in messages and in the store's import record (default: its
    path, and its name in the record): the name an uploaded file had on the computer it
    came from, rather than where the server keeps it.
    """
    p = Path(path)
    src = label or str(p)
    if not p.is_file():
        raise ImportProblems(src, [Problem(src, "file not found")])
    sha = file_sha256(p)
    previous = store.imports()
    if not previous.empty:
        hit = previous[previous["file_sha256"] == sha]
        if not hit.empty:
            return ImportReport(src, sha, 0, True, int(hit["import_id"].iloc[0]) if "import_id" in hit
                                else int(hit["id"].iloc[0]), {})
    from nocilab.design.blinding import animal_id_for_codes

    codes = animal_id_for_codes(store)
    cells, problems = read_cells(p, study, mapping, label=label)
    detail = mapping.model_dump_json(exclude_none=True)
    with store.transaction() as tx:
        stored = store.observations(current_only=False, tx=tx)
        rows = _checked(src, cells, problems, study, stored, codes)
        result = store.import_observations(rows, file_name=label or p.name, file_sha256=sha,
                                           actor=actor,
                                           detail=detail, tx=tx)
    by_assay = rows.groupby("assay").size().astype(int).to_dict()
    return ImportReport(src, sha, result.n_inserted, result.already_imported,
                        result.import_id, by_assay)
