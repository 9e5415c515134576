"""Helpers of the web tests: accounts of the test study, logging in, CSRF tokens."""

from __future__ import annotations

import re
from pathlib import Path

from _web_study import FAST_KDF, PASSPHRASE, write_study
from fastapi.testclient import TestClient

from nocilab import accounts
from nocilab.design.blinding import allocate_study
from nocilab.store import Store

PASSWORDS = {"pi": "pi password 123", "jk": "jk password 123", "an": "an password 123",
             "vi": "vi password 123"}
ROLE_OF = {"pi": "admin", "jk": "experimenter", "an": "analyst", "vi": "viewer"}
USER_OF = {role: name for name, role in ROLE_OF.items()}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_study(folder: Path, *, allocate: bool = True, data: dict | None = None) -> Path:
    """A blinded study (not allocated yet with ``allocate=False``; ``data``: another
    study file than the default) with an account per role; returns its folder."""
    study = write_study(folder, data)
    with Store.open(study.database_url()) as store:
        if allocate:
            allocate_study(study, store, passphrase=PASSPHRASE, actor="pi", seed=11,
                           kdf_n=FAST_KDF)
        for name, role in ROLE_OF.items():
            accounts.add_user(store, name, PASSWORDS[name], role=role, actor="setup")
    return folder


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
