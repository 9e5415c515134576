"""Web entry under load: twenty people entering readings at once, over HTTP.

The web app of a blinded study (48 mice; paw pressure, 3 trials, and von Frey up-down on
days -1, 2 and 7) is served by ``nocilab serve`` (uvicorn) on 127.0.0.1 in its own
process, as a lab runs it; the clients are threads of this process. Twenty of them, each
with its own HTTP client and logged in as its own experimenter, enter readings nobody
else enters: open the animal's page, then send the numeric form (paw pressure: the POST
and the page it redirects to) or the X/O tap that completes a von Frey series (the POST,
whose page shows the threshold). Two runs, each on a new study:

- **paced**: each client enters one reading per ``--pace`` seconds (default 1 s, twenty
  readings a second in all; a person at the bench needs a minute for a von Frey series),
  the clients' starts spread over the first second. The latency a user feels when the
  whole team enters at once; the target is judged on it.
- **flat out**: each client sends its next reading the moment the last one was saved.
  This measures the server's capacity (readings per second); its latency is, by
  Little's law, about 20 clients / throughput, whatever the code does per request.

Printed per database and run (SQLite; PostgreSQL too when ``NOCILAB_TEST_POSTGRES_URL``
names a server):

- throughput: readings stored per second of the run;
- median and p95 latency of one entry (from sending the form to the page that says it
  was saved), and of opening an animal's page;
- the reference measured in the same run: the same entries through the library call
  alone (:func:`nocilab.bench.enter_reading`, one at a time, no HTTP, no page), and the
  ratio of the web latency to it.

After each run the store must hold exactly the readings the clients were told were
saved (nothing lost, nothing twice), ``audit verify`` must pass, and no client may have
seen a server error or "database is locked".

Target: p95 entry latency under 200 ms for 20 clients (paced) on a 2-core machine. Exits
1 when the target is missed or a run lost, doubled or refused a reading.

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_web.py [--clients 20] [--pace 1]``
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx
import sqlalchemy as sa

from nocilab import accounts, bench
from nocilab.design.blinding import allocate_study
from nocilab.model import load_study, render_study_toml
from nocilab.store import Store

POSTGRES_ENV = "NOCILAB_TEST_POSTGRES_URL"
TARGET_P95_S = 0.200
N_ANIMALS = 48
DAYS = [-1, 2, 7]
VF_SERIES = ("OOXOXOO", "XXXXX", "OXOXOX", "XOXOXO", "OOOOOO")  # complete by the stop rule
PASSPHRASE = "bench passphrase, not a secret"
TOKEN = re.compile(r'name="token" value="([0-9a-f]+)"')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


# -- the study ----------------------------------------------------------------------

def write_study(folder: Path, database: str | None, n_users: int) -> Path:
    """A blinded study in ``folder`` (its store at ``database``, default SQLite) with
    one experimenter account per client; returns the folder."""
    patients, controls = ("P1", "P2", "P3", "P4"), ("C1", "C2", "C3", "C4")
    donors = ([{"id": d, "arm": "patient", "sex": "F"} for d in patients]
              + [{"id": d, "arm": "control", "sex": "F"} for d in controls])
    data = {
        "study": {"id": "webbench", "title": "Web entry benchmark", "species": "mouse",
                  "start_date": "2026-01-05"},
        "arms": [{"id": "patient", "label": "patient IgG"},
                 {"id": "control", "label": "control IgG", "control": True}],
        "donors": donors,
        "preparations": [{"id": f"IgG-{d['id']}", "donors": [d["id"]],
                          "concentration_mg_ml": 20.0} for d in donors],
        "dosing": {"amount_mg": 8.0, "route": "i.p.", "days": [0, 1, 2, 3]},
        "animals": [{"id": f"M{i + 1:02d}", "sex": "F", "strain": "C57BL/6J",
                     "cage": f"K{i // 4 + 1:02d}", "age_weeks": 10, "weight_g": 20.0}
                    for i in range(N_ANIMALS)],
        "schedule": {"von_frey": DAYS, "paw_pressure": DAYS},
        "assays": {"paw_pressure": {"cutoff_g": 250.0, "trials": 3},
                   "von_frey": {"method": "up_down", "filaments": "mouse"}},
    }
    if database:
        data["study"]["database"] = database
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "study.toml").write_text(render_study_toml(data), encoding="utf-8")
    study = load_study(folder)
    with Store.open(study.database_url()) as store:
        allocate_study(study, store, passphrase=PASSPHRASE, actor="pi", seed=7, kdf_n=2**14)
        accounts.add_user(store, "pi", "pi password, not a secret", role="admin", actor="pi")
        for i in range(n_users):
            accounts.add_user(store, f"exp{i:02d}", f"exp{i:02d} password",
                              role="experimenter", actor="pi")
    return folder


@dataclass(frozen=True)
class Reading:
    assay: str
    day: int
    code: str
    trial: int
    value: str  # a number, or an X/O series

    @property
    def url(self) -> str:
        return f"/sessions/{self.assay}/{self.day}/{self.code}"

    @property
    def values(self) -> dict[str, str]:
        if self.assay == "paw_pressure":
            return {"force_g": self.value}
        return bench_series_values(self.value)


def bench_series_values(series: str) -> dict[str, str]:
    """The stored quantities of a complete von Frey series (as the tap page sends them)."""
    from nocilab.assays.von_frey import load_filament_set, series_progress

    fs = load_filament_set("mouse")
    p = series_progress(series, fs, method="up_down")
    return {"xo_series": p.responses, "last_filament": fs.numbers[p.positions[-1]],
            "filaments_used": ",".join(p.numbers(fs))}


def every_reading(folder: Path, rng: random.Random) -> list[Reading]:
    """Every reading of the study's sessions, with a value, shuffled."""
    study = load_study(folder)
    out = []
    with Store.open(study.database_url()) as store:
        for assay, days in study.schedule.items():
            for day in days:
                for a in bench.session_animals(study, store, assay, day):
                    for trial in range(1, a.trials_expected + 1):
                        value = (rng.choice(VF_SERIES) if assay == "von_frey"
                                 else f"{rng.uniform(60, 240):.1f}")
                        out.append(Reading(assay, day, a.code, trial, value))
    rng.shuffle(out)
    return out


# -- the server and its clients -------------------------------------------------------

@contextlib.contextmanager
def serving(folder: Path, *, timeout_s: float = 30.0) -> Iterator[str]:
    """``nocilab serve FOLDER`` on 127.0.0.1 (a free port) in its own process, as a lab
    runs it; yields its base URL and stops it (Ctrl+C) afterwards."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cli = Path(sys.executable).with_name("nocilab")
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen([str(cli), "serve", str(folder), "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            try:
                if httpx.get(url + "/login", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError("the benchmark's server did not start: "
                                   + log.read().decode(errors="replace")[-2000:])
            time.sleep(0.1)
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@dataclass
class ClientLog:
    user: str
    saved: list[Reading] = field(default_factory=list)
    entry_s: list[float] = field(default_factory=list)
    page_s: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _client(base_url: str, log: ClientLog, readings: list[Reading],
            start: threading.Barrier, pace_s: float, offset_s: float) -> None:
    """Log in, wait for the others, enter ``readings``: flat out (``pace_s`` 0) or one
    every ``pace_s`` seconds from ``offset_s`` after the start (later when behind)."""
    http = httpx.Client(base_url=base_url, timeout=120, follow_redirects=False)
    try:
        page = http.get("/login")
        r = http.post("/login", data={"username": log.user, "password": f"{log.user} password",
                                      "csrf_token": CSRF.search(page.text).group(1),
                                      "next": "/"})
        if r.status_code != 303:
            log.problems.append(f"{log.user} login: {r.status_code}")
            return
        start.wait(timeout=300)
        began = time.perf_counter()
        for k, reading in enumerate(readings):
            if pace_s:
                wait = began + offset_s + k * pace_s - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
            t0 = time.perf_counter()
            page = http.get(reading.url)
            log.page_s.append(time.perf_counter() - t0)
            token, csrf = TOKEN.search(page.text), CSRF.search(page.text)
            if page.status_code != 200 or token is None or csrf is None:
                log.problems.append(f"{log.user} GET {reading.url}: {page.status_code}")
                continue
            form = {"csrf_token": csrf.group(1), "token": token.group(1),
                    "trial": str(reading.trial)}
            t0 = time.perf_counter()
            if reading.assay == "von_frey":
                r = http.post(reading.url + "/tap", data=dict(
                    form, series=reading.value[:-1], response=reading.value[-1]))
                shown = r
            else:
                r = http.post(reading.url + "/save", data=dict(form, force_g=reading.value))
                shown = http.get(r.headers["location"]) if r.status_code == 303 else r
            log.entry_s.append(time.perf_counter() - t0)
            text = shown.text
            if (r.status_code >= 500 or shown.status_code >= 500
                    or "locked" in (r.text + text).lower()):
                log.problems.append(f"{log.user} {reading}: {r.status_code} {r.text[:200]}")
            elif shown.status_code == 200 and ("Saved trial" in text or " saved." in text):
                log.saved.append(reading)
            else:
                log.problems.append(f"{log.user} {reading}: {shown.status_code} {text[:200]}")
    except Exception as exc:  # noqa: BLE001 - reported as this client's problem
        log.problems.append(f"{log.user}: {type(exc).__name__}: {exc}")
    finally:
        http.close()


def load_run(folder: Path, readings: list[Reading], n_clients: int,
             pace_s: float) -> tuple[list[ClientLog], float]:
    """Every reading entered by ``n_clients`` clients at once (flat out, or each one
    reading every ``pace_s`` seconds, their starts spread over the first interval);
    their logs and the seconds from the first entry to the last."""
    logs = [ClientLog(f"exp{i:02d}") for i in range(n_clients)]
    plans = [readings[i::n_clients] for i in range(n_clients)]
    start = threading.Barrier(n_clients + 1)
    with serving(folder) as url:
        threads = [threading.Thread(target=_client, args=(url, logs[i], plans[i], start,
                                                          pace_s, pace_s * i / n_clients))
                   for i in range(n_clients)]
        for th in threads:
            th.start()
        start.wait(timeout=300)
        t0 = time.perf_counter()
        for th in threads:
            th.join()
        wall = time.perf_counter() - t0
    return logs, wall


def check_store(folder: Path, logs: list[ClientLog]) -> list[str]:
    """What is wrong with the store after a run (empty: nothing)."""
    saved = [r for log in logs for r in log.saved]
    study = load_study(folder)
    wrong = []
    with Store.open(study.database_url()) as store:
        obs = store.observations()
        n_readings = obs.groupby(["assay", "study_day", "animal", "trial"]).ngroups
        if n_readings != len(saved):
            wrong.append(f"{n_readings} readings stored, {len(saved)} accepted")
        n_values = sum(3 if r.assay == "von_frey" else 1 for r in saved)
        if len(obs) != n_values:
            wrong.append(f"{len(obs)} values stored, {n_values} accepted")
        report = store.verify_audit()
        if not report.ok:
            wrong.append(f"audit verify failed: {report}")
    return wrong


def library_run(folder: Path, readings: list[Reading]) -> list[float]:
    """Seconds of each entry through :func:`nocilab.bench.enter_reading` alone."""
    study = load_study(folder)
    times = []
    with Store.open(study.database_url()) as store:
        for k, r in enumerate(readings):
            t0 = time.perf_counter()
            bench.enter_reading(study, store, code=r.code, assay=r.assay, study_day=r.day,
                                trial=r.trial, values=r.values, actor="exp00",
                                token=f"{k:032x}")
            times.append(time.perf_counter() - t0)
    return times


# -- PostgreSQL -----------------------------------------------------------------------

@contextlib.contextmanager
def postgres_database(base: str) -> Iterator[str]:
    """A new, empty database on the server of ``base``, dropped afterwards."""
    url = sa.make_url(base)
    name = f"nocilab_bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


# -- the report ---------------------------------------------------------------------

def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


@dataclass(frozen=True)
class Result:
    database: str
    mode: str
    n_saved: int
    wall_s: float
    entry_s: list[float]
    page_s: list[float]
    problems: list[str]


def run_database(name: str, database_of, n_clients: int, modes: list[tuple[str, float]],
                 n_library: int, seed: int) -> tuple[list[Result], list[float]]:
    """The load runs (one new study each) and the library reference on one database."""
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for mode, pace_s in modes:
            with database_of() as db:
                load = write_study(Path(tmp) / mode, db, n_clients)
                readings = every_reading(load, random.Random(seed))
                logs, wall = load_run(load, readings, n_clients, pace_s)
                problems = [p for log in logs for p in log.problems] + check_store(load, logs)
            results.append(Result(name, mode, sum(len(log.saved) for log in logs), wall,
                                  [t for log in logs for t in log.entry_s],
                                  [t for log in logs for t in log.page_s], problems))
        with database_of() as db:
            ref = write_study(Path(tmp) / "ref", db, 0)
            library_s = library_run(ref, every_reading(ref, random.Random(seed))[:n_library])
    return results, library_s


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--pace", type=float, default=1.0,
                        help="seconds between two readings of one person in the paced run")
    parser.add_argument("--library-entries", type=int, default=120,
                        help="entries timed through the library call alone")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    databases = [("sqlite", lambda: contextlib.nullcontext(None))]
    pg = os.environ.get(POSTGRES_ENV)
    if pg:
        databases.append(("postgresql", lambda: postgres_database(pg)))
    else:
        print(f"PostgreSQL: {POSTGRES_ENV} is not set; only SQLite is measured")
    modes = [(f"paced {args.pace:g} s", args.pace), ("flat out", 0.0)]
    runs = [run_database(name, of, args.clients, modes, args.library_entries, args.seed)
            for name, of in databases]

    ms = 1e3
    print(f"\nweb entry, {args.clients} clients at once, {N_ANIMALS} mice, paw pressure "
          f"(numeric form) and von Frey (X/O tap) on days {', '.join(map(str, DAYS))}; "
          f"paced: each client one reading every {args.pace:g} s; flat out: each client "
          "its next reading as soon as the last was saved")
    print(f"{'database':<11}{'run':<12}{'readings':>9}{'wall s':>8}{'readings/s':>11}"
          f"{'entry median':>13}{'entry p95':>10}{'page p95':>9}"
          f"{'library median':>15}{'p95/library':>12}  target: paced p95 < "
          f"{TARGET_P95_S * ms:.0f} ms")
    ok = True
    for results, library_s in runs:
        lib = statistics.median(library_s)
        for r in results:
            e95 = p95(r.entry_s)
            paced = r.mode != "flat out"
            met = not r.problems and (e95 < TARGET_P95_S or not paced)
            ok &= met
            verdict = ("met" if met else "NOT met") if paced else (
                "nothing lost" if met else "WRONG")
            print(f"{r.database:<11}{r.mode:<12}{r.n_saved:>9}{r.wall_s:>8.2f}"
                  f"{r.n_saved / r.wall_s:>11.1f}"
                  f"{statistics.median(r.entry_s) * ms:>10.1f} ms{e95 * ms:>7.1f} ms"
                  f"{p95(r.page_s) * ms:>6.1f} ms{lib * ms:>12.1f} ms{e95 / lib:>11.1f}x  "
                  f"{verdict}")
    for results, _ in runs:
        for r in results:
            for p in r.problems[:10]:
                print(f"{r.database} {r.mode}: {p}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
