"""Printable sheets: codes only, reading columns, testing order, the `sheets` command."""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser

import pytest
import typer
from _allocation_study import (
    FAST_KDF,
    PASSPHRASE,
    PREPARATIONS,
    SECRET_IDS,
    study_data,
    write_study,
)

from nocilab.cli_design import register
from nocilab.design.blinding import allocate_study, assignments, unblind
from nocilab.design.sheets import (
    Session,
    cage_cards_html,
    injection_sheet_html,
    parse_session,
    reading_columns,
    session_sheet_html,
    session_order,
    write_sheets,
)
from nocilab.errors import DesignError, NocilabError
from nocilab.model.settings import PawPressureSettings, VonFreySettings
from nocilab.store import Store


class _Rows(HTMLParser):
    """Table body rows as lists of cell texts, and the number of X/O boxes per row."""

    def __init__(self, html: str):
        super().__init__()
        self.rows: list[list[str]] = []
        self.boxes: list[int] = []
        self._in_body = self._in_cell = False
        self._in_xo = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        cls = dict(attrs).get("class", "")
        if tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows.append([])
            self.boxes.append(0)
        elif tag == "td" and self._in_body:
            self._in_cell = True
            self.rows[-1].append("")
        elif tag == "div" and cls == "xo":
            self._in_xo = True
        elif tag == "span" and self._in_xo:
            self.boxes[-1] += 1

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._in_body = False
        elif tag == "td":
            self._in_cell = False
        elif tag == "div":
            self._in_xo = False

    def handle_data(self, data):
        if self._in_cell and self.rows:
            self.rows[-1][-1] += data.strip()


def _allocate(folder, data=None, seed=5):
    study = write_study(folder, data)
    with Store.open(study.database_url()) as store:
        allocate_study(study, store, passphrase=PASSPHRASE, actor="a", seed=seed,
                       kdf_n=FAST_KDF)
    return study


@pytest.fixture
def allocated(tmp_path):
    return _allocate(tmp_path / "study")


def _codes(study):
    with Store.open(study.database_url()) as store:
        return assignments(study, store, reveal=False).set_index("animal")


# ------------------------------------------------------------------------------ pure

def test_testing_order_is_a_reproducible_permutation_per_session():
    codes = [f"A-{c}" for c in ("2222", "3333", "4444", "6666", "7777", "9999", "AAAA")]
    one = session_order(codes, order_seed=42, assay="von_frey", study_day=-1)
    assert sorted(one) == sorted(codes)
    assert one == session_order(codes[::-1], order_seed=42, assay="von_frey", study_day=-1)
    others = {tuple(session_order(codes, order_seed=42, assay="von_frey", study_day=d))
              for d in range(-3, 8)}
    assert len(others) > 8  # sessions get their own orders (7! possible)


def test_parse_session():
    assert parse_session("von_frey:-1") == Session("von_frey", -1)
    for bad in ("von_frey", "von_frey:x", ":3"):
        with pytest.raises(DesignError, match="expected ASSAY:DAY"):
            parse_session(bad)


def test_up_down_boxes_cover_the_longest_series_of_the_set():
    # mouse set: 10 filaments; default start = position (10 + 1) // 2 = 5 (0.16 g, index 4)
    # longest run before a change: from index 4 up to 9 = 6 stimuli; then 4 more
    assert reading_columns("von_frey", VonFreySettings())["boxes"] == 10
    # start at the 0.4 g filament (index 5): runs of 6 down or 5 up; 6 + 4
    assert reading_columns("von_frey", VonFreySettings(start_filament="3.61"))["boxes"] == 10
    # start at the lightest: 10 up, then 2 after the change
    s = VonFreySettings(start_filament="1.65", stimuli_after_change=2)
    assert reading_columns("von_frey", s)["boxes"] == 12
    assert reading_columns("von_frey", VonFreySettings(method="sudo"))["boxes"] == 5
    electronic = reading_columns("von_frey", VonFreySettings(method="electronic", trials=3))
    assert electronic == {"kind": "values", "trials": 3,
                          "labels": ["force (g) 1", "force (g) 2", "force (g) 3"]}


def test_paw_pressure_gets_one_column_per_trial():
    cols = reading_columns("paw_pressure", PawPressureSettings(trials=4))
    assert cols["labels"] == [f"force (g) {t}" for t in range(1, 5)]


# ----------------------------------------------------------------------------- sheets

def test_sheets_are_written_for_every_scheduled_session(allocated, tmp_path):
    with Store.open(allocated.database_url()) as store:
        paths = write_sheets(allocated, store, tmp_path / "out")
    assert [p.name for p in paths] == [
        "cage_cards.html", "injection_sheet.html", "test_paw_pressure_day-2.html",
        "test_paw_pressure_day-1.html", "test_von_frey_day-1.html",
        "test_paw_pressure_day1.html", "test_von_frey_day2.html",
        "test_paw_pressure_day3.html"]
    for p in paths:
        html = p.read_text(encoding="utf-8")
        assert "@page { size: A4" in html and "@media print" in html
        assert "page-break-after: always" in html


def test_no_sheet_names_an_arm_donor_or_preparation(allocated, tmp_path):
    for state in ("blinded", "unblinded"):
        with Store.open(allocated.database_url()) as store:
            if state == "unblinded":
                unblind(allocated, store, passphrase=PASSPHRASE, actor="s", reason="done")
            paths = write_sheets(allocated, store, tmp_path / state)
        for p in paths:
            html = p.read_text(encoding="utf-8")
            assert [i for i in SECRET_IDS if i in html] == [], (state, p.name)
            assert PASSPHRASE not in html


def test_cage_cards_list_each_animal_code_once_in_its_cage(allocated):
    codes = _codes(allocated)
    with Store.open(allocated.database_url()) as store:
        html = cage_cards_html(allocated, store)
    found = re.findall(r'<h2>Cage (\w+)</h2>(.*?)</table>', html, flags=re.S)
    assert [c for c, _ in found] == [f"K{i}" for i in range(1, 7)]
    seen = []
    for cage, body in found:
        for code in re.findall(r'<td class="code">(A-\w{4})</td>', body):
            animal = codes.index[codes["animal_code"] == code][0]
            assert allocated.animal(animal).cage == cage
            seen.append(code)
    assert sorted(seen) == sorted(codes["animal_code"])


def test_injection_sheet_maps_animal_codes_to_vial_codes(allocated):
    codes = _codes(allocated).set_index("animal_code")
    with Store.open(allocated.database_url()) as store:
        rows = _Rows(injection_sheet_html(allocated, store)).rows
    assert len(rows) == 24
    for code, cage, vial, dose, volume, route, *days in rows:
        assert codes.loc[code, "vial_code"] == vial
        assert (dose, volume, route) == ("8 mg", "400 µl", "i.p.")
        assert len(days) == 4 and days == ["", "", "", ""]
    assert [r[1] for r in rows] == sorted(r[1] for r in rows)  # by cage


def test_injection_sheet_hides_volumes_that_tell_preparations_apart(tmp_path):
    study = _allocate(tmp_path / "s", study_data(equal_volumes=False))
    with Store.open(study.database_url()) as store:
        html = injection_sheet_html(study, store)
    rows = _Rows(html).rows
    assert {r[4] for r in rows} == {"see vial"}
    assert "320 µl" not in html and "400 µl" not in html
    assert "would tell the preparations apart" in html


def test_test_sheet_has_every_code_in_the_session_order_and_xo_boxes(allocated):
    codes = _codes(allocated)
    with Store.open(allocated.database_url()) as store:
        html = session_sheet_html(allocated, store, Session("von_frey", -1))
        again = session_sheet_html(allocated, store, Session("von_frey", -1))
        other = session_sheet_html(allocated, store, Session("paw_pressure", -1))
    parsed = _Rows(html)
    order = [r[1] for r in parsed.rows]
    assert sorted(order) == sorted(codes["animal_code"])
    assert [r[0] for r in parsed.rows] == [str(i) for i in range(1, 25)]
    assert order == [r[1] for r in _Rows(again).rows]
    assert order != [r[1] for r in _Rows(other).rows]
    assert set(parsed.boxes) == {10}
    # paw pressure: 3 trials -> 3 empty reading cells + notes after #, code, cage, sex
    assert {len(r) for r in _Rows(other).rows} == {4 + 3 + 1}
    assert "force (g) 3" in other and "cutoff g: 250.0" in other


def test_unscheduled_session_names_the_schedule(allocated):
    with Store.open(allocated.database_url()) as store:
        with pytest.raises(DesignError, match=r"von_frey on study day 5 is not in \[schedule\]; "
                                              r"von_frey is scheduled on days -1, 2"):
            session_sheet_html(allocated, store, Session("von_frey", 5))
        with pytest.raises(DesignError, match="grip is not scheduled"):
            session_sheet_html(allocated, store, Session("grip", 1))


def test_sheets_need_an_allocation(tmp_path):
    study = write_study(tmp_path / "s")
    with Store.open(study.database_url()) as store, pytest.raises(DesignError, match="allocate"):
        write_sheets(study, store, tmp_path / "out")


def test_sheets_command(allocated, tmp_path, capsys):
    app = typer.Typer()
    register(app)
    out = tmp_path / "printed"
    args = ["sheets", str(allocated.folder), "--out", str(out), "--session", "von_frey:2",
            "-s", "paw_pressure:-2"]
    try:
        app(args=args, standalone_mode=False)
    except (NocilabError, typer.TyperException) as exc:  # pragma: no cover - shown on failure
        print(exc, file=sys.stderr)
        raise
    printed = capsys.readouterr().out
    assert "wrote 4 sheets" in printed
    assert sorted(p.name for p in out.iterdir()) == [
        "cage_cards.html", "injection_sheet.html", "test_paw_pressure_day-2.html",
        "test_von_frey_day2.html"]
    with pytest.raises(DesignError, match="not in \\[schedule\\]"):
        app(args=["sheets", str(allocated.folder), "--out", str(out), "-s", "von_frey:9"],
            standalone_mode=False)


def test_open_study_sheets_say_they_are_not_blinded(tmp_path):
    data = study_data(8)
    for animal, prep in zip(data["animals"], PREPARATIONS, strict=True):
        animal["preparation"] = prep
    study = write_study(tmp_path / "s", data)
    with Store.open(study.database_url()) as store:
        html = injection_sheet_html(study, store)
    assert "not blinded" in html and "encrypted key" not in html
    rows = _Rows(html).rows
    assert {(r[0], r[2]) for r in rows} == set(zip(study.animal_ids, PREPARATIONS, strict=True))
