"""The report's laboratory part: sections, figures, tables and methods of the readouts
computed by :func:`nocilab.lab.lab_readouts` (plates and curves, serum human IgG and its
clearance, exposure-response, cytokines with equivalence tests, IgG binding, donor
correlations).

Each section has the shape of an outcome section of the report (``anchor``, ``short``,
``title``, ``key_result``, ``flags``, ``tables``, ``notes``, ``figures``), so the page
template lays both out alike. A section that could not be computed says why in its key
result. Every figure is also written to ``figures/`` (PNG, PDF, SVG); only some are put
on the page (the others are named there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from nocilab.report.html import fmt_num, fmt_p, table_html

TITLES = {
    "plates": ("Plates", "Plates and standard curves"),
    "serum": ("Serum IgG", "Human IgG in the mice's serum and its clearance"),
    "exposure_response": ("Exposure", "Exposure-response: behaviour against serum human IgG"),
    "cytokines": ("Cytokines", "Cytokines: arm differences and equivalence"),
    "binding": ("Binding", "IgG binding in dorsal root ganglia"),
    "correlations": ("Correlations", "Donor correlations with clinical fields"),
}


def _g(v: Any, digits: int = 3) -> str:
    return fmt_num(v, digits)


def _fig(fig: Any, stem: str, fig_dir: Path, caption: str, css: str = "") -> dict:
    import matplotlib.pyplot as plt

    from nocilab.report.figures import figure_svg, save_figure

    save_figure(fig, fig_dir / stem, formats=("png", "pdf"))
    svg = figure_svg(fig, id_prefix=stem.replace(".", "-").replace("_", "-"))
    (fig_dir / f"{stem}.svg").write_text(
        '<?xml version="1.0" encoding="utf-8" standalone="no"?>\n' + svg, encoding="utf-8")
    plt.close(fig)
    return {"svg": svg, "css": css, "caption": caption}


def _save_only(fig: Any, stem: str, fig_dir: Path) -> None:
    import matplotlib.pyplot as plt

    from nocilab.report.figures import save_figure

    save_figure(fig, fig_dir / stem, formats=("png", "svg"))
    plt.close(fig)


def _table(title: str, frame: pd.DataFrame, *, note: str = "", open_: bool = False,
           columns: list[str] | None = None) -> dict:
    cols = [c for c in (columns or list(frame.columns)) if c in frame.columns]
    return {"title": title, "open": open_, "note": note, "html": table_html(frame, columns=cols)}


def _section(key: str, readouts: Any, anchor_prefix: str = "lab-") -> dict:
    short, title = TITLES[key]
    return {"anchor": f"{anchor_prefix}{key.replace('_', '-')}", "short": short,
            "title": title, "key_result": "", "flags": [], "tables": [],
            "notes": list(readouts.notes.get(key, ())), "figures": []}


def lab_sections(readouts: Any, fig_dir: Path, *, arm_labels: dict[str, str] | None = None
                 ) -> list[dict]:
    """The report sections of the laboratory readouts (figures written to ``fig_dir``).

    Sections without any laboratory data at all (no plates, no cells) are left out; one
    with data that could not be computed says why.
    """
    from nocilab.lab import lab_figures

    r = readouts
    labels = arm_labels or {}
    figs = lab_figures(r, arm_labels=labels)
    has_plates = len(r.curves) > 0
    has_cells = r.binding is not None or "binding" in r.reasons and "no cells" not in \
        r.reasons.get("binding", "")
    out: list[dict] = []
    drawn: set[str] = set()

    def put(section: dict, stem: str, caption: str, css: str = "") -> None:
        if stem in figs:
            section["figures"].append(_fig(figs[stem], stem, fig_dir, caption, css))
            drawn.add(stem)

    if has_plates:
        s = _section("plates", r)
        c = r.curves
        n_fit = int((c["status"] == "fitted").sum())
        failed = c[c["status"] == "failed"]
        excluded = c[c["status"] == "excluded"]
        s["key_result"] = (f"{c['plate'].nunique()} plates, {len(c)} standard curves: {n_fit} "
                           f"fitted, {len(failed)} failed, {len(excluded)} excluded by a person.")
        for _, f in failed.iterrows():
            s["flags"].append(f"Plate {f['plate']}, {f['analyte']}: no curve ({f['reason']}); "
                              "its samples are not read.")
        for _, f in excluded.iterrows():
            s["notes"].append(f"Plate {f['plate']}: {f['reason']}.")
        fitted = c[c["status"] == "fitted"]
        flagged = fitted[(fitted["n_standards_outside_recovery"] > 0)
                         | (fitted["n_standards_cv_high"] > 0)]
        if len(flagged):
            s["notes"].append(
                f"{len(flagged)} curve(s) have standards outside the recovery limits or above "
                "the replicate CV limit (flagged in the standards table; the LLOQ and ULOQ are "
                "the lowest and highest standards that recover).")
        s["tables"].append(_table("Standard curves", c, open_=True, columns=[
            "plate", "analyte", "status", "model", "weights", "r_squared", "ec50", "lloq", "uloq",
            "unit", "n_standards_recovered", "n_standards", "n_samples", "n_quantified",
            "n_below_lloq", "n_above_uloq", "reason"],
            note="Parameters with their standard errors are in results/lab_curves.csv."))
        if len(r.standards):
            s["tables"].append(_table("Standards: recovery and replicate CV", r.standards,
                                      columns=["plate", "analyte", "concentration", "n_wells",
                                               "od_mean", "od_cv_percent", "cv_ok",
                                               "back_calculated", "recovery_percent",
                                               "recovery_ok"]))
        curve_stems = sorted(k for k in figs if k.startswith("lab_curves_"))
        shown = []
        for assay_prefix in ("lab_curves_serum", "lab_curves_cyto"):
            first = next((k for k in curve_stems if k.startswith(assay_prefix)), None)
            if first:
                shown.append(first)
        for stem in shown:
            put(s, stem, "Standard curve(s) of " + stem.removeprefix("lab_curves_")
                .replace("_", " ") + ": standards (points), the fit, LLOQ and ULOQ.",
                "wide" if "cyto" in stem else "")
        rest = [k for k in curve_stems if k not in drawn]
        if rest:
            s["notes"].append(f"The curves of the other {len(rest)} plate(s) are in figures/ "
                              f"({', '.join(f'{k}.png' for k in rest[:4])}"
                              f"{', ...' if len(rest) > 4 else ''}).")
        out.append(s)

    if has_plates and (r.available("serum") or "serum" in r.reasons):
        s = _section("serum", r)
        s["notes"] += list(r.notes.get("clearance", ()))
        if not r.available("serum"):
            s["key_result"] = f"Not computed: {r.reasons['serum']}."
        else:
            n = r.serum["animal"].nunique()
            cens = int((r.serum["censored"] != "none").sum())
            s["key_result"] = (f"{len(r.serum)} serum concentrations of {n} animals "
                               f"({cens} outside the quantifiable range, censored).")
            if r.clearance is not None:
                g = r.clearance.groups
                arms = g[g["level"] == "arm"]
                parts = [f"{labels.get(a['arm'], a['arm'])} {_g(a['geometric_mean_half_life_days'])}"
                         f" days (95% CI {_g(a['ci_low_days'])} to {_g(a['ci_high_days'])}; "
                         f"{int(a['n_units'])} animals)" for _, a in arms.iterrows()]
                s["key_result"] += (" Elimination half-life (geometric mean): "
                                    + "; ".join(parts) + ".")
                s["tables"].append(_table("Half-lives by arm and preparation", g, open_=True))
                s["tables"].append(_table("Half-life of each animal", r.clearance.animals))
            elif "clearance" in r.reasons:
                s["flags"].append(f"No half-lives: {r.reasons['clearance']}.")
            put(s, "serum_igg_time_course", "Serum human IgG over study days (log scale): each "
                "animal (thin lines) and the geometric mean of each arm; censored values open.")
        out.append(s)

    if has_plates and ("exposure_response" in r.reasons or r.exposure is not None):
        s = _section("exposure_response", r)
        if r.exposure is None:
            s["key_result"] = f"Not computed: {r.reasons.get('exposure_response', '')}."
        else:
            f = r.exposure.fits
            w = f[f["term"] == "within"]
            best = w.sort_values("p").head(3)
            s["key_result"] = (
                "Within-animal association of the change from baseline with log10 serum human "
                "IgG on the same day (per arm): " + "; ".join(
                    f"{o} in {labels.get(a, a)}: {_g(e)} per 10-fold IgG (95% CI {_g(lo)} to "
                    f"{_g(hi)}, p {fmt_p(p)})" for o, a, e, lo, hi, p in best[
                        ["outcome", "arm", "estimate", "ci_low", "ci_high", "p"]].itertuples(
                        index=False)) + (" (the three smallest p; all in the table)." if len(w) > 3
                                         else "."))
            s["tables"].append(_table("Within-animal association (within-between mixed model)",
                                      w, open_=True, note=(
                "change ~ within + between + (1|animal) [+ (1|donor)], REML, Satterthwaite df "
                "(as lmerTest): within = the day's log10 IgG minus the animal's mean, between = "
                "the animal's mean log10 IgG. The within term is the association inside animals; "
                "it is not adjusted for time since dosing, with which serum IgG falls. The "
                "intercept and between terms, and notes on each fit, are in "
                "results/exposure_response.csv."),
                columns=["outcome", "arm", "estimate", "se", "df", "t", "p", "ci_low",
                         "ci_high", "n_obs", "n_animals", "n_donors", "random_terms"]))
            for stem in sorted(k for k in figs if k.startswith("exposure_response_")):
                put(s, stem, f"{stem.removeprefix('exposure_response_')}: change from baseline "
                    "against serum human IgG on the same day, coloured by donor.")
        out.append(s)

    has_panel = has_plates and bool((r.curves["assay"].astype(str) == "cytokines").any())
    if has_panel:
        s = _section("cytokines", r)
        if r.cytokines is None:
            s["key_result"] = f"Not computed: {r.reasons.get('cytokines', '')}."
        else:
            t = r.cytokines.panel.table
            counts = t["conclusion"].value_counts()
            s["key_result"] = (
                f"{len(t)} analyte comparison(s): "
                + ", ".join(f"{n} {k}" for k, n in counts.items())
                + f" (TOST against the margin, {t['adjust'].iloc[0]} across analytes; units of "
                  f"analysis: {r.cytokines.unit_of_analysis}s). A comparison that is not "
                  "equivalent is never read as \"no difference\".")
            s["notes"] += list(r.cytokines.notes)
            s["tables"].append(_table("Arm difference and equivalence test per analyte", t,
                                      open_=True, columns=[
                                          "analyte", "arm", "n", "n_control", "n_censored",
                                          "n_censored_control", "ratio", "ratio_ci_low",
                                          "ratio_ci_high", "p_adj", "margin_low", "margin_high",
                                          "tost_ci_low", "tost_ci_high", "p_tost_adj",
                                          "conclusion"],
                                      note="ratio: geometric mean patient / control with its "
                                           "95% CI; tost_ci: the 90% interval (log10) that must "
                                           "lie inside the margin for equivalence."))
            for a, arm, note in t[["analyte", "arm", "note"]].itertuples(index=False):
                if isinstance(note, str) and note.strip():
                    s["notes"].append(f"{a}" + ("" if t["arm"].nunique() == 1 else f" ({arm})")
                                      + f": {note}")
            put(s, "cytokine_forest", "Every analyte: ratio with its 90% interval and the "
                "equivalence margin.")
        out.append(s)

    if has_cells:
        s = _section("binding", r)
        if r.binding is None:
            s["key_result"] = f"Not computed: {r.reasons.get('binding', '')}."
        else:
            b = r.binding
            comp = b.comparison
            parts = [f"{labels.get(x['arm'], x['arm'])} donors {_g(x['mean'])} against "
                     f"{labels.get(x['control'], x['control'])} {_g(x['mean_control'])} ("
                     + (f"too few donors to compare: {int(x['n_donors'])} and "
                        f"{int(x['n_donors_control'])}" if pd.isna(x["p"]) else
                        f"difference {_g(x['difference'])}"
                        + ("" if pd.isna(x["ci_low"]) else
                           f", 95% CI {_g(x['ci_low'])} to {_g(x['ci_high'])}")
                        + f", p {fmt_p(x['p'])}; {int(x['n_donors'])} and "
                          f"{int(x['n_donors_control'])} donors") + ")"
                     for _, x in comp.iterrows()]
            s["key_result"] = ("Donor binding score (fraction of "
                               f"{'satellite-glial rings' if b.score == 'sgc' else 'neurons'} "
                               "above the control threshold): " + "; ".join(parts) + ".")
            d = b.donors
            ctrl = d[d["arm"] == r.control]["binding_score"]
            if len(ctrl):
                low = d[(d["arm"] != r.control) & (d["binding_score"] <= ctrl.max())]
                if len(low):
                    s["notes"].append(
                        f"{len(low)} donor(s) of the other arm(s) bind no more than the most "
                        f"binding control donor: {', '.join(map(str, low['donor']))}.")
            s["tables"].append(_table("Donors", d, open_=True))
            s["tables"].append(_table("Thresholds", b.thresholds))
            s["tables"].append(_table("Images", b.images))
            put(s, "binding_scores", "Donor binding scores by arm (each point a donor).")
        out.append(s)

    if has_cells or has_plates:
        s = _section("correlations", r)
        if r.correlations is None:
            s["key_result"] = f"Not computed: {r.reasons.get('correlations', '')}."
        else:
            t = r.correlations.correlations.table
            top = t.sort_values("p").head(3)
            s["key_result"] = (
                f"{len(t)} outcome x clinical field pairs (Spearman, {t['adjust'].iloc[0]} "
                "across pairs); smallest p: " + "; ".join(
                    f"{o} with {f}: rho {_g(rho, 2)} (95% CI {_g(lo, 2)} to {_g(hi, 2)}, "
                    f"p {fmt_p(p)}, adjusted {fmt_p(pa)}, {int(n)} donors)"
                    for o, f, rho, lo, hi, p, pa, n in top[
                        ["outcome", "field", "rho", "ci_low", "ci_high", "p", "p_adj",
                         "n"]].itertuples(index=False)) + ".")
            s["tables"].append(_table("Spearman correlations over donors", t, open_=True))
            pairs = [f"correlation_{o}_{f}" for o, f in
                     top[["outcome", "field"]].itertuples(index=False)]
            for stem in pairs[:2]:
                put(s, stem, stem.removeprefix("correlation_").replace("_", " ")
                    + ": one point per donor, labelled.")
        out.append(s)

    for stem, fig in figs.items():
        if stem not in drawn:
            _save_only(fig, stem, fig_dir)
    return out


def has_lab_data(wells: pd.DataFrame | None, cells: pd.DataFrame | None) -> bool:
    """Whether a study has any laboratory raw data in its store."""
    return bool((wells is not None and len(wells)) or (cells is not None and len(cells)))


