"""Intraepidermal nerve-fibre density (IENFD) in fibres per mm of epidermis.

Each trial is one immunostained skin section (PGP9.5 is the usual pan-neuronal marker,
``settings.marker``) with two quantities: ``fibres``, the count of fibres crossing the
dermal-epidermal junction (branches after the crossing and fragments that do not cross
are not counted; a non-negative whole number), and ``length_mm``, the length of
epidermis assessed (> 0). The animal's value is the mean over its sections of the
per-section densities ``fibres / length_mm``, outcome ``fibres_per_mm``.

Mean of densities or pooled ratio
---------------------------------
Two estimators are in use. The **mean of per-section densities** (the default) is the
protocol the field describes for mouse skin: a density per section, averaged over
sections. It weights every section equally, so each section is one replicate
measurement of the same animal and a section's density does not depend on how long its
neighbours are. The **pooled ratio** (total fibres / total length, ``pooled=True`` in
:func:`fibre_density`) weights sections by their length, as some skin-biopsy
protocols do; it is the less variable estimator when section lengths differ a lot and
short sections are unreliable. The two agree when all sections have the same length.
``derive`` uses the default; a study that wants the pooled ratio computes it with
:func:`fibre_density`.

If ``settings.sections`` is set, an animal-day with fewer (or more) sections is noted.

Examples
--------
>>> from nocilab.assays.ienfd import fibre_density
>>> fibre_density([10, 30], [1.0, 2.0])                 # (10/1 + 30/2) / 2
12.5
>>> round(fibre_density([10, 30], [1.0, 2.0], pooled=True), 4)   # 40 / 3
13.3333
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from nocilab.assays._common import (
    as_trials,
    check_keys,
    check_number,
    count_note,
    derived_frame,
    group_trials,
    new_found,
    raise_problems,
    require,
    row_count,
    row_mean,
    row_sum,
    settings_of,
    squeeze,
)
from nocilab.assays.base import Assay, CellProblem, Quantity
from nocilab.errors import AssayError
from nocilab.model.settings import IenfdSettings

__all__ = ["ASSAY", "check", "derive", "fibre_density"]

NAME = "ienfd"


def fibre_density(fibres: ArrayLike, length_mm: ArrayLike, *, pooled: bool = False) -> Any:
    """Fibres per mm of epidermis over an animal's sections.

    Parameters
    ----------
    fibres : array_like
        Crossing fibres per section: one animal-day's sections (1-D) or animal-days x
        sections (2-D, NaN where a section is absent). Non-negative whole numbers.
    length_mm : array_like
        Epidermis length of each section in mm, the same shape as ``fibres``; NaN
        exactly where ``fibres`` is NaN; positive.
    pooled : bool
        False (default): mean over sections of ``fibres / length_mm``. True: total fibres
        over total length (see the module notes).

    Returns
    -------
    float or ndarray
        One density per animal-day (a float for 1-D input); NaN for a row without
        sections.

    Raises
    ------
    AssayError
        Shapes differ, a section has one quantity without the other, a count is
        negative or fractional, or a length is not positive.
    """
    f, was_1d = as_trials(fibres, "fibres")
    length, _ = as_trials(length_mm, "length_mm")
    if f.shape != length.shape:
        raise AssayError(f"ienfd: fibres {f.shape} and length_mm {length.shape} differ in shape")
    if not np.array_equal(np.isnan(f), np.isnan(length)):
        raise AssayError("ienfd: every section needs both fibres and length_mm")
    require(f >= 0, "fibres", "negative", f)
    require(np.round(f) == f, "fibres", "not whole numbers", f)
    require(length > 0, "length_mm", "not positive", length)
    if pooled:
        total_length = row_sum(length)
        out = np.divide(row_sum(f), total_length, out=np.full(len(f), np.nan),
                        where=~np.isnan(total_length))
    else:
        per_section = np.divide(f, length, out=np.full(f.shape, np.nan), where=~np.isnan(f))
        out = row_mean(per_section)
    return squeeze(out, was_1d)


def _cells(readings: pd.DataFrame) -> tuple[list[CellProblem], dict[str, Any]]:
    found = new_found()
    check_keys(readings, found)
    values = {
        "fibres": check_number(readings, "fibres", found, what="fibre count", integer=True),
        "length_mm": check_number(readings, "length_mm", found, what="epidermis length",
                                  strict_minimum=True),
    }
    return found.sorted(), values


def check(readings: pd.DataFrame, settings: IenfdSettings | None) -> list[CellProblem]:
    """Cell problems: missing, non-numeric, negative or fractional fibre count; missing,
    non-numeric or non-positive length; a missing animal or a study day that is not a
    whole number."""
    settings_of(settings, IenfdSettings, NAME)
    return _cells(readings)[0]


def derive(readings: pd.DataFrame, settings: IenfdSettings | None) -> pd.DataFrame:
    """Mean per-section fibre density per animal-day (``n_trials`` = sections).

    Raises :class:`~nocilab.errors.AssayError` listing the problems if :func:`check`
    finds any. ``note`` says when an animal-day has fewer or more sections than
    ``settings.sections``.
    """
    s = settings_of(settings, IenfdSettings, NAME)
    problems, values = _cells(readings)
    raise_problems(NAME, problems)
    g = group_trials(readings, values)
    f, length = g.matrices["fibres"], g.matrices["length_mm"]
    n = row_count(f)
    return derived_frame(g, outcome="fibres_per_mm", unit="fibres/mm",
                         value=fibre_density(f, length), n_trials=n,
                         note=count_note(n, s.sections, "sections"))


ASSAY = Assay(
    name=NAME,
    title="Intraepidermal nerve-fibre density",
    quantities=(
        Quantity("fibres", "number", "count",
                 description="fibres crossing the dermal-epidermal junction in the section"),
        Quantity("length_mm", "number", "mm", description="length of epidermis assessed"),
    ),
    check=check,
    derive=derive,
    outcomes=("fibres_per_mm",),
)
