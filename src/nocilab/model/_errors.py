"""Pydantic validation errors translated into key paths and plain English."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from nocilab.errors import Problem

_BARE = re.compile(r"[A-Za-z0-9_\-]+")


def key_part(key: object) -> str:
    """One key of a key path: bare when TOML would allow it bare, else quoted."""
    text = str(key)
    if _BARE.fullmatch(text):
        return text
    return json.dumps(text, ensure_ascii=False)


def id_part(ident: object) -> str:
    """An id inside brackets (``donors[P07]``); quoted when it could be read as a position."""
    text = str(ident)
    if _BARE.fullmatch(text) and not text.isdigit():
        return text
    return json.dumps(text, ensure_ascii=False)


def join_path(prefix: str, *parts: object) -> str:
    """Append keys (str) and positions (int) to a key path."""
    path = prefix
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{key_part(part)}" if path else key_part(part)
    return path


def _fmt(x: object) -> str:
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return f"{x}"


_WHY = {
    "missing": lambda e: "missing required key",
    "int_type": lambda e: "expected a whole number",
    "int_parsing": lambda e: "expected a whole number",
    "int_from_float": lambda e: "expected a whole number",
    "float_type": lambda e: "expected a number",
    "float_parsing": lambda e: "expected a number",
    "finite_number": lambda e: "expected a finite number",
    "string_type": lambda e: "expected text (a quoted string)",
    "bool_type": lambda e: "expected true or false",
    "bool_parsing": lambda e: "expected true or false",
    "list_type": lambda e: "expected a list",
    "tuple_type": lambda e: "expected a list",
    "dict_type": lambda e: "expected a table",
    "model_type": lambda e: "expected a table",
    "model_attributes_type": lambda e: "expected a table",
    "date_type": lambda e: "expected a date (YYYY-MM-DD, unquoted)",
    "date_parsing": lambda e: "expected a date (YYYY-MM-DD, unquoted)",
    "date_from_datetime_parsing": lambda e: "expected a date (YYYY-MM-DD, unquoted)",
    "date_from_datetime_inexact": lambda e: "expected a date without a time of day",
    "literal_error": lambda e: f"expected {e['ctx']['expected']}",
    "greater_than": lambda e: f"expected a number greater than {_fmt(e['ctx']['gt'])}",
    "greater_than_equal": lambda e: f"expected a number of at least {_fmt(e['ctx']['ge'])}",
    "less_than": lambda e: f"expected a number less than {_fmt(e['ctx']['lt'])}",
    "less_than_equal": lambda e: f"expected a number of at most {_fmt(e['ctx']['le'])}",
    "string_too_short": lambda e: "must not be empty",
    "too_short": lambda e: "must not be empty",
    "nocilab_field": lambda e: e["ctx"]["why"],
    "value_error": lambda e: str(e["ctx"]["error"]),
}


def _walk(data: Any, loc: Sequence[Any]) -> tuple[list[Any], Any, bool]:
    """Follow ``loc`` through ``data``; drop the parts that are not keys or positions of
    the input (pydantic's union-member and validator tags). Returns the kept parts, the
    value reached and whether it was reached."""
    kept: list[Any] = []
    node = data
    found = True
    for part in loc:
        if isinstance(node, Mapping) and isinstance(part, str) and part in node:
            kept.append(part)
            node = node[part]
        elif isinstance(node, Sequence) and not isinstance(node, str) and isinstance(part, int):
            if 0 <= part < len(node):
                kept.append(part)
                node = node[part]
            else:
                found = False
        elif isinstance(node, Mapping) and isinstance(part, str):
            # a key that is not there: missing, or named by a model validator
            kept.append(part)
            found = False
            node = None
        # anything else is a tag of pydantic's, not a key of the file
    return kept, node, found


def problems_from_validation_error(
    error: ValidationError,
    *,
    data: Any,
    prefix: str = "",
    model: type[BaseModel] | None = None,
) -> list[Problem]:
    """Translate a pydantic ``ValidationError`` into :class:`~nocilab.errors.Problem` rows.

    Parameters
    ----------
    error : pydantic.ValidationError
        The error raised when validating ``data``.
    data : object
        The input that was validated (used to tell keys of the file from pydantic's own
        location tags, and to report the offending value).
    prefix : str
        Key path of ``data`` in the file, e.g. ``"animals[M01]"``.
    model : pydantic model class, optional
        The model validated; its field names are listed when a key is unknown.

    Returns
    -------
    list of Problem
        One per location; several errors at one location (members of a union) are
        merged into one ``why`` joined by "or".
    """
    merged: dict[str, list[Any]] = {}
    for err in error.errors(include_url=False):
        loc = list(err["loc"])
        kind = err["type"]
        if kind == "nocilab_field":
            loc.append(err["ctx"]["field"])
        kept, value, found = _walk(data, loc)
        where = join_path(prefix, *kept) or "(top level)"
        if kind == "extra_forbidden":
            why = "unknown key"
            if model is not None and len(kept) == 1:
                why += "; expected one of " + ", ".join(model.model_fields)
        elif kind in _WHY:
            why = _WHY[kind](err)
        else:
            why = str(err["msg"])
        if kind == "missing" or not found or kind in ("model_type", "dict_type") and kept == []:
            value = None
        if isinstance(value, Mapping):
            value = None  # a whole table says nothing the key path does not
        if where in merged:
            if why not in merged[where][0]:
                merged[where][0].append(why)
        else:
            merged[where] = [[why], value]
    return [
        Problem(where=where, why=_join_whys(whys), value=value)
        for where, (whys, value) in merged.items()
    ]


def _join_whys(whys: list[str]) -> str:
    if len(whys) > 1 and all(w.startswith("expected ") for w in whys):
        return "expected " + " or ".join(w.removeprefix("expected ") for w in whys)
    return "; ".join(whys)
