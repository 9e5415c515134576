"""One plate: blank subtraction, the standard curve with its QC, the samples read back."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nocilab.elisa import _logistic as lg
from nocilab.elisa._fit import CurveFit, CurveFitError, fit_curve
from nocilab.errors import AssayError, SchemaError

KINDS = ("standard", "blank", "sample")
BLANKS = ("mean", "none")
WELL_COLUMNS = ("well", "kind", "sample", "dilution", "concentration", "od", "saturated")
"""The tidy wells table: one row per used well. ``od`` is the reader's value (NaN for a
saturated well, ``saturated`` True); ``concentration`` is the nominal value of a
standard, ``sample`` and ``dilution`` describe a sample well."""
STANDARD_COLUMNS = (
    "concentration", "n_wells", "wells", "od_mean", "od_sd", "od_cv_percent", "cv_ok",
    "fitted_od", "back_calculated", "recovery_percent", "recovery_ok", "in_range", "note",
)
SAMPLE_COLUMNS = (
    "sample", "dilution", "n_wells", "wells", "od_mean", "od_cv_percent", "cv_ok",
    "well_concentration", "concentration", "censored", "bound", "extrapolated", "unit", "note",
)


@dataclass(frozen=True, eq=False)
class PlateResult:
    """A plate read against its standard curve.

    Attributes
    ----------
    curve
        The fitted standard curve (:class:`CurveFit`).
    blank, blank_od
        How blanks were subtracted (``"mean"`` or ``"none"``) and the value subtracted
        from every well (None without blank subtraction).
    standards
        One row per standard concentration (:data:`STANDARD_COLUMNS`): mean
        blank-subtracted OD of its wells, replicate %CV and whether it is within the
        limit, the concentration read back from the curve, its recovery (% of nominal)
        and whether that is within the recovery limits.
    samples
        One row per sample and dilution (:data:`SAMPLE_COLUMNS`, then any further
        columns of the layout such as ``animal`` or ``study_day``). ``concentration`` is
        the read-back value times the dilution; for a sample outside the quantifiable
        range it is NaN, ``censored`` is ``left`` (below the LLOQ) or ``right`` (above
        the ULOQ), ``bound`` the limit times the dilution, and ``extrapolated`` what the
        curve gives beyond the range (NaN beyond an asymptote), never used as a value.
    lloq, uloq
        Lowest and highest standard concentrations whose recovery is within limits.
    excluded_wells
        Standard wells left out of the fit (saturated).
    """

    curve: CurveFit
    blank: str
    blank_od: float | None
    standards: pd.DataFrame
    samples: pd.DataFrame
    lloq: float
    uloq: float
    unit: str
    recovery_limits: tuple[float, float]
    cv_limit: float
    excluded_wells: tuple[str, ...]

    def summary(self) -> dict[str, object]:
        """Counts and ranges a plate summary reports."""
        s = self.samples
        rec = self.standards["recovery_percent"].dropna()
        return {
            "model": self.curve.model, "weights": self.curve.weights,
            "r_squared": self.curve.r_squared, "n_standards": len(self.standards),
            "recovery_min_percent": float(rec.min()) if len(rec) else float("nan"),
            "recovery_max_percent": float(rec.max()) if len(rec) else float("nan"),
            "n_standards_outside_recovery": int((~self.standards["recovery_ok"]).sum()),
            "n_standards_cv_high": int((~self.standards["cv_ok"]).sum()),
            "lloq": self.lloq, "uloq": self.uloq, "unit": self.unit,
            "n_samples": len(s), "n_quantified": int((s["censored"] == "none").sum()),
            "n_below_lloq": int((s["censored"] == "left").sum()),
            "n_above_uloq": int((s["censored"] == "right").sum()),
            "n_samples_cv_high": int((~s["cv_ok"]).sum()),
        }


def subtract_blank(wells: pd.DataFrame, *,
                   blank: str = "mean") -> tuple[pd.DataFrame, float | None]:
    """Subtract the mean of the blank wells from every well.

    Parameters
    ----------
    wells
        The tidy wells table (:data:`WELL_COLUMNS`).
    blank
        ``"mean"``: subtract the mean OD of the ``blank`` wells; ``"none"``: leave the
        ODs as read.

    Returns
    -------
    (wells, blank_od)
        The table with ``od_raw`` (as read) and ``od`` (blank-subtracted), and the value
        subtracted (None for ``"none"``).

    Raises
    ------
    AssayError
        Unknown method, no blank wells for ``"mean"``, or a saturated blank.
    """
    if blank not in BLANKS:
        raise AssayError(f"unknown blank subtraction {blank!r}; expected one of "
                         f"{', '.join(BLANKS)}")
    out = wells.copy()
    out["od_raw"] = out["od"]
    if blank == "none":
        return out, None
    is_blank = out["kind"] == "blank"
    if not is_blank.any():
        raise AssayError("blank subtraction 'mean' needs blank wells in the layout "
                         "(kind blank); add them or subtract nothing (blank none)")
    sat = out.loc[is_blank & out["saturated"], "well"].tolist()
    if sat:
        raise AssayError(f"blank well(s) {', '.join(sat)} saturated: the blank cannot be "
                         "subtracted")
    value = float(out.loc[is_blank, "od"].mean())
    out["od"] = out["od"] - value
    return out, value


def analyse_plate(wells: pd.DataFrame, *, model: str = "4pl", weights: str = "none",
                  blank: str = "mean", recovery_limits: tuple[float, float] = (80.0, 120.0),
                  cv_limit: float = 20.0, unit: str = "ng/mL") -> PlateResult:
    """Fit a plate's standard curve and read its samples back from it.

    Parameters
    ----------
    wells
        The tidy wells table (:data:`WELL_COLUMNS`; further columns of sample wells, such
        as ``animal`` and ``study_day``, are carried into the samples table).
    model, weights
        The curve (``"4pl"``, ``"5pl"``) and the weighting (``"none"``, ``"1/y"``,
        ``"1/y^2"``); see :func:`fit_curve`.
    blank
        ``"mean"`` or ``"none"``; see :func:`subtract_blank`.
    recovery_limits
        A standard whose read-back concentration is within these percentages of its
        nominal value recovers; the LLOQ and ULOQ are the lowest and highest such.
    cv_limit
        Replicate %CV of the ODs above which a standard or sample is flagged.
    unit
        Unit of the standards' concentrations (and so of the results).

    Returns
    -------
    PlateResult

    Raises
    ------
    CurveFitError
        The curve cannot be fitted (see :func:`fit_curve`) or no standard recovers
        within the limits.
    AssayError
        Blanks cannot be subtracted, or a sample has no readable well.

    Notes
    -----
    Standards and samples are read back from the mean blank-subtracted OD of their
    replicate wells. Saturated standard wells are left out of the fit (and listed);
    a sample with a saturated well is right-censored at the ULOQ. A sample whose
    concentration falls outside ``[lloq, uloq]`` is censored, never extrapolated into
    the result.
    """
    missing = [c for c in WELL_COLUMNS if c not in wells.columns]
    if missing:
        raise SchemaError(f"wells table lacks column(s) {', '.join(missing)}; "
                          f"expected {', '.join(WELL_COLUMNS)}")
    bad = sorted(set(wells["kind"]) - set(KINDS))
    if bad:
        raise AssayError(f"unknown well kind(s) {', '.join(map(str, bad))}; expected one of "
                         f"{', '.join(KINDS)}")
    lo_lim, hi_lim = (float(v) for v in recovery_limits)
    if not 0 < lo_lim < 100 < hi_lim:
        raise AssayError(f"recovery limits must be LOW,HIGH around 100%; got {lo_lim:g},{hi_lim:g}")
    wells = wells.assign(saturated=wells["saturated"].astype(bool))
    samples_in = wells[wells["kind"] == "sample"]
    undiluted = samples_in.loc[~(samples_in["dilution"] > 0), "well"].tolist()
    if undiluted:
        raise AssayError(f"sample well(s) {', '.join(undiluted)} need a dilution factor > 0")
    frame, blank_od = subtract_blank(wells, blank=blank)
    std = frame[frame["kind"] == "standard"]
    excluded = tuple(std.loc[std["saturated"], "well"])
    std = std[~std["saturated"]]
    if std.empty:
        raise CurveFitError("the layout has no readable standard wells")
    curve = fit_curve(std["concentration"].to_numpy(float), std["od"].to_numpy(float),
                      model=model, weights=weights)
    standards = _standards_table(curve, std, (lo_lim, hi_lim), cv_limit)
    ok = standards.loc[standards["recovery_ok"], "concentration"]
    if ok.empty:
        raise CurveFitError(f"no standard recovers within {lo_lim:g}-{hi_lim:g}%: the curve "
                            "does not describe the standards")
    lloq, uloq = float(ok.min()), float(ok.max())
    standards["in_range"] = standards["concentration"].between(lloq, uloq)
    samples = _samples_table(curve, frame[frame["kind"] == "sample"], lloq, uloq, cv_limit, unit)
    return PlateResult(curve=curve, blank=blank, blank_od=blank_od, standards=standards,
                       samples=samples, lloq=lloq, uloq=uloq, unit=unit,
                       recovery_limits=(lo_lim, hi_lim), cv_limit=float(cv_limit),
                       excluded_wells=excluded)


def replicate_cv(od) -> float:
    """Percent coefficient of variation of replicate ODs (SD with n - 1); NaN for one well.

    >>> round(replicate_cv([1.0, 1.2]), 4)
    12.8565
    """
    v = np.asarray(od, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) < 2:
        return float("nan")
    return float(np.std(v, ddof=1) / abs(np.mean(v)) * 100.0)


def _cv_ok(cv: float, limit: float) -> bool:
    return not (np.isfinite(cv) and cv > limit)


def _standards_table(curve: CurveFit, std: pd.DataFrame, limits: tuple[float, float],
                     cv_limit: float) -> pd.DataFrame:
    rows = []
    for conc, g in std.groupby("concentration", sort=True):
        od = g["od"].to_numpy(float)
        mean = float(od.mean())
        cv = replicate_cv(od)
        back = float(curve.back_calculate(mean)[0])
        rec = back / conc * 100.0
        notes = []
        if not np.isfinite(back):
            notes.append("mean OD beyond the curve's asymptote: not read back")
        elif not limits[0] <= rec <= limits[1]:
            notes.append(f"recovery {rec:.1f}% outside {limits[0]:g}-{limits[1]:g}%")
        if not _cv_ok(cv, cv_limit):
            notes.append(f"replicate CV {cv:.1f}% above {cv_limit:g}%")
        rows.append({
            "concentration": float(conc), "n_wells": len(g), "wells": " ".join(g["well"]),
            "od_mean": mean, "od_sd": float(np.std(od, ddof=1)) if len(od) > 1 else float("nan"),
            "od_cv_percent": cv, "cv_ok": _cv_ok(cv, cv_limit),
            "fitted_od": float(curve.predict(conc)[0]),
            "back_calculated": back, "recovery_percent": rec,
            "recovery_ok": bool(np.isfinite(rec) and limits[0] <= rec <= limits[1]),
            "in_range": False, "note": "; ".join(notes),
        })
    return pd.DataFrame(rows, columns=list(STANDARD_COLUMNS))


def _samples_table(curve: CurveFit, wells: pd.DataFrame, lloq: float, uloq: float,
                   cv_limit: float, unit: str) -> pd.DataFrame:
    extra = [c for c in wells.columns if c not in WELL_COLUMNS and c != "od_raw"]
    rows = []
    for (sample, dilution), g in wells.groupby(["sample", "dilution"], sort=False):
        readable = g[~g["saturated"]]
        od = readable["od"].to_numpy(float)
        saturated = g.loc[g["saturated"], "well"].tolist()
        if not saturated and (len(od) == 0 or not np.all(np.isfinite(od))):
            raise AssayError(f"sample {sample}: well(s) {' '.join(g['well'])} have no OD")
        mean = float(od.mean()) if len(od) else float("nan")
        cv = replicate_cv(od)
        x = float(curve.back_calculate(mean)[0]) if len(od) else float("nan")
        where = int(lg.side(curve.theta, np.array([mean]))[0]) if len(od) else 1
        notes = []
        if saturated:
            censored = "right"
            notes.append(f"well(s) {' '.join(saturated)} saturated")
        elif where < 0 or x < lloq:
            censored = "left"
        elif where > 0 or x > uloq:
            censored = "right"
        else:
            censored = "none"
        if censored == "left":
            notes.append(f"below the LLOQ ({lloq:.4g} {unit} in the well)")
        elif censored == "right":
            notes.append(f"above the ULOQ ({uloq:.4g} {unit} in the well)")
        if censored != "none" and not np.isfinite(x) and not saturated:
            notes.append("beyond the curve's asymptote: no concentration can be read")
        if not _cv_ok(cv, cv_limit):
            notes.append(f"replicate CV {cv:.1f}% above {cv_limit:g}%")
        dil = float(dilution)
        row = {
            "sample": sample, "dilution": dil, "n_wells": len(g), "wells": " ".join(g["well"]),
            "od_mean": mean, "od_cv_percent": cv, "cv_ok": _cv_ok(cv, cv_limit),
            "well_concentration": x if censored == "none" else float("nan"),
            "concentration": x * dil if censored == "none" else float("nan"),
            "censored": censored,
            "bound": {"none": float("nan"), "left": lloq * dil, "right": uloq * dil}[censored],
            "extrapolated": x * dil if censored != "none" else float("nan"),
            "unit": unit, "note": "; ".join(notes),
        }
        row.update({c: g[c].iloc[0] for c in extra})
        rows.append(row)
    return pd.DataFrame(rows, columns=list(SAMPLE_COLUMNS) + extra)
