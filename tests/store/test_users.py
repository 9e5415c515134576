"""Accounts: the users table, its audit events, logins and the throttle, tampering found."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from _store_helpers import run_sql
from argon2 import PasswordHasher

from nocilab import accounts
from nocilab.errors import AccountError, AuthenticationError
from nocilab.store import Store, migrate_url

PW = "correct horse battery"


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    """argon2 with small costs: the tests check logic, not the hash's strength."""
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=64,
                                                            parallelism=1))
    monkeypatch.setattr(accounts, "_DUMMY_HASH", None)


@pytest.fixture
def store(store_url):
    with Store.open(store_url) as s:
        yield s


def _events(store, entity):
    ev = store.audit_events(entity=entity)
    return ev.to_dict("records")


def test_add_list_and_authenticate_with_audit_events(store):
    u = accounts.add_user(store, "jk", PW, role="experimenter", actor="pi")
    assert (u.username, u.role, u.disabled, u.created_by) == ("jk", "experimenter", False, "pi")
    assert [x.username for x in accounts.list_users(store)] == ["jk"]
    assert accounts.authenticate(store, "jk", PW, client="127.0.0.1").role == "experimenter"
    (add,) = _events(store, "user")
    assert (add["action"], add["entity_id"], add["actor"]) == ("add", "jk", "pi")
    after = json.loads(add["after"])
    assert after["role"] == "experimenter" and len(after["password_sha256"]) == 64
    (login,) = _events(store, "login")
    assert (login["action"], login["actor"]) == ("login", "jk")
    # neither the password nor its hash is anywhere in the trail
    trail = store.audit_events().to_json()
    stored_hash = accounts.su.get_user(store, "jk").password_hash
    assert PW not in trail and stored_hash not in trail
    assert stored_hash.startswith("$argon2id$")
    assert store.verify_audit().ok


def test_errors_are_clear(store):
    accounts.add_user(store, "jk", PW, role="viewer", actor="pi")
    with pytest.raises(AccountError, match="a user 'jk' already exists"):
        accounts.add_user(store, "jk", PW, role="viewer", actor="pi")
    with pytest.raises(AccountError, match="no user 'nobody'"):
        accounts.disable_user(store, "nobody", actor="pi")
    with pytest.raises(AccountError, match="unknown role 'boss': expected one of admin, "
                                           "experimenter, analyst, viewer"):
        accounts.add_user(store, "amy", PW, role="boss", actor="pi")
    with pytest.raises(AccountError, match="at least 10 characters"):
        accounts.add_user(store, "amy", "short", role="viewer", actor="pi")
    with pytest.raises(AccountError, match="not usable"):
        accounts.add_user(store, "<script>", PW, role="viewer", actor="pi")
    with pytest.raises(AccountError, match="already has the role viewer"):
        accounts.set_role(store, "jk", "viewer", actor="pi")
    assert len(accounts.list_users(store)) == 1
    assert store.verify_audit().ok


def test_disable_enable_role_and_password_changes(store):
    accounts.add_user(store, "jk", PW, role="experimenter", actor="pi")
    stamp = accounts.get_user(store, "jk").stamp
    accounts.disable_user(store, "jk", actor="pi", reason="left the lab")
    with pytest.raises(AuthenticationError, match="^wrong username or password$"):
        accounts.authenticate(store, "jk", PW)
    with pytest.raises(AccountError, match="already disabled"):
        accounts.disable_user(store, "jk", actor="pi")
    accounts.enable_user(store, "jk", actor="pi")
    assert accounts.set_role(store, "jk", "analyst", actor="pi").role == "analyst"
    new = accounts.reset_password(store, "jk", "another long secret", actor="pi")
    assert new.stamp != stamp
    with pytest.raises(AuthenticationError):
        accounts.authenticate(store, "jk", PW)
    assert accounts.authenticate(store, "jk", "another long secret").role == "analyst"
    events = _events(store, "user")
    assert [e["action"] for e in events] == ["add", "disable", "enable", "set_role",
                                             "reset_password"]
    assert events[1]["reason"] == "left the lab"
    for e in events[1:]:  # each change records the account before and after
        before, after = json.loads(e["before"]), json.loads(e["after"])
        assert before["username"] == after["username"] == "jk"
    assert json.loads(events[3]["before"])["role"] == "experimenter"
    assert json.loads(events[3]["after"])["role"] == "analyst"
    assert store.verify_audit().ok


def test_failed_logins_are_audited_and_throttled(store):
    accounts.add_user(store, "jk", PW, role="experimenter", actor="pi")
    for _ in range(accounts.MAX_FAILURES):
        with pytest.raises(AuthenticationError) as err:
            accounts.authenticate(store, "jk", "guess guess guess", client="10.0.0.9")
        assert err.value.retry_after_s is None
    # the right password is refused too while throttled, and not even checked
    with pytest.raises(AuthenticationError, match="too many failed logins") as err:
        accounts.authenticate(store, "jk", PW)
    assert 0 < err.value.retry_after_s <= accounts.FAILURE_WINDOW_S + 1
    actions = [e["action"] for e in _events(store, "login")]
    assert actions == ["login_failed"] * accounts.MAX_FAILURES + ["login_refused"]
    failed = json.loads(_events(store, "login")[0]["after"])
    assert failed == {"client": "10.0.0.9", "username": "jk", "why": "wrong password"}
    # once the window has passed the account opens again, and a success resets the count
    later = datetime.now(UTC) + timedelta(seconds=accounts.FAILURE_WINDOW_S + 5)
    assert accounts.authenticate(store, "jk", PW, now=later).username == "jk"
    with pytest.raises(AuthenticationError, match="^wrong username or password$"):
        accounts.authenticate(store, "jk", "guess guess guess")
    assert store.verify_audit().ok


def test_unknown_users_are_refused_the_same_way_and_throttled(store):
    for _ in range(accounts.MAX_FAILURES):
        with pytest.raises(AuthenticationError, match="^wrong username or password$"):
            accounts.authenticate(store, "ghost", PW)
    with pytest.raises(AuthenticationError, match="too many failed logins"):
        accounts.authenticate(store, "ghost", PW)
    whys = [json.loads(e["after"]).get("why") for e in _events(store, "login")]
    assert whys[:accounts.MAX_FAILURES] == ["unknown user"] * accounts.MAX_FAILURES


@pytest.mark.parametrize("case", ["role", "password", "disabled", "extra row", "removed row"])
def test_users_changed_behind_the_stores_back_are_found(store_url, case):
    with Store.open(store_url) as s:
        accounts.add_user(s, "pi", PW, role="admin", actor="setup")
        accounts.add_user(s, "jk", PW, role="experimenter", actor="pi")
        accounts.disable_user(s, "jk", actor="pi")
        assert s.verify_audit().ok
    sql = {
        "role": "UPDATE users SET role = 'admin' WHERE username = 'jk'",
        "password": "UPDATE users SET password_hash = 'x' WHERE username = 'pi'",
        "disabled": "UPDATE users SET disabled = false WHERE username = 'jk'",
        "extra row": "INSERT INTO users VALUES (9, 'mallory', 'admin', 'x', false, 'pi', "
                     "'2026-01-01T00:00:00+00:00')",
        "removed row": "DELETE FROM users WHERE username = 'pi'",
    }[case]
    run_sql(store_url, sql)
    with Store.open(store_url) as s:
        report = s.verify_audit()
    assert not report.ok
    expected = {"role": (3, "users row 'jk' does not match the audit trail: role is 'admin'"),
                "password": (1, "users row 'pi' does not match the audit trail: its password "
                                "hash is not the one audit event 1 records"),
                "disabled": (3, "users row 'jk' does not match the audit trail: disabled is "
                                "False"),
                "extra row": (None, "users row 'mallory' has no audit event"),
                "removed row": (1, "users row 'pi' is missing")}[case]
    assert report.first_broken_id == expected[0]
    assert expected[1] in report.why


def test_a_forged_user_event_is_found(store):
    accounts.add_user(store, "pi", PW, role="admin", actor="setup")
    store.append_event("set_role", "user", "pi", actor="mallory",
                       before={"username": "pi", "role": "viewer"},
                       after={"username": "pi", "role": "viewer"})
    report = store.verify_audit()
    assert not report.ok and report.first_broken_id == 2
    assert "its 'before' is not user 'pi' as the earlier events left it" in report.why


def test_users_table_comes_and_goes_with_its_migration(sqlite_url):
    migrate_url(sqlite_url, "0002_allocation")
    with Store.open(sqlite_url) as s:  # opening upgrades to the users revision
        accounts.add_user(s, "pi", PW, role="admin", actor="setup")
    migrate_url(sqlite_url, "0002_allocation", down=True)
    with Store.open(sqlite_url) as s:
        assert accounts.list_users(s) == []
