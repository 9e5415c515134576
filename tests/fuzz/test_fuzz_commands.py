"""Fuzzing `check`, `correct`, `vonfrey` and `stats`: whatever a user types or feeds them,
a clear message and a non-zero exit, never a traceback, and nothing changed or written
after a refusal."""

from __future__ import annotations

import csv
import re
import shutil
import tempfile
from pathlib import Path

from _fuzz_helpers import FUZZ, assert_refused_cleanly, run, snapshot
from hypothesis import assume, given
from hypothesis import strategies as st

from nocilab.store import Store

JUNK = ["", " ", "n/a", "-", "nan", "inf", "-inf", "1e400", "1,5", "12 g", "abc", "OXOX",
        "XXXXXXXXXXXXXXXX", "<script>", "\u00a0", "0", "-5", "300", "1e-320", "٣", "OXOOXO"]
CELL = st.one_of(st.sampled_from(JUNK), st.floats(allow_nan=True, allow_infinity=True).map(repr),
                 st.integers(-10**4, 10**4).map(str), st.text(max_size=8))

# values a hand-edited study file may hold where another was expected (TOML literals)
TOML_VALUES = ['""', '"x"', "0", "-1", "1.5", "true", "[]", '["a", 1]', "{}", '{ a = 1 }',
               '"2026-13-45"', "1e999", '"P01"', '"patient"', "[-3, -1]", '"mouse"', "99999",
               "nan", '"<script>"']


# -- check: a study file edited by hand ------------------------------------------------

def _assignments(text: str) -> list[int]:
    return [i for i, line in enumerate(text.splitlines())
            if re.match(r"^\s*[A-Za-z_][\w.-]*\s*=", line)]


@FUZZ
@given(data=st.data())
def test_check_on_an_edited_study_file_names_the_problem(study_template, data):
    text = (study_template / "study.toml").read_text(encoding="utf-8")
    lines = text.splitlines()
    picks = data.draw(st.lists(st.sampled_from(_assignments(text)), min_size=1, max_size=3,
                               unique=True))
    for i in picks:
        key = lines[i].split("=", 1)[0]
        lines[i] = f"{key}= {data.draw(st.sampled_from(TOML_VALUES))}"
    if data.draw(st.booleans()):  # sometimes also a line that is no TOML at all
        lines.insert(data.draw(st.integers(0, len(lines))), data.draw(
            st.sampled_from(["[arms", "= 3", "id = ", "[[donors]]", "x = 'unterminated"])))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "edited"
        folder.mkdir()
        (folder / "study.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        result = run("check", folder)
        assert "Traceback" not in result.out + result.err
        if result.code != 0:
            assert result.code in (1, 2), result.err
            assert result.err.strip()
            assert "study.toml" in result.err  # the message names the file
            assert not (folder / "nocilab.sqlite").exists()  # check writes nothing


# -- correct: any observation, any value, any reason -----------------------------------

def _observation_ids(folder: Path) -> list[int]:
    with Store.open(f"sqlite:///{folder / 'nocilab.sqlite'}", create=False) as store:
        return [int(i) for i in store.observations(current_only=False)["observation_id"]]


def _fresh(template: Path, tmp_path: Path) -> Path:
    """A copy of the study for one example (the examples do not see each other's writes)."""
    folder = tmp_path / "example"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(template, folder)
    return folder


@FUZZ
@given(data=st.data())
def test_correct_refuses_cleanly_or_leaves_a_derivable_study(study_template, tmp_path, data):
    ids = _observation_ids(study_template)
    target = data.draw(st.one_of(st.sampled_from(ids), st.integers(-3, max(ids) + 50)))
    value = data.draw(CELL)
    reason = data.draw(st.sampled_from(["typo on the sheet", "", "  ", "<b>x</b>"]))
    study = _fresh(study_template, tmp_path)
    before = snapshot(study)
    result = run("correct", study, target, "--value", value, "--reason", reason,
                 "--by", "fuzz")
    if result.code == 0:
        # an accepted correction is a legitimate new state: the study still derives
        derived = run("derive", study, "--out", study / "derived.csv")
        assert derived.code == 0, derived.err
    else:
        assert result.code in (2, 3), result.err
        assert_refused_cleanly(result, before, study)
        assert str(target) in result.err or result.code == 2  # names the observation


@FUZZ
@given(args=st.lists(st.sampled_from(["-1", "0", "abc", "1", "99999", "--reason", "x", ""]),
                     max_size=4))
def test_delete_with_any_arguments_refuses_cleanly_or_deletes(study_template, tmp_path, args):
    study = _fresh(study_template, tmp_path)
    before = snapshot(study)
    result = run("delete", study, *args, "--by", "fuzz")
    if result.code != 0:
        assert_refused_cleanly(result, before, study)
    else:
        assert run("derive", study, "--out", study / "derived.csv").code == 0


# -- vonfrey: a table of series --------------------------------------------------------

SERIES = st.one_of(st.text(alphabet="XOxo", max_size=14), st.sampled_from(JUNK))


@FUZZ
@given(rows=st.lists(st.tuples(SERIES, CELL), max_size=8),
       header=st.sampled_from([["xo_series", "last_filament"], ["series", "last_filament"],
                               ["xo_series"], ["xo_series", "last_filament", "xo_series"]]),
       options=st.lists(st.sampled_from([["--filaments", "rat"], ["--filaments", "horse"],
                                         ["--delta", "0"], ["--delta", "-0.2"],
                                         ["--delta", "nan"], ["--delta", "0.224"],
                                         ["--sheet", "Sheet9"]]), max_size=2))
def test_vonfrey_on_any_table_writes_a_table_or_nothing(rows, header, options):
    with tempfile.TemporaryDirectory() as tmp:
        table, out = Path(tmp) / "series.csv", Path(tmp) / "thresholds.csv"
        with table.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            for series, last in rows:
                w.writerow([series, last, series][:len(header)])
        result = run("vonfrey", table, *[a for o in options for a in o], "--out", out)
        assert "Traceback" not in result.out + result.err
        if result.code == 0:
            assert out.is_file()
        else:
            assert result.err.strip()
            assert not out.exists()  # nothing half-written


# -- stats: any tidy table, any options ------------------------------------------------

@st.composite
def tidy_tables(draw):
    arms = draw(st.lists(st.sampled_from(["control", "patient", "x", ""]), min_size=1,
                         max_size=3, unique=True))
    days = draw(st.lists(st.sampled_from(["-1", "1", "3", "7", "abc", ""]), min_size=1,
                         max_size=4, unique=True))
    n_animals = draw(st.integers(1, 6))
    rows = []
    for a in range(n_animals):
        arm = arms[a % len(arms)]
        for day in days:
            value = draw(st.one_of(st.floats(0, 100).map(lambda v: f"{v:.2f}"), CELL))
            rows.append({"animal": f"m{a}", "arm": arm, "donor": f"d{a // 2}", "day": day,
                         "value": value})
    return rows


STATS_OPTIONS = [["--baseline-days", "a"], ["--baseline-days", "-1"], ["--baseline-days", ""],
                 ["--baseline", "percent"], ["--baseline", "log"], ["--baseline", "change"],
                 ["--posttest", "tukey"], ["--posttest", "holm"], ["--control", "nobody"],
                 ["--direction", "sideways"], ["--auc-window", "7,1"], ["--auc-window", "x"],
                 ["--auc-window", "1,7"], ["--donor", "donor"], ["--donor", "missing"],
                 ["--sheet", "S"]]


@FUZZ
@given(rows=tidy_tables(),
       options=st.lists(st.sampled_from(STATS_OPTIONS), max_size=3, unique_by=lambda o: o[0]))
def test_stats_on_any_table_writes_results_or_nothing(rows, options):
    assume(rows)
    with tempfile.TemporaryDirectory() as tmp:
        table, out = Path(tmp) / "tidy.csv", Path(tmp) / "results"
        with table.open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
        result = run("stats", table, "--value", "value", "--arm", "arm", "--day", "day",
                     "--animal", "animal", *[a for o in options for a in o], "--out", out)
        assert "Traceback" not in result.out + result.err
        if result.code == 0:
            assert any(out.iterdir())
        else:
            assert result.err.strip()
            assert not out.exists() or not any(out.iterdir())  # nothing half-written
