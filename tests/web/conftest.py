"""Fixtures of the web tests: a blinded study with one account per role, and clients."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _web_study import FAST_KDF, PASSPHRASE, write_study  # noqa: E402

from nocilab import accounts  # noqa: E402
from nocilab.design.blinding import allocate_study  # noqa: E402
from nocilab.store import Store  # noqa: E402
from nocilab.web import create_app  # noqa: E402

PASSWORDS = {"pi": "pi password 123", "jk": "jk password 123", "an": "an password 123",
             "vi": "vi password 123"}
ROLE_OF = {"pi": "admin", "jk": "experimenter", "an": "analyst", "vi": "viewer"}
USER_OF = {role: name for name, role in ROLE_OF.items()}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    """argon2 with small costs: the tests check logic, not the hash's strength."""
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=64,
                                                            parallelism=1))
    monkeypatch.setattr(accounts, "_DUMMY_HASH", None)


def make_study(folder: Path) -> Path:
    """A blinded study with an account per role; returns its folder."""
    study = write_study(folder)
    with Store.open(study.database_url()) as store:
        allocate_study(study, store, passphrase=PASSPHRASE, actor="pi", seed=11,
                       kdf_n=FAST_KDF)
        for name, role in ROLE_OF.items():
            accounts.add_user(store, name, PASSWORDS[name], role=role, actor="setup")
    return folder


@pytest.fixture
def study_folder(tmp_path) -> Path:
    return make_study(tmp_path / "study")


@pytest.fixture
def app(study_folder):
    application = create_app(study_folder, secret_key="test secret key")
    yield application
    application.state.web.store.close()


def csrf_of(html: str) -> str:
    """The CSRF token of the first form of a page."""
    m = _CSRF.search(html)
    assert m, "the page has no form with a CSRF token"
    return m.group(1)


def login(client: TestClient, name: str, password: str | None = None):
    """Log ``client`` in as ``name``; returns the response to the login POST."""
    page = client.get("/login")
    return client.post("/login", data={"username": name,
                                       "password": password or PASSWORDS[name],
                                       "csrf_token": csrf_of(page.text), "next": "/"},
                       follow_redirects=False)


@pytest.fixture
def client_as(app):
    """``client_as("experimenter")``: a client logged in with that role (None: anonymous)."""
    clients = []

    def make(role: str | None) -> TestClient:
        client = TestClient(app, raise_server_exceptions=False)
        clients.append(client)
        if role is not None:
            r = login(client, USER_OF[role])
            assert r.status_code == 303, r.text
        return client

    yield make
    for c in clients:
        c.close()
