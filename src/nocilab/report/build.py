"""Assemble a study's analysis into the report folder.

:func:`write_report` takes the derived table and the :class:`~nocilab.stats.analysis.StudyAnalysis`
of it and writes::

    OUT/report.html          one self-contained page (figures inline as SVG)
    OUT/results/*.csv        every number in the report, one table per file
    OUT/results.xlsx         the same tables, one sheet each
    OUT/results.pzfx         GraphPad Prism grouped tables, one per outcome, each with
                             a column table of the donor means the donor-level test uses
    OUT/figures/*.png|pdf|svg

Nothing here computes statistics; the words of the report (key results, methods) are
written from the result tables and the settings.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nocilab import __version__
from nocilab.report import donor_words
from nocilab.report._plain import settings_text
from nocilab.report.html import fmt_num, fmt_p, render_report, table_html

OUTCOME_TITLES = {
    ("paw_pressure", "threshold_g"): ("Paw pressure", "Paw-pressure withdrawal threshold"),
    ("von_frey", "threshold_g"): ("von Frey", "von Frey 50% withdrawal threshold"),
    ("cold_plate", "latency_s"): ("Cold plate", "Cold-plate response latency"),
    ("cold_plate", "count"): ("Cold plate", "Cold-plate paw lifts"),
    ("heat", "latency_s"): ("Heat", "Heat withdrawal latency"),
    ("grip", "force_g"): ("Grip", "Grip strength"),
    ("grip", "force_g_per_g"): ("Grip / weight", "Grip strength per gram body weight"),
    ("activity", "distance_m"): ("Activity", "Locomotor activity, distance"),
    ("activity", "counts"): ("Activity", "Locomotor activity, counts"),
    ("body_weight", "weight_g"): ("Body weight", "Body weight"),
    ("ienfd", "fibres_per_mm"): ("IENFD", "Intraepidermal nerve-fibre density"),
}

BASELINE_WORDS = {
    "raw": "raw values",
    "change": "change from each animal's baseline (mean of the baseline days)",
    "percent": "percent of each animal's baseline (mean of the baseline days)",
    "covariate": "raw values with the animal's baseline mean as a covariate",
}


@dataclass(frozen=True)
class ReportInputs:
    """What the report says about where its numbers came from."""

    study: Any  # nocilab.model.Study
    derived: pd.DataFrame
    analysis: Any  # nocilab.stats.analysis.StudyAnalysis
    arm_labels: dict[str, str]
    control: str
    dosing_days: tuple[int, ...]
    imports: pd.DataFrame = field(default_factory=pd.DataFrame)
    audit_head: str = ""
    allocation: str = ""
    blinding: str = ""
    blinded: bool = False
    posttest: str = "sidak"
    seed: str = ""
    selection: str = ""  # the outcomes chosen with --outcome ("" : every outcome)
    lab: Any = None  # nocilab.lab.LabReadouts, or None: no plates and no binding cells


def _title(assay: str, outcome: str, unit: str) -> tuple[str, str]:
    short, long = OUTCOME_TITLES.get((assay, outcome), (assay.replace("_", " ").title(),
                                                          f"{assay} {outcome}".replace("_", " ")))
    return short, f"{long} ({unit})" if unit else long


def _anchor(assay: str, outcome: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", f"{assay}-{outcome}".lower())


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def derived_sha256(derived: pd.DataFrame) -> str:
    """SHA-256 of the derived table as written to ``results/derived.csv``."""
    return sha256_bytes(derived.to_csv(index=False).encode("utf-8"))


# ----------------------------------------------------------------------------- words

def _peak(contrasts: pd.DataFrame) -> pd.Series | None:
    """The post-injection day with the largest |t| of the mixed-model contrasts."""
    c = contrasts[(contrasts["model"] == "mixed") & (contrasts["day"] > 0)]
    if c.empty:
        c = contrasts[contrasts["model"] == "mixed"]
    if c.empty:
        return None
    return c.loc[c["t"].abs().idxmax()]


def _ci(est: float, se: float, df: float, level: float = 0.95) -> tuple[float, float]:
    from scipy import stats

    q = stats.t.ppf(0.5 + level / 2, df) if df and not math.isnan(df) else 1.96
    return est - q * se, est + q * se


def _key_result(res: Any, summary: pd.Series, unit: str, labels: dict[str, str]) -> tuple[str, str]:
    """One or two sentences a PI reads first, and a css class (sig/ns)."""
    contrasts = res.contrast_table()
    words = []
    css = "ns"
    peak = _peak(contrasts) if not contrasts.empty else None
    log = getattr(res, "scale", "linear") == "log10"
    if peak is not None:
        lo, hi = _ci(peak["estimate"], peak["se"], peak["df"])
        arm = labels.get(peak["arm"], peak["arm"])
        sig = peak["p_adj"] < 0.05
        css = "sig" if sig else "ns"
        size = (f"{fmt_num(peak['estimate'])} {unit} (95% CI {fmt_num(lo)} to {fmt_num(hi)})"
                if not log else _ratio_text(peak["estimate"], lo, hi))
        words.append(
            f"Largest difference from control on day {int(peak['day'])}: {arm} {size}, "
            f"adjusted p {fmt_p(peak['p_adj'])}.")
    p_int = summary.get("p_arm_day")
    if p_int is not None and not (isinstance(p_int, float) and math.isnan(p_int)):
        words.append(f"Arm × day interaction (mixed model): p {fmt_p(p_int)}, "
                     f"Holm-adjusted across outcomes {fmt_p(summary['p_arm_day_holm'])}.")
    elif summary.get("p_arm") is not None and not pd.isna(summary.get("p_arm")):
        words.append(f"Arm effect (mixed model): p {fmt_p(summary['p_arm'])}, Holm-adjusted across "
                     f"outcomes {fmt_p(summary['p_arm_holm'])}.")
        css = "sig" if summary["p_arm"] < 0.05 else "ns"
    dt = res.donor_test_table() if hasattr(res, "donor_test_table") else pd.DataFrame()
    for r in dt.itertuples():
        arm = labels.get(r.arm, r.arm)
        size = (f"{fmt_num(r.difference)} {unit} (95% CI {fmt_num(r.ci_low)} to "
                f"{fmt_num(r.ci_high)})" if not log
                else _ratio_text(r.difference, r.ci_low, r.ci_high))
        quantity = f"{r.quantity} of log10 values" if log else r.quantity
        words.append(
            f"Donor-level test ({quantity}, {r.window}): {arm} {size}, t({r.df:g}) = {r.t:.2f}, "
            f"p {fmt_p(r.p)}, {r.n_units} vs {r.n_units_control} {r.unit}s.")
    donor_text = donor_words.key_sentence(res, labels)
    if donor_text:
        words.append(donor_text)
    return " ".join(words), css


def _ratio_text(log_diff: float, lo: float, hi: float) -> str:
    """A difference of log10 values as a ratio of geometric means, with its limits."""
    return (f"ratio {fmt_num(10 ** log_diff)} of geometric means (95% CI {fmt_num(10 ** lo)} "
            f"to {fmt_num(10 ** hi)})")


def _summary_rows(inputs: ReportInputs, summary: pd.DataFrame) -> list[dict]:
    rows = []
    for _, s in summary.iterrows():
        key = (s["assay"], s["outcome"])
        res = inputs.analysis.results.get(key)
        d = inputs.derived[(inputs.derived["assay"] == key[0]) & (inputs.derived["outcome"] == key[1])]
        unit = str(d["unit"].iloc[0]) if len(d) else ""
        short, _ = _title(*key, unit)
        if res is None:
            rows.append({"css": "ns", "cells": [short, "", "", "", "", "", str(s["status"])]})
            continue
        c = res.contrast_table()
        peak = _peak(c) if not c.empty else None
        peak_txt, css = "", "ns"
        log = res.scale == "log10"
        if peak is not None:
            css = "sig" if peak["p_adj"] < 0.05 else "ns"
            pill = f'<span class="pill {css}">p {fmt_p(peak["p_adj"])}</span>'
            size = (f"ratio {fmt_num(peak['ratio'])}" if log
                    else f"{fmt_num(peak['estimate'])} {unit}")
            peak_txt = f"day {int(peak['day'])}: {size} {pill}"
        p_int = s["p_arm_day_holm"] if not pd.isna(s["p_arm_day_holm"]) else s["p_arm_holm"]
        term = "arm × day" if not pd.isna(s["p_arm_day_holm"]) else "arm"
        n = f"{int(s['n_animals'])} / {int(s['n_donors'])}" if not pd.isna(s["n_donors"]) else \
            f"{int(s['n_animals'])} / –"
        dt = res.donor_test_table()
        dt_txt = ""
        if len(dt):
            p_h = s["p_donor_test_holm"]
            dcss = "sig" if not pd.isna(p_h) and p_h < 0.05 else "ns"
            dt_txt = "<br>".join((f"ratio {fmt_num(r.ratio)}" if log
                                  else f"{fmt_num(r.difference)} {unit}") for r in dt.itertuples())
            if not pd.isna(p_h):
                dt_txt += f' <span class="pill {dcss}">p {fmt_p(p_h)}</span>'
        cens = f"{100 * float(s['censored_fraction']):.0f}%"
        if s["censoring_flag"]:
            cens = f'<span class="pill warn">{cens}</span>'
        rows.append({"css": css, "cells": [
            f'<a href="#{_anchor(*key)}">{short}</a>'
            + ('<br><span class="meta">log10 scale</span>' if log else ""), n,
            f"{term}: p {fmt_p(p_int)}" if not pd.isna(p_int) else "",
            dt_txt, peak_txt, donor_words.summary_cell(res, inputs.arm_labels), cens]})
    return rows


def _methods(inputs: ReportInputs) -> list[str]:
    st = inputs.study
    a = inputs.analysis.settings
    derived = inputs.derived
    animals = derived.groupby("arm")["animal"].nunique()
    donors = derived.groupby("arm")["donor"].nunique()
    arms = "; ".join(f"{inputs.arm_labels.get(arm, arm)}: {int(animals[arm])} mice from "
                     f"{int(donors[arm])} donor units" for arm in animals.index)
    d = st.dosing
    p1 = (f"Design. {len(st.arms)} arms ({arms}). IgG {d.amount_mg:g} mg per dose, {d.route}, on "
          f"study days {', '.join(map(str, d.days))} (day 0 = first injection). Assays: "
          + "; ".join(f"{assay} on days {', '.join(map(str, days))}" for assay, days in st.schedule.items())
          + ".")
    vf = st.assays.get("von_frey")
    extra = []
    if vf is not None and "von_frey" in st.schedule:
        extra.append(f"von Frey 50% thresholds by the {vf.method.replace('_', '-')} method "
                     f"(Dixon's k by maximum likelihood, filament set {Path(str(vf.filaments)).name}); "
                     "series without a change of response were censored at the end of the set")
    pp = st.assays.get("paw_pressure")
    if pp is not None and "paw_pressure" in st.schedule:
        extra.append(f"paw-pressure thresholds are the mean of {pp.trials} trials, right-censored at "
                     f"the {pp.cutoff_g:g} g cut-off")
    cp = st.assays.get("cold_plate")
    if cp is not None and "cold_plate" in st.schedule:
        extra.append(f"cold-plate {cp.mode} at {cp.temperature_c if cp.temperature_c is not None else '?'} °C"
                     f" with a {cp.cutoff_s:g} s cut-off")
    p2 = ("Derived values. " + "; ".join(extra) + "." if extra else "")
    baseline = BASELINE_WORDS.get(str(a["baseline"]), str(a["baseline"]))
    post = str(a.get("posttest", "sidak")).capitalize()
    p3 = (
        f"Statistics. Each outcome was analysed as {baseline}, by the linear mixed model "
        "value ~ arm × day + (1 | donor) + (1 | animal) (day as a factor, animals nested in "
        "donors; the animal term alone when each donor has one animal) fitted by REML, with "
        "Type III F tests (sum-to-zero contrasts) and per-day contrasts of each arm against the "
        f"control arm ({inputs.arm_labels.get(inputs.control, inputs.control)}), Satterthwaite "
        f"degrees of freedom and {post} adjustment over the post-injection days; these match "
        "R's lme4, lmerTest and emmeans. Baseline days are shown in the figures but not tested "
        "for a treatment effect: their contrasts are listed as an unadjusted baseline imbalance "
        "check, outside the family. The p-values of the arm and arm × day terms were Holm-adjusted across the "
        "family of outcomes"
        + (f" (the outcomes chosen for this report: {inputs.selection})" if inputs.selection
           else "")
        + ". For comparison with GraphPad Prism, a two-way repeated-measures "
        "ANOVA (arm between, day within) with Geisser-Greenhouse correction and per-day "
        f"post-tests ({post}) is reported where no value is missing (as afex::aov_ez); with "
        "missing values only the mixed model is used, as Prism does.")
    window = a.get("window", "day 1 to the last day measured")
    levels = [r.donors for r in inputs.analysis.results.values() if r.donors is not None]
    p4 = (f"Analysis window: {window}; the donor-level test, the donor classes and the "
          "planning components use it. " + donor_words.methods_paragraph(
              window=window, posttest=post,
              level=levels[0].level if levels else float(a.get("level", 0.95)),
              possible_level=levels[0].possible_level if levels else 0.80))
    log10 = str(a.get("log10", "none"))
    if log10 != "none":
        p4 += (f" Log scale. Outcomes analysed on the log10 scale: {log10}. Every model above was "
               "fitted to log10 of the values (censored values at log10 of their bound), so "
               "differences are ratios of geometric means: they are given as ratios with 95% "
               "CIs (10 to the power of the difference and of its unadjusted limits), and "
               "figures use a log axis. The planning components stay on the values as "
               "measured, as nocilab power simulates them.")
    p5 = (f"Effect sizes are Hedges' g per day (difference of arm means over the pooled SD of the "
          f"animals on that day) with 95% CIs from the noncentral t distribution. Censored values "
          f"(at a cut-off or the end of a filament set) enter at their bound; outcomes with more than "
          f"{100 * float(a.get('censor_threshold', 0.1)):.0f}% censored values are flagged and "
          "re-analysed without the censored values and with a Tobit (censored normal) model. "
          f"Software: nocilab {__version__}.")
    return [p for p in (p1, p2, p3, p4, p5) if p]


# ----------------------------------------------------------------------------- figures

@dataclass(frozen=True)
class FigureJob:
    """Everything one outcome's figures need, in plain picklable data."""

    stem: str
    derived: pd.DataFrame
    marks: pd.DataFrame | None
    donors: pd.DataFrame | None
    arm_labels: dict[str, str]
    control: str
    dosing_days: tuple[int, ...]
    ylabel: str
    fig_dir: Path
    log_axis: bool = False


def _save(fig: Any, job: FigureJob, name: str, css: str, caption: str) -> dict:
    """Write PNG and PDF, and an SVG file from the same render as the inline SVG."""
    from nocilab.report.figures import figure_svg, save_figure

    save_figure(fig, job.fig_dir / f"{job.stem}__{name}", formats=("png", "pdf"))
    svg = figure_svg(fig, id_prefix=f"{job.stem.replace('__', '-')}-{name}")
    (job.fig_dir / f"{job.stem}__{name}.svg").write_text(
        '<?xml version="1.0" encoding="utf-8" standalone="no"?>\n' + svg, encoding="utf-8")
    return {"svg": svg, "css": css, "caption": caption}


def draw_outcome_figures(job: FigureJob) -> list[dict]:
    """Draw, write and return (as inline SVG) the figures of one outcome."""
    from nocilab.report.figures import donor_forest, donor_small_multiples, endpoint_dots, time_course
    from nocilab.report.style import publication_style

    d = job.derived
    out = []
    if job.control not in set(d["arm"].astype(str)):
        return out  # nothing to draw against: the section says why it was not analysed
    with publication_style():
        days = sorted(d["study_day"].unique())
        if len(days) > 1:
            fig = time_course(d, control=job.control, arm_labels=job.arm_labels,
                              dosing_days=job.dosing_days, marks=job.marks, ylabel=job.ylabel,
                              log_axis=job.log_axis)
            mean = ("Geometric mean ×/÷ SEM factor per arm (log axis)" if job.log_axis
                    else "Mean ± SEM per arm")
            out.append(_save(fig, job, "time_course", "",
                             f"{mean} by study day; faint lines are single animals; the "
                             "shaded band marks injection days; stars: mixed-model per-day contrasts "
                             "against control, adjusted (* < 0.05, ** < 0.01, *** < 0.001); open "
                             "markers: censored values at their bound."))
            if d["donor"].nunique() > 1:
                fig = donor_small_multiples(d, control=job.control, arm_labels=job.arm_labels,
                                            dosing_days=job.dosing_days, ylabel=job.ylabel,
                                            log_axis=job.log_axis)
                band = ("geometric mean ×/÷ SEM factor (grey band; log axis)" if job.log_axis
                        else "mean ± SEM (grey band)")
                out.append(_save(fig, job, "donors", "wide",
                                 f"Each donor's animals over time, against the control arm's {band}."))
        else:
            fig = endpoint_dots(d, control=job.control, arm_labels=job.arm_labels, ylabel=job.ylabel)
            out.append(_save(fig, job, "endpoint", "",
                             f"Day {days[0]}: every animal (shape: donor), mean ± SEM per arm."))
        if job.donors is not None and len(job.donors):
            unit = str(d["unit"].iloc[0])
            one_day = d["study_day"].nunique() == 1
            what = "value" if one_day else "mean change from baseline"
            if job.log_axis:
                unit = f"log10 {unit}"
            fig = donor_forest(donor_words.forest_frame(job.donors),
                               outcome_label=job.ylabel.rsplit(" (", 1)[0], unit=unit,
                               xlabel=f"Difference from the control donors' mean, {what} ({unit})",
                               arm_labels=job.arm_labels, control=job.control)
            out.append(_save(fig, job, "forest", "",
                             "Each donor's mean (over its mice) minus the control donors' mean; "
                             "bars: ± the margin of the control donors' one-sided 95% prediction "
                             "bound, so a bar clear of zero on the expected side means clearly "
                             "affected (filled); half filled: possibly affected (beyond the 80% "
                             "bound); open: not affected, i.e. within the control donors' range. "
                             "Control donors: each against the other control donors."))
    wide = [f for f in out if f["css"] == "wide"]
    return [f for f in out if f["css"] != "wide"] + wide


def _figure_job(inputs: ReportInputs, key: tuple[str, str], d: pd.DataFrame, res: Any,
                fig_dir: Path, ylabel: str) -> FigureJob:
    marks = donors = None
    if res is not None:
        c = res.contrast_table()
        if len(c):
            m = c[(c["model"] == "mixed") & c["p_adj"].notna()]  # no baseline-check marks
            marks = pd.DataFrame({"study_day": m["day"].astype(int), "arm": m["arm"],
                                  "p_adj": m["p_adj"]})
        if res.donors is not None:
            donors = res.donor_table()
    return FigureJob(f"{key[0]}__{key[1]}", d, marks, donors, dict(inputs.arm_labels),
                     inputs.control, tuple(inputs.dosing_days), ylabel, fig_dir,
                     log_axis=res is not None and res.scale == "log10")


def draw_all(jobs: list[FigureJob], *, workers: int | None = None) -> list[list[dict]]:
    """Draw every outcome's figures, on several processes when the machine has cores.

    Worker processes are forked (where the platform can fork), so nothing of the
    caller's script is run again in them; elsewhere, or with ``workers=1``, the figures
    are drawn in this process. A pool that fails falls back to drawing here.
    """
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    n = workers if workers is not None else min(len(jobs), os.cpu_count() or 1)
    can_fork = "fork" in multiprocessing.get_all_start_methods()
    if n <= 1 or len(jobs) <= 1 or not can_fork:
        return [draw_outcome_figures(j) for j in jobs]
    try:
        with ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("fork")) as pool:
            return list(pool.map(draw_outcome_figures, jobs))
    except (BrokenProcessPool, OSError):
        return [draw_outcome_figures(j) for j in jobs]


# ----------------------------------------------------------------------------- tables

CONTRAST_SHOW = ["model", "day", "contrast", "estimate", "se", "df", "t", "p", "p_adj", "method"]
ANOVA_SHOW = ["model", "term", "df_num", "df_den", "F", "p", "gg_epsilon", "p_gg"]
DONOR_TEST_SHOW = ["arm", "quantity", "window", "n_units", "n_units_control", "n_animals",
                   "difference", "ci_low", "ci_high", "df", "t", "p", "unit", "note"]


RATIO_SHOW = ["ratio", "ratio_ci_low", "ratio_ci_high"]
LOG_NOTE = (" On the log10 scale: estimates are differences of log10 values; ratio = "
            "10^estimate, a ratio of geometric means, with unadjusted 95% limits.")


def _tables(res: Any) -> list[dict]:
    out = []
    log = res.scale == "log10"
    c = res.contrast_table()
    if len(c):
        out.append({"title": "Per-day contrasts against control" + (" (log10 scale)" if log else ""),
                    "open": True,
                    "note": "mixed: REML, Satterthwaite df (as lmerTest/emmeans); rm_anova: Prism-style "
                            "post-tests on the pooled within-cells error. Baseline days are a "
                            "baseline imbalance check: unadjusted, not in the family."
                            + (LOG_NOTE if log else ""),
                    "html": table_html(c, columns=CONTRAST_SHOW + (RATIO_SHOW if log else []))})
    dt = res.donor_test_table()
    if len(dt):
        dt_show = DONOR_TEST_SHOW[:-2] + RATIO_SHOW + DONOR_TEST_SHOW[-2:] if log else DONOR_TEST_SHOW
        out.append({"title": "Donor-level test of the arm effect" + (" (log10 scale)" if log else ""),
                    "open": True,
                    "note": "Each animal's mean change from baseline over the window, averaged per "
                            "donor; each arm against control by Student's t on donor means (variance "
                            "pooled over arms, df = donors - arms). The test nocilab power plans for.",
                    "html": table_html(dt, columns=dt_show)})
    a = res.anova_table()
    if len(a):
        out.append({"title": "ANOVA tables (Type III mixed model; repeated-measures ANOVA)",
                    "open": False, "note": "gg_epsilon, p_gg: Geisser-Greenhouse correction.",
                    "html": table_html(a, columns=ANOVA_SHOW)})
    if res.donors is not None and len(res.donor_table()):
        t = res.donor_table()
        out.append({"title": "Donors: clearly, possibly or not affected", "open": False,
                    "note": "value: the donor's mean change from baseline over the window (as in "
                            "the donor-level test); each donor against the control donors' "
                            "prediction interval (control donors: against the others); p: how "
                            "often a control donor lies this far in the expected direction; "
                            "clearly_/possibly_below (or above): the limits of the classes.",
                    "html": table_html(t, columns=donor_words.table_columns(t))})
    e = res.effect_size_table()
    if len(e):
        out.append({"title": "Effect sizes (Hedges' g)", "open": False, "note": "",
                    "html": table_html(e.drop(columns=["assay", "outcome"], errors="ignore"))})
    cz = res.censoring_table()
    if len(cz) and cz["n_censored"].sum() > 0:
        out.append({"title": "Censored values by arm and day", "open": False, "note": "",
                    "html": table_html(cz.drop(columns=["assay", "outcome"], errors="ignore"))})
    s = res.sensitivity_table()
    if len(s):
        out.append({"title": "Censoring sensitivity analysis", "open": True, "note": "",
                    "html": table_html(s.drop(columns=["assay", "outcome"], errors="ignore"))})
    v = res.variance_table()
    if len(v):
        out.append({"title": "Variance components", "open": False, "note": "",
                    "html": table_html(v.drop(columns=["assay", "outcome"], errors="ignore"))})
    pl = res.planning_table()
    if len(pl):
        out.append({"title": "For planning the next study", "open": False,
                    "note": "REML fit of the model nocilab power simulates (animal level, donor and "
                            "animal response after injection, AR(1) day-to-day correlation rho), on "
                            "the readings in reading units. nocilab power --from STUDY --outcome "
                            f"{res.assay}.{res.outcome} takes these.",
                    "html": table_html(pl.drop(columns=["assay", "outcome"], errors="ignore"))})
    return out


# ----------------------------------------------------------------------------- main

def write_report(inputs: ReportInputs, out: Path, *, workers: int | None = None) -> Path:
    """Write report.html, results/, results.xlsx, results.pzfx and figures/ into ``out``.

    ``workers``: processes drawing figures (default: one per core; 1 draws in this one).
    """
    from nocilab.report.arrive import arrive_checklist
    from nocilab.report.exports import (
        donor_mean_tables,
        tables_by_outcome,
        write_csv_tables,
        write_pzfx,
        write_xlsx,
    )
    out.mkdir(parents=True, exist_ok=True)
    fig_dir = out / "figures"
    fig_dir.mkdir(exist_ok=True)
    analysis = inputs.analysis
    summary = analysis.summary()
    tables = {k: v for k, v in analysis.tables().items()}
    tables["derived"] = inputs.derived
    sections = []
    jobs = []
    for (assay, outcome), d in inputs.derived.groupby(["assay", "outcome"], sort=True):
        key = (str(assay), str(outcome))
        unit = str(d["unit"].iloc[0])
        short, title = _title(*key, unit)
        res = analysis.results.get(key)
        jobs.append(_figure_job(inputs, key, d, res, fig_dir, title))
        if res is None:
            sections.append({"anchor": _anchor(*key), "short": short, "title": title,
                             "key_result": f"Not analysed: {analysis.failures.get(key, '')}",
                             "flags": [], "tables": [], "notes": []})
            continue
        srow = summary[(summary["assay"] == key[0]) & (summary["outcome"] == key[1])]
        key_text, _ = _key_result(res, srow.iloc[0], unit, inputs.arm_labels)
        flags = []
        if res.censoring is not None and res.censoring.flagged:
            flags.append(f"{100 * res.censoring.fraction:.0f}% of values are censored: see the "
                         "sensitivity analysis below before trusting the means.")
        sections.append({"anchor": _anchor(*key), "short": short, "title": title,
                         "key_result": key_text, "flags": flags,
                         "tables": _tables(res), "notes": list(res.notes)})
    for section, figures in zip(sections, draw_all(jobs, workers=workers), strict=True):
        section["figures"] = figures
    methods = _methods(inputs)
    if inputs.lab is not None:
        from nocilab.lab import lab_methods, lab_tables
        from nocilab.report.lab_report import lab_sections

        sections += lab_sections(inputs.lab, fig_dir, arm_labels=inputs.arm_labels)
        tables.update(lab_tables(inputs.lab))
        methods += lab_methods(inputs.lab, inputs.study)
    arrive = arrive_checklist(inputs.study, derived=inputs.derived, allocation=inputs.allocation,
                              blinding=inputs.blinding, statistics=methods[2] if len(methods) > 2 else "",
                              blinded=inputs.blinded)
    tables["arrive"] = arrive
    provenance = _provenance(inputs)
    tables["provenance"] = pd.DataFrame(provenance, columns=["item", "value"])
    write_csv_tables(tables, out / "results")
    write_xlsx(tables, out / "results.xlsx")
    # Prism's grouped tables put the control first: an outcome not yet measured in the
    # control arm (mid-study) stays out of the Prism file; its section says why
    prism = {name: t for name, t in tables_by_outcome(inputs.derived).items()
             if (t["arm"].astype(str) == inputs.control).any()}
    write_pzfx(out / "results.pzfx", prism, control=inputs.control,
               arm_labels=inputs.arm_labels,
               donor_tables=donor_mean_tables(inputs.derived, analysis))
    arms = []
    for arm in [inputs.control] + sorted(a for a in inputs.derived["arm"].unique() if a != inputs.control):
        g = inputs.derived[inputs.derived["arm"] == arm]
        arms.append({"label": inputs.arm_labels.get(arm, arm), "donors": g["donor"].nunique(),
                     "animals": g["animal"].nunique()})
    summary_rows = _summary_rows(inputs, summary)
    n_sig = sum(1 for r in summary_rows if r["css"] == "sig")
    n_donor_sig = int((summary["p_donor_test_holm"] < 0.05).sum())
    st = inputs.study
    simulated = "simulated" in f"{st.info.title} {st.info.description}".lower()
    context = {
        "study": {"id": st.info.id, "title": st.info.title, "investigator": st.info.investigator},
        "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "version": __version__, "simulated": simulated, "blinded": inputs.blinded,
        "lead": (f"{len(summary)} outcomes analysed. Counting donors (donor-level test, "
                 f"Holm-adjusted across outcomes), an arm differed from control on {n_donor_sig} of "
                 f"them; by the largest per-day mixed-model contrast (adjusted p < 0.05), on "
                 f"{n_sig}. The donor is the unit for claims about patients. "
                 + donor_words.lead_sentence(inputs.analysis.results.values(), inputs.control)),
        "summary_columns": ["Outcome", "Animals / donors", "Mixed model (Holm)",
                            "Donor-level test (Holm)", "Largest difference vs control",
                            "Donors clearly / possibly / not affected", "Censored"],
        "summary_rows": summary_rows,
        "summary_note": ("Mixed model: value ~ arm × day + (1|donor) + (1|animal), REML, "
                         "Satterthwaite df; p for the arm × day interaction (or arm for single-day "
                         "outcomes), Holm-adjusted across outcomes. Donor-level test: difference "
                         "from control of the donor means of each animal's mean change from "
                         "baseline over the window, Student's t on donors (the test nocilab power "
                         "plans for), Holm-adjusted across outcomes. Largest difference: the "
                         "post-injection day with the largest |t|, adjusted over the "
                         "post-injection days (baseline days are not tested). Donors clearly / "
                         "possibly / not affected: each donor's mean change against the control "
                         "donors' one-sided 95% (clearly) and 80% (possibly) prediction bounds; "
                         "control donors each against the other control donors, which shows how "
                         "often a donor without an effect is called affected. "
                         + _scale_note(inputs)),
        "arms": arms, "sections": sections, "methods": methods,
        "arrive": arrive.to_dict("records"), "provenance": provenance,
    }
    page = out / "report.html"
    tmp = page.with_name(".report.html.partial")
    tmp.write_text(render_report(context), encoding="utf-8")
    tmp.replace(page)
    return page


def _scale_note(inputs: ReportInputs) -> str:
    """Which scale each outcome was analysed on, and why (first screen)."""
    logs = [f"{a}.{o}" for (a, o), r in inputs.analysis.results.items() if r.scale == "log10"]
    if not logs:
        return ("Scale: every outcome on the values as measured (none is listed in the study "
                "file's [analysis] log_outcomes, and --scale log was not given).")
    why = str(inputs.analysis.settings.get("log10", ""))
    why = why[why.find("(") + 1:-1] if why.endswith(")") and "(" in why else "as chosen"
    reason = (" (von Frey thresholds are close to log-normal: the filaments are spaced "
              "evenly in log force)" if any(n.startswith("von_frey.") for n in logs) else "")
    rest = len(inputs.analysis.results) - len(logs)
    return (f"Scale: {', '.join(logs)} on the log10 scale, {why}{reason}; there differences "
            "are ratios of geometric means (1 = no difference)"
            + (f"; the other {'outcome' if rest == 1 else f'{rest} outcomes'} on the values as "
               "measured." if rest else "."))


def _provenance(inputs: ReportInputs) -> list[tuple[str, str]]:
    import matplotlib
    import scipy

    st = inputs.study
    rows = [("study file", f"{st.path} sha256:{st.sha256}")]
    if len(inputs.imports):
        for r in inputs.imports.itertuples(index=False):
            rows.append((f"raw file (import {getattr(r, 'import_id', '')})",
                         f"{r.file_name} sha256:{r.file_sha256}"))
    rows.append(("derived table", f"results/derived.csv sha256:{derived_sha256(inputs.derived)}"))
    if inputs.audit_head:
        rows.append(("audit chain head", inputs.audit_head))
    if inputs.seed:
        rows.append(("seed", inputs.seed))
    if inputs.selection:
        rows.append(("outcomes", f"{inputs.selection} (chosen with --outcome)"))
    a = inputs.analysis.settings
    rows.append(("settings", settings_text(a)))
    rows.append(("software", f"nocilab {__version__}, numpy {np.__version__}, pandas {pd.__version__}, "
                             f"scipy {scipy.__version__}, matplotlib {matplotlib.__version__}"))
    return rows
