"""Fixtures of the web tests: a blinded study with one account per role, and clients."""

from __future__ import annotations

from pathlib import Path

import pytest
from _web_helpers import USER_OF, login, make_study
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from nocilab import accounts
from nocilab.web import create_app


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    """argon2 with small costs: the tests check logic, not the hash's strength."""
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=64,
                                                            parallelism=1))
    monkeypatch.setattr(accounts, "_DUMMY_HASH", None)


@pytest.fixture
def study_folder(tmp_path) -> Path:
    return make_study(tmp_path / "study")


@pytest.fixture
def app(study_folder):
    application = create_app(study_folder, secret_key="test secret key")
    yield application
    application.state.web.jobs.close()
    application.state.web.store.close()


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
