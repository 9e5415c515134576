"""The store's ``users`` table: accounts, written only together with their audit events.

What is stored and what is audited
----------------------------------
One row per account: ``id``, ``username`` (unique), ``role``, ``password_hash`` (argon2,
made by :mod:`nocilab.accounts`; the store never sees a password), ``disabled``,
``created_by``, ``created_at``. Rows are never deleted.

Every write is one audit event of entity ``user`` (``entity_id``: the username) whose
``after`` is the whole row as it is now and whose ``before`` is the row as it was (None
for ``add``). The password hash itself is not copied into the trail (a page that shows
the trail would show it); the event carries its SHA-256 (``password_sha256``), so that
replaying the events (:func:`replay_findings`, run by ``audit verify``) finds a hash, a
role or a disabled flag changed behind the store's back.

Actions: ``add``, ``set_role``, ``disable``, ``enable``, ``reset_password``.

Logins are audit events too (entity ``login``, ``entity_id`` the username as typed,
actions ``login``, ``login_failed``, ``logout``); they change no table, so the chain
check covers them and nothing needs replaying. :func:`login_failures_since` reads them
back to throttle guessing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from nocilab.errors import AccountError
from nocilab.store import _tables as t
from nocilab.store._audit import utc_now
from nocilab.store._store import Store
from nocilab.store._transaction import Transaction, require_text

ROLES = ("admin", "experimenter", "analyst", "viewer")
"""The roles, most privileged first."""

ENTITY = "user"
LOGIN_ENTITY = "login"
ACTIONS = ("add", "set_role", "disable", "enable", "reset_password")

users = sa.Table(
    "users",
    t.metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("username", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.UniqueConstraint("username"),
    sa.CheckConstraint("role IN ({})".format(", ".join(f"'{r}'" for r in ROLES)),
                       name="role"),
)

_STATE_FIELDS = ("id", "username", "role", "disabled", "created_by", "created_at")


@dataclass(frozen=True)
class UserRow:
    """One row of ``users`` (with the password hash: for :mod:`nocilab.accounts` only)."""

    id: int
    username: str
    role: str
    password_hash: str
    disabled: bool
    created_by: str
    created_at: str


def password_digest(password_hash: str) -> str:
    """SHA-256 of a stored password hash: what the audit trail records of it."""
    return hashlib.sha256(password_hash.encode("utf-8")).hexdigest()


def _state(row: UserRow) -> dict[str, Any]:
    return {"id": row.id, "username": row.username, "role": row.role,
            "disabled": row.disabled, "created_by": row.created_by,
            "created_at": row.created_at, "password_sha256": password_digest(row.password_hash)}


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}: expected one of {', '.join(ROLES)}")
    return role


def _row(r: Any) -> UserRow:
    return UserRow(id=int(r.id), username=str(r.username), role=str(r.role),
                   password_hash=str(r.password_hash), disabled=bool(r.disabled),
                   created_by=str(r.created_by), created_at=str(r.created_at))


def _find(conn: sa.Connection, username: str) -> UserRow | None:
    r = conn.execute(sa.select(users).where(users.c.username == username)).one_or_none()
    return None if r is None else _row(r)


# ----------------------------------------------------------------------------- writing

def insert_user(tx: Transaction, *, username: str, role: str, password_hash: str,
                actor: str) -> UserRow:
    """Add an account and its ``add`` event; AccountError when the username is taken."""
    username = require_text(username, "the username")
    actor = require_text(actor, "actor")
    password_hash = require_text(password_hash, "the password hash")
    _check_role(role)
    conn = tx.connection
    if _find(conn, username) is not None:
        raise AccountError(f"a user {username!r} already exists; choose another name (or "
                         f"`nocilab users reset-password` to give {username!r} a new password)")
    row = UserRow(id=tx.next_id(users), username=username, role=role,
                  password_hash=password_hash, disabled=False, created_by=actor,
                  created_at=utc_now())
    conn.execute(users.insert(), [{
        "id": row.id, "username": row.username, "role": row.role,
        "password_hash": row.password_hash, "disabled": row.disabled,
        "created_by": row.created_by, "created_at": row.created_at}])
    tx.append_event("add", ENTITY, username, actor=actor, after=_state(row))
    return row


def update_user(tx: Transaction, username: str, *, action: str, actor: str,
                role: str | None = None, password_hash: str | None = None,
                disabled: bool | None = None, reason: str | None = None) -> UserRow:
    """Change an account (role, password hash, disabled flag) and append its event.

    ``action`` is one of ``set_role``, ``disable``, ``enable``, ``reset_password``.
    AccountError for an unknown user or a change that changes nothing.
    """
    if action not in ACTIONS[1:]:
        raise AccountError(f"unknown user action {action!r}: expected one of "
                         f"{', '.join(ACTIONS[1:])}")
    actor = require_text(actor, "actor")
    conn = tx.connection
    old = _find(conn, username)
    if old is None:
        raise AccountError(f"no user {username!r} in this study (see `nocilab users list`)")
    changes: dict[str, Any] = {}
    if role is not None:
        changes["role"] = _check_role(role)
    if password_hash is not None:
        changes["password_hash"] = require_text(password_hash, "the password hash")
    if disabled is not None:
        changes["disabled"] = bool(disabled)
    if all(getattr(old, k) == v for k, v in changes.items()):
        what = {"set_role": f"already has the role {role}",
                "disable": "is already disabled", "enable": "is not disabled",
                "reset_password": "already has this password hash"}[action]
        raise AccountError(f"user {username!r} {what}; nothing was changed")
    conn.execute(users.update().where(users.c.id == old.id).values(**changes))
    new = UserRow(**{**old.__dict__, **changes})
    tx.append_event(action, ENTITY, username, actor=actor, before=_state(old),
                    after=_state(new), reason=reason)
    return new


# ----------------------------------------------------------------------------- reading

def get_user(store: Store, username: str) -> UserRow | None:
    """The account ``username``, or None."""
    with store._reading() as conn:
        return _find(conn, username)


def all_users(store: Store) -> list[UserRow]:
    """Every account, in the order they were created."""
    with store._reading() as conn:
        return [_row(r) for r in conn.execute(sa.select(users).order_by(users.c.id))]


def login_failures_since(store: Store, username: str, since: str) -> list[str]:
    """Times of the failed logins as ``username`` after ``since`` (ISO text) and after
    its last successful login, oldest first."""
    a = t.audit_events
    about = (a.c.entity == LOGIN_ENTITY) & (a.c.entity_id == username)
    with store._reading() as conn:
        last_ok = conn.execute(sa.select(sa.func.max(a.c.id))
                               .where(about, a.c.action == "login")).scalar()
        stmt = (sa.select(a.c.at).where(about, a.c.action == "login_failed", a.c.at > since)
                .order_by(a.c.id))
        if last_ok is not None:
            stmt = stmt.where(a.c.id > last_ok)
        return [str(at) for at in conn.execute(stmt).scalars()]


# ----------------------------------------------------------------------------- verify

def replay_findings(conn: sa.Connection,
                    events: Sequence[Any]) -> list[tuple[int | None, str]]:
    """Check the ``users`` table against the ``user`` events (see the module docstring).

    Each event's ``before`` must be the account as the earlier events left it; the
    table must hold exactly the accounts the events leave, field by field (the password
    hash by its SHA-256). Returns ``(event id or None, why)`` pairs.
    """
    expected: dict[str, dict[str, Any]] = {}
    last: dict[str, int] = {}
    for ev in events:
        if ev.entity != ENTITY:
            continue
        try:
            before = None if ev.before is None else json.loads(ev.before)
            after = json.loads(ev.after or "null")
        except ValueError:
            return [(ev.id, "it is not a well-formed user event")]
        if (ev.action not in ACTIONS or not isinstance(after, dict)
                or after.get("username") != ev.entity_id):
            return [(ev.id, "it is not a well-formed user event")]
        prior = expected.get(ev.entity_id)
        if ev.action == "add":
            if prior is not None:
                return [(ev.id, f"it adds user {ev.entity_id!r} a second time (first added "
                                f"by event {last[ev.entity_id]})")]
        elif before != prior:
            return [(ev.id, f"its 'before' is not user {ev.entity_id!r} as the earlier "
                            "events left it")]
        expected[ev.entity_id] = after
        last[ev.entity_id] = ev.id
    out: list[tuple[int | None, str]] = []
    actual = {r.username: _row(r) for r in conn.execute(sa.select(users)).all()}
    for name, want in expected.items():
        row = actual.get(name)
        if row is None:
            out.append((last[name], f"users row {name!r} is missing, though audit event "
                                    f"{last[name]} records it"))
            continue
        have = _state(row)
        for field in (*_STATE_FIELDS, "password_sha256"):
            if have[field] != want.get(field):
                shown = (f"its password hash is not the one audit event {last[name]} "
                         "records" if field == "password_sha256" else
                         f"{field} is {have[field]!r} but audit event {last[name]} leaves it "
                         f"{want.get(field)!r}")
                out.append((last[name], f"users row {name!r} does not match the audit "
                                        f"trail: {shown}"))
                break
    for name in sorted(actual.keys() - expected.keys()):
        out.append((None, f"users row {name!r} has no audit event: it was written behind "
                          "the store's back"))
    return out
