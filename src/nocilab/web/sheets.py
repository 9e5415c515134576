"""Printable sheets in the browser: the same pages as ``nocilab sheets`` writes.

- ``GET /sheets``: the list: cage cards, the injection sheet, a test sheet per session.
- ``GET /sheets/cage-cards``, ``/sheets/injection``, ``/sheets/{assay}/{day}``: one sheet,
  a standalone page made for printing (A4, one sheet per page), from
  :mod:`nocilab.design.sheets`. Sheets show codes only, whatever the blinding state.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from nocilab.design.sheets import (
    Session,
    cage_cards_html,
    injection_sheet_html,
    session_sheet_html,
)
from nocilab.web.app import render
from nocilab.web.auth import route
from nocilab.web.pages import ENTRY_ROLES

router = APIRouter()


def _sheet(html: str) -> Response:
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


@route(router, "GET", "/sheets", *ENTRY_ROLES, name="sheets")
def sheets_page(request: Request) -> Response:
    study = request.app.state.web.study
    sessions = sorted((Session(a, d) for a, days in study.schedule.items() for d in days),
                      key=lambda s: (s.study_day, s.assay))
    return render(request, "sheets.html", sessions=sessions)


@route(router, "GET", "/sheets/cage-cards", *ENTRY_ROLES, name="cage_cards")
def cage_cards(request: Request) -> Response:
    web = request.app.state.web
    return _sheet(cage_cards_html(web.study, web.store))


@route(router, "GET", "/sheets/injection", *ENTRY_ROLES, name="injection_sheet")
def injection_sheet(request: Request) -> Response:
    web = request.app.state.web
    return _sheet(injection_sheet_html(web.study, web.store))


@route(router, "GET", "/sheets/{assay}/{day}", *ENTRY_ROLES, name="test_sheet")
def test_sheet(request: Request, assay: str, day: int) -> Response:
    web = request.app.state.web
    return _sheet(session_sheet_html(web.study, web.store, Session(assay, day)))
