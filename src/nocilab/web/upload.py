"""Uploading a raw-data file: the same importer as ``nocilab import``, all or nothing.

- ``GET /upload``: the form: a mapping of the study file (or the plain long layout, with
  an assay column or the assay chosen on the form) and a CSV/XLSX file.
- ``POST /upload``: the file goes through :func:`nocilab.ingest.import_file` with the
  logged-in user as the actor. A file with problems is refused whole and every bad cell
  is listed, as the command line lists them; the same file sent twice adds nothing.

While the study is blinded the file may name animals by their codes (the importer
turns codes into animals); the page shows counts per assay, never an arm. The file is
kept in a temporary folder for the import and removed afterwards; the store records
its name and SHA-256.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from nocilab.errors import ImportProblems, NocilabError, Problem
from nocilab.ingest import build_mapping, import_file, study_mapping
from nocilab.ingest.files import SUPPORTED
from nocilab.web.app import render
from nocilab.web.auth import route
from nocilab.web.pages import ENTRY_ROLES

router = APIRouter()

MAX_BYTES = 20 * 1024 * 1024
"""The largest file accepted (20 MiB: a spreadsheet of some 100,000 readings)."""
DEFAULT = ""
"""The mapping value of the plain long layout (columns named after the quantities)."""


def _default_mapping(assay: str | None):
    return build_mapping(layout="long", assay=assay, animal="animal", day="study_day",
                         trial=None, quantity=[], columns=None, sheet=None, skip_rows=0)


def safe_name(name: str | None) -> str:
    """The uploaded file's own name, reduced to a plain file name (no folders)."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[^A-Za-z0-9._ ()+-]", "_", base).strip(" .")
    return base[:120] or "upload"


def _page(request: Request, *, status: int = 200, problems: list[str] | None = None,
          headline: str = "", error: str = "", chosen: str = DEFAULT, assay: str = "",
          summary: str = "") -> Response:
    study = request.app.state.web.study
    return render(request, "upload.html", status_code=status, mappings=sorted(study.mappings),
                  chosen=chosen, assays=list(study.schedule), assay=assay,
                  problems=problems or [], headline=headline, error=error,
                  summary=summary, types=", ".join(SUPPORTED), max_mb=MAX_BYTES // 2**20)


@route(router, "GET", "/upload", *ENTRY_ROLES, name="upload_page")
def upload_page(request: Request) -> Response:
    return _page(request)


@route(router, "POST", "/upload", *ENTRY_ROLES, name="upload")
async def upload(request: Request, file: UploadFile = File(...),
                 mapping: str = Form(DEFAULT), assay: str = Form("")) -> Response:
    web = request.app.state.web
    name = safe_name(file.filename)
    kept = {"chosen": mapping, "assay": assay}
    try:
        m = (study_mapping(web.study, mapping) if mapping != DEFAULT
             else _default_mapping(assay or None))
        data = await file.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise ImportProblems(name, [Problem(name, f"the file is larger than "
                                                      f"{MAX_BYTES // 2**20} MiB")])
        if not data:
            raise ImportProblems(name, [Problem(name, "the file is empty")])
        with tempfile.TemporaryDirectory(prefix="nocilab-upload-") as folder:
            path = Path(folder) / name
            path.write_bytes(data)
            report = await run_in_threadpool(import_file, path, web.study, web.store, m,
                                             actor=request.state.user.username, label=name)
    except ImportProblems as exc:
        n = len(exc.problems)
        head = f"{exc.source}: {n} {exc.headline if n != 1 else exc.headline_one}"
        return _page(request, status=422, problems=[str(p) for p in exc.problems],
                     headline=head, **kept)
    except NocilabError as exc:
        return _page(request, status=400, error=exc.render(), **kept)
    return _page(request, summary=report.summary(), **kept)

