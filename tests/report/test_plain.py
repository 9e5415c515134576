"""Values in the report are written for a reader, not as Python reprs."""

from __future__ import annotations

import numpy as np
import pytest

from nocilab.report._plain import plain, plain_range, plain_window, settings_text


@pytest.mark.parametrize(("value", "text"), [
    ((np.int64(-3), np.int64(-1)), "-3, -1"),
    (np.float64(0.95), "0.95"),
    (250.0, "250"),
    (None, "none"),
    (False, "no"),
    (np.bool_(True), "yes"),
    (["holm", "sidak"], "holm, sidak"),
    ({"threshold_g": "decrease", "weight_g": "either"}, "threshold_g decrease, weight_g either"),
    ("mouse", "mouse"),
])
def test_plain_values(value, text):
    assert plain(value) == text


def test_windows_and_settings():
    assert plain_window((1, None)) == "day 1 to the last"
    assert plain_window((np.int64(1), np.int64(14))) == "days 1-14"
    text = settings_text({"control": "control", "baseline_days": (np.int64(-3), np.int64(-1)),
                          "auc_window": (1, None), "level": 0.95,
                          "directions": {"threshold_g": "decrease"}})
    assert text == ("control: control; baseline_days: -3, -1; auc_window: day 1 to the last; "
                    "level: 0.95; directions: threshold_g decrease")
    assert "np." not in text and "(" not in text and "'" not in text


@pytest.mark.parametrize(("low", "high", "digits", "text"), [
    (10.0, 10.0, 0, "10 weeks"),
    (8.0, 12.0, 0, "8-12 weeks"),
    (9.6, 10.4, 0, "9.6-10.4 weeks"),
    (17.3, 21.9, 1, "17.3-21.9 weeks"),
])
def test_ranges_never_read_10_to_10(low, high, digits, text):
    assert plain_range(low, high, "weeks", digits=digits) == text
