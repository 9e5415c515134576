"""The analysis window: which post-injection days the donor-level test, the per-donor
AUC and the planning components use, and why.

One window serves all three, so that the report's donor-level test, its per-donor
effects and ``nocilab power --from`` describe the same days. It comes, in this order,
from the command line (``--window``), from the study file (``[analysis] window``, or a
range of days in ``[reporting] primary_outcome``), or from the default,
:data:`DEFAULT_WINDOW`: day 1 to the last day an outcome was measured.

>>> w = choose_window(study_window=((1, 14), "[analysis] window"))
>>> w.describe()
'days 1-14, from the study file ([analysis] window)'
>>> choose_window(command_line=(1, 7), study_window=((1, 14), "[analysis] window")).bounds
(1, 7)
"""

from __future__ import annotations

from dataclasses import dataclass

from nocilab.errors import AnalysisError

DEFAULT_WINDOW: tuple[int, None] = (1, None)
"""Day 1 (the day after the first injection) to the last day an outcome was measured."""

SOURCES = ("command line", "report page", "study file", "default", "given")
"""Where a window came from; ``given``: passed to a function as a plain pair."""


@dataclass(frozen=True)
class AnalysisWindow:
    """First and last post-injection day (``last=None``: the last day measured) and where
    they came from: ``source`` (one of :data:`SOURCES`) and ``detail`` (the option or
    the study-file key, e.g. ``--window 1,14`` or ``[analysis] window``)."""

    first: int = 1
    last: int | None = None
    source: str = "default"
    detail: str = ""

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise AnalysisError(f"window source must be one of {', '.join(SOURCES)}; "
                                f"got {self.source}")
        if self.first < 1:
            raise AnalysisError(f"the analysis window starts on day {self.first}; it holds "
                                "post-injection days: 1 or later (day 0 is the first injection)")
        if self.last is not None and self.last < self.first:
            raise AnalysisError(f"the analysis window's first day ({self.first}) is after its "
                                f"last ({self.last})")

    @property
    def bounds(self) -> tuple[int, int | None]:
        """``(first, last)`` as the stats functions take it."""
        return (self.first, self.last)

    def days_text(self) -> str:
        """``days 1-14``, ``day 7`` or ``day 1 to the last day measured``."""
        if self.last is None:
            return f"day {self.first} to the last day measured"
        if self.last == self.first:
            return f"day {self.first}"
        return f"days {self.first}-{self.last}"

    def describe(self) -> str:
        """The window and why it was used, for the report."""
        where = f" ({self.detail})" if self.detail else ""
        if self.source in ("command line", "report page"):
            return f"{self.days_text()}, from the {self.source}{where}"
        if self.source == "study file":
            return f"{self.days_text()}, from the study file{where}"
        if self.source == "given":
            return f"{self.days_text()} (as given)"
        return f"{self.days_text()} (the default: no window in the study file or command line)"


def as_window(window: AnalysisWindow | tuple[int | float | None, int | float | None] | None
              ) -> AnalysisWindow:
    """An :class:`AnalysisWindow` from itself, a ``(first, last)`` pair or None (the default).

    A pair other than :data:`DEFAULT_WINDOW` has source ``given``; a missing first day
    is day 1.
    """
    if window is None:
        return AnalysisWindow()
    if isinstance(window, AnalysisWindow):
        return window
    first, last = window
    if first in (None, DEFAULT_WINDOW[0]) and last is None:
        return AnalysisWindow()
    return AnalysisWindow(first=1 if first is None else int(first),
                          last=None if last is None else int(last), source="given")


def parse_window(text: str, *, option: str = "--window") -> tuple[int, int | None]:
    """``"1,14"`` -> ``(1, 14)``; either side may be empty (``",14"``, ``"3,"``).

    Raises
    ------
    AnalysisError
        Not two whole days separated by a comma, or not a window of post-injection days.
    """
    first, sep, last = str(text).partition(",")
    try:
        if not sep or "," in last:
            raise ValueError
        pair = (int(first) if first.strip() else 1, int(last) if last.strip() else None)
    except ValueError:
        raise AnalysisError(f"{option} must be FIRST,LAST post-injection study days (e.g. "
                            f"1,14; either may be left empty); got {text}") from None
    try:
        AnalysisWindow(first=pair[0], last=pair[1], source="command line")
    except AnalysisError as exc:
        raise AnalysisError(f"{option} {text}: {exc}") from None
    return pair


def choose_window(*, command_line: tuple[int, int | None] | None = None,
                  option: str = "--window", given_on: str = "command line",
                  study_window: tuple[tuple[int, int], str] | None = None) -> AnalysisWindow:
    """The window of an analysis: the command line's, else the study file's, else the
    default.

    Parameters
    ----------
    command_line
        ``(first, last)`` given on the command line (``last`` None: the last day), or None.
    option
        How it was given, for the report (e.g. ``--window 1,14``).
    given_on
        Where it was given: ``"command line"`` or ``"report page"`` (the web app).
    study_window
        The study file's window and the key that gave it
        (:meth:`nocilab.model.Study.analysis_window`), or None.
    """
    if command_line is not None:
        first, last = command_line
        return AnalysisWindow(first=first, last=last, source=given_on, detail=option)
    if study_window is not None:
        (first, last), key = study_window
        return AnalysisWindow(first=first, last=last, source="study file", detail=key)
    return AnalysisWindow()
