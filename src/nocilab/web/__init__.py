"""nocilab.web: the study's web app (``nocilab serve``), thin over the library.

FastAPI with server-rendered Jinja2 pages and HTMX (shipped in ``static/``; no CDN).
Routes call the same library functions as the command line.

Modules:

- ``app``     :func:`create_app`: the app of one study, its error pages, its sessions.
- ``auth``    sessions, role checks (:class:`~nocilab.web.auth.Allow`) and CSRF.
- ``pages``   login, logout, the study page, static files.
- ``entry``   blinded entry at the bench: sessions, X/O taps, numeric forms.
"""

from nocilab.web.app import create_app

__all__ = ["create_app"]
