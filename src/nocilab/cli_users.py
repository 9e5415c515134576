"""``nocilab users``: the accounts of a study (for ``nocilab serve``).

Thin: read options and the password, call :mod:`nocilab.accounts`, print. The password
comes from ``--password-file`` (its first line), else the environment variable
``NOCILAB_NEW_PASSWORD``, else a prompt that hides the input and asks twice. It is
never printed, stored or recorded (the store keeps its argon2 hash).
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from nocilab.errors import AccountError

PASSWORD_ENV = "NOCILAB_NEW_PASSWORD"

console = Console(highlight=False)

users_app = typer.Typer(help="Accounts of a study: who may use `nocilab serve`, in which role.",
                        no_args_is_help=True)

STUDY_ARG = typer.Argument(..., help="The study: a study.toml file or the folder holding it.",
                           show_default=False, metavar="STUDY")
USER_ARG = typer.Argument(..., help="The username.", show_default=False, metavar="USERNAME")
BY_OPT = typer.Option(None, "--by",
                      help="Who does this (default: $NOCILAB_USER or the login name).")
PASSWORD_OPT = typer.Option(None, "--password-file",
                            help=f"Read the password from this file (else ${PASSWORD_ENV}, "
                                 "else a prompt).")
REASON_OPT = typer.Option(None, "--reason", help="Why (recorded in the audit trail).")


def _actor(by: str | None) -> str:
    return by or os.environ.get("NOCILAB_USER") or getpass.getuser()


def read_password(path: Path | None, username: str) -> str:
    """The new password from a file, the environment or a hidden prompt (asked twice)."""
    if path is not None:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise AccountError(f"cannot read the password file {path}: {exc.strerror}") from None
        if not lines or not lines[0]:
            raise AccountError(f"the password file {path} is empty (the first line is used)")
        return lines[0]
    env = os.environ.get(PASSWORD_ENV)
    if env:
        return env
    return typer.prompt(f"Password for {username}", hide_input=True, confirmation_prompt=True)


def _open(study_path: Path, *, create: bool):
    from nocilab.model import load_study
    from nocilab.store import Store

    study = load_study(study_path)
    return Store.open(study.database_url(), create=create)


@users_app.command("add")
def add(
    study_path: Path = STUDY_ARG,
    username: str = USER_ARG,
    role: str = typer.Option(..., "--role",
                             help="admin, experimenter, analyst or viewer."),
    password_file: Path | None = PASSWORD_OPT,
    by: str | None = BY_OPT,
) -> None:
    """Add an account (audited)."""
    from nocilab import accounts

    with _open(study_path, create=True) as store:
        accounts.check_username(username)
        accounts.check_role(role)
        if accounts.find_user(store, username) is not None:
            raise AccountError(f"a user {username!r} already exists; nothing was changed "
                               f"(`nocilab users reset-password` gives it a new password)")
        password = read_password(password_file, username)
        user = accounts.add_user(store, username, password, role=role, actor=_actor(by))
    console.print(f"added user {user.username} ({user.role})")


@users_app.command("list")
def list_(study_path: Path = STUDY_ARG) -> None:
    """List the accounts."""
    from nocilab import accounts

    with _open(study_path, create=False) as store:
        users = accounts.list_users(store)
    if not users:
        console.print("no users yet: add one with `nocilab users add STUDY NAME --role admin`")
        return
    table = Table(show_header=True)
    for c in ("username", "role", "status", "created", "by"):
        table.add_column(c)
    for u in users:
        table.add_row(u.username, u.role, "disabled" if u.disabled else "active",
                      u.created_at[:19].replace("T", " "), u.created_by)
    console.print(table)


@users_app.command("disable")
def disable(
    study_path: Path = STUDY_ARG,
    username: str = USER_ARG,
    reason: str | None = REASON_OPT,
    by: str | None = BY_OPT,
) -> None:
    """Disable an account: no more logins; its open web sessions end (audited)."""
    from nocilab import accounts

    with _open(study_path, create=False) as store:
        user = accounts.disable_user(store, username, actor=_actor(by), reason=reason)
    console.print(f"user {user.username} disabled")


@users_app.command("enable")
def enable(
    study_path: Path = STUDY_ARG,
    username: str = USER_ARG,
    reason: str | None = REASON_OPT,
    by: str | None = BY_OPT,
) -> None:
    """Enable a disabled account again (audited)."""
    from nocilab import accounts

    with _open(study_path, create=False) as store:
        user = accounts.enable_user(store, username, actor=_actor(by), reason=reason)
    console.print(f"user {user.username} enabled")


@users_app.command("set-role")
def set_role(
    study_path: Path = STUDY_ARG,
    username: str = USER_ARG,
    role: str = typer.Argument(..., help="admin, experimenter, analyst or viewer.", metavar="ROLE"),
    reason: str | None = REASON_OPT,
    by: str | None = BY_OPT,
) -> None:
    """Give an account another role (audited)."""
    from nocilab import accounts

    with _open(study_path, create=False) as store:
        user = accounts.set_role(store, username, role, actor=_actor(by), reason=reason)
    console.print(f"user {user.username} is now {user.role}")


@users_app.command("reset-password")
def reset_password(
    study_path: Path = STUDY_ARG,
    username: str = USER_ARG,
    password_file: Path | None = PASSWORD_OPT,
    reason: str | None = REASON_OPT,
    by: str | None = BY_OPT,
) -> None:
    """Give an account a new password; its open web sessions end (audited)."""
    from nocilab import accounts

    with _open(study_path, create=False) as store:
        accounts.get_user(store, username)  # an unknown user is refused before the prompt
        password = read_password(password_file, username)
        user = accounts.reset_password(store, username, password, actor=_actor(by),
                                       reason=reason)
    console.print(f"new password set for {user.username}")


def register(app: typer.Typer) -> None:
    """Add ``users`` to the ``nocilab`` app."""
    app.add_typer(users_app, name="users")
