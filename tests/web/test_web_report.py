"""The report for analysts: ``nocilab analyze`` run in the background into a folder under
the study, served behind the login, with coded groups until unblinding, and no file
outside the folder."""

from __future__ import annotations

import io
import re
import threading
from pathlib import Path

import openpyxl
import pytest
from _web_helpers import csrf_of, enter_paw_pressure, run_job, run_report
from _web_study import ARMS, PASSPHRASE, SECRET_NAMES

from nocilab.design.blinding import allocate_study, unblind

TEXT_TYPES = (".html", ".csv", ".svg", ".pzfx", ".json", ".txt")


@pytest.fixture
def entered(app):
    enter_paw_pressure(app.state.web)
    return app


def _report_folder(app) -> Path:
    return app.state.web.outputs / "report"


def test_blinded_report_compares_coded_groups_and_names_nothing(entered, client_as):
    run_report(entered)
    client = client_as("analyst")
    page = client.get("/report")
    assert page.status_code == 200 and "Made " in page.text and "by an" in page.text
    files = sorted(set(re.findall(r'<td><a href="(/report/files/[^"]+)"', page.text)))
    assert {"/report/files/report.html", "/report/files/results.xlsx",
            "/report/files/results.pzfx"} <= set(files)
    assert any(f.startswith("/report/files/results/") and f.endswith(".csv") for f in files)
    assert any(f.startswith("/report/files/figures/") and f.endswith(".png") for f in files)
    report = client.get("/report/files/report.html")
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    assert "script-src" not in report.headers["content-security-policy"]  # no script runs
    assert "coded groups" in report.text and "group " in report.text
    for url in files:  # every file served, none names an arm, donor or preparation
        r = client.get(url)
        assert r.status_code == 200, url
        if url.endswith(TEXT_TYPES):
            assert not [s for s in SECRET_NAMES if s in r.text], url
    xlsx = client.get("/report/files/results.xlsx")
    assert "attachment" in xlsx.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content), read_only=True)
    text = " ".join(str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True)
                    for c in row if c is not None)
    book.close()
    assert "group" in text and not [s for s in SECRET_NAMES if s in text]


def test_the_web_report_is_the_command_lines(entered, tmp_path):
    """Same library call, same numbers: the donor test of the page's run and of
    analyze_study --blinded on the same store are the same file."""
    from nocilab.report.analyze import analyze_study

    web = entered.state.web
    run_report(entered)
    analyze_study(web.study, web.store, tmp_path / "cli", blinded=True)
    ours = _report_folder(entered) / "blinded" / "results"
    names = sorted(p.name for p in ours.glob("*.csv"))
    assert names == sorted(p.name for p in (tmp_path / "cli" / "results").glob("*.csv"))
    for name in names:
        assert (ours / name).read_text() == (tmp_path / "cli" / "results" / name).read_text()


def test_after_unblinding_the_blinded_report_goes_and_the_new_one_names_arms(entered,
                                                                              client_as):
    web = entered.state.web
    run_report(entered)
    unblind(web.study, web.store, passphrase=PASSPHRASE, actor="pi", reason="all entered")
    client = client_as("analyst")
    assert client.get("/report/files/report.html").status_code == 404
    assert "No report for the study as it is now" in client.get("/report").text
    run_report(entered)
    report = client.get("/report/files/report.html")
    assert report.status_code == 200
    assert any(label in report.text for label in ARMS.values())
    # allocated again: blinded once more, and the report naming arms is not served
    allocate_study(web.study, web.store, passphrase=PASSPHRASE, actor="pi", seed=3,
                   force=True, reason="new cohort", kdf_n=2**14)
    assert (_report_folder(entered) / "named" / "report.html").is_file()
    for url in ("/report/files/report.html", "/report/files/results.xlsx", "/report"):
        r = client.get(url)
        assert not [s for s in SECRET_NAMES if s in r.text], url
    assert client.get("/report/files/report.html").status_code == 404


def test_no_file_outside_the_report_folder_is_served(entered, client_as, tmp_path):
    run_report(entered)
    client = client_as("analyst")
    folder = _report_folder(entered) / "blinded"
    outside = tmp_path / "secret.txt"
    outside.write_text("armQuokkaIgG", encoding="utf-8")
    (folder / "link.txt").symlink_to(outside)
    (folder / "figures" / "up").symlink_to(tmp_path, target_is_directory=True)
    (folder / ".hidden.txt").write_text("armQuokkaIgG", encoding="utf-8")
    for url in ("/report/files/..%2F..%2Fstudy.toml", "/report/files/%2e%2e/%2e%2e/study.toml",
                "/report/files/../../study.toml", "/report/files/figures/../../../study.toml",
                "/report/files/figures/..%2F..%2F..%2Fstudy.toml",
                "/report/files/..%5C..%5Cstudy.toml", "/report/files/%2Fetc%2Fpasswd",
                "/report/files//etc/passwd", "/report/files/made.json",
                "/report/files/link.txt", "/report/files/figures/up/secret.txt",
                "/report/files/.hidden.txt", "/report/files/figures",
                "/report/files/", "/report/files/C:%5Cx", "/report/files/report.html%00.txt",
                "/report/files/nothing.html"):
        r = client.get(url)
        assert r.status_code == 404, url
        assert "armQuokkaIgG" not in r.text and "[study]" not in r.text, url
    page = client.get("/report").text
    assert "link.txt" not in page and ".hidden.txt" not in page and "made.json" not in page
    assert client.get("/report/files/report.html").status_code == 200


@pytest.mark.parametrize(("field", "value", "named"), [
    ("baseline", "sideways", "Baseline must be one of raw, change, percent, covariate; "
                             "got sideways"),
    ("posttest", "tukey", "Per-day adjustment must be one of sidak"),
    ("window", "<b>a</b>,b", "Analysis window must be FIRST,LAST post-injection study days"),
    ("window", "0,3", "Analysis window 0,3: the analysis window starts on day 0"),
    ("scale", "cubic", "Scale must be empty"),
])
def test_bad_settings_are_a_400_naming_the_field(entered, client_as, field, value, named):
    client = client_as("analyst")
    token = csrf_of(client.get("/report").text)
    r = client.post("/report", data={"csrf_token": token, "baseline": "raw", field: value})
    assert r.status_code == 400 and named in r.text and "Traceback" not in r.text
    assert "<b>a" not in r.text
    assert entered.state.web.jobs.status("report").state == "idle"  # nothing started


def test_a_failed_run_leaves_the_last_report_and_says_why(entered, client_as):
    run_report(entered)
    client = client_as("analyst")
    before = client.get("/report/files/report.html").text
    status = run_job(entered, "/report", {"baseline": "raw", "outcomes": "no_such.<i>x</i>"},
                     job="report")
    assert status.state == "failed" and "no outcome no_such.<i>x</i>" in status.message
    page = client.get("/report").text
    assert "failed: webtest: no outcome no_such.&lt;i&gt;x&lt;/i&gt;" in page
    assert client.get("/report/files/report.html").text == before
    assert not [p for p in _report_folder(entered).iterdir() if p.name.startswith(".")]


def test_nothing_to_analyse_is_a_message(app, client_as):
    status = run_job(app, "/report", {"baseline": "raw"}, job="report", user="pi")
    assert status.state == "failed" and "no derived values to analyse" in status.message
    client = client_as("admin")
    assert "no derived values to analyse" in client.get("/report/status").text
    assert client.get("/report/files/report.html").status_code == 404


def test_the_analysis_runs_in_the_background_once_at_a_time(entered, client_as, monkeypatch):
    """While an analysis runs, the status fragment polls, a second run is refused, and
    bench pages answer."""
    import nocilab.report.analyze as analyze

    release, started = threading.Event(), threading.Event()
    real = analyze.analyze_study

    def slow(*args, **kwargs):
        started.set()
        assert release.wait(60)
        return real(*args, **kwargs)

    monkeypatch.setattr(analyze, "analyze_study", slow)
    client = client_as("analyst")
    token = csrf_of(client.get("/report").text)
    r = client.post("/report", data={"csrf_token": token, "baseline": "raw"},
                    follow_redirects=False)
    assert r.status_code == 303
    assert started.wait(30)
    fragment = client.get("/report/status")
    assert fragment.status_code == 200 and 'hx-trigger="every 2s"' in fragment.text
    assert "is running" in fragment.text
    again = client.post("/report", data={"csrf_token": token, "baseline": "change"})
    assert again.status_code == 409 and "running already" in again.text
    bench = client_as("experimenter")
    assert bench.get("/sessions/paw_pressure/2").status_code == 200  # not blocked
    release.set()
    assert entered.state.web.jobs.wait("report", timeout=300).state == "done"
    done = client.get("/report/status").text
    assert "hx-trigger" not in done and "/report/files/report.html" in done


def test_only_analysts_and_admins_reach_the_report(entered, client_as):
    run_report(entered)
    for role in ("experimenter", "viewer"):
        client = client_as(role)
        for url in ("/report", "/report/status", "/report/files/report.html"):
            assert client.get(url).status_code == 403, (role, url)
        assert "/report" not in client.get("/").text.split("<main>")[0]  # not in the menu
    assert client_as("admin").get("/report/files/report.html").status_code == 200


def test_a_window_typed_on_the_page_is_reported_as_such(entered):
    run_report(entered, window="1,2")
    text = (_report_folder(entered) / "blinded" / "report.html").read_text(encoding="utf-8")
    assert "days 1-2, from the report page (window 1,2)" in text
    assert "from the command line" not in text
