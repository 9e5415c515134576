"""The admin's users page: the same audited account changes as ``nocilab users``."""

from __future__ import annotations

import json

from _web_helpers import csrf_of, login

from nocilab import accounts

NEW_PASSWORD = "a new password 42"


def _post(client, url: str, data: dict, *, page: str = "/admin/users"):
    token = csrf_of(client.get(page).text)
    return client.post(url, data={"csrf_token": token, **data}, follow_redirects=False)


def test_only_admins_reach_the_users_page(client_as):
    for role in ("experimenter", "analyst", "viewer"):
        r = client_as(role).get("/admin/users")
        assert r.status_code == 403 and "Not for your role" in r.text
    page = client_as("admin").get("/admin/users")
    assert page.status_code == 200
    for name in ("pi", "jk", "an", "vi"):
        assert f"<strong>{name}</strong>" in page.text
    assert "$argon2" not in page.text  # no hash on the page


def test_admin_adds_a_user_who_can_then_log_in(client_as, app):
    admin = client_as("admin")
    r = _post(admin, "/admin/users", {"username": "mo", "role": "experimenter",
                                      "password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert r.status_code == 303 and r.headers["location"] == "/admin/users"
    page = admin.get("/admin/users").text
    assert "Added user mo (experimenter)." in page and NEW_PASSWORD not in page
    event = app.state.web.store.audit_events(entity="user").iloc[-1]
    assert (event["action"], event["actor"], event["entity_id"]) == ("add", "pi", "mo")
    assert NEW_PASSWORD not in app.state.web.store.audit_events().to_json()
    assert login(client_as(None), "mo", NEW_PASSWORD).status_code == 303


def test_bad_new_users_are_refused_with_the_reason_and_nothing_added(client_as, app):
    admin = client_as("admin")
    store = app.state.web.store
    n = len(accounts.list_users(store))
    cases = [
        ({"username": "jk", "role": "viewer"}, "a user &#39;jk&#39; already exists"),
        ({"username": "mo", "role": "wizard"}, "unknown role &#39;wizard&#39;: expected one of "
                                               "admin, experimenter, analyst, viewer"),
        ({"username": "no spaces", "role": "viewer"}, "is not usable"),
        ({"username": "mo", "role": "viewer", "password": "short"}, "at least 10 characters"),
        ({"username": "mo", "role": "viewer", "password_again": "something else 1"},
         "the two passwords differ"),
    ]
    for fields, message in cases:
        data = {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD, **fields}
        if "password" in fields and "password_again" not in fields:
            data["password_again"] = fields["password"]
        r = _post(admin, "/admin/users", data)
        assert r.status_code == 400 and message in r.text, (fields, r.text)
        assert NEW_PASSWORD not in r.text and "Traceback" not in r.text
    r = _post(admin, "/admin/users", {"username": "mo"})  # no role, no password
    assert r.status_code == 400 and "role" in r.text
    assert len(accounts.list_users(store)) == n


def test_disable_ends_the_users_sessions_and_enable_lets_them_back(client_as, app):
    jk = client_as("experimenter")
    assert jk.get("/").status_code == 200
    admin = client_as("admin")
    r = _post(admin, "/admin/users/jk/disable", {"reason": "left the lab"})
    assert r.status_code == 303
    assert "User jk disabled" in admin.get("/admin/users").text
    r = jk.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert login(client_as(None), "jk").status_code == 401
    event = app.state.web.store.audit_events(entity="user").iloc[-1]
    assert (event["action"], event["actor"], event["reason"]) == ("disable", "pi", "left the lab")
    r = _post(admin, "/admin/users/jk/disable", {})
    assert r.status_code == 400 and "already disabled" in r.text
    assert _post(admin, "/admin/users/jk/enable", {}).status_code == 303
    assert login(client_as(None), "jk").status_code == 303


def test_set_role_and_reset_password(client_as, app):
    admin = client_as("admin")
    an = client_as("analyst")
    assert _post(admin, "/admin/users/an/role", {"role": "viewer"}).status_code == 303
    assert accounts.get_user(app.state.web.store, "an").role == "viewer"
    r = _post(admin, "/admin/users/an/role", {"role": "viewer"})
    assert r.status_code == 400 and "already has the role viewer" in r.text
    r = _post(admin, "/admin/users/an/password", {"password": NEW_PASSWORD,
                                                   "password_again": NEW_PASSWORD,
                                                   "reason": "forgotten"})
    assert r.status_code == 303
    assert an.get("/", follow_redirects=False).status_code == 303  # the old session ended
    assert login(client_as(None), "an").status_code == 401
    assert login(client_as(None), "an", NEW_PASSWORD).status_code == 303
    events = app.state.web.store.audit_events(entity="user")
    last = events.iloc[-1]
    assert (last["action"], last["actor"], last["reason"]) == ("reset_password", "pi",
                                                               "forgotten")
    assert "password_sha256" in json.loads(last["after"])
    assert app.state.web.store.verify_audit().ok


def test_unknown_users_and_self_lockout_are_refused(client_as):
    admin = client_as("admin")
    r = _post(admin, "/admin/users/nobody/disable", {})
    assert r.status_code == 400 and "no user &#39;nobody&#39;" in r.text
    r = _post(admin, "/admin/users/nobody/password", {"password": NEW_PASSWORD,
                                                       "password_again": NEW_PASSWORD})
    assert r.status_code == 400 and "no user &#39;nobody&#39;" in r.text
    r = _post(admin, "/admin/users/pi/disable", {})
    assert r.status_code == 400 and "cannot disable your own account" in r.text
    r = _post(admin, "/admin/users/pi/role", {"role": "viewer"})
    assert r.status_code == 400 and "cannot take the admin role from your own" in r.text
    assert admin.get("/admin/users").status_code == 200  # still an admin


def test_user_names_and_reasons_are_escaped(client_as):
    admin = client_as("admin")
    payload = "<script>alert(1)</script>"
    r = _post(admin, "/admin/users", {"username": payload, "role": "viewer",
                                      "password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert r.status_code == 400 and payload not in r.text and "&lt;script&gt;" in r.text
