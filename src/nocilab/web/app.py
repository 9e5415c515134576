"""The web app: :func:`create_app` builds the FastAPI application of one study.

The app holds one loaded study and one open store (:class:`WebState`, at
``app.state.web``); routes are in :mod:`nocilab.web.pages` and
:mod:`nocilab.web.entry`. Every error reaches the browser as an HTML page: a library
error (:class:`~nocilab.errors.NocilabError`) with its message, a missing page or a
refused request with a sentence, anything else as "internal error" (the traceback goes
to the server's log, never to the page).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from nocilab import __version__
from nocilab.errors import NocilabError, ReadingAlreadyStored
from nocilab.web.auth import CsrfRefused, Forbidden, NotLoggedIn, csrf_token

log = logging.getLogger("nocilab.web")

SECRET_ENV = "NOCILAB_SESSION_SECRET"
SESSION_COOKIE = "nocilab_session"
IDLE_S = 4 * 3600
ABSOLUTE_S = 12 * 3600


@dataclass
class WebState:
    """What every request of the app shares: the study, its store, the templates."""

    study: Any
    store: Any
    templates: Jinja2Templates
    idle_s: int
    absolute_s: int
    jobs: Any = None
    """The app's queue of long work (:class:`nocilab.web.jobs.Jobs`)."""

    @property
    def outputs(self) -> Path:
        """The folder of what the app writes for the study (report, power grid):
        ``web-outputs/`` beside study.toml."""
        return Path(self.study.folder) / "web-outputs"


def _templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("nocilab.web", "templates"),
        autoescape=jinja2.select_autoescape(["html"], default_for_string=True),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        auto_reload=False)  # the package's templates do not change while it runs
    return Jinja2Templates(env=env)


def render(request: Request, template: str, *, status_code: int = 200,
           headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    """A page from ``templates/`` with what every page needs (user, CSRF token, study)."""
    web: WebState = request.app.state.web
    user = getattr(request.state, "user", None)
    has_session = "session" in request.scope  # not for errors caught outside the middleware
    base = {"user": user, "csrf": csrf_token(request) if has_session else "",
            "study": web.study, "version": __version__,
            "flash": request.session.pop("flash", "") if has_session else ""}
    base.update(context)
    return web.templates.TemplateResponse(request, template, base, status_code=status_code,
                                          headers=headers)


def _error(request: Request, status: int, title: str, message: str, *,
           headers: dict[str, str] | None = None, **extra: Any) -> HTMLResponse:
    """The error page; for an HTMX request, the block it replaces (``#entry``)."""
    name = "error_block.html" if request.headers.get("hx-request") else "error.html"
    return render(request, name, status_code=status, headers=headers, title=title,
                  message=message, status=status, **extra)


def create_app(study_path: str | os.PathLike[str], *, secret_key: str | None = None,
               idle_s: int = IDLE_S, absolute_s: int = ABSOLUTE_S,
               secure_cookies: bool = False) -> FastAPI:
    """The web app of the study at ``study_path`` (its store is opened, not created).

    Parameters
    ----------
    study_path : path
        study.toml or its folder.
    secret_key : str, optional
        Signs the session cookies; default ``$NOCILAB_SESSION_SECRET``, else a random
        key made now (sessions then end when the server restarts).
    idle_s, absolute_s : int
        A session ends after this long without a request, and this long after login.
    secure_cookies : bool
        Mark the session cookie ``Secure`` (only sent over HTTPS): set it behind a
        TLS reverse proxy.
    """
    from nocilab.model import load_study
    from nocilab.store import Store
    from nocilab.web.jobs import Jobs

    study = load_study(Path(study_path))
    store = Store.open(study.database_url(), create=False)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        jobs.close()
        store.close()

    app = FastAPI(title=f"nocilab {study.info.id}", docs_url=None, redoc_url=None,
                  openapi_url=None, lifespan=lifespan)
    jobs = Jobs()
    app.state.web = WebState(study=study, store=store, templates=_templates(),
                             idle_s=int(idle_s), absolute_s=int(absolute_s), jobs=jobs)
    key = secret_key or os.environ.get(SECRET_ENV) or secrets.token_urlsafe(48)
    app.add_middleware(SessionMiddleware, secret_key=key, session_cookie=SESSION_COOKIE,
                       max_age=int(idle_s), same_site="strict", https_only=secure_cookies)
    _handlers(app)
    from nocilab.web import (blinding, entry, pages, power, records, report, sheets, upload,
                            users)

    app.include_router(pages.router)
    app.include_router(entry.router)
    app.include_router(users.router)
    app.include_router(records.router)
    app.include_router(sheets.router)
    app.include_router(blinding.router)
    app.include_router(upload.router)
    app.include_router(report.router)
    app.include_router(power.router)
    return app


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(NotLoggedIn)
    async def _login(request: Request, exc: NotLoggedIn) -> Response:
        if exc.why:
            request.session["flash"] = exc.why
        target = "/login"
        if request.method == "GET" and request.url.path not in ("/", "/login"):
            target += "?next=" + quote(request.url.path, safe="/")
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        roles = ", ".join(r for r in exc.roles)
        return _error(request, 403, "Not for your role",
                      f"This page is for the roles {roles}; you are logged in as "
                      f"{exc.role}.")

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, exc: CsrfRefused) -> Response:
        return _error(request, 403, "Form refused",
                      "The form was not sent from this site's own page (its security token "
                      "is missing or out of date). Reload the page and send it again.")

    @app.exception_handler(ReadingAlreadyStored)
    async def _already(request: Request, exc: ReadingAlreadyStored) -> Response:
        return _error(request, 409, "Already stored", exc.render(),
                      observation_ids=exc.observation_ids)

    @app.exception_handler(NocilabError)
    async def _library(request: Request, exc: NocilabError) -> Response:
        return _error(request, 400, "Not possible", exc.render())

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        lines = []
        for e in exc.errors():
            where = " ".join(str(p) for p in e.get("loc", ()) if p not in ("body", "path",
                                                                            "query"))
            lines.append(f"{where}: {e.get('msg', 'not valid')}")
        return _error(request, 400, "Not valid", "The request is not valid: "
                      + "; ".join(lines))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        titles = {404: "No such page", 405: "Not allowed", 429: "Too many attempts"}
        message = exc.detail if isinstance(exc.detail, str) else "The request was refused."
        if exc.status_code == 404 and message == "Not Found":
            message = "There is no page at this address."
        if exc.status_code == 405:
            message = "This address does not take this kind of request."
        return _error(request, exc.status_code, titles.get(exc.status_code, "Refused"),
                      message, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> Response:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return _error(request, 500, "Internal error",
                      "Something went wrong on the server; nothing was saved by this "
                      "request. The details are in the server's log.")
