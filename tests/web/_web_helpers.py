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


def enter_paw_pressure(web, *, seed: int = 1, trials: tuple[int, ...] = (1, 2, 3)) -> int:
    """Paw-pressure readings (``trials``) of every animal by code on days -1 and 2,
    imported as one file by the experimenter; enough for the analysis. Returns how many
    were stored."""
    import numpy as np

    from nocilab.design.blinding import animal_id_for_codes
    from nocilab.ingest import build_mapping, import_file

    rng = np.random.default_rng(seed)
    lines = ["animal,study_day,trial,force_g"]
    for code in sorted(animal_id_for_codes(web.store)):
        for day in (-1, 2):
            lines += [f"{code},{day},{t},{rng.normal(150, 15):.0f}" for t in trials]
    path = Path(web.study.folder) / f"paw_pressure_{seed}.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    mapping = build_mapping(layout="long", assay="paw_pressure", animal="animal",
                            day="study_day", trial="trial", quantity=[], columns=None,
                            sheet=None, skip_rows=0)
    return import_file(path, web.study, web.store, mapping, actor="jk").n_readings


def run_job(app, url: str, data: dict[str, str], *, job: str, user: str = "an"):
    """Post a form that starts a background job (as ``user``), wait for the job; its
    status."""
    client = TestClient(app, raise_server_exceptions=False)
    assert login(client, user).status_code == 303
    token = csrf_of(client.get(url).text)
    r = client.post(url, data={"csrf_token": token, **data}, follow_redirects=False)
    assert r.status_code == 303, r.text
    client.close()
    return app.state.web.jobs.wait(job, timeout=600)


def run_report(app, *, baseline: str = "raw", user: str = "an", **form: str):
    """Run the analysis through the report page and wait for it; the job's status."""
    status = run_job(app, "/report", {"baseline": baseline, **form}, job="report", user=user)
    assert status.state == "done", status.message
    return status


POWER_FORM = {"effect": "30", "scale": "absolute", "sd_donor": "10", "sd_animal": "5",
              "sd_residual": "8", "donors": "3-5", "mice": "1,2", "days": "-1,1,2",
              "sims": "200", "choose": "fewest-animals"}
"""A small power calculation (seconds)."""


def run_power(app, form: dict[str, str] | None = None):
    """Run the power form as the admin and wait for it; the job's status."""
    return run_job(app, "/admin/power", form or POWER_FORM, job="power", user="pi")
