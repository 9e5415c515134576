"""Blinded entry at the bench: a session's animals in testing order, forms per assay.

- ``GET /sessions/{assay}/{day}``: the animals by code in the session's random order,
  with what is done and what is missing.
- ``GET /sessions/{assay}/{day}/{code}``: one animal: its stored trials, its value, and
  the form of the next trial.
- ``POST .../tap``: von Frey (up-down, SUDO): one X or O (or undo). The page shows the
  next filament by the up-down rule; the tap that completes the series stores it
  (:func:`nocilab.bench.enter_reading`) and the threshold is shown at once.
- ``POST .../save``: one trial of a numeric assay (paw pressure, body weight ...).
- ``GET|POST .../{trial}/correct``: correct a stored reading, with a reason (a von Frey
  series is typed again as X/O; its filaments follow by the rule).

Every write goes through :mod:`nocilab.bench` (the importer's checks and write path,
the logged-in user as the audit actor). Nothing here shows an arm, donor or
preparation; animals are shown by their codes.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from nocilab import bench
from nocilab.assays.von_frey import load_filament_set, series_progress
from nocilab.errors import AssayError, ReadingAlreadyStored, ReadingProblems
from nocilab.web.app import render
from nocilab.web.auth import route
from nocilab.web.pages import ALL, ENTRY_ROLES

router = APIRouter()


def _session(request: Request, assay: str, day: int) -> tuple[Any, Any, bench.EntryForm]:
    web = request.app.state.web
    study = web.study
    if assay not in study.schedule:
        bench._check_session(study, assay, day)
    return study, web.store, bench.entry_form(assay, study.assay_settings(assay))


@route(router, "GET", "/sessions/{assay}/{day}", *ALL, name="session")
def session_page(request: Request, assay: str, day: int) -> Response:
    study, store, form = _session(request, assay, day)
    animals = bench.session_animals(study, store, assay, day)
    counts = {s: sum(a.status == s for a in animals) for s in ("done", "partial", "missing")}
    following = next((a for a in animals if a.status != "done"), None)
    return render(request, "session.html", assay=assay, day=day, form=form, animals=animals,
                  counts=counts, following=following,
                  can_enter=request.state.user.role in ENTRY_ROLES)


def _next_animal(animals: list[bench.SessionAnimal], code: str) -> bench.SessionAnimal | None:
    """The next animal in testing order that is not done (after ``code``, then from the top)."""
    i = next((k for k, a in enumerate(animals) if a.code == code), -1)
    for a in animals[i + 1:] + animals[:i + 1]:
        if a.status != "done" and a.code != code:
            return a
    return None


def _filament(fs: Any, position: int | None) -> dict[str, Any] | None:
    if position is None:
        return None
    return {"number": fs.numbers[position], "log": f"{fs.log[position]:.2f}",
            "grams": f"{fs.grams[position]:g}"}


def _series_context(study: Any, assay: str, series: str) -> dict[str, Any]:
    settings = study.assay_settings(assay)
    fs = load_filament_set(settings.filaments)
    progress = series_progress(series, fs, method=settings.method,
                               start_filament=settings.start_filament,
                               stimuli_after_change=settings.stimuli_after_change)
    taps = [{"response": r, **(_filament(fs, p) or {})}
            for r, p in zip(progress.responses, progress.positions, strict=True)]
    return {"progress": progress, "taps": taps,
            "next_filament": _filament(fs, progress.next_position),
            "stimuli_after_change": settings.stimuli_after_change,
            "series_values": ({
                "xo_series": progress.responses,
                "last_filament": fs.numbers[progress.positions[-1]],
                "filaments_used": ",".join(progress.numbers(fs))}
                if progress.complete else None)}


def _values_shown(frame: Any) -> list[dict[str, Any]]:
    """Derived rows for a template: value rounded for reading, censoring spelled out."""
    out = []
    for r in frame.itertuples(index=False):
        value = "" if r.value is None or (isinstance(r.value, float) and math.isnan(r.value)) \
            else f"{r.value:.3g}"
        bound = "" if r.bound is None or (isinstance(r.bound, float) and math.isnan(r.bound)) \
            else f"{r.bound:.3g}"
        name = r.outcome[:-len(r.unit) - 1] if r.unit and r.outcome.endswith("_" + r.unit) \
            else r.outcome
        out.append({"outcome": name.replace("_", " "), "value": value, "unit": r.unit,
                    "censored": r.censored, "bound": bound, "n_trials": r.n_trials,
                    "note": r.note})
    return out


def _animal_context(request: Request, assay: str, day: int, code: str, *,
                    series: str = "", saved: bench.EntryResult | None = None,
                    error: str = "") -> dict[str, Any]:
    study, store, form = _session(request, assay, day)
    view = bench.animal_session(study, store, assay, day, code)
    animals, animal = view.animals, view.animal
    trial = saved.trial if saved is not None else animal.next_trial
    ctx: dict[str, Any] = {
        "assay": assay, "day": day, "form": form, "animal": animal, "trial": trial,
        "token": bench.entry_token(), "error": error, "saved": saved,
        "following": _next_animal(animals, code), "series": "", "typed": {},
    }
    ctx["day_value"] = _values_shown(view.day_value)
    trial_values = view.trial_values  # each stored series' own value
    if form.kind == "series":
        if saved is not None:
            stored = animal.readings.get(saved.trial, {})
            ctx["trial_value"] = (_values_shown(trial_values[saved.trial])
                                  if saved.trial in trial_values else [])
            ctx.update(_series_context(study, assay, stored.get("xo_series", "")))
        elif trial is not None:
            ctx.update(_series_context(study, assay, series))
            ctx["series"] = series
    labels = {f.quantity: f.label + (f" ({f.unit})" if f.unit else "") for f in form.fields}
    ctx["stored"] = [
        {"trial": t, "ids": animal.observation_ids.get(t, {}),
         "reading": {labels.get(q, q.replace("_", " ")): v
                     for q, v in sorted(animal.readings[t].items())},
         "value": _values_shown(trial_values[t]) if t in trial_values else []}
        for t in sorted(animal.readings)]
    return ctx


@route(router, "GET", "/sessions/{assay}/{day}/{code}", *ENTRY_ROLES, name="animal_entry")
def animal_page(request: Request, assay: str, day: int, code: str) -> Response:
    return render(request, "entry.html", **_animal_context(request, assay, day, code))


def _already_page(request: Request, exc: ReadingAlreadyStored, url: str) -> Response:
    name = "error_block.html" if request.headers.get("hx-request") else "error.html"
    return render(request, name, status_code=409, title="Already stored",
                  message=exc.render(), status=409, observation_ids=exc.observation_ids,
                  correct_url=url)


def _entry_response(request: Request, ctx: dict[str, Any], status: int = 200) -> Response:
    """The entry block alone for HTMX, the whole page otherwise."""
    name = "entry_block.html" if request.headers.get("hx-request") else "entry.html"
    return render(request, name, status_code=status, **ctx)


@route(router, "POST", "/sessions/{assay}/{day}/{code}/tap", *ENTRY_ROLES, name="tap")
def tap(request: Request, assay: str, day: int, code: str, series: str = Form(""),
        response: str = Form(...), token: str = Form(...), trial: int = Form(...)) -> Response:
    study, store, form = _session(request, assay, day)
    if form.kind != "series":
        return render(request, "error.html", status_code=400, title="Not a series",
                      message=f"{assay} is not entered as an X/O series", status=400)
    if response not in ("X", "O", "undo"):
        return render(request, "error.html", status_code=400, title="Not valid",
                      message="a response is X (withdrawal) or O (no withdrawal)", status=400)
    series = "".join(series.split()).upper()
    new = series[:-1] if response == "undo" else series + response
    try:
        ctx = _series_context(study, assay, new)
    except AssayError as exc:  # e.g. a tap after the series was complete
        try:
            _series_context(study, assay, series)
        except AssayError:
            series = ""  # the series sent is not one at all: start it again
        ctx = _animal_context(request, assay, day, code, series=series, error=str(exc))
        ctx["token"], ctx["trial"] = token, trial
        return _entry_response(request, ctx, 422)
    if ctx["series_values"] is None:
        full = _animal_context(request, assay, day, code, series=new)
        full["token"], full["trial"] = token, trial
        return _entry_response(request, full)
    try:
        saved = bench.enter_reading(study, store, code=code, assay=assay, study_day=day,
                                    trial=trial, values=ctx["series_values"],
                                    actor=request.state.user.username, token=token)
    except ReadingAlreadyStored as exc:
        return _already_page(request, exc, _correct_url(assay, day, code, trial))
    except ReadingProblems as exc:
        full = _animal_context(request, assay, day, code, series=series, error=exc.render())
        full["token"], full["trial"] = token, trial
        return _entry_response(request, full, 422)
    return _entry_response(request, _animal_context(request, assay, day, code, saved=saved))


@route(router, "POST", "/sessions/{assay}/{day}/{code}/save", *ENTRY_ROLES, name="save")
def save(request: Request, assay: str, day: int, code: str, trial: int = Form(...),
         token: str = Form(...), force_g: str = Form(""), latency_s: str = Form(""),
         count: str = Form(""), weight_g: str = Form(""), distance_m: str = Form(""),
         counts: str = Form(""), fibres: str = Form(""), length_mm: str = Form("")) -> Response:
    study, store, form = _session(request, assay, day)
    if form.kind != "numbers":
        return render(request, "error.html", status_code=400, title="Not a number form",
                      message=f"{assay} is entered as an X/O series", status=400)
    typed = {"force_g": force_g, "latency_s": latency_s, "count": count,
             "weight_g": weight_g, "distance_m": distance_m, "counts": counts,
             "fibres": fibres, "length_mm": length_mm}
    values = {f.quantity: typed[f.quantity] for f in form.fields}
    try:
        saved = bench.enter_reading(study, store, code=code, assay=assay, study_day=day,
                                    trial=trial, values=values,
                                    actor=request.state.user.username, token=token)
    except ReadingAlreadyStored as exc:
        return _already_page(request, exc, _correct_url(assay, day, code, trial))
    except ReadingProblems as exc:
        ctx = _animal_context(request, assay, day, code, error=exc.render())
        ctx.update(token=token, typed=values)
        return render(request, "entry.html", status_code=422, **ctx)
    what = "was already saved" if saved.already_saved else "saved"
    request.session["flash"] = f"{code}: {form.trial_label} {saved.trial} {what}."
    return RedirectResponse(f"/sessions/{assay}/{day}/{code}", status_code=303)


def _correct_url(assay: str, day: int, code: str, trial: int) -> str:
    return f"/sessions/{assay}/{day}/{code}/{trial}/correct"


def _correction_page(request: Request, assay: str, day: int, code: str, trial: int, *,
                     error: str = "", typed: dict[str, str] | None = None,
                     reason: str = "", status: int = 200) -> Response:
    study, store, form = _session(request, assay, day)
    animal = bench.session_animal(study, store, assay, day, code)
    stored = animal.readings.get(trial)
    if not stored:
        return render(request, "error.html", status_code=404, title="Nothing to correct",
                      message=f"{code} has no stored {form.trial_label} {trial} in "
                              f"{assay} on day {day}.", status=404)
    return render(request, "correct.html", status_code=status, assay=assay, day=day,
                  form=form, animal=animal, trial=trial, stored=stored, error=error,
                  typed=typed if typed is not None else dict(stored), reason=reason,
                  ids=animal.observation_ids.get(trial, {}))


@route(router, "GET", "/sessions/{assay}/{day}/{code}/{trial}/correct", *ENTRY_ROLES,
       name="correct_page")
def correct_page(request: Request, assay: str, day: int, code: str, trial: int) -> Response:
    return _correction_page(request, assay, day, code, trial)


@route(router, "POST", "/sessions/{assay}/{day}/{code}/{trial}/correct", *ENTRY_ROLES,
       name="correct")
def correct(request: Request, assay: str, day: int, code: str, trial: int,
            reason: str = Form(""), xo_series: str = Form(""), force_g: str = Form(""),
            latency_s: str = Form(""), count: str = Form(""), weight_g: str = Form(""),
            distance_m: str = Form(""), counts: str = Form(""), fibres: str = Form(""),
            length_mm: str = Form("")) -> Response:
    study, store, form = _session(request, assay, day)
    typed = {"force_g": force_g, "latency_s": latency_s, "count": count,
             "weight_g": weight_g, "distance_m": distance_m, "counts": counts,
             "fibres": fibres, "length_mm": length_mm}
    try:
        if form.kind == "series":  # the filaments follow from the responses by the rule
            ctx = _series_context(study, assay, xo_series)
            if ctx["series_values"] is None:
                raise AssayError(f"the series {ctx['progress'].responses or '(empty)'} is not "
                                 "complete by the study's stop rule")
            values = ctx["series_values"]
        else:
            values = {f.quantity: typed[f.quantity] for f in form.fields}
        new_ids = bench.correct_reading(study, store, code=code, assay=assay, study_day=day,
                                        trial=trial, values=values,
                                        actor=request.state.user.username, reason=reason)
    except (AssayError, ReadingProblems) as exc:
        shown = {"xo_series": xo_series} if form.kind == "series" else typed
        return _correction_page(request, assay, day, code, trial, error=exc.render(),
                                typed=shown, reason=reason, status=422)
    request.session["flash"] = (f"{code}: {form.trial_label} {trial} corrected (new "
                                f"observations {', '.join(map(str, new_ids))}); the old "
                                "values stay in the history.")
    return RedirectResponse(f"/sessions/{assay}/{day}/{code}", status_code=303)
