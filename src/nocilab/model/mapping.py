"""Column mappings for raw-data imports: the ``[mappings.NAME]`` tables of study.toml.

Two layouts are read:

``long``
    one row per animal x study day x trial; ``animal``, ``day`` and optionally
    ``trial`` name columns, and ``quantities`` maps each raw quantity of the assay to
    its column (``quantities = { force_g = "Force (g)" }``); without ``quantities``
    the columns named after the assay's quantities are read.
``wide``
    one row per animal, one column per study day (and trial); ``columns`` is a pattern
    such as ``"D{day}_t{trial}"`` or ``"Day {day}"`` that names those columns, and
    ``quantity`` says which raw quantity the cells hold.

The importer builds the same model from command-line options, so it is usable alone.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import Field, NonNegativeInt, model_validator

from nocilab.model._records import Record

_PLACEHOLDERS = ("day", "trial")
_MINUS = "-\u2212"  # ASCII hyphen-minus and the minus sign spreadsheets sometimes write


@lru_cache(maxsize=256)
def pattern_regex(pattern: str) -> re.Pattern[str]:
    """Turn a column pattern into a regular expression with groups ``day`` and ``trial``.

    Literal text is matched exactly; ``{day}`` matches a whole number with an optional
    minus sign (``D-3``), ``{trial}`` a whole number. ``{{`` and ``}}`` are literal braces.

    Raises
    ------
    ValueError
        The pattern has unbalanced braces, a placeholder other than ``{day}`` and
        ``{trial}``, a placeholder twice, or no ``{day}``.

    Examples
    --------
    >>> bool(pattern_regex("D{day}_t{trial}").fullmatch("D-3_t2"))
    True
    """
    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError as e:
        raise ValueError(f"bad pattern {pattern!r}: {e}") from None
    regex = []
    seen: list[str] = []
    for literal, name, spec, conversion in parts:
        regex.append(re.escape(literal))
        if name is None:
            continue
        if name not in _PLACEHOLDERS or spec or conversion:
            raise ValueError(
                f"unknown placeholder {{{name}}} in pattern {pattern!r}; "
                "use {day} and optionally {trial}"
            )
        if name in seen:
            raise ValueError(f"placeholder {{{name}}} appears twice in pattern {pattern!r}")
        seen.append(name)
        regex.append(rf"(?P<day>[{_MINUS}]?\d+)" if name == "day" else r"(?P<trial>\d+)")
    if "day" not in seen:
        raise ValueError(f"pattern {pattern!r} has no {{day}} placeholder")
    return re.compile("".join(regex))


class ImportMapping(Record):
    """How the columns of one raw-data sheet map onto an assay's readings.

    Attributes
    ----------
    layout : {'long', 'wide'}
    assay : str or None
        The assay the sheet holds; required for ``wide``.
    animal : str
        Column holding the animal id (default ``"animal"``).
    day, trial : str or None
        ``long`` only: columns of the study day (default ``"study_day"``) and the trial
        (optional; without it every row is trial 1).
    quantities : dict of str to str
        ``long`` only: raw quantity -> column, e.g. ``{"force_g": "Force (g)"}``; empty:
        the columns named after the assay's quantities.
    quantity : str or None
        ``wide`` only: the raw quantity the cells hold.
    columns : str or None
        ``wide`` only: the pattern of the day/trial columns, see :func:`pattern_regex`.
    ignore_columns : tuple of str
        Columns the importer may skip without complaint (in a wide sheet, columns that
        do not match ``columns`` are otherwise a problem unless blank).
    sheet : str or int or None
        Worksheet name (or 0-based position) in an XLSX file; None: the first sheet.
    skip_rows : int
        Rows above the header row.
    """

    layout: Literal["long", "wide"]
    assay: Annotated[str, Field(min_length=1)] | None = None
    animal: Annotated[str, Field(min_length=1)] = "animal"
    day: Annotated[str, Field(min_length=1)] | None = None
    trial: Annotated[str, Field(min_length=1)] | None = None
    quantities: dict[str, Annotated[str, Field(min_length=1)]] = Field(default_factory=dict)
    quantity: Annotated[str, Field(min_length=1)] | None = None
    columns: str | None = None
    ignore_columns: tuple[Annotated[str, Field(min_length=1)], ...] = ()
    sheet: str | int | None = None
    skip_rows: NonNegativeInt = 0

    @classmethod
    def record_rules(cls, given: Mapping[str, Any]) -> list[tuple[str, str]]:
        layout = given.get("layout")
        present = [k for k, v in given.items() if v not in (None, {})]
        broken = []
        if layout == "wide":
            for key in ("assay", "quantity", "columns"):
                if given.get(key) is None:
                    broken.append((key, "missing: required for layout 'wide'"))
            for key in ("day", "trial", "quantities"):
                if key in present:
                    broken.append((key, "only for layout 'long'; wide sheets use 'columns'"))
            columns = given.get("columns")
            if isinstance(columns, str):
                try:
                    pattern_regex(columns)
                except ValueError as e:
                    broken.append(("columns", str(e)))
        elif layout == "long":
            for key in ("quantity", "columns"):
                if key in present:
                    broken.append((key, "only for layout 'wide'"))
        return broken

    @model_validator(mode="after")
    def _default_day_column(self) -> ImportMapping:
        if self.layout == "long" and self.day is None:
            object.__setattr__(self, "day", "study_day")
        return self

    def match_column(self, name: str) -> tuple[int, int] | None:
        """The (study day, trial) a wide-sheet column holds, or None if it is not one.

        Surrounding whitespace of ``name`` is ignored; the rest must match the pattern
        exactly (case matters). Without ``{trial}`` in the pattern the trial is 1.

        Examples
        --------
        >>> m = ImportMapping(layout="wide", assay="paw_pressure", quantity="force_g",
        ...                   animal="Mouse", columns="D{day}_t{trial}")
        >>> m.match_column("D-3_t2"), m.match_column("D7_t1"), m.match_column("Mouse")
        ((-3, 2), (7, 1), None)
        """
        if self.columns is None:
            raise ValueError("match_column needs a wide mapping (one with 'columns')")
        match = pattern_regex(self.columns).fullmatch(str(name).strip())
        if match is None:
            return None
        day = int(match["day"].replace("\u2212", "-"))
        trial = int(match["trial"]) if "trial" in match.groupdict() else 1
        return day, trial
