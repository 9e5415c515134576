"""A von Frey series as it is given: which filament comes next, and when it is complete.

The up-down rule (Dixon 1980; Chaplan et al. 1994): after O (no withdrawal) the next
heavier filament, after X (withdrawal) the next lighter one; at an end of the set the
same filament again (the rule the recorded-series check applies). The series starts at
the study's start filament (default: the middle of the set, the lighter of two) and is
complete

- ``stimuli_after_change`` stimuli after the first change of response (Chaplan: 4), or
- before any change, when the response is X at the lightest filament or O at the
  heaviest: nothing lighter (heavier) is left, and the series is censored there.

SUDO (Bonin et al. 2014) always gives 5 stimuli by the same rule, from the start
filament (default: the middle).

These are pure functions of the responses so far; the thresholds of a complete series
come from the same calculators as the derived table (:func:`thresholds`,
:func:`sudo_thresholds`).
"""

from __future__ import annotations

from dataclasses import dataclass

from nocilab.assays._vf_dixon import normalise_series, series_defect
from nocilab.assays._vf_filaments import FilamentSet
from nocilab.assays._vf_series import SUDO_STIMULI, middle_position
from nocilab.errors import AssayError


@dataclass(frozen=True)
class SeriesProgress:
    """Where a series being given stands.

    Attributes
    ----------
    responses : str
        The responses so far, X/O, upper case.
    positions : tuple of int
        Filament of each response (0 = lightest).
    next_position : int or None
        The filament of the next stimulus; None once the series is complete.
    complete : bool
        No more stimuli are to be given.
    remaining : int or None
        Stimuli still to give when that is known (after the first change, and for
        SUDO); None before the first change of an up-down series.
    why_complete : str
        Why the series ended ("" while it goes on).
    """

    responses: str
    positions: tuple[int, ...]
    next_position: int | None
    complete: bool
    remaining: int | None
    why_complete: str

    def numbers(self, fs: FilamentSet) -> tuple[str, ...]:
        """The filament numbers used, in order (as ``filaments_used`` records them)."""
        return tuple(fs.numbers[p] for p in self.positions)

    @property
    def last_position(self) -> int | None:
        """The filament of the last response given (None before the first)."""
        return self.positions[-1] if self.positions else None


def start_position(fs: FilamentSet, start_filament: str | None) -> int:
    """The first filament of a series: ``start_filament``, else the middle of the set."""
    return middle_position(fs) if start_filament is None else fs.position(start_filament)


def series_progress(responses: str, fs: FilamentSet, *, method: str = "up_down",
                    start_filament: str | None = None,
                    stimuli_after_change: int = 4) -> SeriesProgress:
    """The filaments of ``responses`` by the up-down rule, the next one, and completeness.

    Parameters
    ----------
    responses : str
        X/O so far ("" before the first stimulus); spaces and case are ignored.
    fs : FilamentSet
    method : {"up_down", "sudo"}
    start_filament : str, optional
        Number or handle value of the first filament (default: the middle).
    stimuli_after_change : int
        Up-down: stimuli after the first change of response.

    Raises
    ------
    AssayError
        A character other than X/O, a response after the series was complete, an
        unknown start filament or method.

    Examples
    --------
    >>> from nocilab.assays.von_frey import load_filament_set
    >>> fs = load_filament_set("mouse")
    >>> p = series_progress("OOX", fs)
    >>> p.numbers(fs), fs.numbers[p.next_position], p.remaining
    (('5', '6', '7'), '6', 4)
    >>> series_progress("OOXOXOO", fs).complete
    True
    """
    if method not in ("up_down", "sudo"):
        raise AssayError(f"unknown von Frey method {method!r} for a series: expected "
                         "up_down or sudo")
    text = normalise_series(responses) or ""
    if text:
        why = series_defect(text)
        if why:
            raise AssayError(why)
    n = len(fs)
    pos = start_position(fs, start_filament)
    positions: list[int] = []
    state = _state(positions, "", n, method, stimuli_after_change)
    for i, r in enumerate(text):
        if state[0]:
            raise AssayError(f"the series is complete after {i} stimuli ({state[2]}); "
                             f"stimulus {i + 1} ({r}) is one too many")
        positions.append(pos)
        pos = min(max(pos + (1 if r == "O" else -1), 0), n - 1)
        state = _state(positions, text[:i + 1], n, method, stimuli_after_change)
    complete, remaining, why = state
    return SeriesProgress(responses=text, positions=tuple(positions),
                          next_position=None if complete else pos, complete=complete,
                          remaining=remaining, why_complete=why)


def _state(positions: list[int], text: str, n: int, method: str,
           after: int) -> tuple[bool, int | None, str]:
    """(complete, remaining, why) after the responses ``text`` at ``positions``."""
    if method == "sudo":
        left = SUDO_STIMULI - len(text)
        return left == 0, left, "5 stimuli given" if left == 0 else ""
    if not text:
        return False, None, ""
    run = len(text) - len(text.lstrip(text[0]))
    if run == len(text):  # no change of response yet
        if text[-1] == "X" and positions[-1] == 0:
            return True, 0, "withdrawal at the lightest filament: censored"
        if text[-1] == "O" and positions[-1] == n - 1:
            return True, 0, "no withdrawal at the heaviest filament: censored"
        return False, None, ""
    left = run + 1 + after - len(text)
    return left <= 0, max(left, 0), (f"{after} stimuli after the first change"
                                     if left <= 0 else "")
