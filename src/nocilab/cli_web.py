"""``nocilab serve``: the study's web app on uvicorn.

Thin: check that the study has a store and at least one active admin, build the app
(:func:`nocilab.web.create_app`), run uvicorn.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from nocilab.errors import AccountError

console = Console(highlight=False)

STUDY_ARG = typer.Argument(..., help="The study: a study.toml file or the folder holding it.",
                           show_default=False, metavar="STUDY")


def serve(
    study_path: Path = STUDY_ARG,
    host: str = typer.Option("127.0.0.1", "--host",
                             help="Address to listen on (0.0.0.0: every interface)."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
    secure_cookies: bool = typer.Option(
        False, "--secure-cookies",
        help="Send the session cookie over HTTPS only (behind a TLS reverse proxy)."),
    idle_hours: float = typer.Option(4.0, "--idle-hours", min=0.05,
                                     help="A session ends after this long without a request."),
    forwarded_allow_ips: str | None = typer.Option(
        None, "--forwarded-allow-ips",
        help="Addresses of a reverse proxy whose X-Forwarded-For/-Proto headers are "
             "trusted (default: 127.0.0.1, a proxy on this machine)."),
) -> None:
    """Serve the study's web app: bench entry, progress, accounts (see `nocilab users`)."""
    import uvicorn

    from nocilab import accounts
    from nocilab.model import load_study
    from nocilab.store import Store
    from nocilab.web import create_app

    study = load_study(study_path)
    with Store.open(study.database_url(), create=True) as store:
        users = accounts.list_users(store)
    if not any(u.role == "admin" and not u.disabled for u in users):
        raise AccountError(
            f"study {study.info.id} has no active admin account, so nobody could log in "
            f"to manage it: add one with `nocilab users add {study_path} NAME --role admin`")
    app = create_app(study_path, secure_cookies=secure_cookies,
                     idle_s=int(idle_hours * 3600))
    console.print(f"nocilab serves study {study.info.id} at http://{host}:{port}/ "
                  f"({len(users)} accounts; stop with Ctrl+C)")
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=True,
                forwarded_allow_ips=forwarded_allow_ips)


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the ``nocilab`` app."""
    app.command("serve")(serve)
