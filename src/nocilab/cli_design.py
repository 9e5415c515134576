"""The design commands of ``nocilab``: ``allocate``, ``unblind``, ``sheets``.

Thin like the rest of the command line: read options and the passphrase, call
:mod:`nocilab.design`, print. :func:`register` adds the commands to the main app.

The passphrase comes from ``--passphrase-file`` (its first line), else the environment
variable ``NOCILAB_PASSPHRASE``, else an interactive prompt that hides the input (and
asks twice when allocating). It is never printed, stored or recorded.
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

import typer
from rich.console import Console

from nocilab.errors import BlindingError

PASSPHRASE_ENV = "NOCILAB_PASSPHRASE"

console = Console(highlight=False)

STUDY_ARG = typer.Argument(..., help="The study: a study.toml file or the folder holding it.",
                           show_default=False, metavar="STUDY")
BY_OPT = typer.Option(None, "--by",
                      help="Who does this (default: $NOCILAB_USER or the login name).")
PASS_OPT = typer.Option(None, "--passphrase-file",
                        help=f"Read the passphrase from this file (else ${PASSPHRASE_ENV}, "
                             "else a prompt).")


def _actor(by: str | None) -> str:
    return by or os.environ.get("NOCILAB_USER") or getpass.getuser()


def _interactive() -> bool:
    """Whether a person can answer a prompt (standard input is a terminal)."""
    return sys.stdin.isatty()


def read_passphrase(path: Path | None, *, confirm: bool) -> str:
    """The passphrase from a file, the environment, or a hidden prompt (see the module)."""
    if path is not None:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise BlindingError(f"cannot read the passphrase file {path}: {exc.strerror}") from None
        if not lines or not lines[0]:
            raise BlindingError(f"the passphrase file {path} is empty (the first line is used)")
        return lines[0]
    env = os.environ.get(PASSPHRASE_ENV)
    if env:
        return env
    if not _interactive():
        raise BlindingError("no terminal to ask for the passphrase of the allocation key: give "
                            f"--passphrase-file FILE (its first line) or set {PASSPHRASE_ENV}")
    return typer.prompt("Passphrase of the allocation key", hide_input=True,
                        confirmation_prompt=confirm)


def _open(study_path: Path, *, create: bool):
    from nocilab.model import load_study
    from nocilab.store import Store

    study = load_study(study_path)
    return study, Store.open(study.database_url(), create=create)


def allocate(
    study_path: Path = STUDY_ARG,
    seed: int | None = typer.Option(None, "--seed", min=0,
                                    help="Allocation seed (default: a random 128-bit number). "
                                         "Kept in the encrypted key until unblinding."),
    per_preparation: int | None = typer.Option(None, "--per-preparation", min=1,
                                               help="Require exactly N animals per preparation."),
    candidates: int = typer.Option(1000, "--candidates", min=1,
                                   help="Candidate allocations compared on baseline balance."),
    force: bool = typer.Option(False, "--force", help="Replace an existing allocation."),
    reason: str | None = typer.Option(None, "--reason",
                                      help="Why (required with --force; audited)."),
    passphrase_file: Path | None = PASS_OPT,
    by: str | None = BY_OPT,
) -> None:
    """Allocate animals to preparations at random (balanced), blind them with codes."""
    from nocilab.design.blinding import allocate_study, check_can_allocate

    study, store = _open(study_path, create=True)
    with store:
        check_can_allocate(study, store, force=force, reason=reason)  # before the prompt
        passphrase = read_passphrase(passphrase_file, confirm=True)
        report = allocate_study(study, store, passphrase=passphrase, actor=_actor(by),
                                seed=seed, per_preparation=per_preparation,
                                n_candidates=candidates, force=force, reason=reason)
    console.print(report.summary())
    console.print("print the cage cards, injection and test sheets with `nocilab sheets`")


def unblind(
    study_path: Path = STUDY_ARG,
    reason: str = typer.Option(..., "--reason", help="Why the key is opened (audited)."),
    passphrase_file: Path | None = PASS_OPT,
    by: str | None = BY_OPT,
) -> None:
    """Open the allocation key (passphrase); recorded with who, when and why."""
    from nocilab.design.blinding import unblind as unblind_study

    study, store = _open(study_path, create=False)
    with store:
        passphrase = read_passphrase(passphrase_file, confirm=False)
        report = unblind_study(study, store, passphrase=passphrase, actor=_actor(by),
                               reason=reason)
    console.print(f"study {study.info.id} unblinded (allocation run {report.run_id}) by "
                  f"{report.unblinded_by} at {report.unblinded_at}; recorded as audit event "
                  f"{report.event_id}. Later commands show arms.")


def sheets(
    study_path: Path = STUDY_ARG,
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the HTML sheets."),
    session: list[str] = typer.Option([], "--session", "-s",
                                      help="ASSAY:DAY, e.g. von_frey:-1 (repeat; default: "
                                           "every scheduled session)."),
) -> None:
    """Print-ready cage cards, injection sheet and test sheets (codes only)."""
    from nocilab.design.sheets import parse_session, write_sheets

    study, store = _open(study_path, create=False)
    with store:
        sessions = [parse_session(s) for s in session] or None
        paths = write_sheets(study, store, out, sessions=sessions)
    console.print(f"wrote {len(paths)} sheets to {out}: " + ", ".join(p.name for p in paths))


def register(app: typer.Typer) -> None:
    """Add ``allocate``, ``unblind`` and ``sheets`` to the ``nocilab`` app."""
    app.command("allocate")(allocate)
    app.command("unblind")(unblind)
    app.command("sheets")(sheets)
