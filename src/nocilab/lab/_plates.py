"""Every plate of a study read against its standard curves, and one value per animal-day.

Each plate x analyte of the wells frame goes through :func:`nocilab.elisa.analyse_plate`
with the ``[lab.serum_igg]`` or ``[lab.cytokines]`` settings. A curve that cannot be
fitted is an explicit failure with its reason (its samples are listed, not read); a plate
a person excluded is listed with the reason given and not used. The readings of one
animal on one study day (replicate wells, several dilutions, several plates) are then
combined into one value or one censored bound (:func:`combine_readings`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nocilab.elisa import SAMPLE_COLUMNS, STANDARD_COLUMNS, PlateResult, analyse_plate
from nocilab.errors import AssayError
from nocilab.lab._frames import (
    CYTOKINES,
    PLATE_ASSAYS,
    SERUM,
    join_notes,
    listed,
    same_unit,
    unit_slug,
)

CURVE_QC_COLUMNS = (
    "plate", "assay", "analyte", "import_id", "status", "reason", "model", "weights",
    "blank", "blank_od", "r0", "r0_se", "rinf", "rinf_se", "xmid", "xmid_se", "scal",
    "scal_se", "g", "g_se", "ec50", "ec50_se", "sigma", "df_residual", "r_squared", "lloq",
    "uloq", "unit", "n_standards", "n_standards_recovered", "n_standards_outside_recovery",
    "n_standards_cv_high", "excluded_wells", "n_samples", "n_quantified", "n_below_lloq",
    "n_above_uloq", "n_samples_cv_high",
)
"""One row per plate x analyte: ``status`` ``fitted``, ``failed`` (``reason`` says why)
or ``excluded`` (``reason``: the person's). Parameters of the curve ``r0 + (rinf - r0) /
(1 + exp((xmid - ln x) / scal)) ** g`` with their SEs (``g`` is 1 for a 4PL, ``g_se``
NaN), the EC50 (concentration at the half-way response), LLOQ and ULOQ in the well."""
STANDARDS_COLUMNS = ("plate", "assay", "analyte", *STANDARD_COLUMNS)
READING_COLUMNS = ("plate", "assay", "analyte", "import_id", "status", "animal",
                   "study_day", *SAMPLE_COLUMNS)
"""One row per plate x analyte x sample x dilution; ``status`` ``read`` or ``curve
failed`` (then no concentration, ``note`` gives the reason)."""
VALUE_COLUMNS = ("assay", "analyte", "animal", "study_day", "concentration", "censored",
                 "bound", "unit", "n_readings", "n_plates", "plates", "note")
"""One row per assay x analyte x animal x study day (:func:`combine_readings`)."""


@dataclass(frozen=True, eq=False)
class PlateReadings:
    """The curves, standards and sample readings of every plate of a study."""

    curves: pd.DataFrame
    standards: pd.DataFrame
    readings: pd.DataFrame
    fits: dict[tuple[str, str], PlateResult]
    notes: tuple[str, ...]


def read_plates(wells: pd.DataFrame, lab) -> PlateReadings:
    """Fit every plate x analyte of ``wells`` (checked by ``check_wells``) with the
    settings of ``lab`` (:class:`nocilab.model.LabSettings`)."""
    curves: list[dict[str, object]] = []
    standards: list[pd.DataFrame] = []
    readings: list[pd.DataFrame] = []
    fits: dict[tuple[str, str], PlateResult] = {}
    notes: list[str] = []
    converted: set[tuple[str, str]] = set()
    if wells.empty:
        return PlateReadings(_frame(curves, CURVE_QC_COLUMNS), _frame([], STANDARDS_COLUMNS),
                             _frame([], READING_COLUMNS), fits, ())
    for plate, p in wells.groupby("plate", sort=True):
        assays = sorted(set(p["assay"]))
        import_id = p["import_id"].dropna()
        imp = int(import_id.max()) if len(import_id) else pd.NA
        if p["excluded"].any():
            reason = join_notes(*sorted(set(p["exclusion_reason"]) - {""}))
            for analyte in sorted(set(p["analyte"])):
                curves.append(_row(plate, ", ".join(assays), analyte, imp, "excluded",
                                   f"excluded by a person: {reason or 'no reason given'}"))
            continue
        for analyte, g in p.groupby("analyte", sort=True):
            key = (str(plate), str(analyte))
            assay = ", ".join(sorted(set(g["assay"])))
            settings = (lab.serum_igg if assay == SERUM else
                        lab.cytokines if assay == CYTOKINES else None)
            try:
                if settings is None:
                    raise AssayError(f"unknown plate assay {assay!r}; expected one of "
                                     f"{', '.join(PLATE_ASSAYS)}")
                factor = _unit_factor(g, settings.unit)
                if factor != 1.0:
                    g = g.assign(concentration=g["concentration"] * factor)
                    converted.add((str(g.loc[g["kind"] == "standard", "unit"].iloc[0]),
                                   settings.unit))
                res = analyse_plate(_plate_wells(g), model=settings.model,
                                    weights=settings.weights, blank=settings.blank,
                                    recovery_limits=tuple(settings.recovery),
                                    cv_limit=settings.cv_limit, unit=settings.unit)
            except AssayError as exc:  # CurveFitError is one
                curves.append(_row(plate, assay, analyte, imp, "failed", str(exc),
                                   model=getattr(settings, "model", ""),
                                   weights=getattr(settings, "weights", ""),
                                   unit=getattr(settings, "unit", "")))
                readings.append(_unread(g, plate, assay, analyte, imp, str(exc),
                                        getattr(settings, "unit", "")))
                continue
            fits[key] = res
            curves.append(_fitted_row(plate, assay, analyte, imp, res))
            standards.append(res.standards.assign(plate=plate, assay=assay, analyte=analyte))
            readings.append(res.samples.assign(plate=plate, assay=assay, analyte=analyte,
                                               import_id=imp, status="read"))
    for given, unit in sorted(converted):
        notes.append(f"standards given in {given} were converted to {unit} (the study file's "
                     "[lab] unit) before fitting")
    no_animal = wells[(wells["kind"] == "sample") & (wells["animal"].isna()
                                                     | wells["study_day"].isna())]
    if len(no_animal):
        notes.append(f"{len(no_animal)} sample well(s) without an animal or a study day "
                     f"(plate(s) {listed(sorted(set(no_animal['plate'])))}) are read but belong "
                     "to no animal-day")
    return PlateReadings(curves=_frame(curves, CURVE_QC_COLUMNS),
                         standards=_stack(standards, STANDARDS_COLUMNS),
                         readings=_stack(readings, READING_COLUMNS), fits=fits,
                         notes=tuple(notes))


def _frame(rows: list[dict[str, object]], columns) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(columns))


def _stack(parts: list[pd.DataFrame], columns) -> pd.DataFrame:
    if not parts:
        return _frame([], columns)
    out = pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)
    return out[list(columns)]


_MASS_PER_VOLUME = {  # grams per millilitre
    "g_per_ml": 1.0, "mg_per_ml": 1e-3, "ug_per_ml": 1e-6, "ng_per_ml": 1e-9,
    "pg_per_ml": 1e-12, "g_per_l": 1e-3, "mg_per_l": 1e-6, "ug_per_l": 1e-9,
    "ng_per_l": 1e-12,
}


def _unit_factor(g: pd.DataFrame, unit: str) -> float:
    """What the standards' concentrations are multiplied by to be in ``unit``: 1 when
    they are in it already; a mass concentration (pg/mL ... mg/mL, also per litre) is
    converted; any other mismatch is a failure with its reason."""
    given = sorted(set(g.loc[g["kind"] == "standard", "unit"]) - {""})
    if len(given) > 1:
        raise AssayError(f"the standards are given in several units ({', '.join(given)})")
    if not given or same_unit(given[0], unit):
        return 1.0
    a, b = _MASS_PER_VOLUME.get(unit_slug(given[0])), _MASS_PER_VOLUME.get(unit_slug(unit))
    if a is None or b is None:
        raise AssayError(f"the standards are in {given[0]} but the study file's [lab] "
                         f"settings say {unit}, and one cannot be converted into the other: "
                         "set the unit there, or convert the standards")
    return a / b


def _sample_key(animal: object, day: object) -> str:
    a = "(no animal)" if animal is None else str(animal)
    d = "?" if day is pd.NA or day is None or pd.isna(day) else str(int(day))
    return f"{a} day {d}"


def _plate_wells(g: pd.DataFrame) -> pd.DataFrame:
    out = g[["well", "kind", "dilution", "concentration", "od", "saturated", "animal",
             "study_day"]].copy()
    out["sample"] = [
        _sample_key(a, d) if k == "sample" else "" for a, d, k in
        zip(out["animal"], out["study_day"], out["kind"], strict=True)]
    missing = out["kind"].eq("sample") & out["animal"].isna()
    out.loc[missing, "sample"] = "(no animal) well " + out.loc[missing, "well"]
    return out


def _row(plate, assay, analyte, imp, status, reason, **extra) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(CURVE_QC_COLUMNS, np.nan)
    row.update(plate=plate, assay=assay, analyte=analyte, import_id=imp, status=status,
               reason=reason, model="", weights="", blank="", unit="", excluded_wells="")
    row.update(extra)
    return row


def _fitted_row(plate, assay, analyte, imp, res: PlateResult) -> dict[str, object]:
    c = res.curve
    s = res.summary()
    row = _row(plate, assay, analyte, imp, "fitted", "", model=c.model, weights=c.weights,
               blank=res.blank, unit=res.unit)
    for p in c.parameters:
        row[p.name], row[f"{p.name}_se"] = p.estimate, p.se
    if c.model == "4pl":
        row["g"], row["g_se"] = 1.0, np.nan
    row["ec50"], row["ec50_se"] = c.ec50()
    std = res.standards
    row.update(blank_od=np.nan if res.blank_od is None else res.blank_od, sigma=c.sigma,
               df_residual=c.df_residual, r_squared=c.r_squared, lloq=res.lloq,
               uloq=res.uloq, n_standards=len(std),
               n_standards_recovered=int(std["recovery_ok"].sum()),
               n_standards_outside_recovery=s["n_standards_outside_recovery"],
               n_standards_cv_high=s["n_standards_cv_high"],
               excluded_wells=" ".join(res.excluded_wells), n_samples=s["n_samples"],
               n_quantified=s["n_quantified"], n_below_lloq=s["n_below_lloq"],
               n_above_uloq=s["n_above_uloq"], n_samples_cv_high=s["n_samples_cv_high"])
    return row


def _unread(g: pd.DataFrame, plate, assay, analyte, imp, reason: str, unit: str) -> pd.DataFrame:
    s = _plate_wells(g)
    s = s[s["kind"] == "sample"]
    rows = []
    for (sample, dilution), w in s.groupby(["sample", "dilution"], sort=False, dropna=False):
        row: dict[str, object] = dict.fromkeys(READING_COLUMNS, np.nan)
        row.update(plate=plate, assay=assay, analyte=analyte, import_id=imp,
                   status="curve failed", animal=w["animal"].iloc[0],
                   study_day=w["study_day"].iloc[0], sample=sample, dilution=float(dilution),
                   n_wells=len(w), wells=" ".join(w["well"]), censored="none", unit=unit,
                   cv_ok=True, note=f"not read: the standard curve failed ({reason})")
        rows.append(row)
    return _frame(rows, READING_COLUMNS)


def combine_readings(readings: pd.DataFrame) -> pd.DataFrame:
    """One value (or censored bound) per assay x analyte x animal x study day.

    Parameters
    ----------
    readings
        :attr:`PlateReadings.readings`.

    Returns
    -------
    pandas.DataFrame
        :data:`VALUE_COLUMNS`, sorted by assay, analyte, animal and study day.

    Notes
    -----
    Every plate a person did not exclude counts: excluding a plate (an audited event) is
    how a re-assayed plate replaces an earlier one; the order of import decides nothing.
    An animal-day read at several dilutions or on several plates takes the geometric mean
    of its quantified readings (readings outside the quantifiable range at other
    dilutions or plates are left out and counted in ``note``); when none is quantified,
    the tightest bound (the lowest left-censored bound, else the highest right-censored
    bound); below the range on one reading and above it on another, it is not read (NaN,
    ``censored`` none, with a note), as is an animal-day whose every curve failed.
    Readings without an animal or a study day are left out.
    """
    r = readings[readings["animal"].notna() & readings["study_day"].notna()]
    rows = []
    keys = ["assay", "analyte", "animal", "study_day"]
    for (assay, analyte, animal, day), g in r.groupby(keys, sort=True):
        read = g[g["status"] == "read"]
        cen = read["censored"].astype(str)
        q = read.loc[cen == "none", "concentration"].to_numpy(float)
        q = q[np.isfinite(q)]
        plates = sorted(set(g["plate"].astype(str)))
        row = {"assay": assay, "analyte": analyte, "animal": animal, "study_day": int(day),
               "concentration": np.nan, "censored": "none", "bound": np.nan,
               "unit": _first(g["unit"]), "n_readings": len(read), "n_plates": len(plates),
               "plates": " ".join(plates), "note": ""}
        failed = sorted(set(g.loc[g["status"] != "read", "plate"].astype(str)))
        notes = []
        if read.empty:
            notes.append(f"not read: the standard curve failed on plate(s) {listed(failed)}")
        elif len(q):
            row["concentration"] = float(q[0])
            if len(q) > 1:
                row["concentration"] = float(np.exp(np.mean(np.log(q))))
                notes.append(f"geometric mean of {len(q)} readings")
            if (cen != "none").any():
                notes.append(f"{int((cen != 'none').sum())} reading(s) outside the "
                             "quantifiable range at another dilution or plate left out")
        elif (cen == "left").any() and (cen == "right").any():
            notes.append("below the range on one reading and above it on another: not read")
        elif (cen == "left").any():
            row.update(censored="left", bound=float(read.loc[cen == "left", "bound"].min()))
        else:
            row.update(censored="right", bound=float(read.loc[cen == "right", "bound"].max()))
        if failed and not read.empty:
            notes.append(f"curve failed on plate(s) {listed(failed)}")
        row["note"] = join_notes(*notes)
        rows.append(row)
    out = pd.DataFrame(rows, columns=list(VALUE_COLUMNS))
    return out.astype({"study_day": "int64", "n_readings": "int64", "n_plates": "int64"})


def _first(s: pd.Series) -> str:
    v = [x for x in s.astype(str) if x and x != "nan"]
    return v[0] if v else ""
