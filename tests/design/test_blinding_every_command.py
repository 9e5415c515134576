"""Every command of `nocilab`, taken from the app's own command table, run on a blinded
study: nothing it prints or writes shows which arm, donor or preparation an animal (or
its code) belongs to.

A new command fails :func:`test_every_command_has_a_blinded_run` until it is given a run
here (or shown to read no study), so the enumeration cannot fall behind the app.
"""

from __future__ import annotations

import io
import re
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pandas as pd
import pytest
import typer.main
from _lab_files import write_cells, write_serum_day
from _allocation_study import (
    ARMS,
    FAST_KDF,
    PASSPHRASE,
    SECRET_IDS,
    import_baseline,
    write_study,
)

from nocilab.cli import app, main
from nocilab.design.blinding import allocate_study, animal_id_for_codes, assignments
from nocilab.ingest.labfiles import import_cells, import_plates
from nocilab.store import Store


def _commands() -> dict[str, object]:
    """Every leaf command of the app: name (``audit log``) -> click command."""
    found: dict[str, object] = {}

    def walk(group: object, prefix: str) -> None:
        for name, sub in getattr(group, "commands", {}).items():
            if getattr(sub, "commands", None) is not None:
                walk(sub, f"{prefix}{name} ")
            else:
                found[f"{prefix}{name}"] = sub

    walk(typer.main.get_command(app), "")
    return found


def _reads_a_study(command: object) -> bool:
    """Does the command take a study (a STUDY argument or a --from study)?"""
    for p in command.params:
        if p.name in ("study_path", "study") or "--from" in getattr(p, "opts", []):
            return True
    return False


IMPORT_PLATES = ["import-plates", "{study}", "{root}/serum_day05.csv", "--layout",
                 "{root}/serum_day05_layout.csv", "--assay", "serum_igg"]
ADD_BEA = ["users", "add", "{study}", "bea", "--role", "experimenter", "--password-file",
           "{root}/pw.txt"]  # refused after the first time: already there

# Commands that take a study, each with a run on the blinded one. {study}: the study
# folder; {out}: a fresh folder for what it writes; {obs}: an observation id; {root}: the
# folder holding a sheet by animal code and a password file.
RUNS: dict[str, list[list[str]]] = {
    "allocate": [["allocate", "{study}", "--seed", "3"]],  # refused: already allocated
    "analyze": [["analyze", "{study}", "--out", "{out}/report"],  # refused while blinded
                ["analyze", "{study}", "--out", "{out}/coded", "--blinded"]],
    "audit log": [["audit", "log", "{study}"], ["audit", "log", "{study}", "--out", "{out}/a.csv"]],
    "audit verify": [["audit", "verify", "{study}"]],
    "check": [["check", "{study}"]],
    "correct": [["correct", "{study}", "{obs}", "--value", "101.5", "--reason", "typo"],
                ["correct", "{study}", "{obs}", "--value", "abc", "--reason", "typo"]],
    "delete": [["delete", "{study}", "999999", "--reason", "x"]],
    "derive": [["derive", "{study}", "--out", "{out}/derived.csv"]],
    "history": [["history", "{study}", "{obs}"]],
    "import": [["import", "{study}", "{root}/by_code.csv", "--assay", "paw_pressure",
                "-q", "force_g", "--trial", "trial"]],
    "import-plates": [IMPORT_PLATES],
    "import-cells": [["import-cells", "{study}", "{root}/cells.csv", "--images",
                      "{root}/images.csv"]],
    "plates": [IMPORT_PLATES, ["plates", "{study}"], ["plates", "{study}", "--out",
                                                      "{out}/plates.csv"]],
    "exclude-plate": [IMPORT_PLATES, ["exclude-plate", "{study}", "serum_day05:1", "--reason",
                                      "bubbles"]],
    "include-plate": [IMPORT_PLATES, ["exclude-plate", "{study}", "serum_day05:2", "--reason",
                                      "bubbles"],
                      ["include-plate", "{study}", "serum_day05:2", "--reason", "re-read"]],
    "observations": [["observations", "{study}"], ["observations", "{study}", "--out",
                                                  "{out}/obs.csv"]],
    "power": [["power", "--from", "{study}", "--outcome", "paw_pressure.threshold_g",
               "--effect", "20", "--out", "{out}/power"]],
    "serve": [],  # the web app: every route is enumerated in tests/web/test_web_routes.py
    "sheets": [["sheets", "{study}", "--out", "{out}/sheets"]],
    "unblind": [["unblind", "{study}", "--reason", "early"]],  # wrong passphrase: refused
    "users add": [["users", "add", "{study}", "ana", "--role", "analyst", "--password-file",
                   "{root}/pw.txt"]],
    "users disable": [ADD_BEA, ["users", "disable", "{study}", "bea"]],
    "users enable": [ADD_BEA, ["users", "enable", "{study}", "bea"]],
    "users list": [ADD_BEA, ["users", "list", "{study}"]],
    "users reset-password": [ADD_BEA, ["users", "reset-password", "{study}", "bea",
                                       "--password-file", "{root}/pw.txt"]],
    "users set-role": [ADD_BEA, ["users", "set-role", "{study}", "bea", "viewer"]],
}


def test_every_command_has_a_blinded_run():
    commands = _commands()
    reading = {name for name, c in commands.items() if _reads_a_study(c)}
    assert reading - set(RUNS) == set(), "commands that read a study need a blinded run here"
    assert set(RUNS) - set(commands) == set(), "runs of commands that no longer exist"
    # the ones that read no study (stats, vonfrey, elisa, demo, init ...) cannot reveal it
    assert {"stats", "vonfrey", "demo"} <= set(commands) - reading


@pytest.fixture(scope="module")
def blinded(tmp_path_factory):
    root = tmp_path_factory.mktemp("blind")
    study = write_study(root / "study")
    with Store.open(study.database_url()) as store:
        import_baseline(store, list(study.animal_ids))
        allocate_study(study, store, passphrase=PASSPHRASE, actor="alice", seed=5,
                       kdf_n=FAST_KDF)
        codes = sorted(animal_id_for_codes(store))
        obs = int(store.observations()["observation_id"].iloc[0])
    rows = [{"animal": c, "study_day": 1, "trial": t, "force_g": 110.0 + t}
            for c in codes for t in (1, 2, 3)]
    pd.DataFrame(rows).to_csv(root / "by_code.csv", index=False)
    (root / "pw.txt").write_text("a long enough password 1\n", encoding="utf-8")
    # plate layouts name animals by code and images vials by code, as the lab sees them;
    # one day's plates and the cells are in the store before any command runs
    write_serum_day(root, codes, 5)
    write_serum_day(root, codes, 9, conc=90_000.0)
    with Store.open(study.database_url()) as store:
        vials = sorted(set(assignments(study, store, reveal=False)["vial_code"]))
    write_cells(root, {f"drg{i}": v for i, v in enumerate(vials)}, bright=set(vials[:2]))
    with Store.open(study.database_url()) as store:
        import_plates(root / "serum_day09.csv", root / "serum_day09_layout.csv", study, store,
                      assay="serum_igg", actor="lab")
        import_cells([root / "cells.csv"], root / "images.csv", study, store, actor="lab")
    write_cells(root, {f"drg{i}b": v for i, v in enumerate(vials)})  # for import-cells
    return study, root, codes, obs


def _run(args: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(args)
    return code, out.getvalue() + err.getvalue()


def _written_text(folder: Path) -> str:
    parts = []
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.suffix in (".html", ".csv", ".svg", ".pzfx", ".txt", ".json"):
            parts.append(p.read_text(encoding="utf-8", errors="replace"))
        elif p.is_file() and p.suffix == ".xlsx":
            for sheet in pd.read_excel(p, sheet_name=None).values():
                parts.append(sheet.to_csv(index=False))
    return "\n".join(parts)


def _revealing_lines(text: str, animals: list[str]) -> list[str]:
    """Lines that name an arm, donor or preparation. Arms may be named by themselves (the
    study file's list of arms is no secret; `check` says they are blinded), never on a
    line with an animal or its code; donors and preparations not at all."""
    found = []
    who = re.compile("|".join(map(re.escape, animals)))
    for line in text.splitlines():
        secret = [s for s in SECRET_IDS if s in line]
        if not secret:
            continue
        if any(s not in ARMS for s in secret) or who.search(line):
            found.append(line.strip())
    return found


@pytest.mark.parametrize("name", sorted(n for n, r in RUNS.items() if r))
def test_no_command_reveals_the_allocation_while_blinded(blinded, name, monkeypatch, tmp_path):
    study, root, codes, obs = blinded
    monkeypatch.setenv("NOCILAB_PASSPHRASE", "not the passphrase at all")
    animals = list(study.animal_ids) + codes
    out = tmp_path / "out"
    out.mkdir()
    for template in RUNS[name]:
        args = [a.format(study=study.folder, out=out, obs=obs, root=root) for a in template]
        code, printed = _run(args)
        assert "Traceback" not in printed, printed
        assert _revealing_lines(printed, animals) == [], (args, printed)
        assert _revealing_lines(_written_text(out), animals) == [], args
    with Store.open(study.database_url()) as store:
        assert store.audit_events(entity="unblinding").empty  # still blinded


def test_the_scan_finds_an_animal_beside_its_arm_or_any_donor():
    assert _revealing_lines("M01  armFMS\nK2-7 ok\narms: armFMS, armHC", ["M01"]) == ["M01  armFMS"]
    assert _revealing_lines("prepared from dnrP1", ["M01"]) == ["prepared from dnrP1"]
