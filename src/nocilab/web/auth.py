"""Sessions, roles and CSRF: who is asking, and may they.

- The session is Starlette's signed cookie (itsdangerous; HttpOnly, SameSite=strict,
  ``Secure`` behind TLS) holding the username, the account's password stamp, the login
  time and the CSRF token; never a password or a hash. It expires after
  ``idle_s`` without a request (the cookie's max-age, renewed by each response) and
  ``absolute_s`` after login, and it ends at its next request when the account has
  been disabled or its password reset (the stamp no longer matches).
- :class:`Allow` is the role check of a route (a dependency): anonymous requests are
  sent to the login page, a logged-in user without the role gets the 403 page. Every
  route of the app declares one (the route-table test checks that).
- :func:`check_csrf`: every POST must carry the session's CSRF token, in the form field
  ``csrf_token`` or the ``X-CSRF-Token`` header (HTMX requests).
"""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from nocilab import accounts
from nocilab.accounts import User

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
PUBLIC = "public"


class NotLoggedIn(Exception):
    """The request has no valid session; ``why`` is shown on the login page."""

    def __init__(self, why: str = ""):
        self.why = why
        super().__init__(why)


class Forbidden(Exception):
    """The user's role does not reach this route."""

    def __init__(self, role: str, roles: tuple[str, ...]):
        self.role = role
        self.roles = roles
        super().__init__(f"{role} cannot open this page")


class CsrfRefused(Exception):
    """A state-changing request without the session's CSRF token."""


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use)."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def start_session(request: Request, user: User) -> None:
    """A new session for ``user`` after a successful login (a fresh CSRF token too)."""
    request.session.clear()
    request.session.update({"user": user.username, "stamp": user.stamp,
                            "since": datetime.now(UTC).isoformat(timespec="seconds"),
                            "csrf": secrets.token_urlsafe(32)})


def end_session(request: Request, why: str) -> None:
    """Forget the session and record why it ended (audited ``logout``)."""
    name = request.session.get("user")
    request.session.clear()
    if name:
        accounts.record_logout(request.app.state.web.store, str(name), why=why)


def session_user(request: Request) -> User:
    """The logged-in user of ``request``; NotLoggedIn when there is none (any more)."""
    cached = getattr(request.state, "user", None)
    if cached is not None:
        return cached
    web = request.app.state.web
    name = request.session.get("user")
    if not name:
        raise NotLoggedIn()
    since = request.session.get("since", "")
    try:
        age = (datetime.now(UTC) - datetime.fromisoformat(since)).total_seconds()
    except (TypeError, ValueError):
        age = float("inf")
    user = accounts.find_user(web.store, str(name))
    why = ("your account no longer exists" if user is None else
           "your account has been disabled" if user.disabled else
           "your password was changed: log in again" if user.stamp != request.session.get("stamp")
           else "your session has expired: log in again" if age > web.absolute_s else "")
    if why:
        end_session(request, why)
        raise NotLoggedIn(why)
    assert user is not None
    request.state.user = user
    return user


class Allow:
    """The role check of a route: ``Allow("admin", "experimenter")``, or
    ``Allow(PUBLIC)`` for the login page alone."""

    def __init__(self, *roles: str):
        unknown = set(roles) - {*accounts.ROLES, PUBLIC}
        if unknown or not roles:
            raise ValueError(f"unknown roles {sorted(unknown)}")
        self.roles = tuple(roles)

    @property
    def public(self) -> bool:
        return PUBLIC in self.roles

    def __call__(self, request: Request) -> User | None:
        if self.public:
            return None
        user = session_user(request)
        if user.role not in self.roles:
            raise Forbidden(user.role, self.roles)
        return user


async def check_csrf(request: Request) -> None:
    """Refuse a POST whose CSRF token is missing or not the session's."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    expected = request.session.get("csrf")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(str(expected), sent):
        raise CsrfRefused()


def route(router: APIRouter, method: str, path: str, *roles: str, **kwargs: Any) -> Any:
    """Declare a route with its role check (and the CSRF check for a POST).

    ``route(router, "GET", "/", "admin", "viewer")`` is ``router.get("/")`` that only
    those roles reach; the user is then ``request.state.user``.
    """
    deps = [Depends(Allow(*roles))]
    if method != "GET":
        deps.append(Depends(check_csrf))
    return router.api_route(path, methods=[method], dependencies=deps,
                            response_class=HTMLResponse, **kwargs)
