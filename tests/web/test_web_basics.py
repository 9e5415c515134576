"""The web app as a person meets it: logging in and out, sessions, error pages."""

from __future__ import annotations

import json
import threading
import time

import httpx2 as httpx
import pytest
import uvicorn
from _web_helpers import PASSWORDS, csrf_of, login
from fastapi.testclient import TestClient

from nocilab import accounts
from nocilab.cli import main
from nocilab.store import Store
from nocilab.web import create_app


def test_anonymous_requests_go_to_the_login_page(client_as):
    anon = client_as(None)
    r = anon.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    r = anon.get("/static/htmx.min.js", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    page = anon.get("/login")
    assert page.status_code == 200 and 'name="password"' in page.text
    assert "<script" not in page.text  # the login page loads no script at all


def test_login_sets_a_signed_httponly_strict_cookie_and_shows_the_study(client_as):
    client = client_as(None)
    r = login(client, "jk")
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"].lower()
    assert "nocilab_session=" in cookie and "httponly" in cookie
    assert "samesite=strict" in cookie and "max-age=14400" in cookie
    assert PASSWORDS["jk"] not in r.headers["set-cookie"]
    page = client.get("/")
    assert page.status_code == 200
    assert "Bench entry test study" in page.text and "blinded" in page.text
    assert "jk (experimenter)" in page.text
    assert '<script src="/static/htmx.min.js"' in page.text
    js = client.get("/static/htmx.min.js")
    assert js.status_code == 200 and js.text.startswith("var htmx=function()")
    assert client.get("/static/other.js").status_code == 404


def test_study_page_shows_progress_per_assay_and_day(client_as, study_folder):
    from nocilab.model import load_study

    study = load_study(study_folder)
    with Store.open(study.database_url()) as store:
        from nocilab.bench import enter_reading, session_animals

        first = session_animals(study, store, "body_weight", -1)[0]
        enter_reading(study, store, code=first.code, assay="body_weight", study_day=-1,
                      trial=1, values={"weight_g": "21.5"}, actor="jk", token="t" * 32)
    page = client_as("viewer").get("/").text
    assert "1 / 8 done" in page and "7 missing" in page and "0 / 8 done" in page
    assert "2026-01-04" in page and "late" in page  # day -1 of a study started 2026-01-05


def test_wrong_passwords_are_refused_audited_and_throttled(client_as, app):
    client = client_as(None)
    for _ in range(accounts.MAX_FAILURES):
        r = login(client, "jk", "not the password")
        assert r.status_code == 401 and "wrong username or password" in r.text
    r = login(client, "jk")  # the right password, but throttled
    assert r.status_code == 429 and "too many failed logins" in r.text
    assert int(r.headers["retry-after"]) > 0
    events = app.state.web.store.audit_events(entity="login")
    assert list(events["action"]) == ["login_failed"] * accounts.MAX_FAILURES + ["login_refused"]
    assert json.loads(events["after"].iloc[0])["client"] == "testclient"
    assert "not the password" not in app.state.web.store.audit_events().to_json()


def test_posts_without_the_csrf_token_are_refused(client_as):
    anon = client_as(None)
    r = anon.post("/login", data={"username": "jk", "password": PASSWORDS["jk"]})
    assert r.status_code == 403 and "Form refused" in r.text
    client = client_as("experimenter")
    r = client.post("/logout", data={"csrf_token": "forged"}, follow_redirects=False)
    assert r.status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 200  # still logged in
    token = csrf_of(client.get("/").text)
    r = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_disabled_users_session_ends(client_as, app):
    client = client_as("experimenter")
    assert client.get("/", follow_redirects=False).status_code == 200
    accounts.disable_user(app.state.web.store, "jk", actor="pi", reason="left the lab")
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert "your account has been disabled" in client.get("/login").text
    assert client.get("/", follow_redirects=False).status_code == 303
    ended = app.state.web.store.audit_events(entity="login").iloc[-1]
    assert ended["action"] == "logout" and "disabled" in ended["after"]
    r = login(client, "jk")
    assert r.status_code == 401  # and it cannot log in again


def test_a_password_reset_ends_open_sessions(client_as, app):
    client = client_as("analyst")
    accounts.reset_password(app.state.web.store, "an", "a brand new password", actor="pi")
    assert client.get("/", follow_redirects=False).status_code == 303
    assert "your password was changed" in client.get("/login").text


def test_sessions_expire(study_folder):
    app = create_app(study_folder, secret_key="k", absolute_s=0)
    with TestClient(app) as client:
        assert login(client, "vi").status_code == 303
        time.sleep(1.1)
        assert client.get("/", follow_redirects=False).status_code == 303
        assert "your session has expired" in client.get("/login").text
    app.state.web.store.close()


def test_login_never_redirects_off_site(client_as):
    client = client_as(None)
    page = client.get("/login?next=//elsewhere.example/x")
    r = client.post("/login", data={"username": "vi", "password": PASSWORDS["vi"],
                                    "csrf_token": csrf_of(page.text),
                                    "next": "//elsewhere.example/x"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_errors_are_html_pages_never_tracebacks(client_as, monkeypatch):
    client = client_as("viewer")
    r = client.get("/no/such/page")
    assert r.status_code == 404 and "No such page" in r.text and "<html" in r.text
    r = client.put("/", data={})
    assert r.status_code in (403, 405) and "<html" in r.text

    def broken(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr("nocilab.web.pages.schedule_progress", broken)
    r = client.get("/")
    assert r.status_code == 500 and "Internal error" in r.text
    assert "Traceback" not in r.text and "secret internal detail" not in r.text


def test_serve_refuses_a_study_without_an_admin(tmp_path, capsys):
    from _web_study import write_study

    folder = tmp_path / "s"
    write_study(folder)
    code = main(["serve", str(folder)])
    err = capsys.readouterr().err
    assert code == 7 and "no active admin account" in err and "Traceback" not in err


def test_serve_runs_uvicorn_with_the_app(study_folder, monkeypatch, capsys):
    seen = {}

    def fake_run(app, **kwargs):
        seen.update(kwargs, app=app)

    monkeypatch.setattr(uvicorn, "run", fake_run)
    assert main(["serve", str(study_folder), "--port", "8123"]) == 0
    assert seen["host"] == "127.0.0.1" and seen["port"] == 8123
    assert "serves study webtest at http://127.0.0.1:8123/" in capsys.readouterr().out
    seen["app"].state.web.store.close()


def test_a_real_server_logs_in_over_http(study_folder):
    app = create_app(study_folder, secret_key="k")
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10,
                          follow_redirects=True) as client:
            token = csrf_of(client.get("/login").text)
            r = client.post("/login", data={"username": "pi", "password": PASSWORDS["pi"],
                                            "csrf_token": token})
            assert r.status_code == 200 and "pi (admin)" in r.text
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.web.store.close()


def test_demo_creates_accounts_shown_once_that_log_in(tmp_path):
    import io
    import re

    from rich.console import Console

    from nocilab.demo import run_demo

    buffer = io.StringIO()
    run_demo(tmp_path / "demo", analyze=False, console=Console(file=buffer, width=200))
    text = buffer.getvalue()
    logins = dict(re.findall(r"^\s+(demo-\w+)\s+\w+\s+(\S+)$", text, re.M))
    assert set(logins) == {"demo-admin", "demo-experimenter", "demo-analyst"}
    app = create_app(tmp_path / "demo", secret_key="k")
    try:
        with TestClient(app) as client:
            assert login(client, "demo-experimenter", logins["demo-experimenter"]).status_code == 303
            page = client.get("/sessions/paw_pressure/-1")
            assert page.status_code == 200 and "42 done" in page.text
            store = app.state.web.store
            assert [u.role for u in accounts.list_users(store)] == ["admin", "experimenter",
                                                                    "analyst"]
            assert not any(p in store.audit_events().to_json() for p in logins.values())
            assert store.verify_audit().ok
    finally:
        app.state.web.store.close()
