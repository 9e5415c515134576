"""The admin's page of accounts: the same audited functions as ``nocilab users``.

- ``GET /admin/users``: every account with its role and status, and the forms.
- ``POST /admin/users``: add an account (password typed twice, never shown again).
- ``POST /admin/users/{username}/role|disable|enable|password``: the other changes.

Every change is an audit event by :mod:`nocilab.accounts` with the logged-in admin as
its actor. An admin cannot disable their own account or take away their own admin
role here (the account would lock itself out of this page); another admin, or the
command line, can.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from nocilab import accounts
from nocilab.errors import AccountError
from nocilab.web.app import render
from nocilab.web.auth import route

router = APIRouter()


def _page(request: Request, *, error: str = "", status: int = 200,
          typed: dict[str, str] | None = None) -> Response:
    store = request.app.state.web.store
    return render(request, "users.html", status_code=status, users=accounts.list_users(store),
                  roles=accounts.ROLES, error=error, typed=typed or {},
                  min_password=accounts.MIN_PASSWORD)


def _done(request: Request, message: str) -> Response:
    request.session["flash"] = message
    return RedirectResponse("/admin/users", status_code=303)


def _two_passwords(password: str, again: str) -> str:
    if password != again:
        raise AccountError("the two passwords differ; type the same password twice")
    return password


def _not_self(request: Request, username: str, what: str) -> None:
    if username == request.state.user.username:
        raise AccountError(f"you cannot {what} your own account here; another admin can, "
                           "or `nocilab users` on the command line")


@route(router, "GET", "/admin/users", "admin", name="users")
def users_page(request: Request) -> Response:
    return _page(request)


@route(router, "POST", "/admin/users", "admin", name="add_user")
def add_user(request: Request, username: str = Form(...), role: str = Form(...),
             password: str = Form(...), password_again: str = Form(...)) -> Response:
    store = request.app.state.web.store
    try:
        accounts.check_username(username)
        accounts.check_role(role)
        if accounts.find_user(store, username) is not None:
            raise AccountError(f"a user {username!r} already exists; nothing was changed "
                               "(reset its password below instead)")
        user = accounts.add_user(store, username, _two_passwords(password, password_again),
                                 role=role, actor=request.state.user.username)
    except AccountError as exc:
        return _page(request, error=exc.render(), status=400,
                     typed={"username": username[:64], "role": role})
    return _done(request, f"Added user {user.username} ({user.role}).")


@route(router, "POST", "/admin/users/{username}/role", "admin", name="set_role")
def set_role(request: Request, username: str, role: str = Form(...),
             reason: str = Form("")) -> Response:
    store = request.app.state.web.store
    try:
        if role != "admin":
            _not_self(request, username, "take the admin role from")
        user = accounts.set_role(store, username, role, actor=request.state.user.username,
                                 reason=reason.strip() or None)
    except AccountError as exc:
        return _page(request, error=exc.render(), status=400)
    return _done(request, f"User {user.username} is now {user.role}.")


@route(router, "POST", "/admin/users/{username}/disable", "admin", name="disable_user")
def disable(request: Request, username: str, reason: str = Form("")) -> Response:
    store = request.app.state.web.store
    try:
        _not_self(request, username, "disable")
        user = accounts.disable_user(store, username, actor=request.state.user.username,
                                     reason=reason.strip() or None)
    except AccountError as exc:
        return _page(request, error=exc.render(), status=400)
    return _done(request, f"User {user.username} disabled; their open sessions have ended.")


@route(router, "POST", "/admin/users/{username}/enable", "admin", name="enable_user")
def enable(request: Request, username: str, reason: str = Form("")) -> Response:
    store = request.app.state.web.store
    try:
        user = accounts.enable_user(store, username, actor=request.state.user.username,
                                    reason=reason.strip() or None)
    except AccountError as exc:
        return _page(request, error=exc.render(), status=400)
    return _done(request, f"User {user.username} enabled.")


@route(router, "POST", "/admin/users/{username}/password", "admin", name="reset_password")
def reset_password(request: Request, username: str, password: str = Form(...),
                   password_again: str = Form(...), reason: str = Form("")) -> Response:
    store = request.app.state.web.store
    try:
        accounts.get_user(store, username)
        user = accounts.reset_password(store, username, _two_passwords(password, password_again),
                                       actor=request.state.user.username,
                                       reason=reason.strip() or None)
    except AccountError as exc:
        return _page(request, error=exc.render(), status=400)
    return _done(request, f"New password set for {user.username}; their open sessions have "
                          "ended.")
