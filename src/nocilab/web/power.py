"""The power calculator for admins: ``nocilab power`` from a form, in the background.

- ``GET /admin/power``: the form (the choices of ``nocilab power``, each labelled with
  its option), the status of a running calculation, and the last result: the summary,
  the power grid, the curves, and the paragraph for the ethics application.
- ``POST /admin/power``: read the form (a value that is not a number, or a choice the
  command would refuse, is a 400 page naming the field and what it expects), then queue
  :func:`nocilab.design.power_request.prepare_power` and
  :func:`~nocilab.design.power_request.compute_power`, the calls behind
  ``nocilab power`` (:mod:`nocilab.web.jobs`). With "from this study" the study's own
  store is the pilot (``--from``): read with coded groups while it is blinded.
- ``GET /admin/power/status``: the status fragment the page polls.
- ``GET /admin/power/files/{file}``: the result's files (power_grid.csv, the curves,
  power_summary.json, sample_size.txt), by name from a fixed list.
"""

from __future__ import annotations

import json
import math
import shlex
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from nocilab.design.power_request import (
    ADJUSTMENTS,
    DIRECTIONS,
    EFFECT_SCALES,
    PowerRequest,
    check_power_request,
)
from nocilab.errors import DesignError, NocilabError
from nocilab.web.app import render
from nocilab.web.auth import route
from nocilab.web.files import file_response, replace_folder

router = APIRouter()

JOB = "power"
MADE = "made.json"
FILES = ("power_curves.png", "power_curves.svg", "power_curves.pdf", "power_grid.csv",
         "power_summary.json", "sample_size.txt")
MAX_SIMS = 100_000
RULES = {"fewest-animals": "fewest animals (the reduction principle)",
         "fewest-donors": "fewest donors"}

# form field: (label, kind); kind is float, int, text, or a tuple of choices
FIELDS: dict[str, tuple[str, Any]] = {
    "choose": ("Which design to choose (--choose)", tuple(RULES)),
    "effect": ("Peak effect to detect (--effect)", float),
    "scale": ("Scale of the effect (--scale)", EFFECT_SCALES),
    "direction": ("Direction of the effect (--direction)", DIRECTIONS),
    "baseline_mean": ("Mean baseline reading (--baseline-mean)", float),
    "unit": ("Unit of the readings (--unit)", str),
    "outcome": ("Outcome of this study (--outcome)", str),
    "sd_donor": ("SD between donors (--sd-donor)", float),
    "sd_animal": ("SD between mice of one donor (--sd-animal)", float),
    "sd_residual": ("SD of repeated readings (--sd-residual)", float),
    "rho": ("Correlation of consecutive test days (--rho)", float),
    "sd_level": ("SD of the animals' baseline levels (--sd-level)", float),
    "donors": ("Donors per arm to try (--donors)", str),
    "mice": ("Mice per donor to try (--mice)", str),
    "days": ("Test days (--days)", str),
    "window": ("Analysis window FIRST,LAST (--window)", str),
    "bounds": ("Readings censored at LOW,HIGH (--bounds)", str),
    "onset_days": ("Days to the full effect (--onset-days)", float),
    "plateau_days": ("Days at the peak (--plateau-days)", float),
    "half_life": ("Half-life of the decay in days (--half-life)", float),
    "dropout": ("Probability that a mouse is lost (--dropout)", float),
    "treatment_arms": ("Treatment arms (--treatment-arms)", int),
    "adjust": ("Adjustment over treatment arms (--adjust)", ADJUSTMENTS),
    "alpha": ("Alpha (--alpha)", float),
    "target": ("Power to reach (--target)", float),
    "donor_cost": ("What one donor costs in animals (--donor-cost)", float),
    "sims": ("Simulated studies per design (--sims)", int),
    "seed": ("Seed (--seed)", int),
}
FLAGS = {"one_sided": "One-sided test in the effect's direction (--one-sided)",
         "from_study": "Take the SDs, days and baseline from this study's own data (--from)"}


def outcome_names(study: Any) -> list[str]:
    """``ASSAY.OUTCOME`` of every outcome the study's schedule measures."""
    from nocilab.assays.registry import get_assay

    out = []
    for assay in study.schedule:
        try:
            out += [f"{assay}.{o}" for o in get_assay(assay).outcomes]
        except NocilabError:
            continue
    return out


def read_form(form: dict[str, str]) -> tuple[PowerRequest, bool]:
    """The form's values as a :class:`PowerRequest` and whether the study is the pilot;
    DesignError naming the field and what it expects."""
    defaults = {f.name: f.default for f in fields(PowerRequest)}
    values: dict[str, Any] = {}
    for name, (label, kind) in FIELDS.items():
        text = str(form.get(name, "")).strip()
        if not text:
            if name == "effect":
                raise DesignError(f"{label}: give the size of the effect to detect (a number "
                                  ">= 0, on the scale chosen below it)")
            continue
        if kind is float:
            try:
                value: Any = float(text)
            except ValueError:
                raise DesignError(f"{label} must be a number; got {text}") from None
            if not math.isfinite(value):
                raise DesignError(f"{label} must be a finite number; got {text}")
        elif kind is int:
            try:
                value = int(text)
            except ValueError:
                raise DesignError(f"{label} must be a whole number; got {text}") from None
        elif isinstance(kind, tuple):
            if text not in kind:
                raise DesignError(f"{label} must be one of {', '.join(kind)}; got {text}")
            value = text
        else:
            value = text
        values[name] = value
    sims = values.get("sims", defaults["sims"])
    if not 100 <= sims <= MAX_SIMS:
        raise DesignError(f"{FIELDS['sims'][0]} must be between 100 and {MAX_SIMS:,} on this "
                          f"form; got {sims}")
    pilot = bool(form.get("from_study"))
    if not pilot:
        values.pop("outcome", None)
    request = PowerRequest(**values, one_sided=bool(form.get("one_sided")))
    check_power_request(request, with_pilot=pilot)
    return request, pilot


def command_line(request: PowerRequest, *, pilot: bool, study_path: str) -> str:
    """The ``nocilab power`` command that computes the same plan."""
    words = ["nocilab", "power"]
    if pilot:
        words += ["--from", study_path]
    for f in fields(PowerRequest):
        value = getattr(request, f.name)
        if value == f.default or value is None:
            continue
        option = "--" + f.name.replace("_", "-")
        if isinstance(value, bool):
            words.append(option)
        else:
            words += [option, f"{value:g}" if isinstance(value, float) else str(value)]
    return " ".join(shlex.quote(w) for w in words)


def _folder(web: Any) -> Path:
    return web.outputs / "power"


def _result(web: Any) -> dict[str, Any] | None:
    try:
        made = json.loads((_folder(web) / MADE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return made if isinstance(made, dict) else None


def _compute(web: Any, request: PowerRequest, pilot: bool, by: str,
             typed: dict[str, str]) -> dict[str, Any]:
    """The job: prepare and compute into a fresh folder, then swap it in."""
    from nocilab.design.power_request import compute_power, grid_rows, prepare_power

    prepared = (prepare_power(request, pilot_study=web.study, pilot_store=web.store,
                              pilot_name=f"this study ({web.study.info.id})")
                if pilot else prepare_power(request))

    def write(fresh: Path) -> dict[str, Any]:
        run = compute_power(prepared, fresh)
        mice, rows = grid_rows(run.plan.grid.to_frame())
        chosen = run.summary["chosen"]
        return {"by": by, "at": datetime.now(UTC).isoformat(timespec="seconds"),
                "typed": typed, "notes": list(prepared.notes),
                "lines": run.summary["lines"], "reached": run.summary["reached"],
                "target": run.plan.target, "statement": run.summary["statement"],
                "mice": mice, "rows": rows,
                "chosen": [chosen["donors_per_arm"], chosen["mice_per_donor"]]
                if chosen else None,
                "command": command_line(request, pilot=pilot,
                                        study_path=str(web.study.path))}

    return replace_folder(_folder(web), write, made_name=MADE)


def _context(request: Request) -> dict[str, Any]:
    web = request.app.state.web
    return {"result": _result(web), "job": web.jobs.status(JOB)}


def _page(request: Request, *, error: str = "", status: int = 200,
          typed: dict[str, str] | None = None) -> Response:
    web = request.app.state.web
    context = _context(request)
    if typed is None:  # the form again as the last calculation had it
        typed = (context["result"] or {}).get("typed", {})
    return render(request, "power.html", status_code=status, error=error,
                  typed=typed, fields=FIELDS, flags=FLAGS, rules=RULES,
                  numeric={n for n, (_, k) in FIELDS.items() if k in (float, int)},
                  outcomes=outcome_names(web.study), defaults={
                      f.name: f.default for f in fields(PowerRequest)},
                  **context)


@route(router, "GET", "/admin/power", "admin", name="power")
def power_page(request: Request) -> Response:
    return _page(request)


@route(router, "GET", "/admin/power/status", "admin", name="power_status")
def power_status(request: Request) -> Response:
    return render(request, "power_status.html", **_context(request))


@route(router, "POST", "/admin/power", "admin", name="run_power")
async def run_power(request: Request) -> Response:
    web = request.app.state.web
    form = await request.form()
    typed = {k: v[:200] for k, v in form.items()
             if isinstance(v, str) and (k in FIELDS or k in FLAGS)}
    try:
        power_request, pilot = read_form(typed)
    except NocilabError as exc:
        return _page(request, error=exc.render(), status=400, typed=typed)
    by = request.state.user.username
    if not web.jobs.start(JOB, lambda: _compute(web, power_request, pilot, by, typed), by=by):
        return _page(request, status=409, typed=typed,
                     error=f"A power calculation started by {web.jobs.status(JOB).by} is "
                           "running already; its result will show on this page.")
    return RedirectResponse("/admin/power", status_code=303)


@route(router, "GET", "/admin/power/files/{file}", "admin", name="power_file")
def power_file(request: Request, file: str) -> Response:
    folder = _folder(request.app.state.web)
    target = folder / file
    if file not in FILES or not target.is_file() or target.is_symlink():
        return render(request, "error.html", status_code=404, title="No such file",
                      message="There is no such file in the power calculation.", status=404)
    return file_response(target)
