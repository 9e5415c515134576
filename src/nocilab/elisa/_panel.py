"""Multiplex panels: one standard curve per analyte, the samples read back per analyte."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nocilab.elisa._plate import SAMPLE_COLUMNS, STANDARD_COLUMNS, WELL_COLUMNS, PlateResult
from nocilab.elisa._plate import analyse_plate
from nocilab.errors import AssayError, SchemaError

CURVE_COLUMNS = (
    "analyte", "status", "reason", "model", "weights", "r_squared", "n_standards",
    "recovery_min_percent", "recovery_max_percent", "n_standards_outside_recovery",
    "n_standards_cv_high", "lloq", "uloq", "unit", "n_samples", "n_quantified",
    "n_below_lloq", "n_above_uloq", "n_samples_cv_high",
)
"""One row per analyte: ``status`` ``fitted`` or ``failed`` (with the ``reason``), and
the QC of its curve (LLOQ and ULOQ in the well, in ``unit``)."""
VALUE_COLUMNS = ("analyte", "sample", "concentration", "censored", "bound", "unit",
                 "n_dilutions", "note")
"""One value per analyte and sample (:func:`panel_values`)."""


@dataclass(frozen=True, eq=False)
class PanelResult:
    """Every analyte of a panel read against its own standard curve.

    Attributes
    ----------
    plates
        The analytes whose curve was fitted: their :class:`PlateResult`.
    failures
        The analytes whose curve failed, with the reason (standards out of order, no
        convergence, no standard recovering ...): an explicit failure, not a gap.
    curves
        One row per analyte (:data:`CURVE_COLUMNS`).
    standards, samples
        The plates' standards and samples tables, stacked, with ``analyte`` first.
    """

    plates: dict[str, PlateResult]
    failures: dict[str, str]
    curves: pd.DataFrame
    standards: pd.DataFrame
    samples: pd.DataFrame


def analyse_panel(wells: pd.DataFrame, *, model: str = "4pl", weights: str = "none",
                  blank: str = "mean", recovery_limits: tuple[float, float] = (80.0, 120.0),
                  cv_limit: float = 20.0, unit: str = "pg/mL",
                  units: Mapping[str, str] | None = None) -> PanelResult:
    """Fit each analyte's standard curve and read its samples back.

    Parameters
    ----------
    wells
        The tidy wells table with an ``analyte`` column (from
        :func:`nocilab.ingest.multiplex.panel_wells`): :data:`WELL_COLUMNS` per analyte,
        ``od`` holding the signal (MFI or OD).
    model, weights, blank, recovery_limits, cv_limit
        As for :func:`analyse_plate`, the same for every analyte.
    unit, units
        The standards' unit, and per-analyte exceptions.

    Returns
    -------
    PanelResult

    Notes
    -----
    Each analyte goes through :func:`analyse_plate`: its own blank subtraction, curve,
    recovery, LLOQ and ULOQ. A sample below the LLOQ is left-censored with its bound (the
    LLOQ times the dilution), never set to zero or to a fraction of the LLOQ. An analyte
    whose curve cannot be fitted is listed in ``failures`` with the reason and has no
    samples; the others are unaffected.
    """
    missing = [c for c in ("analyte", *WELL_COLUMNS) if c not in wells.columns]
    if missing:
        raise SchemaError(f"panel wells table lacks column(s) {', '.join(missing)}")
    units = dict(units or {})
    plates: dict[str, PlateResult] = {}
    failures: dict[str, str] = {}
    curves, standards, samples = [], [], []
    for name, g in wells.groupby(wells["analyte"].astype(str), sort=True):
        u = units.get(name, unit)
        try:
            res = analyse_plate(g.drop(columns="analyte"), model=model, weights=weights,
                                blank=blank, recovery_limits=recovery_limits,
                                cv_limit=cv_limit, unit=u)
        except AssayError as exc:  # CurveFitError is one
            failures[name] = str(exc)
            curves.append({"analyte": name, "status": "failed", "reason": str(exc),
                           "model": model, "weights": weights, "unit": u})
            continue
        plates[name] = res
        curves.append({"analyte": name, "status": "fitted", "reason": "", **res.summary()})
        standards.append(res.standards.assign(analyte=name))
        samples.append(res.samples.assign(analyte=name))
    curve_table = pd.DataFrame(curves, columns=list(CURVE_COLUMNS))
    std = _stack(standards, STANDARD_COLUMNS)
    smp = _stack(samples, SAMPLE_COLUMNS)
    return PanelResult(plates=plates, failures=failures, curves=curve_table, standards=std,
                       samples=smp)


def _stack(parts: list[pd.DataFrame], columns: tuple[str, ...]) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame(columns=["analyte", *columns])
    out = pd.concat(parts, ignore_index=True)
    return out[["analyte"] + [c for c in out.columns if c != "analyte"]]


def panel_values(samples: pd.DataFrame, *, by: str = "sample") -> pd.DataFrame:
    """One value per analyte and sample from the samples table of a panel.

    Parameters
    ----------
    samples
        :attr:`PanelResult.samples` (one row per analyte, sample and dilution).
    by
        The column naming the unit of analysis (``sample``, or ``animal`` when the
        layout has one); further columns constant within it (``arm`` ...) are kept.

    Returns
    -------
    pandas.DataFrame
        :data:`VALUE_COLUMNS` (with ``by`` in place of ``sample``) and the constant
        columns.

    Notes
    -----
    A sample read at one dilution keeps its value or censoring. At several dilutions:
    the geometric mean of the quantified ones; when none is quantified, the tightest
    bound (the lowest of the left-censored bounds, else the highest right-censored
    bound); a sample both below the range at one dilution and above it at another is
    reported as not read (NaN, censored ``none``, with a note).
    """
    if by not in samples.columns:
        raise SchemaError(f"samples table has no column {by!r}; columns: "
                          f"{', '.join(map(str, samples.columns))}")
    skip = set(SAMPLE_COLUMNS) | {"analyte", by}
    rows = []
    for (name, unit_id), g in samples.groupby(["analyte", by], sort=True):
        cen = g["censored"].astype(str)
        q = g.loc[cen == "none", "concentration"].to_numpy(float)
        row = {"analyte": name, by: unit_id, "unit": g["unit"].iloc[0], "n_dilutions": len(g),
               "concentration": np.nan, "censored": "none", "bound": np.nan, "note": ""}
        if len(q):
            row["concentration"] = float(q[0])
            if len(q) > 1:
                row["concentration"] = float(np.exp(np.mean(np.log(q))))
                row["note"] = f"geometric mean of {len(q)} dilutions"
        elif (cen == "left").any() and (cen == "right").any():
            row["note"] = "below the range at one dilution and above it at another: not read"
        elif (cen == "left").any():
            row.update(censored="left", bound=float(g.loc[cen == "left", "bound"].min()))
        else:
            row.update(censored="right", bound=float(g.loc[cen == "right", "bound"].max()))
        for c in g.columns:
            if c not in skip and g[c].nunique(dropna=False) == 1:
                row[c] = g[c].iloc[0]
        rows.append(row)
    cols = [c if c != "sample" else by for c in VALUE_COLUMNS]
    out = pd.DataFrame(rows)
    if out.empty:
        return pd.DataFrame(columns=cols)
    return out[cols + [c for c in out.columns if c not in cols]]
