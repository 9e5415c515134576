"""Fuzzing the importers: any file either imports or is refused with a message, the store
unchanged; never a traceback."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

from _fuzz_helpers import FUZZ, assert_refused_cleanly, run, snapshot
from hypothesis import given
from hypothesis import strategies as st

from nocilab.model import load_study

# text a sheet may hold where a number is expected
JUNK = st.sampled_from(["", " ", "n/a", "NA", "-", "—", "nan", "NaN", "inf", "-inf", "1e400",
                        "1,5", "12 g", "abc", "<script>", "\u00a0", "0x10", "True", "=A1+1",
                        "  42  ", "OVRFLW", "1e-320", "٣"])
NUMBER = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr),
                   st.integers(-10**6, 10**6).map(str),
                   st.floats(0, 400).map(lambda v: f"{v:.1f}"))
CELL = st.one_of(JUNK, NUMBER, st.text(max_size=8))


def _animals(folder: Path) -> list[str]:
    return list(load_study(folder).animal_table()["animal"])


@st.composite
def grip_rows(draw, animals: list[str]):
    n = draw(st.integers(0, 12))
    rows = []
    for _ in range(n):
        rows.append({
            "animal": draw(st.one_of(st.sampled_from(animals), CELL)),
            "study_day": draw(st.one_of(st.sampled_from(["-1", "3", "7", "14", "21"]), CELL)),
            "trial": draw(st.one_of(st.sampled_from(["1", "2", "3"]), CELL)),
            "force_g": draw(st.one_of(st.floats(40, 200).map(lambda v: f"{v:.1f}"), CELL)),
        })
    return rows


@st.composite
def headers(draw):
    cols = ["animal", "study_day", "trial", "force_g"]
    if draw(st.booleans()):
        return cols
    cols = draw(st.permutations(cols))
    k = draw(st.integers(0, len(cols)))
    return list(cols[:k]) + draw(st.lists(st.sampled_from(["force", "Animal", "x", ""]),
                                          max_size=2))


def _write_csv(path: Path, header: list[str], rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for r in rows:
            w.writerow([r.get(c, "") for c in header])


@FUZZ
@given(data=st.data())
def test_fuzzed_long_sheets_import_or_are_refused_cleanly(study, data):
    rows = data.draw(grip_rows(_animals(study)))
    header = data.draw(headers())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "grip_more.csv"
        _write_csv(path, header, rows)
        before = snapshot(study)
        result = run("import", study, path, "--mapping", "grip_long", "--by", "fuzz")
        if result.code == 0:
            assert "Traceback" not in result.err
        else:
            assert result.code == 3, result.err
            assert_refused_cleanly(result, before, study)
            assert "grip_more.csv" in result.err  # names the file


@FUZZ
@given(content=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)),
       suffix=st.sampled_from([".csv", ".xlsx", ".tsv", ".txt", ""]))
def test_fuzzed_bytes_are_refused_cleanly(study, content, suffix):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(content)
        before = snapshot(study)
        result = run("import", study, path, "--mapping", "grip_long", "--by", "fuzz")
        if result.code != 0:
            assert_refused_cleanly(result, before, study)


@FUZZ
@given(cells=st.lists(st.lists(CELL, min_size=3, max_size=3), min_size=1, max_size=6))
def test_fuzzed_wide_sheets_import_or_are_refused_cleanly(study, cells):
    animals = _animals(study)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "weights.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["Mouse", "Day -1", "Day 1", "Day 3"])
            for i, row in enumerate(cells):
                w.writerow([animals[i % len(animals)], *row])
        before = snapshot(study)
        result = run("import", study, path, "--mapping", "body_weight_wide", "--by", "fuzz")
        if result.code != 0:
            assert_refused_cleanly(result, before, study)
