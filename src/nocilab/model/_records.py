"""The records of study.toml: one frozen pydantic model per table.

Each model checks what can be checked on one record alone (types, ranges, keys that
exclude each other). Checks across records (references, duplicate ids, the control arm)
live in :mod:`nocilab.model._validate`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Mapping
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    NonNegativeFloat,
    PositiveFloat,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError


def _int_to_str(value: object) -> object:
    # Labs number their mice and cages: ``id = 7`` and ``cage = 3`` mean "7" and "3".
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


Id = Annotated[str, BeforeValidator(_int_to_str), BeforeValidator(_strip), Field(min_length=1)]
"""An identifier: non-empty text; a whole number is taken as its decimal text."""

Text = Annotated[str, BeforeValidator(_int_to_str)]

AnimalSex = Literal["F", "M"]
DonorSex = Literal["F", "M", "X"]


def field_problem(field: str, why: str) -> PydanticCustomError:
    """A validation error from a model validator that names the field it concerns.

    The translation into :class:`~nocilab.errors.Problem` appends ``field`` to the key
    path, so the message points at ``animals[M01].age_weeks`` and not at the record.
    """
    return PydanticCustomError("nocilab_field", "{why}", {"field": field, "why": why})


class Record(BaseModel):
    """Base of every study.toml record: frozen, unknown keys forbidden.

    Rules between keys of one record (``birth_date`` or ``age_weeks``, not both) are
    written once in :meth:`record_rules`, which works on the keys given (raw or
    validated): the model applies them after validating, and the study-file validator
    applies them to the raw record as well, so that they are reported alongside type
    errors, which stop pydantic before its after-validators run.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def record_rules(cls, given: Mapping[str, Any]) -> list[tuple[str, str]]:
        """``(key, why)`` for every rule between keys that ``given`` breaks."""
        return []

    @model_validator(mode="after")
    def _apply_record_rules(self) -> Self:
        broken = type(self).record_rules({k: getattr(self, k) for k in self.model_fields_set})
        if broken:
            raise field_problem(*broken[0])
        return self


class StudyInfo(Record):
    """The ``[study]`` table.

    ``database`` is an SQLAlchemy URL or a path to an SQLite file (relative paths are
    resolved against the study folder by :meth:`Study.database_url`). ``start_date`` is
    the calendar date of study day 0 (the first injection), when known.
    """

    id: Id
    title: Annotated[str, Field(min_length=1)]
    species: Annotated[str, Field(min_length=1)]
    investigator: str = ""
    description: str = ""
    database: Annotated[str, Field(min_length=1)] | None = None
    start_date: dt.date | None = None


class Reporting(Record):
    """The optional ``[reporting]`` table: what the ARRIVE 2.0 Essential 10 ask that the
    rest of the study file cannot say. Every field is free text; a report lists the
    items left empty as missing.
    """

    ethics_approval: str = ""
    sample_size: str = ""
    inclusion_criteria: str = ""
    exclusion_criteria: str = ""
    exclusions: str = ""
    randomisation: str = ""
    blinding: str = ""
    primary_outcome: str = ""
    housing: str = ""
    procedures: str = ""


class Arm(Record):
    """One ``[[arms]]`` record; ``label`` defaults to the id."""

    id: Id
    label: str = ""
    control: StrictBool = False

    @model_validator(mode="after")
    def _default_label(self) -> Arm:
        if not self.label:
            object.__setattr__(self, "label", self.id)
        return self


ClinicalValue = StrictBool | StrictInt | float | str | dt.date


class Donor(Record):
    """One ``[[donors]]`` record. ``age`` is in years; ``clinical`` holds free fields
    (numbers, text, booleans or dates) such as pain intensity or questionnaire totals."""

    id: Id
    arm: Id
    cohort: str = ""
    sex: DonorSex | None = None
    age: NonNegativeFloat | None = None
    diagnosis: str = ""
    clinical: dict[str, ClinicalValue] = Field(default_factory=dict)


class Preparation(Record):
    """One ``[[preparations]]`` record: IgG (or serum, or vehicle) given to animals.

    ``donors`` lists one donor, several (a pool) or none (vehicle, IgG-depleted serum).
    ``arm`` may be omitted when the preparation has donors; after loading it always holds
    the resolved arm. ``concentration_mg_ml`` is required when there are donors.
    """

    id: Id
    donors: tuple[Id, ...] = ()
    concentration_mg_ml: NonNegativeFloat | None = None
    arm: Id | None = None
    volume_ul: PositiveFloat | None = None
    description: str = ""

    @field_validator("donors", mode="before")
    @classmethod
    def _one_donor_as_list(cls, value: object) -> object:
        if isinstance(value, str | int) and not isinstance(value, bool):
            return [value]
        return value

    @classmethod
    def record_rules(cls, given: Mapping[str, Any]) -> list[tuple[str, str]]:
        broken = []
        donors = given.get("donors") or []
        donors = [donors] if isinstance(donors, str | int) else donors
        hashable = isinstance(donors, list | tuple) and all(isinstance(d, Hashable) for d in donors)
        if hashable and len(set(map(str, donors))) != len(donors):
            broken.append(("donors", "lists a donor more than once"))
        if donors and given.get("concentration_mg_ml") is None:
            broken.append(("concentration_mg_ml", "missing: required for IgG from donors"))
        if not donors and given.get("arm") is None:
            broken.append(("arm", "missing: required when a preparation has no donors"))
        return broken


class Dosing(Record):
    """The ``[dosing]`` table: one regimen for every preparation.

    ``days`` are study days of injection, unique, sorted; the first is day 0 by
    definition. :meth:`Study.dosing_of` is the place where per-preparation regimens would
    be looked up if the format grows them.
    """

    amount_mg: PositiveFloat
    route: Annotated[str, Field(min_length=1)]
    days: tuple[StrictInt, ...] = Field(min_length=1)

    @field_validator("days")
    @classmethod
    def _days(cls, days: tuple[int, ...]) -> tuple[int, ...]:
        dup = sorted({d for d in days if days.count(d) > 1})
        if dup:
            raise ValueError(f"days listed more than once: {dup}")
        days = tuple(sorted(days))
        if days[0] != 0:
            raise ValueError(
                f"the first injection defines study day 0, but the earliest dosing day is {days[0]}"
            )
        return days


class Animal(Record):
    """One ``[[animals]]`` record.

    ``preparation`` may be left out until allocation. Give ``birth_date`` or
    ``age_weeks`` (age at study day 0), not both. ``weight_g`` is the body weight at
    allocation.
    """

    id: Id
    preparation: Id | None = None
    sex: AnimalSex
    strain: Annotated[str, Field(min_length=1)]
    cage: Id
    birth_date: dt.date | None = None
    age_weeks: PositiveFloat | None = None
    weight_g: PositiveFloat | None = None

    @classmethod
    def record_rules(cls, given: Mapping[str, Any]) -> list[tuple[str, str]]:
        birth, age = given.get("birth_date"), given.get("age_weeks")
        if birth is not None and age is not None:
            return [("age_weeks", "give birth_date or age_weeks, not both")]
        if birth is None and age is None:
            return [("birth_date", "missing: give birth_date or age_weeks")]
        return []

    def age_weeks_at(self, day0: dt.date | None) -> float | None:
        """Age in weeks at study day 0: as given, or from ``birth_date`` and ``day0``."""
        if self.age_weeks is not None:
            return float(self.age_weeks)
        if self.birth_date is None or day0 is None:
            return None
        return (day0 - self.birth_date).days / 7.0
