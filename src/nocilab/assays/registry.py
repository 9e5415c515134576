"""The assay registry: assay names in study.toml -> calculators.

Each assay module defines ``ASSAY`` (an :class:`~nocilab.assays.base.Assay`); this module
collects them and offers one checked entry point, :func:`derive_readings`, which
validates the readings going in and the derived values coming out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from nocilab.assays import (
    activity,
    body_weight,
    cold_plate,
    grip,
    heat,
    ienfd,
    paw_pressure,
    von_frey,
)
from nocilab.assays._common import settings_of
from nocilab.assays.base import DERIVED_VALUES, READINGS_KEYS, Assay
from nocilab.errors import AssayError, SchemaError, one_of, shown
from nocilab.model.settings import ASSAY_SETTINGS
from nocilab.schema import CENSORED_LEVELS

__all__ = ["assay_names", "derive_readings", "get_assay"]

_ASSAYS: dict[str, Assay] = {
    a.name: a
    for a in (
        von_frey.ASSAY,
        paw_pressure.ASSAY,
        cold_plate.ASSAY,
        heat.ASSAY,
        grip.ASSAY,
        activity.ASSAY,
        body_weight.ASSAY,
        ienfd.ASSAY,
    )
}


def assay_names() -> tuple[str, ...]:
    """The names of every registered assay, sorted.

    Examples
    --------
    >>> "paw_pressure" in assay_names()
    True
    """
    return tuple(sorted(_ASSAYS))


def get_assay(name: str) -> Assay:
    """The registered assay called ``name``.

    Raises
    ------
    AssayError
        No assay has that name; the message lists the known names.

    Examples
    --------
    >>> get_assay("paw_pressure").outcomes
    ('threshold_g',)
    """
    try:
        return _ASSAYS[name]
    except (KeyError, TypeError):
        raise AssayError(
            f"unknown assay {name!r}; known assays: {', '.join(assay_names())}"
        ) from None


def derive_readings(
    assay_name: str,
    readings: pd.DataFrame,
    settings: BaseModel | Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Derived values of one assay's readings, checked on the way in and out.

    Parameters
    ----------
    assay_name : str
        A name from :func:`assay_names`.
    readings : DataFrame
        Columns ``animal``, ``study_day``, ``trial`` and one per quantity of the assay.
    settings : settings model, mapping or None
        The assay's settings (``nocilab.model.settings``): a model instance, a mapping of
        its fields (as in study.toml) or None for the defaults.

    Returns
    -------
    DataFrame
        One row per animal x study day x outcome with exactly the columns of
        :data:`~nocilab.assays.base.DERIVED_VALUES`.

    Raises
    ------
    AssayError
        Unknown assay, settings of the wrong kind, or bad readings (every problem that
        the assay's ``check`` finds, listed).
    SchemaError
        The readings lack a key column, or the calculator returned a frame that breaks
        the derived-values contract (a bug in the calculator).
    """
    assay = get_assay(assay_name)
    if not isinstance(readings, pd.DataFrame):
        raise SchemaError(f"{assay_name}: readings must be a DataFrame, got "
                          f"{type(readings).__name__}")
    absent = [c for c in READINGS_KEYS if c not in readings.columns]
    if absent:
        raise SchemaError(
            f"{assay_name} readings lack column(s) {', '.join(absent)}; expected "
            f"{', '.join(READINGS_KEYS)} and one column per quantity"
        )
    model = ASSAY_SETTINGS.get(assay_name)
    if model is not None:
        settings = settings_of(settings, model, assay_name)
    out = assay.derive(readings, settings)
    return _validated(out, assay)


def _validated(out: Any, assay: Assay) -> pd.DataFrame:
    """Check a calculator's output against the derived-values contract."""
    where = f"{assay.name} derived values"
    if not isinstance(out, pd.DataFrame):
        raise SchemaError(f"{where}: expected a DataFrame, got {type(out).__name__}")
    if list(out.columns) != list(DERIVED_VALUES):
        missing = [c for c in DERIVED_VALUES if c not in out.columns]
        extra = [c for c in out.columns if c not in DERIVED_VALUES]
        raise SchemaError(
            f"{where}: columns must be {', '.join(DERIVED_VALUES)} in that order; "
            f"missing {missing or 'none'}, unexpected {extra or 'none'}"
        )
    for col in ("study_day", "n_trials"):
        if len(out) and not pd.api.types.is_integer_dtype(out[col]):
            raise SchemaError(f"{where}: column {col!r} must be integer, has {out[col].dtype}")
    for col in ("value", "bound"):
        if len(out) and not pd.api.types.is_numeric_dtype(out[col]):
            raise SchemaError(f"{where}: column {col!r} must be numeric, has {out[col].dtype}")
    if not len(out):
        return out
    bad = sorted(set(out["censored"].unique()) - set(CENSORED_LEVELS), key=str)
    if bad:
        raise SchemaError(f"{where}: 'censored' must be {one_of(CENSORED_LEVELS)}, found {shown(bad)}")
    if assay.outcomes:
        unknown = sorted(set(out["outcome"].unique()) - set(assay.outcomes), key=str)
        if unknown:
            raise SchemaError(f"{where}: outcome(s) {unknown} not declared by the assay "
                              f"(declared: {', '.join(assay.outcomes)})")
    note = out["note"]
    if note.isna().any():
        raise SchemaError(f"{where}: 'note' must be a text ('' when there is nothing to say)")
    silent = out["value"].isna().to_numpy() & (note.to_numpy(dtype=object) == "")
    if silent.any():
        row = out.loc[silent].iloc[0]
        raise SchemaError(f"{where}: value is NaN without a note saying why "
                          f"(animal {row['animal']!r}, study day {row['study_day']})")
    cens = out["censored"].to_numpy(dtype=object) != "none"
    bound_nan = np.isnan(out["bound"].to_numpy(dtype=float))
    if np.any(cens & bound_nan):
        raise SchemaError(f"{where}: a censored value needs its bound")
    if np.any(~cens & ~bound_nan):
        raise SchemaError(f"{where}: 'bound' must be NaN where the value is not censored")
    return out
