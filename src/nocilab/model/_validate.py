"""Validation of a whole study file: every problem is collected, none stops the others.

Records are validated one by one (:mod:`nocilab.model._records`); then references, ids
and the control arm are checked across records. Ids found in the raw file are used for
the reference checks even when their record is invalid, so one bad record is reported
once and not again by every record that refers to it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from nocilab.errors import Problem
from nocilab.model._analysis import AnalysisSettings, load_analysis
from nocilab.model._lab import LabSettings
from nocilab.model._errors import id_part, join_path, problems_from_validation_error
from nocilab.model._records import (
    Animal,
    Arm,
    Donor,
    Dosing,
    Preparation,
    Record,
    Reporting,
    StudyInfo,
)
from nocilab.model.mapping import ImportMapping
from nocilab.model.settings import ASSAY_SETTINGS, VonFreySettings

SECTIONS = (
    "study", "arms", "donors", "preparations", "dosing", "animals", "schedule", "assays",
    "mappings", "reporting", "analysis", "lab",
)
REQUIRED = ("study", "arms", "preparations", "dosing")
BUILTIN_FILAMENT_SETS = ("mouse", "rat")
"""Filament sets known by name (case-insensitive, as in nocilab.assays); any other value
of ``filaments`` is the path of a CSV file."""


@dataclass
class Parts:
    """The validated content of a study file (complete only when there are no problems)."""

    info: StudyInfo | None = None
    reporting: Reporting = field(default_factory=Reporting)
    arms: dict[str, Arm] = field(default_factory=dict)
    donors: dict[str, Donor] = field(default_factory=dict)
    preparations: dict[str, Preparation] = field(default_factory=dict)
    dosing: Dosing | None = None
    animals: dict[str, Animal] = field(default_factory=dict)
    schedule: dict[str, tuple[int, ...]] = field(default_factory=dict)
    assays: dict[str, BaseModel] = field(default_factory=dict)
    mappings: dict[str, ImportMapping] = field(default_factory=dict)
    analysis: AnalysisSettings = field(default_factory=AnalysisSettings)
    lab: LabSettings = field(default_factory=LabSettings)


def expected_one_of(names: Iterable[str], *, limit: int = 12) -> str:
    """``"expected one of a, b, c"``, shortened for long lists."""
    names = list(names)
    if not names:
        return "none are defined"
    shown = ", ".join(names[:limit])
    if len(names) > limit:
        shown += f", ... ({len(names)} in all)"
    return f"expected one of {shown}"


def _raw_id(item: Any) -> str | None:
    if not isinstance(item, Mapping):
        return None
    ident = item.get("id")
    if isinstance(ident, bool) or not isinstance(ident, str | int):
        return None
    text = str(ident).strip()
    return text or None


def _is_whole(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


class _Validator:
    def __init__(self, data: Mapping[str, Any], folder: Path):
        self.data = data
        self.folder = folder
        self.problems: list[Problem] = []
        self.parts = Parts()
        self.raw_ids: dict[str, list[str]] = {}
        self.path_of: dict[str, dict[str, str]] = {}
        self.invalid: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}

    def add(self, where: str, why: str, value: object = None) -> None:
        self.problems.append(Problem(where=where, why=why, value=value))

    # -- structure ---------------------------------------------------------------------

    def run(self) -> tuple[Parts, list[Problem]]:
        for key in self.data:
            if key not in SECTIONS:
                self.add(key_table(key), "unknown table; expected " + ", ".join(SECTIONS))
        for key in REQUIRED:
            if key not in self.data:
                form = f"[[{key}]]" if key in ("arms", "preparations") else f"[{key}]"
                self.add(key, f"missing required table {form}")
        self.info()
        self.reporting()
        self.parts.arms = self.records("arms", Arm)
        self.parts.donors = self.records("donors", Donor)
        self.parts.preparations = self.records("preparations", Preparation)
        self.dosing()
        self.parts.animals = self.records("animals", Animal)
        self.control_arm()
        self.donor_refs()
        self.preparation_refs()
        self.animal_refs()
        self.schedule()
        self.assays()
        self.mappings()
        self.analysis()
        self.lab()
        return self.parts, self.problems

    def table(self, key: str) -> Mapping[str, Any] | None:
        raw = self.data.get(key)
        if raw is None:
            return None
        if not isinstance(raw, Mapping):
            self.add(key, f"expected a table [{key}]", raw)
            return None
        return raw

    def validate(self, model: type[BaseModel], raw: Any, where: str) -> Any:
        try:
            return model.model_validate(raw)
        except ValidationError as e:
            found = problems_from_validation_error(e, data=raw, prefix=where, model=model)
            if issubclass(model, Record) and isinstance(raw, Mapping):
                seen = {p.where for p in found}
                for key, why in model.record_rules(raw):
                    path = join_path(where, key)
                    if path not in seen:
                        found.append(Problem(where=path, why=why, value=raw.get(key)))
                        seen.add(path)
            self.problems += found
            return None

    def info(self) -> None:
        raw = self.table("study")
        if raw is not None:
            self.parts.info = self.validate(StudyInfo, raw, "study")

    def reporting(self) -> None:
        raw = self.table("reporting")
        if raw is not None:
            found = self.validate(Reporting, raw, "reporting")
            if found is not None:
                self.parts.reporting = found

    def analysis(self) -> None:
        raw = self.table("analysis") if "analysis" in self.data else {}
        if raw is not None:
            found, problems = load_analysis(raw, schedule=self.parts.schedule,
                                            primary_outcome=self.parts.reporting.primary_outcome)
            self.problems += problems
            if found is not None:
                self.parts.analysis = found

    def lab(self) -> None:
        raw = self.table("lab")
        if raw is not None:
            found = self.validate(LabSettings, raw, "lab")
            if found is not None:
                self.parts.lab = found

    def records(self, section: str, model: type[Record]) -> dict[str, Any]:
        raw = self.data.get(section, [])
        self.raw_ids[section] = []
        self.path_of[section] = {}
        self.invalid[section] = []
        if not isinstance(raw, list):
            self.add(section, f"expected an array of tables [[{section}]]")
            return {}
        ids = [_raw_id(item) for item in raw]
        counts = Counter(i for i in ids if i is not None)
        self.raw_ids[section] = list(counts)
        first: dict[str, str] = {}
        out: dict[str, Any] = {}
        for i, (item, rid) in enumerate(zip(raw, ids, strict=True)):
            unique = rid is not None and counts[rid] == 1
            path = f"{section}[{id_part(rid)}]" if unique else f"{section}[{i}]"
            if rid is not None:
                if rid in first:
                    self.add(f"{path}.id", f"duplicate id; first used at {first[rid]}", rid)
                else:
                    first[rid] = path
                    self.path_of[section][rid] = path
            if not isinstance(item, Mapping):
                self.add(path, "expected a table", item)
                continue
            record = self.validate(model, item, path)
            if record is None:
                self.invalid[section].append((path, item))
            elif record.id not in out:
                out[record.id] = record
        return out

    def raw_refs(self, path: str, item: Mapping[str, Any], key: str) -> list[str]:
        """The ids a record that failed validation names under ``key``, so that its
        references are checked alongside its other problems; none when the key itself
        was reported already."""
        where = join_path(path, key)
        if any(p.where == where or p.where.startswith(where + "[") for p in self.problems):
            return []
        value = item.get(key)
        values = value if isinstance(value, list) else [value]
        return [str(v).strip() for v in values
                if isinstance(v, str | int) and not isinstance(v, bool) and str(v).strip()]

    def dosing(self) -> None:
        raw = self.data.get("dosing")
        if isinstance(raw, list):
            self.add(
                "dosing",
                "one regimen for all preparations is supported: write a single [dosing] "
                f"table, not [[dosing]] ({len(raw)} regimens found)",
            )
            return
        raw = self.table("dosing")
        if raw is not None:
            self.parts.dosing = self.validate(Dosing, raw, "dosing")

    # -- across records ----------------------------------------------------------------

    def control_arm(self) -> None:
        raw = self.data.get("arms")
        if not isinstance(raw, list):
            return  # missing or not an array: reported already
        if not raw:
            self.add("arms", "no arms defined; define the [[arms]], one with control = true")
            return
        controls = [
            _raw_id(a) or f"arms[{i}]"
            for i, a in enumerate(raw)
            if isinstance(a, Mapping) and a.get("control") is True
        ]
        if not controls:
            self.add("arms", "no control arm: mark exactly one arm with control = true")
        elif len(controls) > 1:
            self.add(
                "arms",
                "several control arms: mark exactly one arm with control = true",
                controls,
            )

    def donor_refs(self) -> None:
        arms = self.raw_ids["arms"]
        for did, donor in self.parts.donors.items():
            if donor.arm not in arms:
                where = f"{self.path_of['donors'][did]}.arm"
                self.add(where, "unknown arm; " + expected_one_of(arms), donor.arm)
        for path, item in self.invalid["donors"]:
            for arm in self.raw_refs(path, item, "arm"):
                if arm not in arms:
                    self.add(f"{path}.arm", "unknown arm; " + expected_one_of(arms), arm)

    def preparation_refs(self) -> None:
        arms = self.raw_ids["arms"]
        donors = self.raw_ids["donors"]
        donor_arm: dict[str, str] = {}
        raw_donors = self.data.get("donors")
        for item in raw_donors if isinstance(raw_donors, list) else []:
            rid = _raw_id(item)
            arm = item.get("arm") if isinstance(item, Mapping) else None
            if rid is not None and isinstance(arm, str | int) and not isinstance(arm, bool):
                donor_arm.setdefault(rid, str(arm).strip())
        for pid, prep in list(self.parts.preparations.items()):
            path = self.path_of["preparations"][pid]
            for d in prep.donors:
                if d not in donors:
                    self.add(f"{path}.donors", "unknown donor; " + expected_one_of(donors), d)
            if prep.arm is not None and prep.arm not in arms:
                self.add(f"{path}.arm", "unknown arm; " + expected_one_of(arms), prep.arm)
            of = {d: donor_arm[d] for d in prep.donors if d in donor_arm}
            listing = ", ".join(f"{d}: {a}" for d, a in of.items())
            resolved = prep.arm
            if prep.arm is not None:
                disagree = {d: a for d, a in of.items() if a != prep.arm}
                if disagree:
                    self.add(
                        f"{path}.arm",
                        "differs from the arm of its donor(s) ("
                        + ", ".join(f"{d}: {a}" for d, a in disagree.items())
                        + ")",
                        prep.arm,
                    )
            elif len(set(of.values())) > 1:
                self.add(
                    f"{path}.donors",
                    f"pooled donors come from different arms ({listing}); a pool belongs "
                    "to one arm",
                    list(prep.donors),
                )
            elif of and len(of) == len(prep.donors):
                resolved = next(iter(of.values()))
            if resolved is not None and resolved != prep.arm:
                self.parts.preparations[pid] = prep.model_copy(update={"arm": resolved})
        for path, item in self.invalid["preparations"]:
            for d in self.raw_refs(path, item, "donors"):
                if d not in donors:
                    self.add(f"{path}.donors", "unknown donor; " + expected_one_of(donors), d)
            for arm in self.raw_refs(path, item, "arm"):
                if arm not in arms:
                    self.add(f"{path}.arm", "unknown arm; " + expected_one_of(arms), arm)

    def animal_refs(self) -> None:
        preps = self.raw_ids["preparations"]
        start = self.parts.info.start_date if self.parts.info is not None else None
        for aid, animal in self.parts.animals.items():
            path = self.path_of["animals"][aid]
            if animal.preparation is not None and animal.preparation not in preps:
                self.add(
                    f"{path}.preparation",
                    "unknown preparation; " + expected_one_of(preps),
                    animal.preparation,
                )
            if start is not None and animal.birth_date is not None and animal.birth_date > start:
                self.add(
                    f"{path}.birth_date",
                    f"after the study start date {start.isoformat()} (study day 0)",
                    animal.birth_date,
                )
        for path, item in self.invalid["animals"]:
            for prep in self.raw_refs(path, item, "preparation"):
                if prep not in preps:
                    self.add(f"{path}.preparation",
                             "unknown preparation; " + expected_one_of(preps), prep)

    # -- assays ------------------------------------------------------------------------

    def schedule(self) -> None:
        raw = self.table("schedule")
        if raw is None:
            return
        for name, days in raw.items():
            where = join_path("schedule", name)
            known = name in ASSAY_SETTINGS
            if not known:
                self.add(where, "unknown assay; known assays: " + ", ".join(ASSAY_SETTINGS))
            if not isinstance(days, list):
                self.add(where, "expected a list of study days, e.g. [-1, 1, 3]", days)
                continue
            good = True
            for i, day in enumerate(days):
                if not _is_whole(day):
                    self.add(f"{where}[{i}]", "expected a whole number (a study day)", day)
                    good = False
            counts = Counter(d for d in days if _is_whole(d))
            for day, n in counts.items():
                if n > 1:
                    self.add(where, f"day {day} is listed {n} times; days must be unique", day)
                    good = False
            if known and good:
                self.parts.schedule[name] = tuple(sorted(days))

    def assays(self) -> None:
        raw = self.table("assays") or {}
        for name, table in raw.items():
            where = join_path("assays", name)
            model = ASSAY_SETTINGS.get(name)
            if model is None:
                self.add(where, "unknown assay; known assays: " + ", ".join(ASSAY_SETTINGS))
                continue
            if not isinstance(table, Mapping):
                self.add(where, f"expected a table [assays.{name}]", table)
                continue
            settings = self.validate(model, table, where)
            if settings is not None:
                self.parts.assays[name] = self.resolve_files(settings, where)
        for name in self.parts.schedule:
            if name not in self.parts.assays and name not in raw:
                self.parts.assays[name] = ASSAY_SETTINGS[name]()

    def resolve_files(self, settings: BaseModel, where: str) -> BaseModel:
        if not isinstance(settings, VonFreySettings):
            return settings
        name = settings.filaments
        if name.strip().lower() in BUILTIN_FILAMENT_SETS:
            return settings.model_copy(update={"filaments": name.strip().lower()})
        path = Path(name).expanduser()
        if not path.is_absolute():
            path = self.folder / path
        path = path.resolve()
        if not path.is_file():
            self.add(
                f"{where}.filaments",
                f"no filament file at {path}; expected "
                + ", ".join(repr(s) for s in BUILTIN_FILAMENT_SETS)
                + " or the path of a CSV file (relative to the study folder)",
                name,
            )
            return settings
        return settings.model_copy(update={"filaments": str(path)})

    def mappings(self) -> None:
        raw = self.table("mappings") or {}
        for name, table in raw.items():
            where = join_path("mappings", name)
            if not isinstance(table, Mapping):
                self.add(where, f"expected a table [mappings.{name}]", table)
                continue
            mapping = self.validate(ImportMapping, table, where)
            if mapping is None:
                continue
            if mapping.assay is not None and mapping.assay not in ASSAY_SETTINGS:
                self.add(
                    f"{where}.assay",
                    "unknown assay; known assays: " + ", ".join(ASSAY_SETTINGS),
                    mapping.assay,
                )
                continue
            self.parts.mappings[name] = mapping


def key_table(key: str) -> str:
    return join_path("", key)


def validate_study_data(data: Mapping[str, Any], *, folder: Path) -> tuple[Parts, list[Problem]]:
    """Validate the parsed TOML of a study file; return its parts and every problem found."""
    return _Validator(data, folder).run()
