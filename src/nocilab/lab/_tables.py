"""The laboratory readouts as export tables and as methods paragraphs."""

from __future__ import annotations

import pandas as pd

from nocilab.lab._readouts import SECTIONS, LabReadouts

SECTION_COLUMNS = ("section", "status", "reason", "notes")
_TITLES = {"plates": "Plates and standard curves", "serum": "Serum human IgG",
           "clearance": "Clearance of human IgG", "exposure_response": "Exposure-response",
           "cytokines": "Cytokines", "binding": "IgG binding",
           "correlations": "Donor correlations"}


def lab_tables(readouts: LabReadouts) -> dict[str, pd.DataFrame]:
    """The tables of the laboratory readouts, for CSV and XLSX export.

    Parameters
    ----------
    readouts
        From :func:`nocilab.lab.lab_readouts`.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``lab_sections`` (always: each section, ``computed`` or ``not computed`` with the
        reason, and its notes) and, for what was computed: ``lab_curves``,
        ``lab_standards``, ``lab_readings``, ``serum_igg``, ``cytokines``,
        ``clearance_animals``, ``clearance_groups``, ``exposure_response``,
        ``exposure_response_points``, ``cytokine_equivalence``, ``cytokine_units``,
        ``binding_thresholds``, ``binding_images``, ``binding_donors``,
        ``binding_comparison``, ``donor_values``, ``donor_correlations``,
        ``donor_correlation_pairs``. Numbers are not rounded.
    """
    r = readouts
    out: dict[str, pd.DataFrame] = {"lab_sections": sections_table(r)}
    if len(r.curves):
        out["lab_curves"] = r.curves.copy()
        out["lab_standards"] = r.standards.copy()
        out["lab_readings"] = r.readings.copy()
    if len(r.serum):
        out["serum_igg"] = r.serum.copy()
    if len(r.cytokine_values):
        out["cytokines"] = r.cytokine_values.copy()
    if r.clearance is not None:
        out["clearance_animals"] = r.clearance.animals.copy()
        out["clearance_groups"] = r.clearance.groups.copy()
    if r.exposure is not None:
        out["exposure_response"] = r.exposure.fits.copy()
        out["exposure_response_points"] = r.exposure.points.copy()
    if r.cytokines is not None:
        out["cytokine_equivalence"] = r.cytokines.panel.to_frame()
        out["cytokine_units"] = r.cytokines.units.copy()
    if r.binding is not None:
        out["binding_thresholds"] = r.binding.thresholds.copy()
        out["binding_images"] = r.binding.images.copy()
        out["binding_donors"] = r.binding.donors.copy()
        out["binding_comparison"] = r.binding.comparison.copy()
    if r.correlations is not None:
        out["donor_values"] = r.correlations.values.copy()
        out["donor_correlations"] = r.correlations.correlations.table.copy()
        out["donor_correlation_pairs"] = r.correlations.correlations.pairs.copy()
    return out


def sections_table(readouts: LabReadouts) -> pd.DataFrame:
    """One row per section: computed or not, the reason, the notes."""
    rows = []
    for s in SECTIONS:
        rows.append({"section": s,
                     "status": "not computed" if s in readouts.reasons else "computed",
                     "reason": readouts.reasons.get(s, ""),
                     "notes": "; ".join(readouts.notes.get(s, ()))})
    return pd.DataFrame(rows, columns=list(SECTION_COLUMNS))


def _pct(v: float) -> str:
    return f"{v:g}%"


def _curve_text(s) -> str:
    model = ("four-parameter logistic (4PL; R's SSfpl in the log concentration)"
             if s.model == "4pl" else
             "five-parameter logistic (5PL, asymmetry g)")
    weights = {"none": "unweighted", "1/y": "weighted by 1/y",
               "1/y^2": "weighted by 1/y^2"}[s.weights]
    blank = "after subtracting the mean OD of the blank wells" if s.blank == "mean" else \
        "without blank subtraction"
    return (f"a {model} fitted by {weights} nonlinear least squares {blank}, standards in "
            f"{s.unit}; a standard recovered when read back within "
            f"{_pct(s.recovery[0])}-{_pct(s.recovery[1])} of its nominal concentration, "
            f"and replicate CVs above {_pct(s.cv_limit)} were flagged")


def lab_methods(readouts: LabReadouts, study) -> list[str]:
    """Methods paragraphs, one per computed section, in report order.

    Parameters
    ----------
    readouts
        From :func:`nocilab.lab.lab_readouts`.
    study
        The study (its dosing regimen is named in the clearance paragraph).

    Returns
    -------
    list of str
        Plates and curves (model, weights, blank, recovery limits, LLOQ/ULOQ, censoring,
        combining readings), clearance (the log-linear half-life), exposure-response
        (the mixed model formula), cytokines (TOST margin and multiplicity), binding
        (the threshold and the donor comparison), correlations (Spearman, Holm); a last
        paragraph lists the sections not computed and why.
    """
    r = readouts
    s = r.settings
    out: list[str] = []
    if r.available("plates"):
        c = r.curves
        assays = set(c["assay"])
        parts = []
        if "serum_igg" in assays:
            parts.append("serum human IgG plates with " + _curve_text(s.serum_igg))
        if "cytokines" in assays:
            parts.append("each analyte of the cytokine panels with " + _curve_text(s.cytokines))
        n_fit = int((c["status"] == "fitted").sum())
        n_fail = int((c["status"] == "failed").sum())
        n_excl = c.loc[c["status"] == "excluded", "plate"].nunique()
        out.append(
            "Standard curves were fitted per plate and analyte: " + "; ".join(parts) + ". "
            "The LLOQ and ULOQ of a curve are its lowest and highest recovering standards. "
            "Samples were read back from the mean blank-subtracted OD of their replicate "
            "wells and multiplied by their dilution factor; a sample outside the LLOQ-ULOQ "
            "range was censored (left below the LLOQ, right above the ULOQ) at the limit "
            "times its dilution, never extrapolated. Where an animal's sample on one day was "
            "read at several dilutions or on several plates, the geometric mean of the "
            "quantified readings was used (when none was quantified, the tightest bound); "
            "every plate not excluded by a person counted, whatever its import order. "
            f"{n_fit} curve(s) were fitted, {n_fail} failed (listed with the reason; their "
            f"samples were not read) and {n_excl} plate(s) were excluded by a person "
            "(listed with the reason given, not used).")
    if r.clearance is not None:
        cl = r.clearance
        out.append(
            f"Human IgG was dosed {study.dosing.amount_mg:g} mg {study.dosing.route} on study "
            f"day(s) {', '.join(str(d) for d in study.dosing.days)}. The elimination half-life "
            f"of each animal was estimated from its serum concentrations after day "
            f"{cl.after_day:g} ({r.after_day_source}) by a one-compartment, first-order "
            "log-linear fit: ordinary least squares of ln(concentration) on the study day, "
            "half-life ln 2 / k with k the negative slope, and its "
            f"{100 * cl.level:g}% interval ln 2 over the t-interval of k. Censored readings "
            "were left out. Half-lives were summarised per preparation as the geometric mean "
            "over its animals, and per arm as the geometric mean of its preparations' "
            "geometric means (preparations as the units), with t-intervals on the log scale.")
    if r.exposure is not None:
        fits = r.exposure.fits
        terms = sorted(set(fits["random_terms"].dropna()) - {""})
        out.append(
            "Exposure-response: for every behavioural outcome, each animal's change from its "
            "baseline (the mean of its values on negative study days; on the log10 scale for "
            "outcomes analysed on it) on the days after the last dose with a quantified "
            "serum human IgG concentration was related to log10 of that concentration by a "
            "within-between (Mundlak) linear mixed model fitted by REML per arm: change ~ "
            "within + between + random intercepts, where within is the animal's log10 IgG on "
            "the day minus its mean over its days and between is that mean; random terms "
            f"{' or '.join(terms) if terms else 'as the data allowed'} (animals nested in "
            "donors when a donor had several animals), Satterthwaite degrees of freedom as "
            "lmerTest computes them. The within coefficient (change per tenfold more IgG "
            "within an animal) is the exposure-response association; because serum IgG falls "
            "steadily after dosing it is confounded with time since dosing and is reported "
            "as an association. Censored serum readings were left out; censored behavioural "
            "values entered at their bound.")
    if r.cytokines is not None:
        cy = r.cytokines
        cs = s.cytokines
        extra = "".join(f", {k} [{lo:g}, {hi:g}]" for k, (lo, hi) in sorted(cs.margins.items()))
        unit = ("donors (each the geometric mean of its animals; a donor with censored "
                "animals was censored at that mean, which bounds it)" if
                cy.unit_of_analysis == "donor" else "animals, taken as independent")
        out.append(
            f"Cytokines: the units of analysis were {unit}. " + cy.panel.methods()
            + f" The equivalence margin was a ratio of geometric means of [{cs.margin[0]:g}, "
            f"{cs.margin[1]:g}]{extra} (from the study file's [lab.cytokines]).")
    if r.binding is not None:
        out.append("IgG binding: " + r.binding.methods() + " Images were placed with their "
                   "preparation, donor and arm through the vial each section was stained with.")
    if r.correlations is not None:
        co = r.correlations
        out.append(
            "Donor correlations: each donor's mouse effect is the mean over its animals of "
            f"their mean change from baseline over the analysis window ({r.window}), and its "
            "binding score as above. " + co.correlations.methods()
            + (" Control-arm donors were left out." if any("control-arm" in n for n in co.notes)
               else ""))
    missing = [f"{_TITLES[k]}: {v}" for k, v in r.reasons.items()]
    if missing:
        out.append("Not computed. " + "; ".join(missing) + ".")
    return out

