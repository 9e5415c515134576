"""Blinded entry at the bench: testing order, X/O taps, numeric forms, double submits."""

from __future__ import annotations

import re

import pytest
from _web_helpers import csrf_of

from nocilab import bench
from nocilab.derive import derive_table
from nocilab.design.sheets import Session, session_sheet_html

TOKEN = re.compile(r'name="token" value="([0-9a-f]+)"')
SERIES = re.compile(r'name="series" value="([XO]*)"')


@pytest.fixture
def web(app):
    return app.state.web


def _order(web, assay, day):
    return [a.code for a in bench.session_animals(web.study, web.store, assay, day)]


def _tap(client, url, page_html, response, *, htmx=False):
    data = {"csrf_token": csrf_of(page_html), "series": SERIES.search(page_html).group(1),
            "token": TOKEN.search(page_html).group(1),
            "trial": re.search(r'name="trial" value="(\d+)"', page_html).group(1),
            "response": response}
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(url + "/tap", data=data, headers=headers), data


def test_the_session_lists_codes_in_the_order_of_the_printed_sheet(client_as, web):
    page = client_as("experimenter").get("/sessions/von_frey/-1")
    assert page.status_code == 200
    listed = re.findall(r">(A-[0-9A-Z]{4})</a>", page.text)
    sheet = session_sheet_html(web.study, web.store, Session("von_frey", -1))
    printed = re.findall(r'class="code">(A-[0-9A-Z]{4})<', sheet)
    assert listed == printed == _order(web, "von_frey", -1)
    assert len(listed) == 8
    assert "M01" not in page.text  # codes only, never the animal ids


def test_a_von_frey_series_tapped_in_is_stored_with_its_threshold(client_as, web):
    client = client_as("experimenter")
    code = _order(web, "von_frey", -1)[0]
    url = f"/sessions/von_frey/-1/{code}"
    page = client.get(url)
    assert page.status_code == 200 and "Apply filament" in page.text
    assert re.search(r'class="filament">5<', page.text)  # the middle of the mouse set
    expected_next = {"O": "6", "OO": "7", "OOX": "6", "OOXO": "7", "OOXOX": "6",
                     "OOXOXO": "7"}
    html = page.text
    for i, r in enumerate("OOXOXOO"):
        resp, _sent = _tap(client, url, html, r, htmx=(i % 2 == 1))
        assert resp.status_code == 200, resp.text
        html = resp.text  # the whole page, or for HTMX the entry block alone
        assert ("<html" in html) is (i % 2 == 0)
        done = "OOXOXOO"[:i + 1]
        if done in expected_next:
            assert re.search(rf'class="filament">{expected_next[done]}<', html), done
            assert f'name="series" value="{done}"' in html
    assert "Saved trial 1" in html
    obs = web.store.observations()
    assert sorted(obs["quantity"]) == ["filaments_used", "last_filament", "xo_series"]
    row = obs.set_index("quantity")
    assert row.loc["xo_series", "value_text"] == "OOXOXOO"
    assert row.loc["filaments_used", "value_text"] == "5,6,7,6,7,6,7"
    assert set(obs["entered_by"]) == {"jk"}
    events = web.store.audit_events()
    assert set(events[events["action"].isin(["import", "insert"])]["actor"]) == {"jk"}
    assert web.store.verify_audit().ok
    # the threshold on the page is the derived table's
    derived = derive_table(web.study, web.store)
    animal = dict((a.code, a) for a in bench.session_animals(web.study, web.store,
                                                             "von_frey", -1))
    assert animal[code].status == "done"
    value = derived.loc[derived["assay"] == "von_frey", "value"].iloc[0]
    assert f"threshold: {value:.3g} g" in html


def test_double_submits_add_nothing_and_a_second_value_is_refused(client_as, web):
    client = client_as("experimenter")
    code = _order(web, "von_frey", -1)[1]
    url = f"/sessions/von_frey/-1/{code}"
    html = client.get(url).text
    for r in "XXXX":  # down to the lightest filament
        resp, sent = _tap(client, url, html, r)
        html = resp.text
    final, sent = _tap(client, url, html, "X")
    assert final.status_code == 200 and "censored left" in final.text
    n = len(web.store.observations())
    n_events = len(web.store.audit_events())
    again = client.post(url + "/tap", data=sent)  # the same form sent twice
    assert again.status_code == 200 and "was already saved" in again.text
    assert len(web.store.observations()) == n and len(web.store.audit_events()) == n_events
    # the same reading under a new form: refused, with the way to correct it
    other = dict(sent, token="f" * 32)
    refused = client.post(url + "/tap", data=other)
    assert refused.status_code == 409 and "already stored" in refused.text
    assert f'href="{url}/1/correct"' in refused.text
    assert len(web.store.observations()) == n
    # the next visit shows the animal as done, with no form
    page = client.get(url).text
    assert "All 1 trial of" in page and 'value="X"' not in page


def test_a_tap_after_the_end_or_a_forged_series_is_refused(client_as, web):
    client = client_as("experimenter")
    code = _order(web, "von_frey", 2)[0]
    url = f"/sessions/von_frey/2/{code}"
    html = client.get(url).text
    base = {"csrf_token": csrf_of(html), "token": TOKEN.search(html).group(1), "trial": "1"}
    r = client.post(url + "/tap", data=dict(base, series="OOXOXOO", response="X"))
    assert r.status_code == 422 and "one too many" in r.text
    r = client.post(url + "/tap", data=dict(base, series="OQ", response="X"))
    assert r.status_code == 422 and "only X" in r.text
    r = client.post(url + "/tap", data=dict(base, series="", response="Z"))
    assert r.status_code == 400
    r = client.post(url + "/tap", data=dict(base, series="OO", response="X", trial="2"))
    assert r.status_code == 200  # not complete: nothing is checked or stored yet
    assert web.store.observations().empty


def test_undo_takes_back_the_last_response(client_as, web):
    client = client_as("experimenter")
    code = _order(web, "von_frey", 2)[1]
    url = f"/sessions/von_frey/2/{code}"
    html = client.get(url).text
    html = _tap(client, url, html, "O")[0].text
    html = _tap(client, url, html, "X")[0].text
    assert 'name="series" value="OX"' in html
    html = _tap(client, url, html, "undo")[0].text
    assert 'name="series" value="O"' in html and re.search(r'class="filament">6<', html)


def test_paw_pressure_trials_with_the_cut_off(client_as, web):
    client = client_as("experimenter")
    code = _order(web, "paw_pressure", -1)[0]
    url = f"/sessions/paw_pressure/-1/{code}"
    html = client.get(url).text
    assert 'max="250.0"' in html and "Trial 1 of 3" in html

    def send(value, page):
        return client.post(url + "/save", data={
            "csrf_token": csrf_of(page), "token": TOKEN.search(page).group(1),
            "trial": re.search(r'name="trial" value="(\d+)"', page).group(1),
            "force_g": value}, follow_redirects=False)

    r = send("260", html)
    assert r.status_code == 422 and "above the cut-off of 250 g" in r.text
    r = send("12,5", html)
    assert r.status_code == 422 and "use a point as decimal separator" in r.text
    assert web.store.observations().empty
    for value in ("110.5", "250", "98"):
        r = send(value, html)
        assert r.status_code == 303
        html = client.get(url).text
    assert "All 3 trials of" in html and "censored right" in html
    assert "1 of 3 trials at the cut-off" in html or "cut-off" in html
    obs = web.store.observations()
    assert sorted(obs["value_num"]) == [98.0, 110.5, 250.0]
    assert list(obs["trial"]) == [1, 2, 3] and set(obs["entered_by"]) == {"jk"}
    session = client.get("/sessions/paw_pressure/-1").text
    assert "1 done" in session


def test_body_weight_is_one_number(client_as, web):
    client = client_as("admin")
    code = _order(web, "body_weight", -1)[3]
    url = f"/sessions/body_weight/-1/{code}"
    html = client.get(url).text
    r = client.post(url + "/save", data={"csrf_token": csrf_of(html),
                                         "token": TOKEN.search(html).group(1), "trial": "1",
                                         "weight_g": "21.4"})
    assert r.status_code == 200 and "trial 1 saved" in r.text and "All 1 trial" in r.text
    assert web.store.observations()["entered_by"].tolist() == ["pi"]


def test_unknown_sessions_and_codes_are_clear_pages(client_as):
    client = client_as("experimenter")
    r = client.get("/sessions/von_frey/5")
    assert r.status_code == 400 and "not in the schedule" in r.text
    r = client.get("/sessions/grip/1")
    assert r.status_code == 400 and "grip is not scheduled" in r.text
    r = client.get("/sessions/von_frey/-1/A-NONE")
    assert r.status_code == 400 and "no animal with the code" in r.text
    r = client.get("/sessions/von_frey/minus-one")
    assert r.status_code == 400 and "day" in r.text and "Traceback" not in r.text


def test_a_stored_reading_is_corrected_with_a_reason_and_keeps_its_history(client_as, web):
    client = client_as("experimenter")
    code = _order(web, "von_frey", -1)[2]
    url = f"/sessions/von_frey/-1/{code}"
    html = client.get(url).text
    for r in "XXXXX":
        html = _tap(client, url, html, r)[0].text
    assert f'href="{url}/1/correct"' in html
    page = client.get(f"{url}/1/correct")
    assert page.status_code == 200 and "XXXXX" in page.text

    def send(**data):
        return client.post(f"{url}/1/correct", data={"csrf_token": csrf_of(page.text), **data},
                           follow_redirects=False)

    r = send(xo_series="XXXOXOXO", reason="")
    assert r.status_code == 422 and "needs a reason" in r.text
    r = send(xo_series="XXXOX", reason="mis-tap")
    assert r.status_code == 422 and "not complete" in r.text
    r = send(xo_series="XXXXX", reason="mis-tap")
    assert r.status_code == 422 and "changes nothing" in r.text
    before = web.store.observations()
    r = send(xo_series="xxxoxoxo", reason="mis-tap at stimulus 4")
    assert r.status_code == 303
    now = web.store.observations().set_index("quantity")
    assert now.loc["xo_series", "value_text"] == "XXXOXOXO"
    assert now.loc["filaments_used", "value_text"] == "5,4,3,2,3,2,3,2"
    assert now.loc["last_filament", "value_text"] == "2"
    assert len(now) == len(before)  # superseded, not added
    old = before.set_index("quantity").loc["xo_series", "observation_id"]
    history = web.store.history(int(old))
    assert list(history["value_text"]) == ["XXXXX", "XXXOXOXO"]
    assert history["reason"].iloc[-1] == "mis-tap at stimulus 4"
    events = web.store.audit_events()
    assert set(events[events["action"] == "correct"]["actor"]) == {"jk"}
    assert web.store.verify_audit().ok
    derived = derive_table(web.study, web.store)
    assert (derived["censored"] == "none").all()  # no longer censored at the lightest
    assert "corrected" in client.get(url).text


def test_a_number_is_corrected_and_a_trial_not_stored_cannot_be(client_as, web):
    client = client_as("admin")
    code = _order(web, "body_weight", -1)[0]
    url = f"/sessions/body_weight/-1/{code}"
    assert client.get(f"{url}/1/correct").status_code == 404
    html = client.get(url).text
    client.post(url + "/save", data={"csrf_token": csrf_of(html), "trial": "1",
                                     "token": TOKEN.search(html).group(1), "weight_g": "12.1"})
    page = client.get(f"{url}/1/correct").text
    r = client.post(f"{url}/1/correct", data={"csrf_token": csrf_of(page), "weight_g": "21.2",
                                              "reason": "digits swapped"})
    assert r.status_code == 200 and "corrected" in r.text
    assert web.store.observations()["value_num"].tolist() == [21.2]
