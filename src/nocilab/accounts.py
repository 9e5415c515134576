"""Accounts: who may use a study and in which role; passwords hashed with argon2.

Roles (:data:`ROLES`):

- ``admin``: the PI. Study set-up, users, allocation, unblinding with the passphrase.
- ``experimenter``: blinded. Enters and corrects readings; sees animal and vial codes only.
- ``analyst``: reads results and the report (after unblinding, or with coded groups).
- ``viewer``: reads the study's progress.

Accounts live in the study's store (table ``users``); every change is an audit event
(see :mod:`nocilab.store._users`), and so is every login, failed login and logout.
Passwords are hashed with argon2id (argon2-cffi, its default parameters); a password is
never stored, logged or recorded. A username that has failed :data:`MAX_FAILURES`
times within :data:`FAILURE_WINDOW_S` seconds (since its last successful login) is
refused until the window has passed, whatever the password: guessing is throttled.
The same happens for usernames that do not exist, and the message never says which.

Examples
--------
>>> from nocilab.store import Store
>>> with Store.open("sqlite://") as store:
...     _ = add_user(store, "jk", "correct horse battery", role="experimenter", actor="pi")
...     authenticate(store, "jk", "correct horse battery").role
'experimenter'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from nocilab.errors import AccountError, AuthenticationError
from nocilab.store import Store
from nocilab.store import _users as su

__all__ = [
    "FAILURE_WINDOW_S",
    "MAX_FAILURES",
    "MIN_PASSWORD",
    "ROLES",
    "User",
    "add_user",
    "authenticate",
    "check_role",
    "check_username",
    "disable_user",
    "enable_user",
    "find_user",
    "get_user",
    "list_users",
    "record_logout",
    "reset_password",
    "set_role",
]

ROLES = su.ROLES
MIN_PASSWORD = 10
"""Shortest password accepted (characters)."""
MAX_FAILURES = 5
FAILURE_WINDOW_S = 15 * 60
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")

_hasher = PasswordHasher()
_DUMMY_HASH: str | None = None  # verified against for unknown users (same timing)
REFUSED = "wrong username or password"


@dataclass(frozen=True)
class User:
    """An account as the rest of nocilab sees it (no password hash).

    ``stamp`` changes whenever the password changes: a web session records it at login
    and ends when it no longer matches.
    """

    username: str
    role: str
    disabled: bool
    created_by: str
    created_at: str
    stamp: str


def _user(row: su.UserRow) -> User:
    return User(username=row.username, role=row.role, disabled=row.disabled,
                created_by=row.created_by, created_at=row.created_at,
                stamp=su.password_digest(row.password_hash)[:16])


def check_username(username: str) -> str:
    """``username`` if it is usable as one, else AccountError saying what is allowed."""
    if not isinstance(username, str) or not USERNAME.match(username):
        raise AccountError(f"the username {username!r} is not usable: use 1 to 64 letters, "
                           "digits and . _ @ - (starting with a letter or digit)")
    return username


def _check_password(password: str, username: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")
    if password.strip().lower() == username.lower():
        raise AccountError("the password must not be the username")
    return password


def check_role(role: str) -> str:
    """``role`` if it is one of :data:`ROLES`, else AccountError listing them."""
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}: expected one of {', '.join(ROLES)}")
    return role


# ------------------------------------------------------------------------- managing

def add_user(store: Store, username: str, password: str, *, role: str, actor: str) -> User:
    """Add an account (audited ``add``).

    Raises
    ------
    AccountError
        The username is taken or not usable, the role unknown, the password too short.
    """
    check_username(username)
    check_role(role)
    digest = _hasher.hash(_check_password(password, username))
    with store.transaction() as tx:
        row = su.insert_user(tx, username=username, role=role, password_hash=digest,
                             actor=actor)
    return _user(row)


def list_users(store: Store) -> list[User]:
    """Every account, oldest first."""
    return [_user(r) for r in su.all_users(store)]


def find_user(store: Store, username: str) -> User | None:
    """The account ``username``, or None."""
    row = su.get_user(store, username)
    return None if row is None else _user(row)


def get_user(store: Store, username: str) -> User:
    """The account ``username``; AccountError when there is none."""
    row = su.get_user(store, username)
    if row is None:
        raise AccountError(f"no user {username!r} in this study (see `nocilab users list`)")
    return _user(row)


def set_role(store: Store, username: str, role: str, *, actor: str,
             reason: str | None = None) -> User:
    """Give an account another role (audited ``set_role``)."""
    check_role(role)
    with store.transaction() as tx:
        return _user(su.update_user(tx, username, action="set_role", role=role, actor=actor,
                                    reason=reason))


def disable_user(store: Store, username: str, *, actor: str,
                 reason: str | None = None) -> User:
    """Disable an account (audited ``disable``): it can no longer log in, and its open
    web sessions end at their next request. The account and its history stay."""
    with store.transaction() as tx:
        return _user(su.update_user(tx, username, action="disable", disabled=True,
                                    actor=actor, reason=reason))


def enable_user(store: Store, username: str, *, actor: str,
                reason: str | None = None) -> User:
    """Enable a disabled account again (audited ``enable``)."""
    with store.transaction() as tx:
        return _user(su.update_user(tx, username, action="enable", disabled=False,
                                    actor=actor, reason=reason))


def reset_password(store: Store, username: str, password: str, *, actor: str,
                   reason: str | None = None) -> User:
    """Give an account a new password (audited ``reset_password``; the hash's SHA-256
    is recorded, never the password). Open web sessions of the account end."""
    get_user(store, username)
    digest = _hasher.hash(_check_password(password, username))
    with store.transaction() as tx:
        return _user(su.update_user(tx, username, action="reset_password",
                                    password_hash=digest, actor=actor, reason=reason))


# ------------------------------------------------------------------------- logging in

def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _hasher.hash("nocilab: no such user, never a password")
    return _DUMMY_HASH


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def authenticate(store: Store, username: str, password: str, *, client: str = "",
                 now: datetime | None = None) -> User:
    """Check a login; audited as ``login`` or ``login_failed`` (entity ``login``).

    Parameters
    ----------
    store : Store
    username, password : str
        As typed.
    client : str
        Where the attempt came from (an IP address), recorded with a failure.
    now : datetime, optional
        The time of the attempt (UTC; default now), for the throttle.

    Returns
    -------
    User

    Raises
    ------
    AuthenticationError
        Wrong username or password, a disabled account, or too many failures: the
        message is the same for a wrong password and an unknown or disabled user;
        ``retry_after_s`` is set when the attempt was throttled (and the password was
        not even checked).
    """
    if not isinstance(username, str) or not username.strip() or not isinstance(password, str):
        raise AuthenticationError(REFUSED)
    username = username.strip()[:128]
    now = now or datetime.now(UTC)
    since = (now - timedelta(seconds=FAILURE_WINDOW_S)).isoformat(timespec="microseconds")
    failures = su.login_failures_since(store, username, since)
    if len(failures) >= MAX_FAILURES:
        opened = datetime.fromisoformat(failures[-MAX_FAILURES]) + timedelta(
            seconds=FAILURE_WINDOW_S)
        wait = max(1, int((opened - now).total_seconds()) + 1)
        store.append_event("login_refused", su.LOGIN_ENTITY, username, actor=username,
                           after={"username": username, "client": client,
                                  "why": f"{len(failures)} failed logins in "
                                         f"{FAILURE_WINDOW_S // 60} minutes"})
        minutes = (wait + 59) // 60
        raise AuthenticationError(
            f"too many failed logins for this username: try again in {minutes} minute"
            f"{'s' if minutes != 1 else ''}", retry_after_s=wait)
    row = su.get_user(store, username)
    ok = _verify(row.password_hash if row is not None else _dummy_hash(), password)
    why = ("unknown user" if row is None else "wrong password" if not ok else
           "account disabled" if row.disabled else "")
    if why:
        store.append_event("login_failed", su.LOGIN_ENTITY, username, actor=username,
                           after={"username": username, "client": client, "why": why})
        raise AuthenticationError(REFUSED)
    assert row is not None  # why is "" only for an existing account
    store.append_event("login", su.LOGIN_ENTITY, username, actor=username,
                       after={"username": username, "client": client, "role": row.role})
    return _user(row)


def record_logout(store: Store, username: str, *, why: str = "logged out") -> None:
    """Record the end of a web session (audited ``logout``)."""
    store.append_event("logout", su.LOGIN_ENTITY, username, actor=username,
                       after={"username": username, "why": why})
