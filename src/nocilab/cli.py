"""The ``nocilab`` command line: parse arguments, call the layers, print.

No logic lives here. Library errors (:class:`nocilab.errors.NocilabError`) become a
clear message on stderr and a non-zero exit code; anything else is a bug.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from nocilab import __version__
from nocilab.errors import NocilabError

app = typer.Typer(
    name="nocilab",
    help="Passive-transfer pain studies: study file, audited store, assay calculators, reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")

console = Console()
err_console = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        console.print(f"nocilab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Show the version and exit."),
) -> None:
    """nocilab: from study design to report for passive-transfer pain studies."""


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning library errors into messages and exit codes."""
    try:
        app(args=argv, standalone_mode=False)
    except NocilabError as exc:
        err_console.print(f"[bold red]error:[/] {exc.render()}", highlight=False, soft_wrap=True)
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        err_console.print("aborted")
        return 130
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            return exc.exit_code
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
