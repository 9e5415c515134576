"""Uploading raw-data files: the importer of ``nocilab import``, all or nothing."""

from __future__ import annotations

import html
import io
import re

import pandas as pd
import pytest
from _web_helpers import csrf_of, login, make_study
from _web_study import SECRET_NAMES, study_data
from fastapi.testclient import TestClient

from nocilab.cli import main
from nocilab.design.blinding import animal_id_for_codes
from nocilab.web import create_app


@pytest.fixture
def mapped_app(tmp_path):
    """The test study with a wide mapping in its study file."""
    data = study_data()
    data["mappings"] = {"pp_wide": {"layout": "wide", "assay": "paw_pressure",
                                    "quantity": "force_g", "columns": "D{day}_t{trial}",
                                    "animal": "mouse"}}
    application = create_app(make_study(tmp_path / "mapped", data=data), secret_key="k")
    yield application
    application.state.web.store.close()


def _client(app, name: str = "jk") -> TestClient:
    client = TestClient(app, raise_server_exceptions=False)
    assert login(client, name).status_code == 303
    return client


def _upload(client, name: str, content: bytes, mapping: str = "", assay: str = ""):
    token = csrf_of(client.get("/upload").text)
    return client.post("/upload", data={"csrf_token": token, "mapping": mapping,
                                        "assay": assay},
                       files={"file": (name, content, "application/octet-stream")})


def _codes(app) -> list[str]:
    return sorted(animal_id_for_codes(app.state.web.store))


def test_a_long_csv_with_animal_codes_is_imported_by_the_logged_in_user(app):
    web = app.state.web
    codes = _codes(app)
    csv = "animal,study_day,trial,force_g\n" + "".join(
        f"{c},-1,{t},{100 + 10 * t}\n" for c in codes[:2] for t in (1, 2, 3))
    client = _client(app)
    r = _upload(client, "C:\\lab\\day -1.csv", csv.encode(), assay="paw_pressure")
    assert r.status_code == 200
    assert "day -1.csv: imported 6 raw values (6 paw_pressure) as import" in r.text
    assert not [s for s in SECRET_NAMES if s in r.text]
    obs = web.store.observations()
    ids = animal_id_for_codes(web.store)
    assert sorted(set(obs["animal"])) == sorted(ids[c] for c in codes[:2])
    assert (obs["entered_by"] == "jk").all()
    imports = web.store.imports()
    assert list(imports["file_name"]) == ["day -1.csv"]  # the name it had, no folders
    again = _upload(client, "day -1.csv", csv.encode(), assay="paw_pressure")
    assert again.status_code == 200 and "already imported" in again.text
    assert len(web.store.observations()) == 6
    assert web.store.verify_audit().ok


def test_a_bad_file_is_refused_whole_and_every_bad_cell_listed_as_the_cli_lists_it(
        app, tmp_path, monkeypatch, capsys):
    web = app.state.web
    codes = _codes(app)
    payload = "<script>alert(1)</script>"
    csv = ("animal,assay,study_day,trial,force_g\n"
           f"{codes[0]},paw_pressure,-1,1,120\n"
           f"{codes[1]},paw_pressure,-1,1,abc\n"
           f"{payload},paw_pressure,-1,1,130\n"
           f"{codes[2]},paw_pressure,9,1,140\n")
    r = _upload(_client(app), "bad.csv", csv.encode())
    assert r.status_code == 422
    assert "bad.csv: 3 problems; nothing was imported" in r.text
    assert payload not in r.text and "&lt;script&gt;" in r.text
    shown = [html.unescape(p) for p in re.findall(r"<li>(.*?)</li>", r.text, re.S)]
    assert len(shown) == 3 and all(p.startswith("bad.csv, row ") for p in shown)
    assert web.store.observations().empty and web.store.imports().empty
    # the command line lists the same problems, in the same words
    (tmp_path / "bad.csv").write_text(csv, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["import", str(web.study.path), "bad.csv", "--by", "jk"]) == 3
    cli = [line.strip()[2:] for line in capsys.readouterr().err.splitlines()
           if line.strip().startswith("- ")]
    assert cli == shown, (cli, shown)


def test_a_wide_xlsx_through_the_study_files_mapping(mapped_app):
    web = mapped_app.state.web
    codes = _codes(mapped_app)
    frame = pd.DataFrame({"mouse": codes[:3], "D-1_t1": [110, 120, 130],
                          "D-1_t2": [111, 121, 131]})
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False)
    client = _client(mapped_app, "pi")
    page = client.get("/upload").text
    assert '<option value="pp_wide">mapping pp_wide (study file)</option>' in page
    r = _upload(client, "wide.xlsx", buffer.getvalue(), mapping="pp_wide")
    assert r.status_code == 200 and "imported 6 raw values (6 paw_pressure)" in r.text
    assert len(web.store.observations()) == 6
    r = _upload(client, "wide2.xlsx", buffer.getvalue(), mapping="nope")
    assert r.status_code == 400 and "no mapping &#39;nope&#39;" in r.text
    assert "mappings: pp_wide" in r.text


def test_files_that_are_not_tables_are_refused(app):
    client = _client(app)
    r = _upload(client, "notes.pdf", b"%PDF-1.4")
    assert r.status_code == 422 and "unknown file type" in r.text
    r = _upload(client, "empty.csv", b"")
    assert r.status_code == 422 and "the file is empty" in r.text
    r = _upload(client, "broken.xlsx", b"not a workbook")
    assert r.status_code == 422 and "cannot read the file" in r.text
    assert "Traceback" not in r.text
    token = csrf_of(client.get("/upload").text)
    r = client.post("/upload", data={"csrf_token": token})
    assert r.status_code == 400 and "file" in r.text
    assert app.state.web.store.observations().empty


def test_only_admins_and_experimenters_upload(client_as, app):
    csv = f"animal,study_day,trial,force_g\n{_codes(app)[0]},-1,1,120\n".encode()
    for role in ("analyst", "viewer"):
        client = client_as(role)
        assert client.get("/upload").status_code == 403
        token = csrf_of(client.get("/").text)
        r = client.post("/upload", data={"csrf_token": token},
                        files={"file": ("a.csv", csv, "text/csv")})
        assert r.status_code == 403
    assert app.state.web.store.observations().empty
    r = _upload(client_as("admin"), "a.csv", csv, assay="paw_pressure")
    assert r.status_code == 200 and "imported 1 raw values" in r.text
