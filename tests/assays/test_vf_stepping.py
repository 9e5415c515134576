"""A von Frey series as it is given at the bench: next filament, completeness."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nocilab.assays.von_frey import (
    load_filament_set,
    series_problems,
    series_progress,
    sudo_thresholds,
    thresholds,
)
from nocilab.errors import AssayError

MOUSE = load_filament_set("mouse")  # 10 filaments, numbers 1..10; middle = number 5


def test_the_series_starts_in_the_middle_and_follows_the_up_down_rule():
    p = series_progress("", MOUSE)
    assert (p.positions, MOUSE.numbers[p.next_position], p.complete) == ((), "5", False)
    p = series_progress("oo x", MOUSE)  # case and spaces are ignored
    assert p.responses == "OOX" and p.numbers(MOUSE) == ("5", "6", "7")
    assert MOUSE.numbers[p.next_position] == "6" and p.remaining == 4
    p = series_progress("OOXOXOO", MOUSE)  # Chaplan: 4 stimuli after the first change
    assert p.complete and p.next_position is None and p.remaining == 0
    assert p.numbers(MOUSE) == ("5", "6", "7", "6", "7", "6", "7")
    assert "4 stimuli after the first change" in p.why_complete


def test_a_start_filament_and_another_count_after_the_change():
    p = series_progress("XO", MOUSE, start_filament="3.61", stimuli_after_change=2)
    # the change itself (the O) is not one of the stimuli counted after it
    assert p.numbers(MOUSE) == ("6", "5") and p.remaining == 2 and not p.complete
    assert not series_progress("XOX", MOUSE, start_filament="6", stimuli_after_change=2).complete
    assert series_progress("XOXO", MOUSE, start_filament="6", stimuli_after_change=2).complete


def test_a_series_without_a_change_ends_at_the_end_of_the_set_censored():
    p = series_progress("XXXX", MOUSE)
    assert not p.complete and MOUSE.numbers[p.next_position] == "1"
    p = series_progress("XXXXX", MOUSE)
    assert p.complete and p.positions[-1] == 0 and "censored" in p.why_complete
    p = series_progress("OOOOOO", MOUSE)
    assert p.complete and p.positions[-1] == len(MOUSE) - 1
    # the derived table's calculator censors exactly these series
    t = thresholds(["XXXXX", "OOOOOO"], ["1", "10"], filaments=MOUSE)
    assert list(t["censored"]) == ["left", "right"]


def test_after_the_change_the_rule_stays_at_an_end():
    p = series_progress("OOOOOX" + "OO", MOUSE)  # X at the top filament, then O, O
    assert p.numbers(MOUSE)[-3:] == ("10", "9", "10")
    assert MOUSE.numbers[p.next_position] == "10"  # O at the heaviest: stays there


def test_sudo_gives_five_stimuli():
    p = series_progress("OXOX", MOUSE, method="sudo")
    assert p.remaining == 1 and not p.complete
    p = series_progress("OXOXO", MOUSE, method="sudo")
    assert p.complete and p.numbers(MOUSE) == ("5", "6", "5", "6", "5")
    t = sudo_thresholds(["OXOXO"], filaments=MOUSE, last_filament=["5"])
    assert np.isfinite(t["threshold_g"].iloc[0])


def test_what_cannot_be_a_series_is_refused():
    with pytest.raises(AssayError, match="one too many"):
        series_progress("OOXOXOOX", MOUSE)
    with pytest.raises(AssayError, match="only X .* and O .* are allowed"):
        series_progress("OO<script>", MOUSE)
    with pytest.raises(AssayError, match="not a filament"):
        series_progress("O", MOUSE, start_filament="99")
    with pytest.raises(AssayError, match="unknown von Frey method"):
        series_progress("O", MOUSE, method="electronic")


@given(threshold=st.floats(0.0, 9.0), slope=st.floats(0.3, 5.0),
       draws=st.lists(st.floats(0.0, 1.0), min_size=20, max_size=20),
       after=st.integers(1, 6), method=st.sampled_from(["up_down", "sudo"]))
def test_every_series_given_by_the_steps_passes_the_recorded_series_check(
        threshold, slope, draws, after, method):
    """Give stimuli to a simulated animal until the series is complete: the recorded
    series, last filament and filaments used then pass the importer's up-down check."""
    series = ""
    for u in draws:
        p = series_progress(series, MOUSE, method=method, stimuli_after_change=after)
        if p.complete:
            break
        p_withdraw = 1.0 / (1.0 + np.exp(-slope * (p.next_position - threshold)))
        series += "X" if u < p_withdraw else "O"
    p = series_progress(series, MOUSE, method=method, stimuli_after_change=after)
    assert p.complete  # 20 stimuli are always enough for this set
    used = ",".join(p.numbers(MOUSE))
    last = MOUSE.numbers[p.positions[-1]]
    assert series_problems([series], [last], filaments=MOUSE, filaments_used=[used],
                           method=method) == []
    if method == "up_down":
        run = len(series) - len(series.lstrip(series[0]))
        assert run == len(series) or len(series) == run + 1 + after
