"""Pieces of the fuzz suite: run a command as a user does, snapshot the store."""

from __future__ import annotations

import io
import os
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, settings

from nocilab.cli import main
from nocilab.store import Store

# `make test` draws a few dozen repeatable examples per command; the explore profile
# (HYPOTHESIS_PROFILE=explore) draws many fresh ones.
EXPLORE = os.environ.get("HYPOTHESIS_PROFILE") == "explore"
FUZZ = settings(max_examples=400 if EXPLORE else 25, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str


def run(*args: object) -> Outcome:
    """``nocilab ARGS`` in this process. An exception that is not a NocilabError or a
    usage error propagates, so a traceback a user would see fails the test."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([str(a) for a in args])
    return Outcome(code, out.getvalue(), err.getvalue())


def snapshot(folder: Path) -> tuple:
    """What a refused command must leave as it was: every version of every reading,
    the audit chain (its length and head hash) and the imports."""
    db = folder / "nocilab.sqlite"
    if not db.exists():
        return ("no store",)
    with Store.open(f"sqlite:///{db}", create=False) as store:
        obs = store.observations(current_only=False)
        events = store.audit_events()
        imports = store.imports()
    head = events["hash"].iloc[-1] if len(events) else None
    return (len(obs), tuple(obs["observation_id"]), len(events), head, len(imports))


def assert_refused_cleanly(result: Outcome, before: tuple, folder: Path) -> None:
    """A refusal: non-zero exit, a message on stderr, nothing written to the store."""
    assert result.code != 0
    assert result.err.strip(), "a refusal must say why"
    assert "Traceback" not in result.err + result.out
    assert snapshot(folder) == before
