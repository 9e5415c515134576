"""render_study_toml: plain data to TOML text that tomllib reads back unchanged."""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from pathlib import Path

import numpy as np
import pytest
from _study_data import base
from hypothesis import given, settings
from hypothesis import strategies as st

from nocilab.model import render_study_toml

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "study.toml"

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
zones = st.builds(
    lambda m: dt.timezone(dt.timedelta(minutes=m)), st.integers(-23 * 60 - 59, 23 * 60 + 59)
)
scalars = st.one_of(
    text,
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.datetimes(timezones=zones),
    st.times(),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(text, inner, max_size=4),
    ),
    max_leaves=12,
)
tables = st.recursive(
    st.dictionaries(text, values, max_size=4),
    lambda inner: st.one_of(
        st.dictionaries(text, st.one_of(values, inner), max_size=4),
        st.dictionaries(text, st.one_of(values, st.lists(inner, max_size=3)), max_size=4),
    ),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(tables)
def test_round_trip(document):
    assert tomllib.loads(render_study_toml(document)) == document


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_floats_round_trip_exactly(x):
    back = tomllib.loads(render_study_toml({"x": x}))["x"]
    if math.isnan(x):
        assert math.isnan(back)
    else:
        assert back == x and math.copysign(1, back) == math.copysign(1, x)


def test_study_data_round_trip():
    data = base()
    assert tomllib.loads(render_study_toml(data)) == data
    example = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert tomllib.loads(render_study_toml(example)) == example


def test_layout_reads_like_a_study_file():
    data = {
        "study": {"id": "s1", "title": 'A "quoted"\ttitle', "start": dt.date(2026, 3, 2)},
        "arms": [{"id": "patient"}, {"id": "control", "control": True}],
        "donors": [{"id": "P01", "clinical": {"pain": 7.5, "note": "ok"}}],
        "schedule": {"paw_pressure": [-1, 1]},
        "assays": {"paw_pressure": {"cutoff_g": 250.0}, "body_weight": {}},
        "mappings": {"m": {"layout": "long", "quantities": {"force_g": "Force (g)"}}},
    }
    assert render_study_toml(data, comment="made by a test\n\nsecond line") == (
        "# made by a test\n"
        "#\n"
        "# second line\n"
        "\n"
        "[study]\n"
        'id = "s1"\n'
        'title = "A \\"quoted\\"\\ttitle"\n'
        "start = 2026-03-02\n"
        "\n"
        "[[arms]]\n"
        'id = "patient"\n'
        "\n"
        "[[arms]]\n"
        'id = "control"\n'
        "control = true\n"
        "\n"
        "[[donors]]\n"
        'id = "P01"\n'
        'clinical = { pain = 7.5, note = "ok" }\n'
        "\n"
        "[schedule]\n"
        "paw_pressure = [-1, 1]\n"
        "\n"
        "[assays.paw_pressure]\n"
        "cutoff_g = 250.0\n"
        "\n"
        "[assays.body_weight]\n"
        "\n"
        "[mappings.m]\n"
        'layout = "long"\n'
        'quantities = { force_g = "Force (g)" }\n'
    )


def test_keys_are_quoted_when_needed_and_control_characters_escaped():
    data = {"a b": {"x.y": "line\nbreak\x01\x7f", "": 1, "ü": 2}}
    out = render_study_toml(data)
    assert '["a b"]' in out and '"x.y" = "line\\nbreak\\u0001\\u007F"' in out
    assert tomllib.loads(out) == data


def test_none_is_left_out_and_numpy_scalars_are_plain():
    data = {"a": {"x": None, "n": np.int64(3), "f": np.float64(0.5), "b": np.bool_(True)}}
    assert tomllib.loads(render_study_toml(data)) == {"a": {"n": 3, "f": 0.5, "b": True}}


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"x": [1, None]}, TypeError),
        ({"x": dt.time(1, 2, tzinfo=dt.UTC)}, ValueError),
        ({"x": 2**64}, ValueError),
        ({"x": object()}, TypeError),
        ({1: "x"}, TypeError),
    ],
)
def test_values_toml_cannot_hold(data, error):
    with pytest.raises(error):
        render_study_toml(data)
