"""The power calculator for admins: the choices of ``nocilab power`` from a form, run in
the background by the same library calls, with the summary, the grid, the curves and the
paragraph for the ethics application; a bad value is a 400 naming the field."""

from __future__ import annotations

import json

import pytest
from _web_helpers import POWER_FORM, csrf_of, enter_paw_pressure, run_job, run_power
from _web_study import SECRET_NAMES

from nocilab.design.power_request import PowerRequest, compute_power, prepare_power


def test_the_form_computes_what_the_command_computes(app, client_as, tmp_path):
    status = run_power(app)
    assert status.state == "done", status.message
    client = client_as("admin")
    page = client.get("/admin/power").text
    folder = app.state.web.outputs / "power"
    summary = json.loads((folder / "power_summary.json").read_text())
    # the same request through the library: the same grid and the same paragraph
    same = compute_power(prepare_power(PowerRequest(
        effect=30.0, scale="absolute", sd_donor=10.0, sd_animal=5.0, sd_residual=8.0,
        donors="3-5", mice="1,2", days="-1,1,2", sims=200)), tmp_path / "cli")
    assert (folder / "power_grid.csv").read_text() == (tmp_path / "cli" /
                                                       "power_grid.csv").read_text()
    assert summary["statement"] == same.summary["statement"]
    for line in summary["lines"]:
        assert line.replace("'", "&#39;") in page
    assert "effect 30 (absolute, in reading units)" in page  # the effect and its scale
    assert "Sample size. Power was estimated by simulation" in page
    assert '<img src="/admin/power/files/power_curves.png"' in page
    assert ("nocilab power --effect 30 --scale absolute --donors 3-5 --mice 1,2 --days "
            "-1,1,2 --sd-donor 10 --sd-animal 5 --sd-residual 8 --sims 200") in page
    frame = same.plan.grid.to_frame()
    first = frame[(frame["donors_per_arm"] == 3) & (frame["mice_per_donor"] == 1)]
    assert f">{float(first['power'].iloc[0]):.3f}</td>" in page  # the grid table
    png = client.get("/admin/power/files/power_curves.png")
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
    text = client.get("/admin/power/files/sample_size.txt")
    assert "attachment" in text.headers["content-disposition"]
    assert text.text.strip() == summary["statement"]


def test_fewest_donors_is_the_other_choice(app, client_as):
    form = {**POWER_FORM, "choose": "fewest-donors", "donors": "3-8"}
    assert run_power(app, form).state == "done"
    made = json.loads((app.state.web.outputs / "power" / "made.json").read_text())
    assert made["command"].count("--choose fewest-donors") == 1
    assert any("--choose fewest-donors" in line for line in made["lines"])


def test_the_study_is_its_own_pilot_blinded_with_coded_groups(app, client_as):
    enter_paw_pressure(app.state.web)
    status = run_power(app, {"effect": "20", "from_study": "yes",
                             "outcome": "paw_pressure.threshold_g", "donors": "2-3",
                             "mice": "1,2", "sims": "200"})
    assert status.state == "done", status.message
    page = client_as("admin").get("/admin/power").text
    assert "pilot read blinded: coded groups as arms, vial codes as donors" in page
    assert "variance components from this study (webtest): REML fit" in page
    assert "estimated by REML from the pilot study" in page
    assert "nocilab power --from" in page and "--outcome paw_pressure.threshold_g" in page
    assert not [s for s in SECRET_NAMES if s in page]


@pytest.mark.parametrize(("changes", "named"), [
    ({"effect": ""}, "Peak effect to detect (--effect): give the size of the effect"),
    ({"effect": "a lot"}, "Peak effect to detect (--effect) must be a number; got a lot"),
    ({"effect": "nan"}, "Peak effect to detect (--effect) must be a finite number"),
    ({"effect": "-5"}, "--effect must be a size &gt;= 0"),
    ({"sims": "2.5"}, "Simulated studies per design (--sims) must be a whole number"),
    ({"sims": "10000000"}, "(--sims) must be between 100 and 100,000"),
    ({"choose": "cheapest"}, "Which design to choose (--choose) must be one of "
                             "fewest-animals, fewest-donors; got cheapest"),
    ({"scale": "<script>alert(1)</script>"}, "got &lt;script&gt;alert(1)&lt;/script&gt;"),
    ({"donors": "4 to 16"}, "--donors must look like 4-16 or 4,6,8; got 4 to 16"),
    ({"window": "7"}, "--window must be FIRST,LAST"),
    ({"sd_donor": ""}, "give --sd-donor or take them from a pilot study"),
    ({"from_study": "yes", "outcome": ""}, "--from needs --outcome"),
])
def test_bad_values_are_a_400_naming_the_field(app, client_as, changes, named):
    client = client_as("admin")
    token = csrf_of(client.get("/admin/power").text)
    r = client.post("/admin/power", data={"csrf_token": token, **POWER_FORM, **changes})
    assert r.status_code == 400, r.text
    assert named in r.text and "Traceback" not in r.text and "<script>alert" not in r.text
    assert app.state.web.jobs.status("power").state == "idle"


def test_a_pilot_that_cannot_give_the_components_fails_with_its_reason(app, client_as):
    status = run_job(app, "/admin/power", {"effect": "20", "from_study": "yes",
                                           "outcome": "paw_pressure.threshold_g"},
                     job="power", user="pi")
    assert status.state == "failed" and "Traceback" not in status.message
    assert status.message in client_as("admin").get("/admin/power/status").text.replace(
        "&#39;", "'")


def test_only_admins_reach_the_power_pages_and_only_its_files(app, client_as):
    run_power(app)
    for role in ("experimenter", "analyst", "viewer"):
        client = client_as(role)
        for url in ("/admin/power", "/admin/power/status", "/admin/power/files/power_grid.csv"):
            assert client.get(url).status_code == 403, (role, url)
    admin = client_as("admin")
    (app.state.web.outputs / "power" / "other.txt").write_text("x")
    for name in ("made.json", "other.txt", "..%2F..%2Fstudy.toml", "%2e%2e"):
        assert admin.get(f"/admin/power/files/{name}").status_code == 404, name
    assert admin.get("/admin/power/files/power_grid.csv").status_code == 200
