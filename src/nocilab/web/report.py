"""The report in the browser, for analysts and admins: ``nocilab analyze`` run in the
background into the study's ``web-outputs/report/`` folder and served behind the login.

- ``GET /report``: the report for the study as it is now (when there is one), its
  downloads, the analysis' status, and the form that runs it.
- ``POST /report``: check the settings (a wrong one is a 400 page naming the field),
  then queue :func:`nocilab.report.analyze.analyze_study`, the function behind
  ``nocilab analyze`` (:mod:`nocilab.web.jobs`: one analysis at a time, never on a
  request thread). While the study is blinded it analyses coded groups, exactly as
  ``nocilab analyze --blinded``; once unblinded it names arms.
- ``GET /report/status``: the status fragment the page polls while the analysis runs.
- ``GET /report/files/{path}``: report.html and its downloads (results.xlsx,
  results.pzfx, results/*.csv, figures/*), only from inside the report folder
  (:func:`nocilab.web.files.inside`).

A report is written into a fresh folder and swapped in when complete, so a failed run
leaves the last one as it was. It is served only in the blinding state and allocation
run it was made in (``blinded/`` or ``named/``, with ``made.json`` saying which): a
report naming arms is never served after the study is allocated (and blinded) again, and
a blinded report gives way to a new run after unblinding.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from nocilab.design.blinding import blinding_state
from nocilab.errors import AnalysisError, NocilabError, one_of
from nocilab.stats.baseline import BASELINE_MODES
from nocilab.stats.multiplicity import ADJUST_METHODS
from nocilab.store import _allocation as sa_alloc
from nocilab.web.app import render
from nocilab.web.auth import route
from nocilab.web.files import file_response, inside, replace_folder

router = APIRouter()

REPORT_ROLES = ("admin", "analyst")
MADE = "made.json"
POSTTESTS = ("sidak", "bonferroni", "holm", "dunnett", "none")
SCALES = {"": "as the study file says ([analysis] log_outcomes)", "linear": "linear",
          "log": "log10 (ratios)"}
JOB = "report"
assert set(POSTTESTS) == set(ADJUST_METHODS)


def _stamp(web: Any) -> dict[str, Any]:
    """The state a report must have been made in to be served now."""
    run = sa_alloc.current_run(web.store)
    return {"state": blinding_state(web.study, web.store),
            "run": run.run_id if run is not None else None}


def _folder(web: Any, stamp: dict[str, Any]) -> Path:
    return web.outputs / "report" / ("blinded" if stamp["state"] == "blinded" else "named")


def current_report(web: Any) -> tuple[Path, dict[str, Any] | None]:
    """The report folder for the study's present state and what made it (None: no
    report, or one made in another blinding state or allocation run)."""
    stamp = _stamp(web)
    folder = _folder(web, stamp)
    try:
        made = json.loads((folder / MADE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return folder, None
    if not isinstance(made, dict) or {k: made.get(k) for k in stamp} != stamp:
        return folder, None
    return folder, made


def _files(folder: Path) -> list[dict[str, str]]:
    out = []
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if p.name != MADE and inside(folder, rel) is not None:
            out.append({"path": rel, "size": f"{max(p.stat().st_size / 1024, 1):,.0f} KiB"})
    return out


def _context(request: Request) -> dict[str, Any]:
    web = request.app.state.web
    folder, made = current_report(web)
    return {"state": blinding_state(web.study, web.store), "made": made,
            "files": _files(folder) if made else [], "job": web.jobs.status(JOB)}


def _page(request: Request, *, error: str = "", status: int = 200,
          typed: dict[str, str] | None = None) -> Response:
    context = _context(request)
    if typed is None:  # the form again as the report shown was made
        typed = {k: str(v) for k, v in (context["made"] or {}).items()
                 if k in ("baseline", "posttest", "window", "scale", "outcomes")}
    return render(request, "report.html", status_code=status, error=error, typed=typed,
                  baselines=BASELINE_MODES, posttests=POSTTESTS, scales=SCALES, **context)


@route(router, "GET", "/report", *REPORT_ROLES, name="report")
def report_page(request: Request) -> Response:
    return _page(request)


@route(router, "GET", "/report/status", *REPORT_ROLES, name="report_status")
def report_status(request: Request) -> Response:
    return render(request, "report_status.html", **_context(request))


def check_settings(baseline: str, posttest: str, window: str, scale: str,
                   outcomes: str) -> dict[str, Any]:
    """The report form's settings as :func:`analyze_study` takes them; AnalysisError
    naming the field and what it expects."""
    from nocilab.stats.scale import parse_scale
    from nocilab.stats.window import parse_window

    if baseline not in BASELINE_MODES:
        raise AnalysisError(f"Baseline must be {one_of(BASELINE_MODES)}; got {baseline}")
    if posttest not in POSTTESTS:
        raise AnalysisError(f"Per-day adjustment must be {one_of(POSTTESTS)}; got {posttest}")
    if scale not in SCALES:
        raise AnalysisError(f"Scale must be empty (as the study file says), linear or log; "
                            f"got {scale}")
    names = [o.strip() for o in outcomes.split(",") if o.strip()]
    return {"baseline": baseline, "posttest": posttest,
            "window": parse_window(window, option="Analysis window")
            if window.strip() else None,
            "scale": parse_scale(scale, option="Scale") if scale else None,
            "outcomes": names or None}


def _analyse(web: Any, settings: dict[str, Any], typed: dict[str, str], by: str
             ) -> dict[str, Any]:
    """The job: analyse into a fresh folder, then swap it in."""
    from nocilab.report.analyze import analyze_study

    stamp = _stamp(web)
    folder = _folder(web, stamp)

    def write(fresh: Path) -> dict[str, Any]:
        analyze_study(web.study, web.store, fresh, blinded=stamp["state"] == "blinded",
                      window_option=f"window {typed['window']}",
                      window_given_on="report page",
                      **settings)
        return {**stamp, "by": by, "at": datetime.now(UTC).isoformat(timespec="seconds"),
                **typed}

    return replace_folder(folder, write, made_name=MADE)


@route(router, "POST", "/report", *REPORT_ROLES, name="run_report")
def run_report(request: Request, baseline: str = Form(...), posttest: str = Form("sidak"),
               window: str = Form(""), scale: str = Form(""),
               outcomes: str = Form("")) -> Response:
    web = request.app.state.web
    typed = {"baseline": baseline, "posttest": posttest, "window": window, "scale": scale,
             "outcomes": outcomes}
    try:
        settings = check_settings(baseline, posttest, window, scale, outcomes)
    except NocilabError as exc:
        return _page(request, error=exc.render(), status=400, typed=typed)
    by = request.state.user.username
    if not web.jobs.start(JOB, lambda: _analyse(web, settings, typed, by), by=by):
        job = web.jobs.status(JOB)
        return _page(request, status=409, typed=typed,
                     error=f"An analysis started by {job.by} is running already; its "
                           "report will show on this page when it is done.")
    return RedirectResponse("/report", status_code=303)


@route(router, "GET", "/report/files/{path:path}", *REPORT_ROLES, name="report_file")
def report_file(request: Request, path: str) -> Response:
    folder, made = current_report(request.app.state.web)
    if made is None:
        return render(request, "error.html", status_code=404, title="No report",
                      message="There is no report for the study as it is now: run the "
                              "analysis on the report page.", status=404)
    target = inside(folder, path)
    if target is None or target.name == MADE:
        return render(request, "error.html", status_code=404, title="No such file",
                      message="There is no such file in the report.", status=404)
    return file_response(target)
