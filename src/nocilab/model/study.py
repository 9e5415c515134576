"""The study definition: study.toml loaded into a validated :class:`Study`.

:func:`load_study` reads the file, validates every table and either returns a
:class:`Study` or raises :class:`~nocilab.errors.StudyFileError` listing every problem
found, each located by a key path such as ``animals[M03].cage`` or ``donors[P07].arm``
(``section[N]``, counted from 0, where a record has no usable or a duplicate id).
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pandas as pd
from pydantic import BaseModel

from nocilab.errors import Problem, StudyFileError
from nocilab.model._analysis import AnalysisSettings, study_window
from nocilab.model._lab import LabSettings
from nocilab.model._records import Animal, Arm, Donor, Dosing, Preparation, Reporting, StudyInfo
from nocilab.model._validate import validate_study_data
from nocilab.model.mapping import ImportMapping
from nocilab.model.settings import ASSAY_SETTINGS

STUDY_FILE = "study.toml"
"""The file name looked for when :func:`load_study` is given a folder."""

DEFAULT_DATABASE = "nocilab.sqlite"
"""The SQLite file beside study.toml used when ``[study].database`` is not given."""

ANIMAL_COLUMNS = (
    "animal", "preparation", "donor", "arm", "sex", "cage", "strain", "age_weeks", "weight_g",
)
"""Columns of :meth:`Study.animal_table`, in order."""

_SQLITE_URL = re.compile(r"^(sqlite(?:\+\w+)?):///(.*)$")


_T = TypeVar("_T")


def _lookup(kind: str, table: dict[str, _T], key: str) -> _T:
    try:
        return table[key]
    except KeyError:
        known = ", ".join(list(table)[:12]) + (", ..." if len(table) > 12 else "")
        raise KeyError(f"no {kind} {key!r} in the study (known: {known or 'none'})") from None


@dataclass(frozen=True)
class Study:
    """One study, as defined by its study.toml; immutable once loaded.

    Records are kept in file order. ``schedule`` maps each scheduled assay to its study
    days in ascending order (negative days are baselines); ``assays`` holds the settings
    of every scheduled or configured assay (defaults where the file has no table);
    ``mappings`` the column mappings for imports; ``analysis`` the ``[analysis]``
    table (window, log-scale outcomes). Treat the dicts as read-only.

    After loading, every preparation's ``arm`` is set (taken from its donors when the
    file leaves it out), and a von Frey ``filaments`` CSV path is absolute.
    """

    path: Path
    folder: Path
    sha256: str
    info: StudyInfo
    arms: tuple[Arm, ...]
    donors: tuple[Donor, ...]
    preparations: tuple[Preparation, ...]
    dosing: Dosing
    animals: tuple[Animal, ...]
    schedule: dict[str, tuple[int, ...]]
    assays: dict[str, BaseModel]
    mappings: dict[str, ImportMapping]
    reporting: Reporting = field(default_factory=Reporting)
    analysis: AnalysisSettings = field(default_factory=AnalysisSettings)
    lab: LabSettings = field(default_factory=LabSettings)
    _arm: dict[str, Arm] = field(init=False, repr=False, compare=False)
    _donor: dict[str, Donor] = field(init=False, repr=False, compare=False)
    _prep: dict[str, Preparation] = field(init=False, repr=False, compare=False)
    _animal: dict[str, Animal] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_arm", {a.id: a for a in self.arms})
        object.__setattr__(self, "_donor", {d.id: d for d in self.donors})
        object.__setattr__(self, "_prep", {p.id: p for p in self.preparations})
        object.__setattr__(self, "_animal", {a.id: a for a in self.animals})

    # -- lookups -----------------------------------------------------------------------

    def arm(self, arm_id: str) -> Arm:
        """The arm ``arm_id``; ``KeyError`` naming the known arms if there is none."""
        return _lookup("arm", self._arm, arm_id)

    def donor(self, donor_id: str) -> Donor:
        """The donor ``donor_id``; ``KeyError`` if there is none."""
        return _lookup("donor", self._donor, donor_id)

    def preparation(self, prep_id: str) -> Preparation:
        """The preparation ``prep_id``; ``KeyError`` if there is none."""
        return _lookup("preparation", self._prep, prep_id)

    def animal(self, animal_id: str) -> Animal:
        """The animal ``animal_id``; ``KeyError`` if there is none."""
        return _lookup("animal", self._animal, animal_id)

    @property
    def arm_ids(self) -> tuple[str, ...]:
        """Arm ids in file order."""
        return tuple(self._arm)

    @property
    def animal_ids(self) -> tuple[str, ...]:
        """Animal ids in file order."""
        return tuple(self._animal)

    def analysis_window(self) -> tuple[tuple[int, int], str] | None:
        """The study file's analysis window ``(first, last)`` and the key that gave it
        (``[analysis] window``, else a range of days in ``[reporting] primary_outcome``),
        or None when the file gives none."""
        return study_window(self.analysis, self.reporting.primary_outcome)

    @property
    def control_arm(self) -> str:
        """The id of the control arm (the one with ``control = true``)."""
        return next(a.id for a in self.arms if a.control)

    def arm_of_preparation(self, prep_id: str) -> str:
        """The arm a preparation belongs to (given, or taken from its donors)."""
        arm = self.preparation(prep_id).arm
        assert arm is not None  # set for every preparation by the loader
        return arm

    def donor_unit_of_preparation(self, prep_id: str) -> str:
        """The unit of inference behind a preparation.

        The donor id for IgG from one donor; the preparation id for a pool (a pool is one
        unit: its donors cannot be told apart in the mice) and for a preparation without
        donors (vehicle, IgG-depleted serum).
        """
        prep = self.preparation(prep_id)
        return prep.donors[0] if len(prep.donors) == 1 else prep.id

    def dosing_of(self, prep_id: str) -> Dosing:
        """The dosing regimen of a preparation (today one regimen serves all)."""
        self.preparation(prep_id)
        return self.dosing

    def assay_settings(self, assay: str) -> BaseModel:
        """Settings of ``assay``: from the file, else the defaults.

        Raises ``KeyError`` naming the known assays if ``assay`` is not one.
        """
        if assay in self.assays:
            return self.assays[assay]
        if assay not in ASSAY_SETTINGS:
            raise KeyError(f"unknown assay {assay!r}; known assays: {', '.join(ASSAY_SETTINGS)}")
        return ASSAY_SETTINGS[assay]()

    # -- schedule ----------------------------------------------------------------------

    def baseline_days(self, assay: str) -> tuple[int, ...]:
        """The scheduled baseline (negative) days of ``assay``; empty if none or unscheduled."""
        return tuple(d for d in self.schedule.get(assay, ()) if d < 0)

    def scheduled(self, assay: str, day: int) -> bool:
        """Whether ``assay`` is scheduled on study day ``day``."""
        return day in self.schedule.get(assay, ())

    # -- tables ------------------------------------------------------------------------

    def database_url(self) -> str:
        """The SQLAlchemy URL of the study's database.

        ``[study].database`` when given: an SQLAlchemy URL, or a plain path to an SQLite
        file; relative SQLite paths are resolved against the study folder. Otherwise
        ``sqlite:///<folder>/nocilab.sqlite``.
        """
        db = self.info.database
        if db is None:
            return f"sqlite:///{self.folder / DEFAULT_DATABASE}"
        if "://" not in db:
            path = Path(db).expanduser()
            return f"sqlite:///{path if path.is_absolute() else self.folder / path}"
        match = _SQLITE_URL.match(db)
        if match is None:
            return db
        dialect, rest = match.groups()
        file, sep, query = rest.partition("?")
        if not file or file == ":memory:" or Path(file).is_absolute():
            return db
        return f"{dialect}:///{self.folder / file}{sep}{query}"

    def animal_table(self) -> pd.DataFrame:
        """One row per animal, in file order, with the columns of :data:`ANIMAL_COLUMNS`.

        ``donor`` is the donor unit of the animal's preparation (see
        :meth:`donor_unit_of_preparation`). Animals not yet allocated have ``""`` (not
        NaN) in ``preparation``, ``donor`` and ``arm``. ``age_weeks`` is the age at study
        day 0: as given, or computed from ``birth_date`` and ``[study].start_date``; it
        is NaN only for an animal with a birth date in a study without a start date.
        ``weight_g`` is NaN where no weight was given.
        """
        day0 = self.info.start_date
        rows = []
        for a in self.animals:
            prep = a.preparation or ""
            age = a.age_weeks_at(day0)
            rows.append((
                a.id,
                prep,
                self.donor_unit_of_preparation(prep) if prep else "",
                self.arm_of_preparation(prep) if prep else "",
                a.sex,
                a.cage,
                a.strain,
                math.nan if age is None else age,
                math.nan if a.weight_g is None else float(a.weight_g),
            ))
        frame = pd.DataFrame(rows, columns=list(ANIMAL_COLUMNS))
        return frame.astype({"age_weeks": "float64", "weight_g": "float64"})


def _syntax_problem(error: tomllib.TOMLDecodeError) -> Problem:
    message = str(error)
    line, col = getattr(error, "lineno", None), getattr(error, "colno", None)
    match = re.match(r"^(.*) \(at (?:line (\d+), column (\d+)|end of document)\)$", message, re.S)
    if match:
        message = match[1]
        if match[2]:
            line, col = int(match[2]), int(match[3])
    where = f"line {line}, column {col}" if line is not None else "end of file"
    return Problem(where=where, why=f"TOML syntax: {message}")


def load_study(path: str | os.PathLike[str]) -> Study:
    """Load and validate a study file.

    Parameters
    ----------
    path : path-like
        A study.toml file, or a folder that contains one.

    Returns
    -------
    Study

    Raises
    ------
    nocilab.errors.StudyFileError
        The file is missing, not TOML, or invalid. ``problems`` lists every problem
        found, each with a key path (``where``), what was expected (``why``) and the
        value found; ``source`` is the file's path.

    Examples
    --------
    >>> study = load_study("examples/study.toml")  # doctest: +SKIP
    >>> study.control_arm  # doctest: +SKIP
    'control'
    """
    file = Path(path).expanduser()
    if file.is_dir():
        file = file / STUDY_FILE
    file = file.resolve()
    source = str(file)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        where = "file" if file.parent.is_dir() else "folder"
        raise StudyFileError(source, [Problem(where, f"no such {where}")]) from None
    except OSError as e:
        raise StudyFileError(source, [Problem("file", f"cannot be read: {e.strerror}")]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        problem = Problem(f"byte {e.start}", "not UTF-8 text: save the file as UTF-8")
        raise StudyFileError(source, [problem]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise StudyFileError(source, [_syntax_problem(e)]) from None
    parts, problems = validate_study_data(data, folder=file.parent)
    if problems:
        raise StudyFileError(source, problems)
    assert parts.info is not None and parts.dosing is not None
    return Study(
        path=file,
        folder=file.parent,
        sha256=hashlib.sha256(raw).hexdigest(),
        info=parts.info,
        arms=tuple(parts.arms.values()),
        donors=tuple(parts.donors.values()),
        preparations=tuple(parts.preparations.values()),
        dosing=parts.dosing,
        animals=tuple(parts.animals.values()),
        schedule=dict(parts.schedule),
        assays=dict(parts.assays),
        mappings=dict(parts.mappings),
        reporting=parts.reporting,
        analysis=parts.analysis,
        lab=parts.lab,
    )
