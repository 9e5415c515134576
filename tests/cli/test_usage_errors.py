"""Usage errors end in the usage message and exit code 2, never in a traceback.

Every console command of the README's tour is run with a wrong option, in a separate
interpreter where ``click`` cannot be imported (a fresh install of typer >= 0.29 has no
click: it vendors its own copy), so an error path that imports it is caught here.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"

# runs nocilab.cli.main as the console script does, with `import click` made to fail
_RUNNER = (
    "import sys; sys.modules['click'] = None\n"
    "from nocilab.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def _tour_commands() -> list[list[str]]:
    """The commands of the README's command-line tour, as argument lists."""
    text = README.read_text(encoding="utf-8")
    tour = text.split("## A tour of the command line", 1)[1].split("\n## ", 1)[0]
    block = tour.split("```sh", 1)[1].split("```", 1)[0]
    commands = []
    for line in block.splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("nocilab "):
            commands.append(re.findall(r'"[^"]*"|\S+', line)[1:])
    also = re.search(r"Also: (.*?)(?:\n\n|\Z)", tour, re.S).group(1)
    for name in re.findall(r"`([a-z][a-z ]*?)`", also):
        commands.append(name.removeprefix("nocilab ").split())
    return commands


TOUR = _tour_commands()


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _RUNNER, *args], capture_output=True,
                          text=True, timeout=120)


def test_the_tour_is_found():
    names = {c[0] for c in TOUR}
    assert {"init", "check", "power", "allocate", "import", "correct", "audit", "analyze",
            "vonfrey", "stats", "history"} <= names


@pytest.mark.parametrize("command", TOUR, ids=[" ".join(c[:2]) for c in TOUR])
def test_a_wrong_option_prints_usage_and_exits_2(command, tmp_path):
    # the command's own words (subcommand names), then an option no command has
    words = [w for w in command if not w.startswith("-")][:2]
    if words[0] not in {"audit"}:
        words = words[:1]
    proc = _run(*words, "--no-such-option")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "Usage:" in proc.stderr
    assert "No such option: --no-such-option" in proc.stderr


@pytest.mark.parametrize("args, expected", [
    (["frobnicate"], "No such command 'frobnicate'"),
    (["check"], "Missing argument 'STUDY'"),
    (["power", "--effect", "abc"], "Invalid value for '--effect'"),
    (["correct", "some-study", "3907", "--value", "120"], "Missing option '--reason'"),
])
def test_usage_errors_named_in_the_issue(args, expected):
    proc = _run(*args)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert expected in proc.stderr
    assert proc.stdout == ""


def test_every_argument_is_named_in_capitals_in_the_usage_line():
    """`Usage: nocilab history STUDY OBSERVATION`, never `study_path observation_id`."""
    import typer.main

    from nocilab.cli import app

    def leaves(group, prefix=""):
        for name, sub in group.commands.items():
            if getattr(sub, "commands", None) is not None:
                yield from leaves(sub, f"{prefix}{name} ")
            else:
                yield f"{prefix}{name}", sub

    lower = [(name, p.name) for name, cmd in leaves(typer.main.get_command(app))
             for p in cmd.params if p.param_type_name == "argument"
             and not (p.metavar or "").replace("...", "").replace("_", "").isupper()]
    assert lower == []
