"""The one exception hierarchy of nocilab.

::

    NocilabError
     ├── StudyFileError      study.toml is unreadable or invalid (carries every problem)
     ├── ReadingProblems     readings to write were refused (carries every problem)
     │    ├── ImportProblems     a raw-data file was rejected (carries every bad cell)
     │    └── ReadingAlreadyStored   a reading entered by hand is already stored
     ├── StoredReadingProblems  readings already in the store cannot be derived
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

from collections.abc import Iterable
from dataclasses import dataclass


def shown(value: object) -> str:
    """A value as a message shows it: text quoted, numbers plain, lists comma-separated.

    Never a Python repr a scientist has to decode (``np.int64(3)``, ``('a', 'b')``).
    """
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", None) == 0:  # a NumPy scalar
        value = item()
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return f"{value:g}"
    if isinstance(value, (list, tuple, set, frozenset)):
        values = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return ", ".join(shown(v) for v in values)
    return str(value)


def one_of(names: Iterable[object], *, limit: int = 12) -> str:
    """``"one of a, b, c"`` (shortened for long lists), for "expected one of ..." messages."""
    names = [str(n) for n in names]
    if not names:
        return "none (none are defined)"
    text = ", ".join(names[:limit])
    if len(names) > limit:
        text += f", ... ({len(names)} in all)"
    return f"one of {text}"


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
        return f"{self.where}: {self.why} (found {shown(self.value)})"


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


class ReadingProblems(_ProblemsError):
    """Readings to write (new, corrected or deleted) were refused; ``problems`` lists
    every one. Nothing was written."""

    headline = "problems; nothing was written"
    headline_one = "problem; nothing was written"
    exit_code = 3


class ImportProblems(ReadingProblems):
    """A raw-data file was rejected; ``problems`` lists every bad cell. Nothing was written."""

    headline = "problems; nothing was imported"
    headline_one = "problem; nothing was imported"


class StoredReadingProblems(_ProblemsError):
    """Readings in the store cannot be derived (a store written before its values were
    checked); ``problems`` names each by observation id. Nothing was derived."""

    headline = "bad readings in the store; nothing was derived"
    headline_one = "bad reading in the store; nothing was derived"
    exit_code = 3

    def render(self) -> str:
        return (super().render() + "\n  correct them with `nocilab correct STUDY ID --value ... "
                "--reason ...` or remove them with `nocilab delete STUDY ID --reason ...`")


class TableProblems(ImportProblems):
    """A table given to a calculator (not to the store) was rejected; nothing was written."""

    headline = "problems; no table was written"
    headline_one = "problem; no table was written"


class ReadingAlreadyStored(ReadingProblems):
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
