"""Serving a file of a folder the app wrote (the report, the power grid), and nothing else.

:func:`inside` turns the path of a request into a file inside the folder, or None: no
``..``, no absolute path, no drive letter, no backslash, no hidden file, no symbolic link
anywhere along the way (a link could point out of the folder), only regular files.
:func:`file_response` sends it: spreadsheets, Prism files, PDFs and CSVs as downloads,
HTML under a content security policy that allows no script and nothing from elsewhere.
:func:`replace_folder` writes such a folder anew beside the old one and swaps it in, so a
reader never sees half a run and a failed run leaves the last one.
"""

from __future__ import annotations

import json
import mimetypes
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.responses import FileResponse

DOWNLOADS = {".xlsx", ".pzfx", ".csv", ".pdf", ".json", ".txt"}
"""Sent as attachments (``Content-Disposition: attachment``)."""
CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"


def replace_folder(folder: Path, write: Callable[[Path], dict[str, Any]], *,
                   made_name: str) -> dict[str, Any]:
    """Run ``write(fresh)`` into a new hidden folder beside ``folder``, save what it
    returns as JSON in ``fresh / made_name``, then put the new folder in the place of
    ``folder``; on any error the new folder is removed and ``folder`` is untouched.
    Returns what ``write`` returned."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(6)
    fresh = folder.parent / f".{folder.name}-{token}"
    try:
        made = write(fresh)
        (fresh / made_name).write_text(json.dumps(made), encoding="utf-8")
        old = folder.parent / f".{folder.name}-old-{token}"
        if folder.exists():
            folder.rename(old)
        fresh.rename(folder)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
    return made


def inside(folder: Path, path: str) -> Path | None:
    """The regular file ``path`` (relative, ``/``-separated) inside ``folder``; None
    for anything else."""
    if not path or "\\" in path or ":" in path or "\x00" in path or path.startswith("/"):
        return None
    parts = path.split("/")
    if any(p in ("", ".", "..") or p.startswith(".") for p in parts):
        return None
    here = folder
    if not here.is_dir() or here.is_symlink():
        return None
    for part in parts:
        here = here / part
        if here.is_symlink():
            return None
    if not here.is_file():
        return None
    root = folder.resolve()
    target = here.resolve()
    return target if target.is_relative_to(root) else None


def file_response(target: Path) -> FileResponse:
    """``target`` as a response: a download, or a page shown under :data:`CSP`."""
    media = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
               "Content-Security-Policy": CSP}
    if target.suffix.lower() in DOWNLOADS:
        return FileResponse(target, media_type=media, filename=target.name, headers=headers)
    return FileResponse(target, media_type=media, headers=headers)
