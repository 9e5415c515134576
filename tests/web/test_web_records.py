"""Animal histories and the audit check in the browser."""

from __future__ import annotations

import sqlalchemy as sa
from _web_study import PASSPHRASE

from nocilab import bench
from nocilab.design.blinding import animal_id_for_codes, unblind
from nocilab.ingest.edit import correct_reading, delete_readings


def _paw(web, k: int = 0):
    return bench.session_animals(web.study, web.store, "paw_pressure", -1)[k].code


def _enter(web, code: str, trial: int, force: str) -> None:
    bench.enter_reading(web.study, web.store, code=code, assay="paw_pressure", study_day=-1,
                        trial=trial, values={"force_g": force}, actor="jk",
                        token=f"{code}{trial}".ljust(32, "t"))


def test_animal_history_shows_every_version_and_the_events_that_wrote_them(client_as, app):
    web = app.state.web
    code = _paw(web)
    _enter(web, code, 1, "120")
    _enter(web, code, 2, "140")
    obs = web.store.observations()
    first, second = (int(i) for i in obs["observation_id"])
    new_id = correct_reading(web.study, web.store, first, "125", reason="misread dial <b>",
                             actor="jk")
    delete_readings(web.study, web.store, [second], reason="paw slipped", actor="pi")
    page = client_as("experimenter").get(f"/animals/{code}")
    assert page.status_code == 200
    text = page.text
    assert f"{code} <span" in text
    assert "<strong>125</strong>" in text and "correct, in force" in text
    assert f"insert, replaced by {new_id}" in text  # the old value stays, with its successor
    assert "deleted" in text and "paw slipped" in text
    assert "misread dial &lt;b&gt;" in text and "misread dial <b>" not in text
    events = web.store.audit_events(entity="observation")
    for event_id in events["event_id"]:
        assert f'<td class="num">{event_id}</td>' in text
    assert "force_g = 120" in text and "force_g = 125" in text
    assert "web entry: paw_pressure" in text  # the import event of the bench entry
    animal = animal_id_for_codes(web.store)[code]
    assert f">{animal}<" not in text  # the animal is named by its code only


def test_animals_page_lists_codes_with_their_reading_counts(client_as, app):
    web = app.state.web
    code = _paw(web)
    _enter(web, code, 1, "120")
    page = client_as("analyst").get("/animals").text
    codes = animal_id_for_codes(web.store)
    for c in codes:
        assert f'href="/animals/{c}"' in page
    assert f'<a href="/animals/{code}">{code}</a></td><td>' in page
    assert '<td class="num">1</td>' in page
    for animal in codes.values():
        assert f">{animal}<" not in page


def test_history_needs_a_code_while_blinded_and_takes_ids_after_unblinding(client_as, app):
    web = app.state.web
    code = _paw(web)
    animal = animal_id_for_codes(web.store)[code]
    client = client_as("admin")
    r = client.get(f"/animals/{animal}")
    assert r.status_code == 400 and f"no animal with the code &#39;{animal}&#39;" in r.text
    r = client.get("/animals/<img src=x onerror=alert(1)>")
    assert r.status_code == 400 and "&lt;img src=x" in r.text and "<img src" not in r.text
    unblind(web.study, web.store, passphrase=PASSPHRASE, actor="pi", reason="done")
    r = client.get(f"/animals/{animal}")
    assert r.status_code == 200 and f"{code} <span" in r.text


def test_history_roles(client_as, app):
    code = _paw(app.state.web)
    r = client_as("viewer").get(f"/animals/{code}")
    assert r.status_code == 403
    assert client_as("viewer").get("/animals").status_code == 403
    assert client_as("viewer").get("/audit").status_code == 200


def test_audit_page_shows_the_head_hash_and_a_broken_chain(client_as, app):
    web = app.state.web
    code = _paw(web)
    _enter(web, code, 1, "120")
    client = client_as("viewer")
    report = web.store.verify_audit()
    page = client.get("/audit")
    assert page.status_code == 200
    assert "Audit chain intact" in page.text and report.head_hash in page.text
    assert f"{report.n_events} events verified" in page.text
    with web.store.engine.begin() as conn:  # someone edits the database behind the store
        conn.execute(sa.text("UPDATE observations SET value_num = 99 WHERE id = 1"))
    broken = web.store.verify_audit()
    assert not broken.ok
    page = client.get("/audit")
    assert page.status_code == 200 and "Audit chain broken" in page.text
    assert "Audit chain intact" not in page.text
    assert f"at event {broken.first_broken_id}" in page.text
