"""Intraepidermal nerve-fibre density: fibres crossing per mm, mean over sections."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nocilab.assays import ienfd
from nocilab.assays.base import DERIVED_VALUES
from nocilab.assays.ienfd import fibre_density
from nocilab.errors import AssayError
from nocilab.model.settings import IenfdSettings


def frame(rows):
    """rows: (animal, study_day, section, fibres, length_mm)."""
    return pd.DataFrame(rows, columns=["animal", "study_day", "trial", "fibres", "length_mm"])


def test_mean_of_section_densities_vs_pooled_ratio_by_hand():
    # sections: 10 fibres over 1.0 mm (10/mm) and 30 fibres over 2.0 mm (15/mm)
    assert fibre_density([10, 30], [1.0, 2.0]) == pytest.approx(12.5)               # (10+15)/2
    assert fibre_density([10, 30], [1.0, 2.0], pooled=True) == pytest.approx(40 / 3)  # 40/3 mm


def test_two_dimensional_with_absent_sections():
    f = [[10, 30, np.nan], [6, 6, 9]]
    length = [[1.0, 2.0, np.nan], [0.5, 1.0, 1.5]]
    np.testing.assert_allclose(fibre_density(f, length), [12.5, (12 + 6 + 6) / 3])
    np.testing.assert_allclose(fibre_density(f, length, pooled=True), [40 / 3, 21 / 3])


@pytest.mark.parametrize("f, length, why", [
    ([1, 2], [1.0], "shape"),
    ([1, np.nan], [1.0, 1.0], "both"),
    ([-1], [1.0], "negative"),
    ([1.5], [1.0], "whole"),
    ([1], [0.0], "not positive"),
])
def test_pure_function_rejects(f, length, why):
    with pytest.raises(AssayError, match=why):
        fibre_density(f, length)


def test_derive_hand_worked_with_section_notes():
    out = ienfd.derive(frame([
        ("m1", 28, 1, 10, 1.0), ("m1", 28, 2, 30, 2.0), ("m1", 28, 3, 8, 0.8),  # 10,15,10 -> 35/3
        ("m2", 28, 1, 4, 0.5), ("m2", 28, 2, 9, 1.5),                            # 8, 6 -> 7
    ]), IenfdSettings(sections=3))
    assert list(out.columns) == list(DERIVED_VALUES)
    np.testing.assert_allclose(out.value, [35 / 3, 7.0])
    assert list(out.n_trials) == [3, 2]
    assert list(out.note) == ["", "2 of 3 sections"]
    assert set(out.outcome) == {"fibres_per_mm"} and set(out.unit) == {"fibres/mm"}
    assert list(out.censored) == ["none", "none"]


def test_no_section_note_without_an_expected_number():
    out = ienfd.derive(frame([("m1", 28, 1, 4, 0.5)]), IenfdSettings())
    assert out.note.tolist() == [""]


@pytest.mark.parametrize("column, value, why", [
    ("fibres", 2.5, "fibre count must be a whole number"),
    ("fibres", -1, "fibre count is negative"),
    ("fibres", "many", "fibre count is not a number"),
    ("fibres", None, "missing fibre count"),
    ("length_mm", 0.0, "epidermis length must be greater than 0"),
    ("length_mm", None, "missing epidermis length"),
])
def test_bad_cells(column, value, why):
    f = frame([("m1", 28, 1, 10, 1.0), ("m1", 28, 2, 12, 1.1)]).astype({column: object})
    f.loc[1, column] = value
    problems = ienfd.check(f, None)
    assert [(p.index, p.quantity, p.why) for p in problems] == [(1, column, why)]
    with pytest.raises(AssayError, match=why):
        ienfd.derive(f, None)


sections = st.lists(st.tuples(st.integers(0, 200), st.floats(0.05, 5.0)), min_size=1,
                    max_size=6)


@settings(max_examples=200, deadline=None)
@given(sections)
def test_density_lies_between_section_extremes(secs):
    f, length = zip(*secs, strict=True)
    per = [a / b for a, b in secs]
    for pooled in (False, True):
        d = fibre_density(f, length, pooled=pooled)
        assert min(per) * (1 - 1e-12) - 1e-12 <= d <= max(per) * (1 + 1e-12) + 1e-12


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 200), min_size=1, max_size=6), st.floats(0.05, 5.0),
       st.floats(0.1, 10.0))
def test_equal_lengths_make_the_estimators_agree_and_length_scales_inversely(f, length, c):
    lengths = [length] * len(f)
    d = fibre_density(f, lengths)
    assert fibre_density(f, lengths, pooled=True) == pytest.approx(d, rel=1e-12, abs=1e-12)
    assert fibre_density(f, [x * c for x in lengths]) == pytest.approx(d / c, rel=1e-9,
                                                                       abs=1e-12)
