"""A small TOML writer for study files: plain data in, TOML 1.0 text out.

Written here rather than taken from ``tomli_w`` because study files are read and edited
by people: arrays of tables must come out as ``[[animals]]`` blocks, which ``tomli_w``
writes as inline arrays. Reading stays with the standard library's ``tomllib``; the
tests check that ``tomllib.loads(render_study_toml(d)) == d``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

_BARE_KEY = re.compile(r"[A-Za-z0-9_\-]+")
_ESCAPES = {
    '"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r",
}
_INT64 = (-(2**63), 2**63 - 1)
_INLINE_WIDTH = 100


def _string(text: str) -> str:
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _key(key: object) -> str:
    if not isinstance(key, str):
        raise TypeError(f"TOML keys are text; found {key!r}")
    return key if _BARE_KEY.fullmatch(key) else _string(key)


def _is_table_array(value: object) -> bool:
    return (
        isinstance(value, list | tuple)
        and len(value) > 0
        and all(isinstance(v, Mapping) for v in value)
    )


def _is_flat(value: Mapping[str, Any]) -> bool:
    return not any(isinstance(v, Mapping) or _is_table_array(v) for v in value.values())


def _value(value: Any) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if not _INT64[0] <= value <= _INT64[1]:
            raise ValueError(f"TOML integers are 64-bit; {value} is out of range")
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        if value.tzinfo is not None:
            raise ValueError(f"TOML times of day carry no time zone; found {value!r}")
        return value.isoformat()
    if isinstance(value, list | tuple):
        if any(v is None for v in value):
            raise TypeError("TOML has no null: a list cannot hold None")
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        items = [f"{_key(k)} = {_value(v)}" for k, v in value.items() if v is not None]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    raise TypeError(f"cannot write {type(value).__name__} to TOML: {value!r}")


def _table(
    lines: list[str], path: list[str], table: Mapping[str, Any], *, in_record: bool
) -> None:
    """Write the keys of ``table`` (its header already written), then its sub-tables."""
    later = []
    for key, value in table.items():
        if value is None:
            continue
        if isinstance(value, Mapping) and not _inline(value, path, in_record):
            later.append((key, value))
        elif _is_table_array(value):
            later.append((key, value))
        else:
            lines.append(f"{_key(key)} = {_value(value)}")
    for key, value in later:
        sub = [*path, _key(key)]
        name = ".".join(sub)
        if isinstance(value, Mapping):
            # a table holding only tables needs no header of its own
            if not value or _has_keys(value, sub):
                lines += ["", f"[{name}]"]
            _table(lines, sub, value, in_record=False)
        else:
            for record in value:
                lines += ["", f"[[{name}]]"]
                _table(lines, sub, record, in_record=True)


def _has_keys(table: Mapping[str, Any], path: list[str]) -> bool:
    """Whether ``table`` has keys written as ``key = value`` under its own header."""
    for value in table.values():
        if value is None or _is_table_array(value):
            continue
        if isinstance(value, Mapping) and not _inline(value, path, False):
            continue
        return True
    return False


def _inline(value: Mapping[str, Any], path: list[str], in_record: bool) -> bool:
    """Small flat tables inside records (``clinical``) or deep down (``quantities``)
    read better inline; the data are the same either way."""
    if not (in_record or len(path) >= 2) or not _is_flat(value):
        return False
    if not value:
        return in_record
    return len(_value(value)) <= _INLINE_WIDTH


def render_study_toml(data: Mapping[str, Any], *, comment: str | None = None) -> str:
    """Write plain data (dicts, lists, text, numbers, booleans, dates) as TOML text.

    Tables become ``[name]`` sections, lists of tables ``[[name]]`` blocks (as in
    study.toml); small flat tables inside records are written inline. Keys whose value
    is None are left out (TOML has no null). NumPy scalars are written as their Python
    values.

    Parameters
    ----------
    data : mapping
        The document; keys are text.
    comment : str, optional
        Written first, each line as a ``#`` comment.

    Returns
    -------
    str
        TOML 1.0 text; ``tomllib.loads`` gives ``data`` back.

    Raises
    ------
    TypeError, ValueError
        A value TOML cannot hold (None in a list, a time zone on a time of day, an
        integer beyond 64 bits, an object of another type).

    Examples
    --------
    >>> print(render_study_toml({"study": {"id": "s1"}, "arms": [{"id": "a"}, {"id": "b"}]}))
    [study]
    id = "s1"
    <BLANKLINE>
    [[arms]]
    id = "a"
    <BLANKLINE>
    [[arms]]
    id = "b"
    <BLANKLINE>
    """
    lines: list[str] = []
    _table(lines, [], data, in_record=False)
    while lines and lines[0] == "":
        lines.pop(0)
    if comment:
        head = [f"# {line}".rstrip() for line in comment.splitlines()]
        lines = head + ([""] if lines else []) + lines
    return "\n".join(lines) + "\n"
