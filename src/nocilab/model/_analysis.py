"""The optional ``[analysis]`` table of study.toml: how the study is analysed.

::

    [analysis]
    window = [1, 14]                          # post-injection days of the donor-level test,
                                              # the per-donor AUC and `power --from`
    log_outcomes = ["von_frey.threshold_g"]   # analysed as log10(value)

Outcomes are named ``ASSAY.OUTCOME``. Without a ``window`` key, the window is taken from
the ``[reporting] primary_outcome`` text when it names a range of days ("days 1-14",
"days 1 to 14"); without either, the analysis uses day 1 to the last day measured.

:class:`AnalysisSettings` checks what the table can say alone (two whole days, first
not after last); :func:`check_analysis` checks names and the window against the
schedule; :func:`load_analysis` does both and reports every problem at once;
:func:`study_window` says which window the study file gives and which key gave it.
The command line may override the window and the scale
(:mod:`nocilab.stats.window`, :mod:`nocilab.stats.scale`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from nocilab.errors import Problem
from nocilab.model._errors import problems_from_validation_error
from nocilab.model.settings import ASSAY_OUTCOMES

WINDOW_HELP = "expected [FIRST, LAST]: two whole study days, e.g. [1, 14]"
WINDOW_KEY = "[analysis] window"
PRIMARY_KEY = "[reporting] primary_outcome"

# "days 1-14", "day 1 to 14", "Days 1–14", "days 1 through day 14"
_RANGE = re.compile(r"\bdays?\s+(\d+)\s*(?:-|–|—|to|through|until)\s*(?:days?\s+)?(\d+)\b",
                    re.IGNORECASE)


def _window(value: object) -> object:
    if not isinstance(value, list | tuple) or len(value) != 2 or not all(
            isinstance(x, int) and not isinstance(x, bool) for x in value):
        raise ValueError(WINDOW_HELP)
    first, last = value
    if first < 1:
        raise ValueError(f"the first day ({first}) must be 1 or later: the window holds "
                         "post-injection days (day 0 is the first injection)")
    if first > last:
        raise ValueError(f"the first day ({first}) is after the last ({last})")
    return (first, last)


Window = Annotated[tuple[int, int], BeforeValidator(_window)]
"""``[first, last]`` post-injection study days, inclusive."""


def _text_list(value: object) -> object:
    if isinstance(value, str):
        return [value]  # one name written without brackets
    return value


class AnalysisSettings(BaseModel):
    """The ``[analysis]`` table (every key optional).

    ``window``: first and last post-injection day of the donor-level test, the per-donor
    AUC and the variance components ``nocilab power --from`` takes; ``log_outcomes``:
    outcomes (``ASSAY.OUTCOME``) analysed as log10 of their value (thresholds that are
    log-normal, such as von Frey's).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    window: Window | None = None
    log_outcomes: Annotated[tuple[str, ...], BeforeValidator(_text_list)] = ()


def primary_outcome_windows(text: str) -> list[tuple[int, int]]:
    """The ranges of days a primary-outcome text names, in order, each once.

    >>> primary_outcome_windows("Paw-pressure threshold (g) over days 1-14")
    [(1, 14)]
    >>> primary_outcome_windows("Threshold, change from baseline")
    []
    """
    out: list[tuple[int, int]] = []
    for m in _RANGE.finditer(text or ""):
        pair = (int(m.group(1)), int(m.group(2)))
        if pair not in out:
            out.append(pair)
    return out


def study_window(settings: AnalysisSettings, primary_outcome: str = ""
                 ) -> tuple[tuple[int, int], str] | None:
    """The study file's analysis window and the key it came from, or None.

    ``[analysis] window`` wins; else the one range of days ``[reporting]
    primary_outcome`` names. (A file where the two disagree, or whose primary outcome
    names several ranges, does not load: :func:`check_analysis`.)
    """
    if settings.window is not None:
        return settings.window, WINDOW_KEY
    found = primary_outcome_windows(primary_outcome)
    if len(found) == 1:
        return found[0], PRIMARY_KEY
    return None


def _check_name(name: str, where: str, schedule: Mapping[str, tuple[int, ...]],
                problems: list[Problem]) -> None:
    assay, dot, outcome = name.partition(".")
    if not dot or not assay or not outcome:
        problems.append(Problem(where, "expected ASSAY.OUTCOME, e.g. von_frey.threshold_g", name))
    elif assay not in ASSAY_OUTCOMES:
        problems.append(Problem(where, "unknown assay; known assays: "
                                + ", ".join(ASSAY_OUTCOMES), name))
    elif outcome not in ASSAY_OUTCOMES[assay]:
        problems.append(Problem(where, f"{assay} has no outcome {outcome}; its outcomes: "
                                + ", ".join(ASSAY_OUTCOMES[assay]), name))
    elif assay not in schedule:
        problems.append(Problem(where, f"{assay} is not in [schedule]", name))


def check_analysis(settings: AnalysisSettings, *, schedule: Mapping[str, tuple[int, ...]],
                   primary_outcome: str = "") -> list[Problem]:
    """Problems of a valid ``[analysis]`` table against the schedule and the primary outcome.

    Every outcome named must be ``ASSAY.OUTCOME`` of a scheduled assay, listed once;
    ``[reporting] primary_outcome`` must not name a different range of days than
    ``window`` (nor several ranges, nor an impossible one, when there is no ``window``).
    A window that holds none of an outcome's post-injection days is no problem of the
    file: that outcome's donor-level test says so in the report.
    """
    problems: list[Problem] = []
    for name, n in Counter(settings.log_outcomes).items():
        if n > 1:
            problems.append(Problem("analysis.log_outcomes", f"{name} is listed {n} times", name))
    for i, name in enumerate(settings.log_outcomes):
        if settings.log_outcomes.index(name) == i:
            _check_name(name, f"analysis.log_outcomes[{i}]", schedule, problems)
    stated = primary_outcome_windows(primary_outcome)
    days = ", ".join(f"days {a}-{b}" for a, b in stated)
    if settings.window is not None:
        w = settings.window
        other = [s for s in stated if s != w]
        if other:
            problems.append(Problem(
                "analysis.window", f"days {w[0]}-{w[1]}, but {PRIMARY_KEY} says {days}: the "
                "study file must give one window (change one of them)", list(w)))
    elif len(stated) > 1:
        problems.append(Problem(
            "reporting.primary_outcome", f"names several ranges of days ({days}); say which "
            "one the analysis uses with [analysis] window = [FIRST, LAST]", primary_outcome))
    elif stated:
        w = stated[0]
        if w[0] < 1 or w[0] > w[1]:
            problems.append(Problem(
                "reporting.primary_outcome", f"names days {w[0]}-{w[1]}, which is no analysis "
                "window (post-injection days from 1, first not after last); give one with "
                "[analysis] window = [FIRST, LAST]", primary_outcome))
    return problems


def load_analysis(raw: Mapping[str, Any] | None, *, schedule: Mapping[str, tuple[int, ...]],
                  primary_outcome: str = "") -> tuple[AnalysisSettings | None, list[Problem]]:
    """Validate the raw ``[analysis]`` table (None: the file has none).

    Returns the settings (None if there is any problem) and every problem; the keys
    that are well-formed are checked against the schedule even when another is wrong.
    """
    raw = {} if raw is None else raw
    try:
        settings = AnalysisSettings.model_validate(raw)
    except ValidationError as e:
        problems = problems_from_validation_error(e, data=raw, prefix="analysis",
                                                  model=AnalysisSettings)
        good = {}
        for key in AnalysisSettings.model_fields:
            if key in raw:
                try:
                    AnalysisSettings.model_validate({key: raw[key]})
                except ValidationError:
                    continue
                good[key] = raw[key]
        bad_window = "window" in raw and "window" not in good  # its problem is reported
        problems += check_analysis(AnalysisSettings.model_validate(good), schedule=schedule,
                                   primary_outcome="" if bad_window else primary_outcome)
        return None, problems
    problems = check_analysis(settings, schedule=schedule, primary_outcome=primary_outcome)
    return (None if problems else settings), problems
