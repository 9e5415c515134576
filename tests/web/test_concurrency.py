"""Many people entering at once: nothing lost, nothing stored twice, no error reaches them.

Twenty clients (threads, each with its own httpx client and its own experimenter
account) log in to a real uvicorn server and enter the readings of a study over HTTP:
paw-pressure and body-weight trials through the numeric form, von Frey series through
the X/O taps. Several clients race for the same readings (with different values, each
under its own form), others enter readings nobody else enters, some send a form twice,
some send a value the importer refuses, and some read the session pages meanwhile.
Afterwards the store must hold each reading exactly once, as entered by the client that
was told "saved", the count of stored readings must equal the readings accepted, and
``nocilab audit verify`` must pass. No client may ever see a 5xx or "database is
locked". Run on SQLite and, with ``NOCILAB_TEST_POSTGRES_URL``, on PostgreSQL.
"""

from __future__ import annotations

import os
import random
import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx
import pytest
import sqlalchemy as sa
from _web_helpers import csrf_of
from _web_server import running_server
from _web_study import FAST_KDF, PASSPHRASE, study_data, write_study

from nocilab import accounts, bench
from nocilab.cli import main
from nocilab.design.blinding import allocate_study
from nocilab.store import Store
from nocilab.web import create_app

N_CLIENTS = 20
POSTGRES_ENV = "NOCILAB_TEST_POSTGRES_URL"
TOKEN = re.compile(r'name="token" value="([0-9a-f]+)"')
VF_SERIES = ("OOXOXOO", "XXXXX", "OXOXOX", "XOXOXO", "OOOOOO")  # complete by the stop rule


@dataclass(frozen=True)
class Reading:
    """One reading a client tries to enter: the session, animal, trial and its values."""

    assay: str
    day: int
    code: str
    trial: int
    value: str  # a number, or an X/O series for von Frey

    @property
    def key(self) -> tuple[str, int, str, int]:
        return (self.assay, self.day, self.code, self.trial)

    @property
    def url(self) -> str:
        return f"/sessions/{self.assay}/{self.day}/{self.code}"


@dataclass
class Outcome:
    """What one client was told."""

    user: str
    saved: list[Reading] = field(default_factory=list)  # "saved": this client stored it
    resent: int = 0  # "was already saved": the same form a second time
    refused: int = 0  # 409: someone else stored it first
    invalid: int = 0  # 422: a value the importer refuses
    reads: int = 0
    problems: list[str] = field(default_factory=list)  # 5xx, "locked", anything unexpected


def _study(folder: Path, database: str | None) -> Path:
    data = study_data()
    if database:
        data["study"]["database"] = database
    study = write_study(folder, data)
    with Store.open(study.database_url()) as store:
        allocate_study(study, store, passphrase=PASSPHRASE, actor="pi", seed=3,
                       kdf_n=FAST_KDF)
        accounts.add_user(store, "pi", "pi password 123", role="admin", actor="setup")
        for i in range(N_CLIENTS):
            accounts.add_user(store, f"exp{i:02d}", f"exp{i:02d} password",
                              role="experimenter", actor="pi")
    return folder


def _plan(study, store, rng: random.Random) -> list[list[Reading]]:
    """Each client's readings: the contested ones first (so they collide), then its own."""
    every: list[Reading] = []
    for assay, days in study.schedule.items():
        for day in days:
            for a in bench.session_animals(study, store, assay, day):
                for trial in range(1, a.trials_expected + 1):
                    value = (rng.choice(VF_SERIES) if assay == "von_frey" else
                             f"{rng.uniform(60, 240):.1f}" if assay == "paw_pressure" else
                             f"{rng.uniform(18, 24):.2f}")
                    every.append(Reading(assay, day, a.code, trial, value))
    rng.shuffle(every)
    contested, own = every[:24], every[24:]
    plans: list[list[Reading]] = [[] for _ in range(N_CLIENTS)]
    for r in contested:  # 3 to 8 clients race for each, with values of their own
        for c in rng.sample(range(N_CLIENTS), rng.randint(3, 8)):
            other = r if r.assay == "von_frey" else Reading(
                *r.key, value=f"{float(r.value) + rng.randint(1, 9) / 10:.2f}")
            plans[c].append(rng.choice((r, other)))
    for i, r in enumerate(own):  # entered by one client each
        plans[i % N_CLIENTS].append(r)
    return plans


class Client:
    """One person at a browser: logs in, reads pages, sends forms."""

    def __init__(self, base_url: str, user: str, outcome: Outcome):
        self.http = httpx.Client(base_url=base_url, timeout=120, follow_redirects=False)
        self.user = user
        self.out = outcome

    def _check(self, r, what: str) -> bool:
        body = r.text
        if r.status_code >= 500 or "locked" in body.lower():
            self.out.problems.append(f"{self.user} {what}: {r.status_code} {body[:300]}")
            return False
        return True

    def login(self) -> None:
        page = self.http.get("/login")
        r = self.http.post("/login", data={"username": self.user,
                                           "password": f"{self.user} password",
                                           "csrf_token": csrf_of(page.text), "next": "/"})
        if r.status_code != 303:
            self.out.problems.append(f"{self.user} login: {r.status_code}")

    def read(self, path: str) -> None:
        r = self.http.get(path)
        self.out.reads += 1
        if self._check(r, f"GET {path}") and r.status_code != 200:
            self.out.problems.append(f"{self.user} GET {path}: {r.status_code}")

    def enter(self, reading: Reading, *, twice: bool = False) -> None:
        page = self.http.get(reading.url)
        if not self._check(page, f"GET {reading.url}") or page.status_code != 200:
            return
        m = TOKEN.search(page.text)
        token = m.group(1) if m else bench.entry_token()  # all trials stored: any form
        for attempt in range(2 if twice else 1):
            self._send(reading, csrf_of(page.text), token, resent=attempt > 0)

    def _send(self, reading: Reading, csrf: str, token: str, *, resent: bool) -> None:
        base = {"csrf_token": csrf, "token": token, "trial": str(reading.trial)}
        if reading.assay == "von_frey":
            data = dict(base, series=reading.value[:-1], response=reading.value[-1])
            r = self.http.post(reading.url + "/tap", data=data)
            text = r.text
        else:
            quantity = "force_g" if reading.assay == "paw_pressure" else "weight_g"
            r = self.http.post(reading.url + "/save", data=dict(base, **{quantity: reading.value}))
            text = r.text
            if r.status_code == 303:  # the page it leads to says what happened
                followed = self.http.get(r.headers["location"])
                if not self._check(followed, "GET after save"):
                    return
                text = followed.text
        what = f"POST {reading.key} {reading.value}"
        if not self._check(r, what):
            return
        if r.status_code in (200, 303) and "was already saved" in text:
            self.out.resent += 1
        elif r.status_code in (200, 303) and ("Saved trial" in text or " saved." in text):
            if resent:
                self.out.problems.append(f"{self.user} {what}: stored again when resent")
            self.out.saved.append(reading)
        elif r.status_code == 409 and "already stored" in text:
            self.out.refused += 1
        elif r.status_code == 422 and reading.value.startswith("-"):
            self.out.invalid += 1
        else:
            self.out.problems.append(f"{self.user} {what}: {r.status_code} {text[:300]}")

    def close(self) -> None:
        self.http.close()


def _run_clients(base_url: str, plans: list[list[Reading]], rng: random.Random) -> list[Outcome]:
    outcomes = [Outcome(f"exp{i:02d}") for i in range(N_CLIENTS)]
    start = threading.Barrier(N_CLIENTS)
    seeds = [rng.randrange(2**32) for _ in range(N_CLIENTS)]

    def work(i: int) -> None:
        own = random.Random(seeds[i])
        client = Client(base_url, outcomes[i].user, outcomes[i])
        try:
            client.login()
            start.wait(timeout=120)
            for k, reading in enumerate(plans[i]):
                client.enter(reading, twice=own.random() < 0.15)
                if own.random() < 0.2:
                    client.read(f"/sessions/{reading.assay}/{reading.day}")
                if k == 2 and i % 4 == 0:  # a value the importer refuses
                    bad = Reading("paw_pressure", -1, reading.code, 1, "-5")
                    client.enter(bad)
            client.read("/")
        except Exception as exc:  # noqa: BLE001 - reported as the client's problem
            outcomes[i].problems.append(f"{outcomes[i].user}: {type(exc).__name__}: {exc}")
        finally:
            client.close()

    with ThreadPoolExecutor(max_workers=N_CLIENTS) as pool:
        list(pool.map(work, range(N_CLIENTS)))
    return outcomes


def _check_store(folder: Path, outcomes: list[Outcome], plans: list[list[Reading]]) -> None:
    problems = [p for o in outcomes for p in o.problems]
    assert not problems, "\n".join(problems[:20])
    saved = [(o.user, r) for o in outcomes for r in o.saved]
    keys = [r.key for _, r in saved]
    assert len(keys) == len(set(keys)), "a reading was accepted twice"
    assert not [r for _, r in saved if r.value.startswith("-")], "a refused value was stored"
    planned = {r.key for plan in plans for r in plan}
    assert set(keys) == planned, "a reading nobody stored, or one stored out of the plan"
    assert sum(o.refused for o in outcomes) > 0 and sum(o.resent for o in outcomes) > 0
    assert sum(o.invalid for o in outcomes) > 0
    from nocilab.model import load_study

    study = load_study(folder)
    with Store.open(study.database_url()) as store:
        obs = store.observations()
        readings = obs.groupby(["assay", "study_day", "animal", "trial"])
        assert readings.ngroups == len(saved)  # the count equals the readings accepted
        n_quantities = sum(3 if r.assay == "von_frey" else 1 for _, r in saved)
        assert len(obs) == n_quantities
        assert len(store.imports()) == len(saved)
        winners = {r.key: (user, r.value) for user, r in saved}
        for assay, days in study.schedule.items():
            for day in days:
                for a in bench.session_animals(study, store, assay, day):
                    for trial, values in a.readings.items():
                        user, value = winners[(assay, day, a.code, trial)]
                        ids = a.observation_ids[trial].values()
                        assert set(obs.set_index("observation_id").loc[list(ids),
                                                                       "entered_by"]) == {user}
                        stored = (values["xo_series"] if assay == "von_frey" else
                                  values["force_g" if assay == "paw_pressure" else "weight_g"])
                        if assay == "von_frey":
                            assert stored == value
                        else:
                            assert float(stored) == pytest.approx(float(value))
        report = store.verify_audit()
        assert report.ok, report
    assert main(["audit", "verify", str(folder)]) == 0


def _run(folder: Path) -> None:
    from nocilab.model import load_study

    rng = random.Random(20260105)
    study = load_study(folder)
    with Store.open(study.database_url()) as store:
        plans = _plan(study, store, rng)
    app = create_app(folder, secret_key="load test key")
    try:
        with running_server(app) as url:
            outcomes = _run_clients(url, plans, rng)
    finally:
        app.state.web.store.close()
    _check_store(folder, outcomes, plans)


@pytest.mark.slow
def test_twenty_clients_entering_at_once_on_sqlite(tmp_path):
    _run(_study(tmp_path / "s", None))


@pytest.fixture
def pg_url():
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    url = sa.make_url(base)
    name = f"nocilab_c_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.mark.slow
@pytest.mark.postgres
def test_twenty_clients_entering_at_once_on_postgresql(tmp_path, pg_url):
    _run(_study(tmp_path / "s", pg_url))
