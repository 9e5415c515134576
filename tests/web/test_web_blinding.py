"""Allocation and unblinding in the browser; the passphrase never stored, logged or shown."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import httpx2 as httpx
import pytest
import uvicorn
from _web_helpers import PASSWORDS, USER_OF, csrf_of, login, make_study
from _web_study import PASSPHRASE, SECRET_NAMES
from fastapi.testclient import TestClient

from nocilab.design.blinding import assignments, blinding_state
from nocilab.web import create_app

NEW_PASSPHRASE = "a brand new passphrase 7"


@pytest.fixture
def open_app(tmp_path):
    """The app of a study whose animals are not allocated yet."""
    application = create_app(make_study(tmp_path / "fresh", allocate=False),
                             secret_key="test secret key")
    yield application
    application.state.web.store.close()


def _admin(app) -> TestClient:
    client = TestClient(app, raise_server_exceptions=False)
    assert login(client, "pi").status_code == 303
    return client


def _post(client, url: str, data: dict):
    token = csrf_of(client.get("/admin/allocation").text)
    return client.post(url, data={"csrf_token": token, **data}, follow_redirects=False)


def _no_passphrase_anywhere(app, texts, passphrase: str) -> None:
    store = app.state.web.store
    for text in texts:
        assert passphrase not in text
    assert passphrase not in store.audit_events().to_json()
    path = Path(app.state.web.study.database_url().removeprefix("sqlite:///"))
    files = list(path.parent.glob(path.name + "*"))  # the database and its journal files
    assert path in files and not [f for f in files if passphrase.encode() in f.read_bytes()]


def test_admin_allocates_with_a_typed_passphrase(open_app):
    web = open_app.state.web
    client = _admin(open_app)
    page = client.get("/admin/allocation")
    assert page.status_code == 200 and "not allocated" in page.text
    assert 'name="passphrase" type="password"' in page.text
    r = _post(client, "/admin/allocate", {"passphrase": NEW_PASSPHRASE,
                                          "passphrase_again": NEW_PASSPHRASE, "seed": "7",
                                          "candidates": "50"})
    assert r.status_code == 303
    page = client.get("/admin/allocation").text
    assert "allocation run 1: 8 animals over 4 vials, blinded" in page
    assert blinding_state(web.study, web.store) == "blinded"
    codes = assignments(web.study, web.store, reveal=False)
    assert codes["animal_code"].str.startswith("A-").all()
    event = web.store.audit_events(entity="allocation").iloc[-1]
    assert (event["action"], event["actor"]) == ("allocate", "pi")
    assert not [s for s in SECRET_NAMES if s in page]
    _no_passphrase_anywhere(open_app, [page], NEW_PASSPHRASE)
    # the bench works with the new codes at once
    assert client.get("/sessions/von_frey/-1").status_code == 200


def test_bad_allocations_are_refused_and_nothing_is_stored(open_app):
    web = open_app.state.web
    client = _admin(open_app)
    cases = [
        ({"passphrase_again": "something else 1"}, "the two passphrases differ"),
        ({"passphrase": "short", "passphrase_again": "short"}, "at least 8 characters"),
        ({"seed": "seven"}, "the seed must be a whole number; got &#39;seven&#39;"),
        ({"per_preparation": "0"}, "animals per preparation must be at least 1"),
        ({"candidates": "<b>many</b>"}, "candidates must be a whole number; got "
                                        "&#39;&lt;b&gt;many&lt;/b&gt;&#39;"),
    ]
    for fields, message in cases:
        data = {"passphrase": NEW_PASSPHRASE, "passphrase_again": NEW_PASSPHRASE, **fields}
        r = _post(client, "/admin/allocate", data)
        assert r.status_code == 400 and message in r.text, (fields, r.text[-2000:])
        assert 'name="passphrase" type="password" autocomplete="new-password" required>' \
            in r.text  # typed again: never written back into the page
        _no_passphrase_anywhere(open_app, [r.text], NEW_PASSPHRASE)
    r = client.post("/admin/allocate", data={"csrf_token": csrf_of(client.get("/").text)})
    assert r.status_code == 400 and "passphrase" in r.text
    assert blinding_state(web.study, web.store) == "not allocated"


def test_reallocation_needs_replace_and_a_reason(app):
    client = _admin(app)
    data = {"passphrase": NEW_PASSPHRASE, "passphrase_again": NEW_PASSPHRASE,
            "candidates": "20"}
    r = _post(client, "/admin/allocate", data)
    assert r.status_code == 400 and "already allocated (run 1" in r.text
    r = _post(client, "/admin/allocate", {**data, "replace": "1"})
    assert r.status_code == 400 and "needs --reason" in r.text
    r = _post(client, "/admin/allocate", {**data, "replace": "1", "reason": "cage flooded"})
    assert r.status_code == 303
    assert "replaces allocation run 1" in client.get("/admin/allocation").text


def test_unblinding_with_the_passphrase_and_a_reason(app):
    web = app.state.web
    client = _admin(app)
    r = _post(client, "/admin/unblind", {"passphrase": "not the passphrase", "reason": "x"})
    assert r.status_code == 400 and "wrong passphrase" in r.text
    r = _post(client, "/admin/unblind", {"passphrase": PASSPHRASE, "reason": " "})
    assert r.status_code == 400 and "needs a reason" in r.text
    assert blinding_state(web.study, web.store) == "blinded"
    r = _post(client, "/admin/unblind", {"passphrase": PASSPHRASE, "reason": "all entered"})
    assert r.status_code == 303
    page = client.get("/admin/allocation").text
    assert "unblinded (allocation run 1) by pi" in page and "all entered" in page
    assert blinding_state(web.study, web.store) == "unblinded"
    r = _post(client, "/admin/unblind", {"passphrase": PASSPHRASE, "reason": "again"})
    assert r.status_code == 400  # the form is gone and the library refuses
    _no_passphrase_anywhere(app, [page, r.text], PASSPHRASE)
    assert web.store.verify_audit().ok


def test_others_cannot_allocate_or_unblind(app, client_as):
    for role in ("experimenter", "analyst", "viewer"):
        client = client_as(role)
        assert client.get("/admin/allocation").status_code == 403
        token = csrf_of(client.get("/").text)
        r = client.post("/admin/unblind", data={"csrf_token": token, "passphrase": PASSPHRASE,
                                                "reason": "curious"})
        assert r.status_code == 403
    assert blinding_state(app.state.web.study, app.state.web.store) == "blinded"


def test_the_passphrase_never_reaches_the_servers_log(study_folder, caplog):
    """A real uvicorn with its access log on: the passphrase is in no log record."""
    caplog.set_level(logging.DEBUG)
    app = create_app(study_folder, secret_key="k")
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="debug",
                            access_log=True, log_config=None)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30,
                          follow_redirects=True) as client:
            token = csrf_of(client.get("/login").text)
            client.post("/login", data={"username": USER_OF["admin"],
                                        "password": PASSWORDS["pi"], "csrf_token": token})
            token = csrf_of(client.get("/admin/allocation").text)
            wrong = client.post("/admin/unblind", data={"csrf_token": token,
                                                        "passphrase": PASSPHRASE + "x",
                                                        "reason": "try"})
            assert wrong.status_code == 400
            r = client.post("/admin/unblind", data={"csrf_token": token,
                                                    "passphrase": PASSPHRASE,
                                                    "reason": "all entered"})
            assert r.status_code == 200 and "unblinded" in r.text
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.web.store.close()
    access = [r for r in caplog.records if r.name == "uvicorn.access"]
    assert any("POST /admin/unblind" in r.getMessage() for r in access)  # the log is on
    logged = "\n".join(r.getMessage() + repr(r.args) for r in caplog.records)
    assert PASSPHRASE not in logged and PASSWORDS["pi"] not in logged
