"""The one exception hierarchy of nocilab.

::

    NocilabError
     ├── StudyFileError      study.toml is unreadable or invalid (carries every problem)
     ├── ImportProblems      a raw-data file was rejected (carries every bad cell)
     │    └── ReadingAlreadyStored   a reading entered by hand is already stored
     ├── SchemaError         a table passed between layers lacks or mistypes a column
     ├── AssayError          a calculator was given inputs it cannot use
     ├── StoreError          the database cannot be opened, migrated or written
     │    └── AuditChainBroken   the audit chain does not verify
     ├── BlindingError       an action would reveal or needs the allocation key
     ├── DesignError         allocation or power constraints cannot be met
     ├── AnalysisError       a model or test cannot be computed on the data given
     └── AccountError        a user account cannot be added, found or changed
          └── AuthenticationError   a login is refused (wrong password, disabled, throttled)

The library raises these; the command line turns them into a clear message and a
non-zero exit code. Anything else reaching the command line is a bug.
"""

from __future__ import annotations

from dataclasses import dataclass


class NocilabError(Exception):
    """Base class of every error nocilab raises on purpose."""

    exit_code: int = 1

    def render(self) -> str:
        """The message a scientist reads (may span several lines)."""
        return str(self)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as the input allows.

    ``where`` is a key path (``animals[3].cage``) or a cell reference
    (``data.xlsx, sheet 'day 1', row 7, column 'force_g'``); ``value`` is the offending
    value as found; ``why`` says what was expected.
    """

    where: str
    why: str
    value: object = None

    def __str__(self) -> str:
        if self.value is None:
            return f"{self.where}: {self.why}"
        return f"{self.where}: {self.why} (found {self.value!r})"


class _ProblemsError(NocilabError):
    """An error that carries a list of problems, all reported at once."""

    headline = "problems found"

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = list(problems)
        super().__init__(self.render())

    def render(self) -> str:
        n = len(self.problems)
        lines = [f"{self.source}: {n} {self.headline if n != 1 else self.headline_one}"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)

    headline_one = "problem found"


class StudyFileError(_ProblemsError):
    """The study file is unreadable or invalid; ``problems`` lists every one."""

    headline = "problems in the study file"
    headline_one = "problem in the study file"
    exit_code = 2


class ImportProblems(_ProblemsError):
    """A raw-data file was rejected; ``problems`` lists every bad cell. Nothing was written."""

    headline = "problems; nothing was imported"
    headline_one = "problem; nothing was imported"
    exit_code = 3


class ReadingAlreadyStored(ImportProblems):
    """A reading entered by hand is already stored: a second value must be a correction.

    ``observation_ids`` maps each quantity of the stored reading to its observation id.
    """

    def __init__(self, source: str, problems: list[Problem],
                 observation_ids: dict[str, int]):
        self.observation_ids = dict(observation_ids)
        super().__init__(source, problems)


class SchemaError(NocilabError):
    """A tidy table lacks a required column or has one of the wrong type."""


class AssayError(NocilabError):
    """A calculator was given inputs it cannot use (unknown filament set, bad series ...)."""


class StoreError(NocilabError):
    """The database cannot be opened, migrated or written."""

    exit_code = 4


class AuditChainBroken(StoreError):
    """The audit chain does not verify; ``row_id`` is the first broken row."""

    def __init__(self, row_id: int, why: str):
        self.row_id = row_id
        self.why = why
        super().__init__(f"audit chain broken at event {row_id}: {why}")


class BlindingError(NocilabError):
    """An action would reveal the allocation, or needs the key and cannot open it."""

    exit_code = 5


class DesignError(NocilabError):
    """Allocation or power constraints cannot be met."""


class AnalysisError(NocilabError):
    """A model or test cannot be computed on the data given."""


class AccountError(NocilabError):
    """A user account cannot be added, found or changed (duplicate, unknown, weak password)."""

    exit_code = 7


class AuthenticationError(AccountError):
    """A login is refused. The message never says whether the username exists."""

    def __init__(self, message: str, *, retry_after_s: int | None = None):
        self.retry_after_s = retry_after_s
        super().__init__(message)
