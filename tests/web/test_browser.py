"""The bench app in a real browser (Chromium through Playwright) on a tablet.

A real uvicorn server serves the test study; Debian's Chromium (``/usr/bin/chromium``,
headless, touch enabled) is driven as a person at the bench drives it: log in, open a
session, tap a von Frey series in, type paw-pressure trials, correct one with a reason.
What was stored is then read back through the library. Screenshots of every step are
saved under the test's temporary folder (``tmp_path/shots``), landscape and portrait,
and printed (print media).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from _web_helpers import PASSWORDS, enter_paw_pressure
from _web_server import running_server
from _web_study import ARMS, PASSPHRASE

from nocilab import bench
from nocilab.derive import derive_table
from nocilab.store import Store
from nocilab.web import create_app

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (Debian package chromium) to drive",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

TABLET = {"landscape": {"width": 1280, "height": 800},
          "portrait": {"width": 800, "height": 1280}}
FINGER_PX = 44  # the smallest comfortable touch target (CSS pixels)
SERIES = "OOXOXOO"  # threshold at filament 7 territory; next filaments 6,7,6,7,6,7


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()


@pytest.fixture
def served(app):
    with running_server(app) as url:
        yield url


class Bench:
    """One tablet: a browser context with touch, and the screenshots it takes."""

    def __init__(self, browser, base_url: str, viewport: dict, shots: Path):
        self.context = browser.new_context(base_url=base_url, viewport=viewport,
                                           has_touch=True, is_mobile=False,
                                           device_scale_factor=1)
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.viewport = viewport
        self.shots = shots
        shots.mkdir(parents=True, exist_ok=True)
        self.n = 0

    def shot(self, name: str) -> Path:
        self.n += 1
        path = self.shots / f"{self.n:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def login(self, username: str) -> None:
        page = self.page
        page.goto("/login")
        page.fill("#username", username)
        page.fill("#password", PASSWORDS[username])
        page.get_by_role("button", name="Log in").tap()
        expect(page.locator("header .who")).to_contain_text(username)

    def fits_the_screen(self) -> None:
        """Nothing wider than the screen (no sideways scrolling of the page)."""
        width = self.page.evaluate("document.documentElement.scrollWidth")
        assert width <= self.viewport["width"], f"{self.page.url} is {width}px wide"

    def big_enough(self, selector: str, *, px: int = FINGER_PX) -> None:
        """Every visible element matching ``selector`` is at least ``px`` square."""
        boxes = [b for b in (el.bounding_box() for el in self.page.query_selector_all(selector))
                 if b is not None]
        assert boxes, f"nothing matches {selector} on {self.page.url}"
        small = [b for b in boxes if b["height"] < px or b["width"] < px]
        assert not small, f"{selector} on {self.page.url}: {small} smaller than {px}px"

    def close(self) -> None:
        self.context.close()


def _tap_series(tablet: Bench, series: str) -> None:
    page = tablet.page
    expect(page.locator(".filament")).to_have_text("5")  # the middle of the mouse set
    tablet.big_enough(".taps button", px=100)
    for i, response in enumerate(series):
        page.locator(f".taps button.{response.lower()}").tap()
        if i + 1 < len(series):
            expect(page.locator(".series")).to_have_text(series[:i + 1])
        if i == 2:
            tablet.shot("von-frey-series-under-way")


@pytest.mark.slow
@pytest.mark.parametrize("orientation", list(TABLET))
def test_an_experimenter_enters_a_session_on_a_tablet(browser, served, app, tmp_path,
                                                      orientation):
    web = app.state.web
    tablet = Bench(browser, served, TABLET[orientation], tmp_path / "shots" / orientation)
    page = tablet.page
    try:
        tablet.login("jk")
        expect(page.locator("h1")).to_have_text("Bench entry test study")
        tablet.fits_the_screen()
        tablet.shot("study")

        # von Frey, day -1: the first animal of the testing order
        page.locator('a[href="/sessions/von_frey/-1"]').tap()
        expect(page.locator("h1")).to_contain_text("von frey · study day -1")
        tablet.big_enough("a.button")
        tablet.big_enough("td a")  # the animal codes
        tablet.big_enough("header.top nav a, header.top button")
        tablet.shot("von-frey-session")
        order = [a.code for a in bench.session_animals(web.study, web.store, "von_frey", -1)]
        page.get_by_role("link", name=f"Next to test: {order[0]}").tap()
        expect(page.locator("#entry h1")).to_contain_text(order[0])
        _tap_series(tablet, SERIES)
        done = page.locator("#entry .ok")
        expect(done).to_contain_text("Saved trial 1")
        derived = derive_table(web.study, web.store)
        threshold = derived.loc[derived["assay"] == "von_frey", "value"].iloc[0]
        expect(done).to_contain_text(f"threshold: {threshold:.3g} g")
        expect(page.locator(".taps")).to_have_count(0)  # complete: no more X/O
        tablet.fits_the_screen()
        tablet.shot("von-frey-complete")

        # paw pressure, day -1: three trials, one beyond the cut-off, one at it
        page.goto("/sessions/paw_pressure/-1")
        pp = [a.code for a in bench.session_animals(web.study, web.store, "paw_pressure", -1)]
        page.get_by_role("link", name=f"Next to test: {pp[0]}").tap()
        force = page.locator("#f-force_g")
        expect(force).to_be_focused()
        tablet.big_enough("input#f-force_g")
        tablet.big_enough("form.card button[type=submit]")
        force.fill("120")
        page.get_by_role("button", name="Save trial 1").tap()
        expect(page.locator(".flash")).to_contain_text(f"{pp[0]}: trial 1 saved.")
        force.fill("300")  # above the 250 g cut-off: the browser will not send it
        page.get_by_role("button", name="Save trial 2").tap()
        assert page.evaluate("document.querySelector('#f-force_g').validity.rangeOverflow")
        assert "250" in force.evaluate("e => e.validationMessage")
        expect(page.locator(".flash")).to_contain_text("trial 1 saved.")  # still the page
        # sent anyway (a browser that does not check): the server refuses it, saying why
        page.evaluate("document.querySelector('form.card').noValidate = true")
        page.get_by_role("button", name="Save trial 2").tap()
        expect(page.locator(".error")).to_contain_text("above the cut-off of 250 g")
        expect(force).to_have_value("300")  # what was typed stays, to be mended
        tablet.shot("paw-pressure-above-cut-off")
        force.fill("250")  # at the cut-off: stored, censored
        page.get_by_role("button", name="Save trial 2").tap()
        expect(page.locator(".flash")).to_contain_text("trial 2 saved.")
        force.fill("140")
        page.get_by_role("button", name="Save trial 3").tap()
        expect(page.locator(".flash")).to_contain_text("trial 3 saved.")
        expect(page.locator(".card")).to_contain_text(f"All 3 trials of {pp[0]} are stored")
        tablet.big_enough("td a")  # the "correct" links
        day_value = page.locator("p", has_text="Value of the day")
        expect(day_value).to_contain_text("threshold 170 g (3 trials)")  # mean of 120, 250, 140
        expect(day_value).to_contain_text("censored right at 170 g")  # at least 170 g
        expect(day_value).to_contain_text("1 of 3 trials at the cut-off of 250 g")
        tablet.shot("paw-pressure-stored")

        # trial 1 was misread: corrected with a reason
        page.locator(f'a[href="/sessions/paw_pressure/-1/{pp[0]}/1/correct"]').tap()
        expect(page.locator("h1")).to_contain_text(f"Correct {pp[0]}")
        page.fill("#f-force_g", "125")
        page.get_by_role("button", name="Save the correction").tap()
        expect(page.locator("#f-reason:invalid")).to_have_count(1)  # a reason is required
        page.fill("#f-reason", "display misread: 125 not 120")
        tablet.shot("correction")
        page.get_by_role("button", name="Save the correction").tap()
        expect(page.locator(".flash")).to_contain_text("trial 1 corrected")
        tablet.fits_the_screen()
        tablet.shot("corrected")

        page.emulate_media(media="print")  # the same page on paper
        expect(page.get_by_role("button", name="Log out")).to_be_hidden()
        tablet.shot("corrected-printed")
        page.emulate_media(media="screen")
    finally:
        tablet.close()

    # what the store holds, read through the library
    with Store.open(web.study.database_url()) as store:
        obs = store.observations()
        assert set(obs["entered_by"]) == {"jk"}
        vf = obs[obs["assay"] == "von_frey"].set_index("quantity")
        assert vf.loc["xo_series", "value_text"] == SERIES
        assert vf.loc["filaments_used", "value_text"] == "5,6,7,6,7,6,7"
        pp_obs = obs[obs["assay"] == "paw_pressure"].sort_values("trial")
        assert pp_obs["value_num"].tolist() == [125.0, 250.0, 140.0]
        first = obs[(obs["assay"] == "paw_pressure") & (obs["trial"] == 1)]
        history = store.history(int(first["observation_id"].iloc[0]))
        assert history["value_num"].tolist() == [120.0, 125.0]
        assert history["reason"].iloc[-1] == "display misread: 125 not 120"
        derived = derive_table(web.study, store).set_index("assay")
        assert derived.loc["paw_pressure", "censored"] == "right"
        assert derived.loc["von_frey", "censored"] == "none"
        events = store.audit_events()
        assert set(events.loc[events["action"].isin(["import", "insert", "correct"]),
                              "actor"]) == {"jk"}
        assert store.verify_audit().ok
    shots = sorted(p.name for p in tablet.shots.iterdir())
    assert len(shots) == tablet.n and all(s.endswith(".png") for s in shots)


@pytest.mark.slow
def test_the_admin_unblinds_and_opens_the_report(browser, served, app, tmp_path):
    enter_paw_pressure(app.state.web)
    tablet = Bench(browser, served, TABLET["landscape"], tmp_path / "shots" / "admin")
    page = tablet.page
    try:
        tablet.login("pi")
        expect(page.locator("h1")).to_have_text("Bench entry test study")
        expect(page.locator(".badge.blinded")).to_have_text("blinded")
        tablet.shot("admin-study")
        page.locator("header nav a", has_text="Allocation").tap()
        page.fill("#u-pass", PASSPHRASE)
        page.fill("#u-reason", "all readings entered")
        tablet.shot("unblind-form")
        page.get_by_role("button", name="Unblind the study").tap()
        expect(page.locator(".flash")).to_contain_text("unblinded")
        expect(page.locator(".error")).to_have_count(0)
        tablet.shot("unblinded")

        page.locator("header nav a", has_text="Report").tap()
        expect(page.locator("#report-status")).to_contain_text("No report")
        tablet.big_enough("form button[type=submit]")
        page.select_option("#r-baseline", "change")
        page.get_by_role("button", name="Run the analysis").tap()
        expect(page.locator("#report-status")).to_contain_text(re.compile("queued|running"))
        tablet.shot("report-running")
        open_report = page.get_by_role("link", name="Open the report")
        expect(open_report).to_be_visible(timeout=240_000)  # the status fragment polled
        tablet.fits_the_screen()
        tablet.shot("report-ready")
        page.emulate_media(media="print")
        tablet.shot("report-page-printed")
        page.emulate_media(media="screen")
        open_report.tap()
        expect(page.locator("body")).to_contain_text(re.compile(
            "|".join(re.escape(label) for label in ARMS.values())))
        expect(page.locator("body")).to_contain_text("change")
        tablet.shot("report")

        page.goto("/admin/power")
        page.fill("#p-effect", "20")
        page.locator("input[name=from_study]").check()
        page.select_option("#p-outcome", "paw_pressure.threshold_g")
        page.locator("details summary").tap()
        page.fill("#p-donors", "2-6")
        page.fill("#p-mice", "1-3")
        page.fill("#p-sims", "1000")
        tablet.shot("power-form")
        page.get_by_role("button", name="Calculate").tap()
        expect(page.locator("#power-status h2", has_text="For the ethics application")
               ).to_be_visible(timeout=240_000)
        expect(page.locator("p.statement")).to_contain_text("Sample size.")
        assert page.locator("figure.power img").evaluate("i => i.naturalWidth") > 0
        tablet.fits_the_screen()
        tablet.shot("power-result")
    finally:
        tablet.close()
    assert len(list(tablet.shots.iterdir())) == tablet.n
