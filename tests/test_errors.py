"""Messages show values as a scientist reads them, never as Python reprs."""

from __future__ import annotations

import numpy as np
import pytest

from nocilab.errors import AnalysisError, Problem, one_of, shown
from nocilab.stats.contrasts import ADJUST_METHODS


@pytest.mark.parametrize("value, text", [
    (np.int64(3), "3"),
    (np.float64(2.5), "2.5"),
    (np.float64(120.0), "120"),
    ((np.int64(-3), np.int64(-1)), "-3, -1"),
    (["a", "b"], "'a', 'b'"),
    ({"right", "left"}, "'left', 'right'"),
    ("abc", "'abc'"),
    (True, "true"),
])
def test_shown_is_plain(value, text):
    assert shown(value) == text


def test_one_of_lists_names_without_a_tuple():
    assert one_of(("none", "holm")) == "one of none, holm"
    assert one_of(range(20), limit=3) == "one of 0, 1, 2, ... (20 in all)"


def test_a_problem_shows_its_value_plainly():
    assert str(Problem("x.csv, row 2", "too big", np.float64(300.0))) == "x.csv, row 2: too big (found 300)"


def test_an_unknown_adjustment_lists_the_methods_plainly():
    from nocilab.stats.multiplicity import _check_method

    with pytest.raises(AnalysisError) as err:
        _check_method("bogus")
    message = str(err.value)
    assert "(" not in message.split("expected", 1)[1]
    assert ", ".join(ADJUST_METHODS[:2]) in message
