"""Figures of the laboratory readouts, in the report's house style.

Each function takes a :class:`nocilab.lab.LabReadouts` and returns a matplotlib
:class:`~matplotlib.figure.Figure` built outside pyplot; saving is
:func:`nocilab.report.figures.save_figure`'s. A figure of a section that was not computed
raises :class:`nocilab.errors.AnalysisError` with the section's reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure

from nocilab.elisa import donor_scatter, equivalence_forest
from nocilab.errors import AnalysisError
from nocilab.lab._readouts import LabReadouts
from nocilab.report import _draw, style
from nocilab.report._plotdata import natural_key, slug

DONOR_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9",
                 "#000000", "#7F7F7F", "#F0E442")


def _need(readouts: LabReadouts, section: str) -> None:
    if not readouts.available(section):
        raise AnalysisError(readouts.reasons[section])


def _arms(readouts: LabReadouts, arms, arm_labels) -> tuple[list[str], dict[str, str]]:
    order = style.arm_order(arms, control=readouts.control, arm_labels=arm_labels)
    return order, style.arm_colours(order, control=readouts.control)


def standard_curves_figure(readouts: LabReadouts, plate: str) -> Figure:
    """Standard curves of one plate, one panel per analyte.

    Each panel: the standard wells (blank-subtracted OD against nominal concentration,
    log axis; recovering standards filled, flagged ones open), the fitted curve, and the
    LLOQ and ULOQ as dashed lines. A failed curve's panel gives its reason instead.
    Points carry gid ``standard_<analyte>``, the curve ``curve_<analyte>``.
    """
    c = readouts.curves
    rows = c[c["plate"].astype(str) == str(plate)]
    if rows.empty:
        raise AnalysisError(f"no plate {plate!r}; plates: "
                            + ", ".join(sorted(set(c["plate"].astype(str)))))
    if (rows["status"] == "excluded").all():
        raise AnalysisError(f"plate {plate} was excluded: {rows['reason'].iloc[0]}")
    rows = rows[rows["status"] != "excluded"]
    n = len(rows)
    ncols = min(n, 3)
    nrows = math.ceil(n / ncols)
    with style.publication_style():
        pw = min(2.3, (style.DOUBLE_COLUMN_IN - 0.3) / ncols)
        fig = _draw.new_figure((ncols * pw + 0.3, nrows * 2.0 + 0.3))
        for k, r in enumerate(rows.itertuples(index=False)):
            ax = fig.add_subplot(nrows, ncols, k + 1)
            ax.set_title(str(r.analyte) if n > 1 else f"{plate}: {r.analyte}")
            fit = readouts.fits.get((str(plate), str(r.analyte)))
            if fit is None:
                ax.text(0.5, 0.5, "curve failed:\n" + _wrap(str(r.reason), 38),
                        transform=ax.transAxes, ha="center", va="center", fontsize=6,
                        color="#B2182B")
                ax.set_xticks([])
                ax.set_yticks([])
                continue
            std = fit.standards
            ok = dict(zip(std["concentration"], std["recovery_ok"], strict=True))
            x, y = fit.curve.concentration, fit.curve.od
            good = np.array([bool(ok.get(v, False)) for v in x])
            pts = ax.plot(x[good], y[good], "o", color="#000000", ms=3, zorder=3)
            if (~good).any():
                ax.plot(x[~good], y[~good], "o", mfc="white", mec="#B2182B", ms=3.5,
                        zorder=3, label="outside recovery")
            for p in pts:
                p.set_gid(f"standard_{slug(str(r.analyte))}")
            grid = np.geomspace(x.min() / 1.5, x.max() * 1.5, 200)
            line = ax.plot(grid, fit.curve.predict(grid), color=style.OKABE_ITO["blue"],
                           lw=1.0, zorder=2)[0]
            line.set_gid(f"curve_{slug(str(r.analyte))}")
            for v, name in ((fit.lloq, "LLOQ"), (fit.uloq, "ULOQ")):
                ax.axvline(v, color=style.CONTROL_LIGHT, lw=0.7, ls="--", zorder=1)
                ax.annotate(name, (v, 1.0), xycoords=("data", "axes fraction"),
                            fontsize=5.5, ha="center", va="bottom", color="#4D4D4D")
            ax.set_xscale("log")
            ax.set_xlabel(f"Concentration ({fit.unit})")
            ax.set_ylabel("OD (blank-subtracted)")
            ax.text(0.03, 0.97, f"{fit.curve.model.upper()}, R² = {fit.curve.r_squared:.4f}",
                    transform=ax.transAxes, va="top", fontsize=6)
            _draw.finish_axes(ax)
    return fig


def _log_x_axis(ax, values: np.ndarray) -> None:
    """A log10 x axis labelled in plain numbers at 1, 2 and 5 per decade."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    v = values[np.isfinite(values) & (values > 0)]
    ax.set_xscale("log")
    decades = float(np.log10(v.max() / v.min())) if v.size else 0.0
    ax.xaxis.set_major_locator(LogLocator(base=10.0, subs=(1.0,) if decades > 3 else
                                          (1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:g}"))
    ax.xaxis.set_minor_locator(LogLocator(base=10.0, subs=np.arange(2, 10)))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)[:6])


def serum_time_course_figure(readouts: LabReadouts, *,
                             arm_labels: Mapping[str, str] | None = None,
                             analyte: str | None = None) -> Figure:
    """Serum human IgG over study days, log scale.

    Each animal a thin line in its arm's colour (censored readings as open triangles at
    their bound: pointing down below the LLOQ, up above the ULOQ), each arm's geometric
    mean of the quantified values a thick line; dosing days shaded. Arm lines carry gid
    ``arm_<arm>``, animals ``animal_<animal>``.
    """
    _need(readouts, "serum")
    s = readouts.serum
    if analyte is None:
        analyte = "human_igg" if "human_igg" in set(s["analyte"]) else sorted(set(s["analyte"]))[0]
    s = s[s["analyte"] == analyte]
    s = s[s["arm"].astype(str) != ""]
    if s.empty:
        raise AnalysisError(f"no serum {analyte} value of an animal with an arm")
    arms, colours = _arms(readouts, s["arm"].unique(), arm_labels)
    y_all = np.where(s["censored"] == "none", s["concentration"], s["bound"]).astype(float)
    with style.publication_style():
        fig = _draw.new_figure((style.SINGLE_COLUMN_IN, 2.6))
        ax = fig.add_subplot()
        _draw.shade_dosing(ax, readouts.dosing_days)
        for animal, g in s.groupby("animal", sort=True):
            g = g.sort_values("study_day")
            col = style.light(colours[g["arm"].iloc[0]], amount=0.45)
            q = g[g["censored"] == "none"]
            line = ax.plot(q["study_day"], q["concentration"], color=col, lw=0.5, zorder=2)[0]
            line.set_gid(f"animal_{animal}")
            for side, marker in (("left", "v"), ("right", "^")):
                c = g[g["censored"] == side]
                if len(c):
                    ax.plot(c["study_day"], c["bound"], marker, mfc="white", mec=col, ms=3,
                            ls="none", zorder=3)
        for arm in arms:
            q = s[(s["arm"] == arm) & (s["censored"] == "none")]
            gm = q.groupby("study_day")["concentration"].apply(
                lambda v: float(np.exp(np.mean(np.log(v.to_numpy(float))))))
            line = ax.plot(gm.index, gm.to_numpy(), "o-", color=colours[arm], lw=1.6, ms=3,
                           zorder=4, label=style.arm_label(arm, arm_labels))[0]
            line.set_gid(f"arm_{slug(arm)}")
        _draw.log_y_axis(ax, y_all)
        _draw.day_ticks(ax, sorted(set(s["study_day"].astype(int))))
        ax.set_xlabel("Study day")
        ax.set_ylabel(f"Serum human IgG ({readouts.serum_unit})")
        ax.legend(loc="upper right")
        ax.set_title("Human IgG in serum: animals and geometric mean per arm", fontsize=7.5)
        _draw.finish_axes(ax)
    return fig


def exposure_response_figure(readouts: LabReadouts, outcome: str, *,
                             arm_labels: Mapping[str, str] | None = None) -> Figure:
    """Change from baseline against serum IgG (log axis), one panel per arm.

    Points coloured by donor (the codes while blinded), each animal's days joined by a
    thin line; the panel title gives the within-animal association with its interval
    and p. Points carry gid ``donor_<donor>``.
    """
    _need(readouts, "exposure_response")
    pts = readouts.exposure.points
    p = pts[pts["outcome"] == outcome]
    if p.empty:
        raise AnalysisError(f"no exposure-response points for {outcome}; outcomes: "
                            + ", ".join(sorted(set(pts["outcome"]))))
    fits = readouts.exposure.fits
    arms, _ = _arms(readouts, p["arm"].unique(), arm_labels)
    donors = sorted(set(p["donor"].astype(str)), key=natural_key)
    colour = {d: DONOR_COLOURS[i % len(DONOR_COLOURS)] for i, d in enumerate(donors)}
    marker = {d: style.DONOR_MARKERS[(i // len(DONOR_COLOURS)) % len(style.DONOR_MARKERS)]
              for i, d in enumerate(donors)}
    assay, _, name = outcome.partition(".")
    scale = p["scale"].iloc[0]
    unit = "log10 ratio" if scale == "log10" else str(p["unit"].iloc[0])
    with style.publication_style():
        w = min(style.DOUBLE_COLUMN_IN, 2.4 * len(arms) + 1.2)
        fig = _draw.new_figure((w, 2.5))
        axes = fig.subplots(1, len(arms), sharey=True, squeeze=False)[0]
        for ax, arm in zip(axes, arms, strict=True):
            g = p[p["arm"] == arm]
            for animal, a in g.groupby("animal"):
                a = a.sort_values("igg")
                ax.plot(a["igg"], a["change"], color="#BBBBBB", lw=0.5, zorder=1)
            for donor, d in g.groupby("donor"):
                pt = ax.plot(d["igg"], d["change"], marker[str(donor)], color=colour[str(donor)],
                             ms=3.2, ls="none", zorder=3, label=str(donor))[0]
                pt.set_gid(f"donor_{donor}")
            ax.axhline(0, color="#000000", lw=0.5, zorder=0)
            _log_x_axis(ax, p["igg"].to_numpy(float))
            ax.set_xlabel(f"Serum human IgG ({readouts.serum_unit})")
            f = fits[(fits["outcome"] == outcome) & (fits["arm"] == arm)
                     & (fits["term"] == "within")]
            text = style.arm_label(arm, arm_labels)
            if len(f):
                r = f.iloc[0]
                text += (f"\nwithin: {r['estimate']:.3g} [{r['ci_low']:.3g}, {r['ci_high']:.3g}]"
                         f" per 10x, p = {r['p']:.2g}")
            else:
                text += "\nwithin-animal association not estimated"
            ax.set_title(text, fontsize=6.5)
            _draw.finish_axes(ax)
        axes[0].set_ylabel(f"Change from baseline, {outcome} ({unit})")
        handles, labels = [], []
        for ax in axes:
            for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
                if lab not in labels:
                    handles.append(h)
                    labels.append(lab)
        fig.legend(handles, labels, loc="outside right", title="Donor", fontsize=5.5,
                   title_fontsize=6)
    return fig


def cytokine_forest_figure(readouts: LabReadouts) -> Figure:
    """The cytokine panel's arm differences against their equivalence margins
    (:func:`nocilab.elisa.equivalence_forest`; the conclusions rest on the adjusted
    p-values, the units of analysis and adjustment are in the methods)."""
    _need(readouts, "cytokines")
    with style.publication_style():
        return equivalence_forest(readouts.cytokines.panel.table)


def binding_figure(readouts: LabReadouts, *,
                   arm_labels: Mapping[str, str] | None = None) -> Figure:
    """Each donor's binding score by arm: one labelled point per donor, the arm mean as a
    line, the arm comparison (on donors) in the title. Points carry gid
    ``donor_<donor>``."""
    _need(readouts, "binding")
    b = readouts.binding
    d = b.donors
    arms, colours = _arms(readouts, d["arm"].unique(), arm_labels)
    with style.publication_style():
        fig = _draw.new_figure((max(2.2, 1.1 * len(arms) + 1.0), 2.6))
        ax = fig.add_subplot()
        for i, arm in enumerate(arms):
            g = d[d["arm"] == arm].sort_values("binding_score")
            xs = i + np.linspace(-0.15, 0.15, len(g)) if len(g) > 1 else np.array([float(i)])
            for k, (x, r) in enumerate(zip(xs, g.itertuples(index=False), strict=True)):
                pt = ax.plot([x], [r.binding_score], "o", color=colours[arm], ms=3.5,
                             zorder=3)[0]
                pt.set_gid(f"donor_{r.donor}")
                right = k % 2 == 0
                ax.annotate(str(r.donor), (x, r.binding_score), xytext=(4 if right else -4, 0),
                            textcoords="offset points", fontsize=5, va="center",
                            ha="left" if right else "right")
            if len(g):
                ax.plot([i - 0.25, i + 0.25], [g["binding_score"].mean()] * 2,
                        color=colours[arm], lw=1.4, zorder=2)
        ax.set_xticks(range(len(arms)), [style.arm_label(a, arm_labels) for a in arms])
        ax.set_xlim(-0.6, len(arms) - 0.4)
        ax.set_ylim(bottom=0)
        what = "fraction of SGC rings" if b.score == "sgc" else "fraction of neurons"
        ax.set_ylabel(f"Binding score ({what} above threshold)")
        title = f"Threshold: {100 * b.quantile:g}th percentile of {readouts.control} cells"
        comp = b.comparison
        for r in comp.itertuples(index=False):
            if np.isfinite(r.p):
                title += f"\n{r.arm} vs {r.control}: p = {r.p:.2g} ({r.n_donors} vs " \
                         f"{r.n_donors_control} donors)"
        ax.set_title(title, fontsize=6.5)
        _draw.finish_axes(ax)
    return fig


def correlation_figure(readouts: LabReadouts, outcome: str, field: str) -> Figure:
    """One donor-level correlation: the clinical field against the donor value, each
    point labelled by donor (:func:`nocilab.elisa.donor_scatter`), Spearman's rho and
    the adjusted p in the title."""
    _need(readouts, "correlations")
    co = readouts.correlations.correlations
    t = co.table[(co.table["outcome"] == outcome) & (co.table["field"] == field)]
    if t.empty:
        raise AnalysisError(f"no correlation of {outcome} with {field}")
    r = t.iloc[0]
    pairs = co.pairs[(co.pairs["outcome"] == outcome) & (co.pairs["field"] == field)]
    title = (f"Spearman rho = {r['rho']:.2f} [{r['ci_low']:.2f}, {r['ci_high']:.2f}], "
             f"p = {r['p']:.2g}, adjusted {r['p_adj']:.2g}" if np.isfinite(r["rho"]) else
             str(r["note"]))
    ylabel = ("Binding score" if outcome == "binding_score" else
              f"Mouse effect: {outcome} (mean change)")
    with style.publication_style():
        return donor_scatter(pairs["x"], pairs["y"], labels=pairs["label"], xlabel=field,
                             ylabel=ylabel, title=title, width=style.SINGLE_COLUMN_IN)


def lab_figures(readouts: LabReadouts, *,
                arm_labels: Mapping[str, str] | None = None) -> dict[str, Figure]:
    """Every figure of the computed sections, by file stem.

    ``lab_curves_<plate>`` per plate not excluded, ``serum_igg_time_course``,
    ``exposure_response_<outcome>``, ``cytokine_forest``, ``binding_scores``,
    ``correlation_<outcome>_<field>``.
    """
    out: dict[str, Figure] = {}
    c = readouts.curves
    for plate in sorted(set(c.loc[c["status"] != "excluded", "plate"].astype(str)),
                        key=natural_key):
        out[f"lab_curves_{slug(plate)}"] = standard_curves_figure(readouts, plate)
    if readouts.available("serum"):
        out["serum_igg_time_course"] = serum_time_course_figure(readouts, arm_labels=arm_labels)
    if readouts.exposure is not None:
        for o in sorted(set(readouts.exposure.points["outcome"])):
            out[f"exposure_response_{slug(o)}"] = exposure_response_figure(
                readouts, o, arm_labels=arm_labels)
    if readouts.cytokines is not None:
        out["cytokine_forest"] = cytokine_forest_figure(readouts)
    if readouts.binding is not None:
        out["binding_scores"] = binding_figure(readouts, arm_labels=arm_labels)
    if readouts.correlations is not None:
        t = readouts.correlations.correlations.table
        for o, f in t[["outcome", "field"]].itertuples(index=False):
            out[f"correlation_{slug(o)}_{slug(f)}"] = correlation_figure(readouts, o, f)
    return out

