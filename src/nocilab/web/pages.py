"""Logging in and out, the study page, the package's static files."""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from nocilab import accounts
from nocilab.bench import schedule_progress
from nocilab.design.blinding import blinding_state
from nocilab.errors import AuthenticationError
from nocilab.web.app import render
from nocilab.web.auth import PUBLIC, end_session, route, start_session

router = APIRouter()

ALL = accounts.ROLES
ENTRY_ROLES = ("admin", "experimenter")
STATIC = {"htmx.min.js": "text/javascript; charset=utf-8"}


def _safe_next(target: str | None) -> str:
    """A local path to go to after login ("/" for anything else)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@route(router, "GET", "/login", PUBLIC, name="login_page")
def login_page(request: Request, next: str | None = None) -> Response:
    if request.session.get("user"):
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "login.html", next=_safe_next(next), error="", username="")


@route(router, "POST", "/login", PUBLIC, name="login")
def login(request: Request, username: str = Form(""), password: str = Form(""),
          next: str = Form("/")) -> Response:
    web = request.app.state.web
    client = request.client.host if request.client else ""
    try:
        user = accounts.authenticate(web.store, username, password, client=client)
    except AuthenticationError as exc:
        status = 429 if exc.retry_after_s else 401
        headers = {"Retry-After": str(exc.retry_after_s)} if exc.retry_after_s else None
        return render(request, "login.html", status_code=status, headers=headers,
                      next=_safe_next(next), error=str(exc), username=username[:64])
    start_session(request, user)
    return RedirectResponse(_safe_next(next), status_code=303)


@route(router, "POST", "/logout", *ALL, name="logout")
def logout(request: Request) -> Response:
    end_session(request, "logged out")
    request.session["flash"] = "You are logged out."
    return RedirectResponse("/login", status_code=303)


@route(router, "GET", "/", *ALL, name="study")
def study_page(request: Request) -> Response:
    web = request.app.state.web
    study, store = web.study, web.store
    progress = schedule_progress(study, store)
    days = sorted(set(progress["study_day"]))
    assays = list(study.schedule)
    cells = {(r.assay, int(r.study_day)): r for r in progress.itertuples(index=False)}
    dates = dict(zip(progress["study_day"], progress["date"], strict=True))
    n_animals = len(study.animal_ids)
    total = {"done": int(progress["n_done"].sum()),
             "sessions": len(progress),
             "complete": int((progress["n_done"] == progress["n_animals"]).sum()),
             "late": int(progress["late"].sum())}
    return render(request, "study.html", title=study.info.title, days=days, assays=assays,
                  cells=cells, dates=dates, n_animals=n_animals, total=total,
                  state=blinding_state(study, store),
                  can_enter=request.state.user.role in ENTRY_ROLES)


@route(router, "GET", "/static/{name}", *ALL, name="static")
def static(request: Request, name: str) -> Response:
    if name not in STATIC:
        return render(request, "error.html", status_code=404, title="No such file",
                      message="There is no such file.", status=404)
    data = files("nocilab.web").joinpath("static", name).read_bytes()
    return Response(data, media_type=STATIC[name],
                    headers={"Cache-Control": "private, max-age=86400"})
