"""The laboratory readouts of a study: :func:`lab_readouts` and :func:`lab_derived_rows`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nocilab import schema
from nocilab.elisa import PlateResult
from nocilab.errors import AnalysisError
from nocilab.lab import _frames as fr
from nocilab.lab._exposure import ExposureResponse, exposure_response, skipped_text
from nocilab.lab._plates import PlateReadings, combine_readings, read_plates
from nocilab.lab._sections import (
    ClearanceResult,
    CorrelationResult,
    CytokineResult,
    binding,
    binding_images,
    clearance,
    correlations,
    cytokine_equivalence,
)
from nocilab.stats.binding import BindingResult
from nocilab.stats.window import AnalysisWindow, as_window, choose_window

SECTIONS = ("plates", "serum", "clearance", "exposure_response", "cytokines", "binding",
            "correlations")
"""The sections of the laboratory readouts, in report order."""
BLINDED_CORRELATIONS = ("correlations need the donors' identities: available after "
                        "unblinding")
SERUM_COLUMNS = ("animal", "donor", "preparation", "arm", "study_day", "analyte",
                 "concentration", "censored", "bound", "unit", "n_readings", "n_plates",
                 "plates", "note")
"""One row per animal x study day x serum analyte: the concentration (NaN when censored
or not read), ``censored`` none/left/right with its ``bound``, the plates it was read on."""
CYTOKINE_VALUE_COLUMNS = SERUM_COLUMNS
HUMAN_IGG = "human_igg"
HALF_LIFE = "half_life_days"


@dataclass(frozen=True, eq=False)
class LabReadouts:
    """Everything the report says about a study's laboratory readouts.

    Attributes
    ----------
    curves, standards, readings
        Curve QC per plate x analyte (:data:`nocilab.lab.CURVE_QC_COLUMNS`: status
        fitted / failed / excluded with the reason, parameters with SEs, r², LLOQ and
        ULOQ, standards recovered and flagged); each standard's recovery and CV; each
        sample reading per plate and dilution.
    fits
        ``(plate, analyte)`` -> :class:`nocilab.elisa.PlateResult` of every fitted curve.
    serum, cytokine_values
        One row per animal x study day (x analyte) (:data:`SERUM_COLUMNS`).
    derived
        The laboratory rows of the derived table (:func:`lab_derived_rows`).
    clearance, exposure, cytokines, binding, correlations
        The sections' results; None where the section could not be computed, and then
        ``reasons[section]`` says why in plain words.
    reasons
        section (:data:`SECTIONS`) -> why it is missing; absent when it was computed.
    notes
        section -> what was left out or decided on the way (never raises).
    blinded, control
        Whether the analysis ran on coded groups, and the control (arm or coded group).
    after_day, window
        The last dosing day (clearance and exposure use the days after it), the donor
        analysis window as text.
    """

    curves: pd.DataFrame
    standards: pd.DataFrame
    readings: pd.DataFrame
    fits: Mapping[tuple[str, str], PlateResult]
    serum: pd.DataFrame
    cytokine_values: pd.DataFrame
    derived: pd.DataFrame
    clearance: ClearanceResult | None
    exposure: ExposureResponse | None
    cytokines: CytokineResult | None
    binding: BindingResult | None
    correlations: CorrelationResult | None
    reasons: Mapping[str, str]
    notes: Mapping[str, tuple[str, ...]]
    blinded: bool
    control: str
    settings: object = field(repr=False)
    after_day: float = 0.0
    after_day_source: str = ""
    window: str = ""
    dosing_days: tuple[int, ...] = ()
    serum_unit: str = "ug/mL"
    cytokine_unit: str = "pg/mL"

    def available(self, section: str) -> bool:
        """Whether ``section`` (one of :data:`SECTIONS`) was computed."""
        if section not in SECTIONS:
            raise KeyError(f"unknown section {section!r}; expected one of {', '.join(SECTIONS)}")
        return section not in self.reasons


def _after_day(study) -> tuple[float, str]:
    given = study.lab.clearance.after_day
    if given is not None:
        return float(given), "[lab.clearance] after_day"
    return float(max(study.dosing.days)), "the last dosing day ([dosing] days)"


def _plate_values(study, wells, assign) -> tuple[PlateReadings, pd.DataFrame, pd.DataFrame]:
    """The plates read, and the animal-day values with the animals' assignments."""
    plates = read_plates(fr.check_wells(wells), study.lab)
    values = combine_readings(plates.readings)
    animals = fr.animal_table(study, fr.check_assign(assign))
    values = values.merge(animals[["animal", "donor", "preparation", "arm"]], on="animal",
                          how="left")
    for c in ("donor", "preparation", "arm"):
        values[c] = values[c].fillna("").astype(str)
    serum = values[values["assay"] == fr.SERUM][list(SERUM_COLUMNS)].reset_index(drop=True)
    cyto = values[values["assay"] == fr.CYTOKINES][list(SERUM_COLUMNS)].reset_index(drop=True)
    return plates, serum, cyto


def _clearance_analyte(serum: pd.DataFrame) -> pd.DataFrame:
    analytes = sorted(set(serum["analyte"]))
    if not analytes:
        raise AnalysisError("no serum IgG concentrations (no serum_igg plate read)")
    if HUMAN_IGG in analytes:
        return serum[serum["analyte"] == HUMAN_IGG]
    if len(analytes) == 1:
        return serum
    raise AnalysisError(f"the serum plates measure {', '.join(analytes)} and none is "
                        f"{HUMAN_IGG}: which one is the injected IgG is not known")


def _derived_rows(values: pd.DataFrame, assay: str, animals: pd.DataFrame) -> pd.DataFrame:
    ok = np.isfinite(values["concentration"].to_numpy(float)) | values["censored"].ne("none")
    v = values[ok]
    out = pd.DataFrame({
        "animal": v["animal"].astype(str),
        "study_day": v["study_day"].astype(int),
        "assay": assay,
        "outcome": [fr.outcome_name(a, u) for a, u in zip(v["analyte"], v["unit"], strict=True)],
        "value": np.where(v["censored"].eq("none"), v["concentration"], v["bound"]),
        "unit": v["unit"].astype(str),
        "censored": v["censored"].astype(str),
        "bound": v["bound"].astype(float),
    })
    return out


def _finish_derived(parts: list[pd.DataFrame], animals: pd.DataFrame) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return schema.empty(schema.DERIVED)
    d = pd.concat(parts, ignore_index=True)
    d = d.merge(animals, on="animal", how="left")
    for c in ("donor", "preparation", "arm", "sex", "cage"):
        d[c] = d[c].fillna("").astype(str)
    d["study_day"] = d["study_day"].astype(int)
    d["value"] = d["value"].astype(float)
    d["bound"] = d["bound"].astype(float)
    d = schema.validate(d[list(schema.DERIVED)], schema.DERIVED, table="derived")
    return d.sort_values(["assay", "outcome", "animal", "study_day"],
                         kind="stable").reset_index(drop=True)


def _half_life_rows(res: ClearanceResult, serum: pd.DataFrame) -> pd.DataFrame:
    a = res.animals[np.isfinite(res.animals["half_life_days"].to_numpy(float))]
    last = serum.groupby("animal")["study_day"].max()
    return pd.DataFrame({
        "animal": a["animal"].astype(str),
        "study_day": a["animal"].map(last).astype(int),
        "assay": fr.CLEARANCE, "outcome": HALF_LIFE,
        "value": a["half_life_days"].astype(float), "unit": "days", "censored": "none",
        "bound": np.nan,
    })


def lab_derived_rows(study, wells: pd.DataFrame | None, cells: pd.DataFrame | None,
                     images: pd.DataFrame | None, assign: pd.DataFrame) -> pd.DataFrame:
    """The laboratory rows of the derived table.

    Parameters
    ----------
    study
        The :class:`nocilab.model.Study` (``[lab]`` settings, dosing days, sex and cage).
    wells
        The plate wells (:data:`nocilab.lab.WELLS_COLUMNS`), or None.
    cells, images
        The per-cell measurements and their images. Binding gives no rows here (see
        Notes); they are accepted so that callers hand over the laboratory data whole.
    assign
        The animals' assignments as the report uses them
        (:data:`nocilab.design.blinding.ASSIGNMENT_COLUMNS`; codes while blinded).

    Returns
    -------
    pandas.DataFrame
        :data:`nocilab.schema.DERIVED` columns:

        - assay ``serum_igg``, outcome ``<analyte>_<unit>`` (``human_igg_ug_per_ml``): one
          row per animal x study day;
        - assay ``cytokines``, outcome ``<analyte>_<unit>`` (``il6_pg_per_ml``): one row
          per analyte x animal x study day;
        - assay ``clearance``, outcome ``half_life_days``: one row per animal with a
          half-life, on the animal's last serum day.

    Notes
    -----
    Concentrations are read back per plate by :func:`nocilab.elisa.analyse_plate` from
    the mean OD of the replicate wells and multiplied by the dilution; several dilutions
    or plates of one animal-day are combined by :func:`nocilab.lab.combine_readings`
    (geometric mean of the quantified readings; every plate not excluded by a person
    counts). A value outside the LLOQ-ULOQ range is censored (``left`` or ``right``);
    ``value`` then holds its ``bound`` (as for other censored outcomes), never an
    extrapolation. Animal-days that could not be read (every curve failed, readings
    below and above the range) and animals without a half-life give no row; the
    readouts list them with the reason (:func:`lab_readouts`).

    Binding is a property of a donor's IgG on sections of naive ganglia, not of an animal
    or a study day: one value per donor repeated on every animal given that donor's IgG
    would count the donor once per mouse (pseudo-replication) in any per-animal analysis.
    So ``binding_fraction`` is not put in this per-animal table; the per-donor fractions
    and scores are :attr:`LabReadouts.binding` and the ``binding_donors`` table of
    :func:`lab_tables`.
    """
    plates, serum, cyto = _plate_values(study, wells, assign)
    animals = fr.animal_table(study, fr.check_assign(assign))
    parts = [_derived_rows(serum, fr.SERUM, animals), _derived_rows(cyto, fr.CYTOKINES, animals)]
    try:
        s = _clearance_analyte(serum)
        after, _ = _after_day(study)
        res = clearance(s, after_day=after, level=study.lab.clearance.level)
        parts.append(_half_life_rows(res, s))
    except AnalysisError:
        pass
    return _finish_derived(parts, animals)


def _window(study, window) -> AnalysisWindow:
    if window is not None:
        return as_window(window)
    try:
        return choose_window(study_window=study.analysis_window())
    except AttributeError:
        return AnalysisWindow()


def lab_readouts(study, wells: pd.DataFrame | None, cells: pd.DataFrame | None,
                 images: pd.DataFrame | None, derived: pd.DataFrame, assign: pd.DataFrame,
                 *, control: str, blinded: bool,
                 window: AnalysisWindow | tuple[int, int | None] | None = None,
                 cytokine_unit: str = "donor",
                 include_control_donors: bool = False) -> LabReadouts:
    """Every laboratory readout of a study, each section computed or carrying its reason.

    Parameters
    ----------
    study
        The :class:`nocilab.model.Study` (``study.lab`` settings, dosing days, donors'
        clinical fields, ``[analysis] log_outcomes`` and window).
    wells
        Plate wells (:data:`nocilab.lab.WELLS_COLUMNS`), or None.
    cells, images
        Per-cell measurements (``image, cell, cell_class, intensity ...``) and images
        (``image, vial``), or None.
    derived
        The behavioural derived table (as the report analyses it: codes while blinded).
    assign
        The animals' assignments as the report uses them (blinded: preparation and donor
        hold vial codes, arm the coded group).
    control
        The control arm (blinded: the reference coded group).
    blinded
        Whether the analysis runs on coded groups. Then nothing here names a real arm,
        donor or preparation, and the correlations (which need the donors' clinical
        records) are not computed.
    window
        The donor analysis window for the donor effects (default: the study file's, else
        day 1 to the last day).
    cytokine_unit
        ``"donor"`` (default): cytokine arms are compared on donors, each the geometric
        mean of its animals; ``"animal"``: on animals as independent units.
    include_control_donors
        Correlate over the control arm's donors as well (default: patients only).

    Returns
    -------
    LabReadouts

    Notes
    -----
    Nothing raises for want of data: a section with no plates, only failed curves, one
    arm only or no control values is None and ``reasons`` says why. Bad tables (a
    missing column) raise :class:`nocilab.errors.SchemaError`.
    """
    lab = study.lab
    plates, serum, cyto = _plate_values(study, wells, assign)
    assign_c = fr.check_assign(assign)
    animals = fr.animal_table(study, assign_c)
    reasons: dict[str, str] = {}
    notes: dict[str, list[str]] = {s: [] for s in SECTIONS}
    notes["plates"] += list(plates.notes)
    after, after_source = _after_day(study)
    curves = plates.curves
    if curves.empty:
        reasons["plates"] = "no plates have been imported"
    elif not (curves["status"] == "fitted").any():
        reasons["plates"] = ("every plate was excluded" if (curves["status"] == "excluded").all()
                             else "no standard curve could be fitted (every curve failed or "
                             "its plate was excluded; see the curve table for the reasons)")
    n_failed = int((curves["status"] == "failed").sum())
    if n_failed:
        notes["plates"].append(f"{n_failed} curve(s) failed: their samples are not read")

    serum_curves = curves[curves["assay"] == fr.SERUM]
    if serum_curves.empty:
        reasons["serum"] = "no serum IgG plates have been imported"
    elif not (serum_curves["status"] == "fitted").any():
        reasons["serum"] = "no serum IgG standard curve could be fitted (failed or excluded)"
    elif serum.empty:
        reasons["serum"] = "the serum IgG plates hold no sample of an animal on a study day"
    stray = sorted(set(serum["animal"]) | set(cyto["animal"]))
    stray = [a for a in stray if a not in set(assign_c["animal"])]
    if stray:
        notes["plates"].append(f"{len(stray)} animal(s) on the plates have no assignment "
                               f"(not in the study or not allocated): {fr.listed(stray)}")
    unread = serum["censored"].eq("none") & ~np.isfinite(serum["concentration"].to_numpy(float))
    if unread.any():
        notes["serum"].append(f"{int(unread.sum())} animal-day(s) not read: "
                              + fr.listed(sorted(set(serum.loc[unread, 'note']))))

    # clearance
    clear = None
    human = None
    try:
        if "serum" in reasons:
            raise AnalysisError(reasons["serum"])
        human = _clearance_analyte(serum)
        clear = clearance(human, after_day=after, level=lab.clearance.level)
        n_no = int((~np.isfinite(clear.animals["half_life_days"].to_numpy(float))).sum())
        if n_no:
            notes["clearance"].append(f"{n_no} animal(s) without a half-life (see their notes)")
    except AnalysisError as exc:
        reasons["clearance"] = f"no half-lives: {exc}"

    # exposure-response
    expo = None
    try:
        if human is None:
            raise AnalysisError(reasons.get("serum") or reasons.get("clearance", "no serum IgG"))
        beh = derived.copy() if derived is not None else schema.empty(schema.DERIVED)
        beh = beh[beh["arm"].astype(str) != ""] if len(beh) else beh
        expo = exposure_response(beh, human[human["study_day"] > after],
                                 log_outcomes=tuple(study.analysis.log_outcomes),
                                 unit=lab.serum_igg.unit)
        notes["exposure_response"] += list(expo.notes)
        if expo.skipped:
            notes["exposure_response"].append("outcomes without a within-animal comparison: "
                                              + skipped_text(expo.skipped))
    except AnalysisError as exc:
        reasons["exposure_response"] = f"no exposure-response: {exc}"

    # cytokines
    cyt = None
    cyt_curves = curves[curves["assay"] == fr.CYTOKINES]
    try:
        if cyt_curves.empty:
            raise AnalysisError("no cytokine panel has been imported")
        if not (cyt_curves["status"] == "fitted").any():
            raise AnalysisError("no cytokine standard curve could be fitted (failed or "
                                "excluded)")
        if cyto.empty:
            raise AnalysisError("the cytokine panels hold no sample of an animal on a study day")
        cyt = cytokine_equivalence(cyto, settings=lab.cytokines, control=control,
                                   unit_of_analysis=cytokine_unit)
        notes["cytokines"] += list(cyt.notes)
        failed = sorted(set(cyt_curves.loc[cyt_curves["status"] == "failed", "analyte"]))
        if failed:
            notes["cytokines"].append(f"analyte(s) with a failed curve on some panel: "
                                      f"{fr.listed(failed)}")
    except AnalysisError as exc:
        reasons["cytokines"] = f"no cytokine comparison: {exc}"

    # binding
    bind = None
    try:
        c, im = fr.check_cells(cells, images)
        if c.empty and im.empty:
            raise AnalysisError("no per-cell binding measurements have been imported")
        placed, bnotes = binding_images(im, fr.vial_table(assign_c), blinded=blinded,
                                        lookup=None if blinded else _lookup(study))
        notes["binding"] += bnotes
        bind, bnotes = binding(c, placed, settings=lab.binding, control=control)
        notes["binding"] += bnotes
    except AnalysisError as exc:
        reasons["binding"] = f"no binding analysis: {exc}"

    # correlations
    corr = None
    win = _window(study, window)
    if blinded:
        reasons["correlations"] = BLINDED_CORRELATIONS
    else:
        try:
            beh = derived if derived is not None else schema.empty(schema.DERIVED)
            corr = correlations(beh[beh["arm"].astype(str) != ""], bind.donors if bind else None,
                                study, settings=lab.correlations, control=control,
                                log_outcomes=tuple(study.analysis.log_outcomes),
                                window=win.bounds,
                                include_control_donors=include_control_donors)
            notes["correlations"] += list(corr.notes)
        except AnalysisError as exc:
            reasons["correlations"] = f"no donor correlations: {exc}"

    parts = [_derived_rows(serum, fr.SERUM, animals), _derived_rows(cyto, fr.CYTOKINES, animals)]
    if clear is not None and human is not None:
        parts.append(_half_life_rows(clear, human))
    return LabReadouts(
        curves=curves, standards=plates.standards, readings=plates.readings, fits=plates.fits,
        serum=serum, cytokine_values=cyto, derived=_finish_derived(parts, animals),
        clearance=clear, exposure=expo, cytokines=cyt, binding=bind, correlations=corr,
        reasons=reasons, notes={k: tuple(v) for k, v in notes.items() if v},
        blinded=bool(blinded), control=str(control), settings=lab, after_day=after,
        after_day_source=after_source, window=win.describe(),
        dosing_days=tuple(int(d) for d in study.dosing.days),
        serum_unit=lab.serum_igg.unit, cytokine_unit=lab.cytokines.unit)


def _lookup(study):
    """Open studies: a vial that is a preparation id no animal received is still placed
    by the study file (its donor unit and arm)."""
    def find(vial: str) -> tuple[str, str, str] | None:
        try:
            return (vial, study.donor_unit_of_preparation(vial), study.arm_of_preparation(vial))
        except (KeyError, AttributeError):
            return None
    return find
