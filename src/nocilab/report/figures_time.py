"""Time-course figures: arm means over study days, one panel per donor, censoring.

Each function takes rows of the derived table (``nocilab.schema.DERIVED``) for one
outcome and returns a :class:`matplotlib.figure.Figure`; nothing is shown or saved.
Censored values enter means at their bound (as in Prism, where the cut-off is typed
in); they are drawn as open markers so a reader sees where that happens.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, MultipleLocator

from nocilab.errors import SchemaError
from nocilab.report import _draw, style
from nocilab.report._plotdata import arm_counts, arm_day_summary, check_derived, natural_key, slug

MARK_COLUMNS = ("study_day", "arm", "p_adj")


def _check_marks(marks: pd.DataFrame, d: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in MARK_COLUMNS if c not in marks.columns]
    if missing:
        raise SchemaError(f"time_course: marks lack column(s) {', '.join(missing)}; expected "
                          f"{', '.join(MARK_COLUMNS)}")
    m = marks[list(MARK_COLUMNS)].copy()
    m["arm"] = m["arm"].astype(str)
    bad_arms = sorted(set(m["arm"]) - set(d["arm"]))
    if bad_arms:
        raise SchemaError(f"time_course: marks name arm(s) {', '.join(bad_arms)} that are not in "
                          f"the data (arms: {', '.join(sorted(set(d['arm'])))})")
    m["study_day"] = m["study_day"].astype(int)
    bad_days = sorted(set(m["study_day"]) - set(d["study_day"]))
    if bad_days:
        raise SchemaError(f"time_course: marks name study day(s) "
                          f"{', '.join(str(x) for x in bad_days)} with no data")
    return m


def time_course(derived: pd.DataFrame, *, control: str,
                arm_labels: Mapping[str, str] | None = None,
                dosing_days: Sequence[int] = (0, 1, 2, 3),
                marks: pd.DataFrame | None = None,
                show_animals: bool = True,
                ylabel: str | None = None,
                title: str | None = None,
                log_axis: bool = False,
                figsize: tuple[float, float] = (style.SINGLE_COLUMN_IN, 2.7)) -> Figure:
    """Mean ± SEM of one outcome per arm by study day (geometric, on a log axis).

    Parameters
    ----------
    derived
        Rows of the derived table for one outcome (any number of arms and days).
    control
        The control arm (drawn black, first in the legend).
    arm_labels
        arm -> label for the legend; its order sets the order of the other arms.
    dosing_days
        Study days with injections, shaded.
    marks
        Significance to mark: columns ``study_day``, ``arm``, ``p_adj``; a star
        (``*`` < 0.05, ``**`` < 0.01, ``***`` < 0.001) in the arm's colour is put
        above the day. Rows with p ≥ 0.05 draw nothing.
    show_animals
        Draw each animal's values as a faint line in its arm's colour.
    ylabel, title
        Override the y label (default from the outcome and unit, e.g.
        ``"Threshold (g)"``) and set an axes title.
    log_axis
        A log10 y axis labelled in the values' units, with each arm's geometric mean
        and a bar from it ÷ to × 10^SEM of the log10 values: the summary that matches
        an analysis on the log10 scale (e.g. von Frey thresholds). Values at or below
        zero cannot be drawn and are left out.
    figsize
        Inches; the default is one journal column wide.

    Returns
    -------
    matplotlib.figure.Figure
        Artists carry ids (``gid``): ``mean_<arm>`` (one line per arm),
        ``animal_<animal>``, ``censored_<arm>``, ``stars_<arm>_<day>``.

    Notes
    -----
    Baseline days (negative) are set apart by a dashed line. SEM is over animals
    (the view readers of the field expect); donor-level inference is in the stats
    layer and :func:`~nocilab.report.figures_donors.donor_forest`.
    """
    d = check_derived(derived, what="time_course", control=control)
    arms = style.arm_order(d["arm"], control=control, arm_labels=arm_labels)
    colours = style.arm_colours(arms, control=control)
    markers = style.arm_markers(arms)
    counts = arm_counts(d)
    summary = arm_day_summary(d, geometric=log_axis)
    days = sorted(d["study_day"].unique())
    m = _check_marks(marks, d) if marks is not None else None
    # star rows are spaced evenly on the axis drawn: in log10 units on a log axis
    fwd, inv = ((np.log10, lambda y: 10.0 ** y) if log_axis else (lambda y: y, lambda y: y))

    with style.publication_style():
        fig = _draw.new_figure(figsize)
        ax = fig.add_subplot()
        _draw.shade_dosing(ax, dosing_days)
        _draw.baseline_separator(ax, days, dosing_days)

        for arm in arms:
            sub = d[d["arm"] == arm]
            faint = (style.CONTROL_LIGHT if arm == control
                     else style.light(colours[arm], amount=0.35))
            if show_animals:
                for animal, a in sub.sort_values("study_day").groupby("animal", sort=True):
                    ax.plot(a["study_day"], a["plot_value"], color=faint, lw=0.45, alpha=0.55,
                            zorder=1, gid=f"animal_{slug(animal)}", solid_capstyle="round")
            cens = sub[sub["is_censored"] & np.isfinite(sub["plot_value"])]
            if len(cens):
                ax.plot(cens["study_day"], cens["plot_value"], ls="none", marker="o", ms=3.0,
                        mfc="white", mec=colours[arm], mew=0.6, zorder=3,
                        gid=f"censored_{slug(arm)}")

        dodge = np.linspace(-0.12, 0.12, len(arms)) if len(arms) > 1 else np.zeros(1)
        tops = pd.Series(-np.inf, index=days, dtype=float)
        for k, arm in enumerate(arms):
            s = summary[summary["arm"] == arm].sort_values("study_day")
            na, nd = counts.get(arm, (0, 0))
            label = (f"{style.arm_label(arm, arm_labels)} "
                     f"(n = {na} {'mouse' if na == 1 else 'mice'}, "
                     f"{nd} {'donor' if nd == 1 else 'donors'})")
            yerr = np.vstack([(s["mean"] - s["low"]).to_numpy(), (s["high"] - s["mean"]).to_numpy()])
            cont = ax.errorbar(s["study_day"] + dodge[k], s["mean"], yerr=yerr,
                               color=colours[arm], marker=markers[arm], ms=3.6, lw=1.1,
                               mfc=colours[arm], mec="white", mew=0.4,
                               elinewidth=0.7, capsize=1.6, capthick=0.7, zorder=4, label=label)
            cont.lines[0].set_gid(f"mean_{slug(arm)}")
            top = s["high"].fillna(s["mean"]).to_numpy()
            tops.loc[s["study_day"].to_numpy()] = np.fmax(tops.loc[s["study_day"]].to_numpy(), top)
        if show_animals:
            vmax = d.groupby("study_day")["plot_value"].max()
            tops = np.fmax(tops, vmax.reindex(tops.index).to_numpy())

        if log_axis:
            _draw.log_y_axis(ax, d["plot_value"].to_numpy())
        else:
            _draw.floor_at_zero(ax, d["plot_value"].to_numpy())
        n_levels = 0
        if m is not None and len(m):
            lo, hi = fwd(np.array(ax.get_ylim()))
            step = 0.075 * (hi - lo)
            level_of = {arm: i for i, arm in enumerate(a for a in arms if a in set(m["arm"]))}
            # one row of stars per arm, above the highest value of any marked day
            marked = m.loc[m["p_adj"].map(lambda p: bool(style.stars(p))), "study_day"]
            row_y = float(fwd(np.nanmax(tops.loc[sorted(set(marked))].to_numpy()))) + 0.4 * step \
                if len(marked) else 0.0
            for row in m.itertuples(index=False):
                s_txt = style.stars(row.p_adj)
                if not s_txt:
                    continue
                level = level_of[row.arm]
                n_levels = max(n_levels, level + 1)
                y = inv(row_y + step * level)
                ax.text(row.study_day, y, s_txt, ha="center", va="bottom", fontsize=8.0,
                        color=colours[row.arm], zorder=5,
                        gid=f"stars_{slug(row.arm)}_{row.study_day}")
            if n_levels:
                top = float(fwd(np.nanmax(tops.to_numpy()))) + step * (1.6 + n_levels)
                ax.set_ylim(top=inv(max(hi, top)))

        _draw.day_ticks(ax, days)
        _draw.pad_days(ax, days, dosing_days)
        ax.set_xlabel("Study day")
        unit = str(d["unit"].iloc[0])
        ax.set_ylabel(ylabel or style.outcome_label(str(d["outcome"].iloc[0]), unit))
        if title:
            ax.set_title(title, loc="left")
        _draw.finish_axes(ax)

        handles, labels = ax.get_legend_handles_labels()
        if len(dosing_days):
            handles.append(Patch(facecolor=style.SHADE, edgecolor="none"))
            labels.append("Injection days")
        if d["is_censored"].any():
            handles.append(Line2D([], [], ls="none", marker="o", ms=3.0, mfc="white",
                                  mec="#555555", mew=0.6))
            labels.append("Censored (plotted at cut-off)")
        fig.legend(handles, labels, loc="outside upper center", ncols=2, columnspacing=1.0,
                   handletextpad=0.5)
    return fig


def _donor_panels(d: pd.DataFrame, arms: list[str], control: str) -> list[tuple[str, str]]:
    """(arm, donor) in panel order: treatment arms first, the control arm last."""
    order = [a for a in arms if a != control] + [control]
    out: list[tuple[str, str]] = []
    for arm in order:
        donors = d.loc[d["arm"] == arm, "donor"].unique()
        out += [(arm, str(x)) for x in sorted(donors, key=natural_key)]
    return out


def donor_small_multiples(derived: pd.DataFrame, *, control: str,
                          arm_labels: Mapping[str, str] | None = None,
                          dosing_days: Sequence[int] = (0, 1, 2, 3),
                          ncols: int | None = None,
                          ylabel: str | None = None,
                          title: str | None = None,
                          log_axis: bool = False,
                          panel_size: tuple[float, float] = (0.9, 0.85)) -> Figure:
    """One small panel per donor: its animals over study days against the control band.

    Parameters
    ----------
    derived
        Rows of the derived table for one outcome.
    control
        The control arm; its mean ± SEM (over its animals) is drawn as a grey band
        in every panel, its donors' panels come last.
    arm_labels
        arm -> label for the legend; its order sets the order of the other arms.
    dosing_days
        Study days with injections, shaded.
    ncols
        Panels per row; by default the largest number of donors in an arm (at most
        8). Each arm starts a new row.
    ylabel, title
        Override the y label; set a figure title.
    log_axis
        A log10 y axis; the control band is then the geometric mean ×/÷ 10^SEM of the
        log10 values (as :func:`time_course`).
    panel_size
        Width and height of one panel in inches.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per (arm, donor), sharing both axes; its title is the donor id in
        the arm's colour. Artists carry ids ``animal_<animal>``, ``control_band``.
    """
    d = check_derived(derived, what="donor_small_multiples", control=control)
    arms = style.arm_order(d["arm"], control=control, arm_labels=arm_labels)
    colours = style.arm_colours(arms, control=control)
    panels = _donor_panels(d, arms, control)
    per_arm = {arm: sum(1 for a, _ in panels if a == arm) for arm in arms}
    if ncols is not None and int(ncols) < 1:
        raise SchemaError(f"donor_small_multiples: ncols must be at least 1, got {ncols}")
    ncols = int(ncols) if ncols else max(1, min(8, max(per_arm.values())))
    rows_per_arm = {arm: math.ceil(n / ncols) for arm, n in per_arm.items() if n}
    nrows = sum(rows_per_arm.values())
    days = sorted(d["study_day"].unique())
    ref = arm_day_summary(d[d["arm"] == control], geometric=log_axis).sort_values("study_day")
    ref_low = ref["low"].fillna(ref["mean"]).to_numpy()
    ref_high = ref["high"].fillna(ref["mean"]).to_numpy()

    with style.publication_style():
        pw = min(panel_size[0], (style.DOUBLE_COLUMN_IN - 0.7) / ncols)
        w = ncols * pw + 0.7
        h = nrows * panel_size[1] + 0.75
        fig = _draw.new_figure((w, h))
        gs = fig.add_gridspec(nrows, ncols)
        first = None
        row0 = 0
        placed: dict[tuple[int, int], object] = {}
        for arm in [a for a in arms if a != control] + [control]:
            arm_panels = [p for p in panels if p[0] == arm]
            for i, (_, donor) in enumerate(arm_panels):
                r, c = row0 + i // ncols, i % ncols
                ax = fig.add_subplot(gs[r, c], sharex=first, sharey=first)
                first = first or ax
                _draw.shade_dosing(ax, dosing_days)
                ax.fill_between(ref["study_day"], ref_low, ref_high,
                                color=style.light(style.CONTROL_COLOUR, amount=0.78), lw=0,
                                zorder=0.6, gid="control_band")
                ax.plot(ref["study_day"], ref["mean"], color=style.CONTROL_LIGHT, lw=0.7,
                        zorder=0.7, gid="control_mean")
                sub = d[(d["arm"] == arm) & (d["donor"] == donor)]
                for animal, a in sub.sort_values("study_day").groupby("animal", sort=True):
                    ax.plot(a["study_day"], a["plot_value"], color=colours[arm], lw=0.7,
                            marker="o", ms=1.8, mew=0, zorder=2, gid=f"animal_{slug(animal)}")
                cens = sub[sub["is_censored"] & np.isfinite(sub["plot_value"])]
                if len(cens):
                    ax.plot(cens["study_day"], cens["plot_value"], ls="none", marker="o",
                            ms=2.6, mfc="white", mec=colours[arm], mew=0.5, zorder=3,
                            gid=f"censored_{slug(donor)}")
                n_an = sub["animal"].nunique()
                ax.set_title(f"{donor}  (n = {n_an})", loc="left", fontsize=6.5,
                             color=colours[arm], pad=2.0)
                _draw.finish_axes(ax)
                ax.tick_params(labelsize=5.5, length=2.0, pad=1.5)
                if not log_axis:
                    ax.yaxis.set_major_locator(MaxNLocator(nbins=4))
                placed[(r, c)] = ax
            row0 += rows_per_arm.get(arm, 0)
        span = max(days) - min(days)
        if first is not None:
            first.xaxis.set_major_locator(MultipleLocator(7) if span > 14 else
                                          MaxNLocator(nbins=4, integer=True))
        for (r, c), ax in placed.items():
            # tick labels on the outer edge: x where no panel lies below, y in column 0
            ax.tick_params(labelbottom=(r + 1, c) not in placed, labelleft=c == 0)

        if first is not None:
            if log_axis:
                _draw.log_y_axis(first, np.r_[d["plot_value"].to_numpy(), ref_low])
            else:
                _draw.floor_at_zero(first, np.r_[d["plot_value"].to_numpy(), ref_low])
            _draw.pad_days(first, days, dosing_days)
        unit = str(d["unit"].iloc[0])
        fig.supylabel(ylabel or style.outcome_label(str(d["outcome"].iloc[0]), unit), fontsize=7.5)
        fig.supxlabel("Study day", fontsize=7.5)
        if title:
            fig.suptitle(title, fontsize=8.5)
        handles = [Line2D([], [], color=colours[a], lw=0.8, marker="o", ms=2.5)
                   for a in arms if a != control]
        labels = [f"{style.arm_label(a, arm_labels)}: one line per mouse"
                  for a in arms if a != control]
        handles += [Line2D([], [], color=colours[control], lw=0.8, marker="o", ms=2.5),
                    Patch(facecolor=style.light(style.CONTROL_COLOUR, amount=0.78),
                          edgecolor="none")]
        labels += [f"{style.arm_label(control, arm_labels)}: one line per mouse",
                   f"{style.arm_label(control, arm_labels)}: "
                   + ("geometric mean ×/÷ SEM (all mice)" if log_axis else "mean ± SEM (all mice)")]
        if len(dosing_days):
            handles.append(Patch(facecolor=style.SHADE, edgecolor="none"))
            labels.append("Injection days")
        fig.legend(handles, labels, loc="outside upper center", ncols=min(len(labels), 3),
                   columnspacing=1.0, handletextpad=0.5)
    return fig


def censoring_bars(derived: pd.DataFrame, *, control: str,
                   arm_labels: Mapping[str, str] | None = None,
                   title: str | None = None,
                   figsize: tuple[float, float] = (style.SINGLE_COLUMN_IN, 2.2)) -> Figure:
    """Percentage of censored values per arm and study day, with counts on the bars.

    Parameters
    ----------
    derived
        Rows of the derived table for one outcome.
    control
        The control arm (black, first).
    arm_labels
        arm -> legend label.
    title, figsize
        Axes title; size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        One bar per arm and day (gid ``censored_<arm>_<day>``), labelled ``k/n`` where
        k > 0; left-censored values are hatched.
    """
    d = check_derived(derived, what="censoring_bars", control=control)
    arms = style.arm_order(d["arm"], control=control, arm_labels=arm_labels)
    colours = style.arm_colours(arms, control=control)
    days = sorted(d["study_day"].unique())
    has = d[np.isfinite(d["plot_value"])]
    cens_dir = has["censored"].fillna("none").astype(str)
    tab = (has.assign(right=(cens_dir == "right").astype(int),
                      left=(cens_dir == "left").astype(int))
           .groupby(["arm", "study_day"]).agg(n=("animal", "count"), right=("right", "sum"),
                                               left=("left", "sum")))
    width = 0.8 / len(arms)
    with style.publication_style():
        fig = _draw.new_figure(figsize)
        ax = fig.add_subplot()
        x = np.arange(len(days), dtype=float)
        for k, arm in enumerate(arms):
            pos = x - 0.4 + width * (k + 0.5)
            for j, day in enumerate(days):
                n, right, left = (tab.loc[(arm, day)] if (arm, day) in tab.index else (0, 0, 0))
                if n == 0:
                    continue
                pr, pl = 100.0 * right / n, 100.0 * left / n
                ax.bar(pos[j], pr, width=width * 0.92, color=colours[arm], lw=0,
                       gid=f"censored_{slug(arm)}_{day}")
                if pl:
                    ax.bar(pos[j], pl, bottom=pr, width=width * 0.92, color="white",
                           edgecolor=colours[arm], hatch="/////", lw=0.5)
                if right + left:
                    ax.text(pos[j], pr + pl + 1.5, f"{right + left}/{n}", ha="center",
                            va="bottom", fontsize=5.0, rotation=90)
        ax.set_xticks(x, [str(day).replace("-", "\u2212") for day in days])
        ax.set_xlabel("Study day")
        ax.set_ylabel("Censored values (%)")
        ax.set_ylim(0, 115)
        ax.set_yticks([0, 25, 50, 75, 100])
        if not (tab["right"].sum() + tab["left"].sum()):
            ax.text(0.5, 0.5, "No censored values", transform=ax.transAxes, ha="center",
                    va="center", fontsize=7, color="#555555")
        if title:
            ax.set_title(title, loc="left")
        _draw.finish_axes(ax)
        handles = [Patch(facecolor=colours[a], edgecolor="none") for a in arms]
        labels = [style.arm_label(a, arm_labels) for a in arms]
        if tab["left"].sum():
            handles.append(Patch(facecolor="white", edgecolor="#555555", hatch="/////", lw=0.5))
            labels.append("left-censored")
        fig.legend(handles, labels, loc="outside upper center", ncols=min(len(labels), 3))
    return fig
