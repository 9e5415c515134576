"""Printable sheets served by the app: the same pages as ``nocilab sheets`` writes."""

from __future__ import annotations

import re

from _web_study import SECRET_NAMES

from nocilab import bench
from nocilab.design.sheets import Session, session_sheet_html


def test_test_sheet_is_the_library_page_in_the_sessions_order(client_as, app):
    web = app.state.web
    client = client_as("experimenter")
    r = client.get("/sheets/von_frey/-1")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.text == session_sheet_html(web.study, web.store, Session("von_frey", -1))
    codes = re.findall(r'<td class="code">([^<]+)</td>', r.text)
    assert codes == [a.code for a in bench.session_animals(web.study, web.store, "von_frey", -1)]
    assert "@media print" in r.text or "@page" in r.text
    assert not [s for s in SECRET_NAMES if s in r.text]


def test_sheet_list_cage_cards_and_injection_sheet(client_as):
    client = client_as("admin")
    page = client.get("/sheets").text
    for href in ("/sheets/cage-cards", "/sheets/injection", "/sheets/von_frey/-1",
                 "/sheets/paw_pressure/2", "/sheets/body_weight/-1"):
        assert f'href="{href}"' in page
    for url in ("/sheets/cage-cards", "/sheets/injection"):
        r = client.get(url)
        assert r.status_code == 200 and not [s for s in SECRET_NAMES if s in r.text]
    assert "Cage cards" in client.get("/sheets/cage-cards").text


def test_unscheduled_sessions_and_other_roles_are_refused(client_as):
    client = client_as("experimenter")
    r = client.get("/sheets/von_frey/5")
    assert r.status_code == 400 and "von_frey on study day 5 is not in [schedule]" in r.text
    r = client.get("/sheets/von_frey/day1")
    assert r.status_code == 400 and "Traceback" not in r.text
    for role in ("analyst", "viewer"):
        assert client_as(role).get("/sheets/von_frey/-1").status_code == 403


def test_the_apps_pages_have_a_print_stylesheet(client_as):
    page = client_as("experimenter").get("/sessions/von_frey/-1").text
    css = page[page.index("@media print"):]
    assert "@page" in css and "display: none" in css
    assert 'href="/sheets/von_frey/-1"' in page
