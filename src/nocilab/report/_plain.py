"""Settings and values in words for a reader: no Python reprs in the report.

``np.int64(-3)``, ``(1, None)`` and ``{'threshold_g': 'decrease'}`` are how Python shows
values to a programmer; the report shows ``-3``, ``day 1 to the last`` and
``threshold_g decrease``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np


def plain(value: Any) -> str:
    """One value as a reader writes it.

    Integers and floats as numbers (``-3``, ``0.95``), None as ``none``, booleans as
    ``yes``/``no``, sequences as their items separated by commas, mappings as
    ``key value`` pairs separated by commas.

    Examples
    --------
    >>> plain((np.int64(-3), np.int64(-1)))
    '-3, -1'
    >>> plain({"threshold_g": "decrease", "latency_s": "decrease"})
    'threshold_g decrease, latency_s decrease'
    """
    if isinstance(value, np.generic):
        value = value.item()
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "none"
        return str(int(value)) if value.is_integer() else f"{value:g}"
    if isinstance(value, Mapping):
        return ", ".join(f"{plain(k)} {plain(v)}" for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset | np.ndarray):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
        return ", ".join(plain(v) for v in items)
    return str(value)


def plain_window(value: Any) -> str:
    """A (first, last) day window: ``days 1-14``, ``day 1 to the last``."""
    lo, hi = value
    if lo is None and hi is None:
        return "every day"
    if hi is None:
        return f"day {plain(lo)} to the last"
    if lo is None:
        return f"the first day to day {plain(hi)}"
    return f"days {plain(lo)}-{plain(hi)}"


def settings_text(settings: Mapping[str, Any]) -> str:
    """Settings as ``name: value`` separated by semicolons (a value may hold commas).

    A two-value setting whose name ends in ``window`` is a (first, last) day window.

    Examples
    --------
    >>> settings_text({"baseline_days": (np.int64(-3), np.int64(-1)), "auc_window": (1, None),
    ...                "level": 0.95})
    'baseline_days: -3, -1; auc_window: day 1 to the last; level: 0.95'
    """
    parts = []
    for key, value in settings.items():
        if (str(key).endswith("window") and isinstance(value, list | tuple)
                and len(value) == 2):
            text = plain_window(value)
        else:
            text = plain(value)
        parts.append(f"{key}: {text}")
    return "; ".join(parts)


def plain_range(low: float, high: float, unit: str, *, digits: int = 0) -> str:
    """A range of values: ``10 weeks`` when both ends are equal, ``8-12 weeks``
    otherwise, with up to two more decimals when the ends would look equal at
    ``digits`` (``9.6-10.4 weeks``, never ``10-10 weeks``).

    Examples
    --------
    >>> plain_range(10.0, 10.0, "weeks"), plain_range(9.6, 10.4, "weeks")
    ('10 weeks', '9.6-10.4 weeks')
    """
    if low == high:
        return f"{low:.{digits}f} {unit}"
    for d in range(digits, digits + 3):
        a, b = f"{low:.{d}f}", f"{high:.{d}f}"
        if a != b:
            break
    return f"{a} {unit}" if a == b else f"{a}-{b} {unit}"
