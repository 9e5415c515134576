"""Donor-level figures: a forest plot of per-donor effects, endpoint dot plots.

The claim of a passive-transfer study is about donors; these figures put the donor,
not the mouse, in front of the reader.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from nocilab.errors import SchemaError
from nocilab.report import _draw, style
from nocilab.report._plotdata import check_derived, natural_key, slug

DONOR_EFFECT_COLUMNS = ("donor", "arm", "estimate", "ci_low", "ci_high", "responder")


def donor_forest(donor_effects: pd.DataFrame, *, outcome_label: str, unit: str,
                 arm_labels: Mapping[str, str] | None = None,
                 control: str | None = None,
                 xlabel: str | None = None,
                 title: str | None = None,
                 width: float = style.SINGLE_COLUMN_IN) -> Figure:
    """Forest plot of per-donor effects, one row per donor, grouped by arm.

    Parameters
    ----------
    donor_effects
        Columns ``donor``, ``arm``, ``estimate``, ``ci_low``, ``ci_high``,
        ``responder`` (bool); optional ``note`` (why an estimate is missing) and
        ``classification`` (``clearly affected``, ``possibly affected``, ``not
        affected``: then the title counts the three classes and "possibly" points are
        half filled). One row per donor (and arm).
    outcome_label, unit
        What the effect is measured in, e.g. ``"Threshold"`` and ``"g"``; an outcome
        name such as ``"threshold_g"`` is made readable.
    arm_labels
        arm -> label; its order sets the order of the groups.
    control
        The control arm, drawn last and in black; if not given, arms are ordered by
        ``arm_labels`` then alphabetically, all in colour.
    xlabel, title
        Override the x label (default "Difference from control, <outcome> (<unit>)")
        and prefix the title.
    width
        Inches; the height follows the number of donors.

    Returns
    -------
    matplotlib.figure.Figure
        Each donor's point carries gid ``donor_<donor>``; ``responder`` points (clearly
        affected) are filled and their labels bold, possibly affected ones half filled,
        the others open. The figure's title (``fig.get_suptitle()``) counts the classes
        per arm ("k of n donors responded" without ``classification``).
        A donor without an estimate is listed with its note instead of a point.
        Arm names head their groups as (minor) y tick labels, so the layout keeps every
        label inside ``width``; the x label and the title are wrapped to it.
    """
    if not isinstance(donor_effects, pd.DataFrame):
        raise SchemaError("donor_forest: expected a DataFrame of per-donor effects, got "
                          f"{type(donor_effects).__name__}")
    missing = [c for c in DONOR_EFFECT_COLUMNS if c not in donor_effects.columns]
    if missing:
        raise SchemaError(f"donor_forest: per-donor effects lack column(s) {', '.join(missing)}; "
                          f"expected {', '.join(DONOR_EFFECT_COLUMNS)}")
    if donor_effects.empty:
        raise SchemaError("donor_forest: the per-donor effects table has no rows")
    e = donor_effects.copy()
    e["arm"] = e["arm"].astype(str)
    e["donor"] = e["donor"].astype(str)
    for c in ("estimate", "ci_low", "ci_high"):
        if not pd.api.types.is_numeric_dtype(e[c]):
            raise SchemaError(f"donor_forest: column {c!r} must be numeric, has dtype {e[c].dtype}")
    resp = e["responder"]
    if resp.isna().any() or not resp.map(lambda v: isinstance(v, (bool, np.bool_))).all():
        bad = e.loc[~resp.map(lambda v: isinstance(v, (bool, np.bool_))), "donor"].tolist()
        raise SchemaError(f"donor_forest: column 'responder' must be True/False for every donor; "
                          f"not so for {', '.join(bad[:5])}")
    e["responder"] = resp.astype(bool)
    dup = e.duplicated(["arm", "donor"])
    if dup.any():
        raise SchemaError(f"donor_forest: donor {e.loc[dup, 'donor'].iloc[0]!r} has more than one "
                          "row in its arm; expected one row per donor")
    if control is not None and control not in set(e["arm"]):
        raise SchemaError(f"donor_forest: control arm {control!r} is not in the table; arms found: "
                          f"{', '.join(sorted(set(e['arm'])))}")

    if control is None:
        arms = style.arm_order(e["arm"], control="\0", arm_labels=arm_labels)
        colours = style.arm_colours(arms, control="\0")
    else:
        arms = style.arm_order(e["arm"], control=control, arm_labels=arm_labels)
        colours = style.arm_colours(arms, control=control)
        arms = [a for a in arms if a != control] + [control]
    label = style.OUTCOME_LABELS.get(outcome_label, outcome_label)

    # y positions: groups top to bottom, a gap and a header row per group
    # arm headers are y tick labels, so the layout makes room for them inside the
    # figure's width; a long arm name is wrapped and its header row made taller
    rows: list[tuple[float, pd.Series]] = []
    headers: list[tuple[float, str, str]] = []
    y = 0.0
    for arm in arms:
        sub = e[e["arm"] == arm]
        sub = sub.iloc[sorted(range(len(sub)), key=lambda i: natural_key(sub["donor"].iloc[i]))]
        text = _draw.wrap_to_width(style.arm_label(arm, arm_labels), 0.4 * width * 72,
                                   size=6.5, weight="bold")
        extra = 0.75 * text.count("\n")
        headers.append((y - extra / 2, arm, text))
        y -= 1.0 + extra
        for _, r in sub.iterrows():
            rows.append((y, r))
            y -= 1.0
        y -= 0.6
    n_rows = -y

    with style.publication_style():
        fig = _draw.new_figure((width, 0.9 + 0.145 * n_rows))
        ax = fig.add_subplot()
        ax.axvline(0.0, color="#000000", lw=0.6, zorder=1, gid="zero_line")
        finite = []
        for yy, r in rows:
            col = colours[r["arm"]]
            est, lo, hi = float(r["estimate"]), float(r["ci_low"]), float(r["ci_high"])
            if not math.isfinite(est):
                note = str(r.get("note", "") or "no estimate")
                ax.text(0.0, yy, f"  {note}", va="center", ha="left", fontsize=5.5,
                        color="#555555", gid=f"donor_{slug(r['donor'])}")
                continue
            finite += [est, lo, hi]
            if math.isfinite(lo) and math.isfinite(hi):
                ax.plot([lo, hi], [yy, yy], color=col, lw=0.9, zorder=2, solid_capstyle="butt")
            half = str(r.get("classification", "")) == "possibly affected"
            ax.plot([est], [yy], ls="none", marker="o", ms=4.0 if r["responder"] else 3.6,
                    mfc=col if r["responder"] or half else "white", mec=col, mew=0.8,
                    zorder=3, gid=f"donor_{slug(r['donor'])}",
                    fillstyle="left" if half else "full", mfcalt="white")
        ax.set_yticks([yy for yy, _ in rows], [r["donor"] for _, r in rows])
        for tick, (_, r) in zip(ax.get_yticklabels(), rows, strict=True):
            tick.set_fontweight("bold" if r["responder"] else "normal")
            tick.set_color(colours[r["arm"]] if r["arm"] != control else "#000000")
        ax.set_yticks([yy for yy, _, _ in headers], [t for _, _, t in headers], minor=True)
        for tick, (_, arm, _) in zip(ax.get_yticklabels(minor=True), headers, strict=True):
            tick.set_fontweight("bold")
            tick.set_fontsize(6.5)
            tick.set_color(colours[arm])
            tick.set_gid(f"arm_{slug(arm)}")
        ax.set_ylim(y + 0.9, 0.7)
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
        f = np.asarray(finite, dtype=float)
        f = f[np.isfinite(f)]
        if f.size:
            span = max(f.max(), 0.0) - min(f.min(), 0.0) or 1.0
            ax.set_xlim(min(f.min(), 0.0) - 0.06 * span, max(f.max(), 0.0) + 0.06 * span)
        # wrapped to the figure's width: a label wider than the figure widens the saved
        # file, and the report, which shows every figure at one width, then shrinks its
        # text. The x label is centred on the axes, right of the label column.
        rc = style.rc_params()
        column = max([_draw.text_width(str(r["donor"]), size=rc["ytick.labelsize"],
                                       weight="bold") for _, r in rows]
                     + [_draw.text_width(line, size=6.5, weight="bold")
                        for _, _, t in headers for line in t.split("\n")])
        ax.set_xlabel(_draw.wrap_to_width(
            xlabel or f"Difference from control, {style.outcome_label(label, unit)}",
            width * 72 - column - 16, size=rc["axes.labelsize"]))
        _draw.finish_axes(ax)
        ax.tick_params(axis="y", which="both", length=0)
        ax.tick_params(axis="y", which="minor", labelsize=6.5, pad=2.0)
        ax.spines["left"].set_visible(False)
        parts = []
        for arm in arms:
            sub = e[e["arm"] == arm]
            if "classification" in e.columns:
                k = sub["classification"].value_counts()
                words = (f"{style.arm_label(arm, arm_labels)}: "
                         f"{int(k.get('clearly affected', 0))} clearly, "
                         f"{int(k.get('possibly affected', 0))} possibly, "
                         f"{int(k.get('not affected', 0))} not affected of {len(sub)} donors")
            else:
                words = (f"{style.arm_label(arm, arm_labels)}: {int(sub['responder'].sum())} of "
                         f"{len(sub)} donors responded")
            parts.append(_draw.wrap_to_width(words, width * 72 - 12, size=7.0))
        head = "\n".join(parts)
        # the figure's title, not the axes': it may use the whole width from the left edge
        fig.suptitle(f"{title}\n{head}" if title else head, x=0.01, ha="left", fontsize=7.0,
                     linespacing=1.25)
        handles = [Line2D([], [], ls="none", marker="o", ms=4, mfc="#555555", mec="#555555"),
                   Line2D([], [], ls="none", marker="o", ms=3.6, mfc="white", mec="#555555",
                          mew=0.8)]
        names = ["Responder", "Non-responder"]
        if "classification" in e.columns:
            handles.insert(1, Line2D([], [], ls="none", marker="o", ms=3.6, mfc="#555555",
                                     mec="#555555", mew=0.8, fillstyle="left", mfcalt="white"))
            names = ["Clearly affected", "Possibly affected", "Not affected"]
        fig.legend(handles, names, loc="outside lower center", ncols=len(names))
    return fig


def endpoint_dots(derived: pd.DataFrame, *, control: str,
                  arm_labels: Mapping[str, str] | None = None,
                  donor_style: str = "shape",
                  ylabel: str | None = None,
                  title: str | None = None,
                  seed: int = 0,
                  figsize: tuple[float, float] | None = None) -> Figure:
    """Dot plot of one outcome on one day: every animal, by arm, with mean ± SEM.

    Parameters
    ----------
    derived
        Rows of the derived table for one outcome and one study day (IENFD at the end
        of the study, for example).
    control
        The control arm (black, leftmost).
    arm_labels
        arm -> label on the x axis; its order sets the order of the other arms.
    donor_style
        ``"shape"``: the arm's colour, one marker shape per donor within the arm;
        ``"colour"``: one shade of the arm's colour per donor.
    ylabel, title
        Override the y label; set an axes title.
    seed
        Seed of the horizontal jitter (the same seed gives the same figure).
    figsize
        Inches; by default about 0.75 in per arm plus room for the donor legend.

    Returns
    -------
    matplotlib.figure.Figure
        One scatter per donor (gid ``donor_<donor>``), one mean bar per arm (gid
        ``mean_<arm>``). Censored values are open markers at their bound.
    """
    if donor_style not in ("shape", "colour"):
        raise SchemaError(f"endpoint_dots: donor_style must be 'shape' or 'colour', got "
                          f"{donor_style!r}")
    d = check_derived(derived, what="endpoint_dots", control=control, one_day=True)
    arms = style.arm_order(d["arm"], control=control, arm_labels=arm_labels)
    colours = style.arm_colours(arms, control=control)
    rng = np.random.default_rng(seed)
    ok = d[np.isfinite(d["plot_value"])]
    if figsize is None:
        figsize = (max(1.6, 0.7 * len(arms) + 1.3), 2.4)

    with style.publication_style():
        fig = _draw.new_figure(figsize)
        ax = fig.add_subplot()
        handles, labels = [], []
        for i, arm in enumerate(arms):
            sub = ok[ok["arm"] == arm]
            donors = sorted(sub["donor"].unique(), key=natural_key)
            for j, donor in enumerate(donors):
                dd = sub[sub["donor"] == donor]
                x = i + rng.uniform(-0.17, 0.17, len(dd))
                if donor_style == "shape":
                    col = style.CONTROL_LIGHT if arm == control else colours[arm]
                    marker = style.DONOR_MARKERS[j % len(style.DONOR_MARKERS)]
                else:
                    amount = 0.6 * j / max(len(donors) - 1, 1)
                    col = style.light(colours[arm], amount=amount) if arm != control else \
                        str(0.1 + 0.55 * j / max(len(donors) - 1, 1))
                    marker = "o"
                cens = dd["is_censored"].to_numpy()
                sc = ax.scatter(x, dd["plot_value"], s=12, marker=marker, linewidths=0.4,
                                facecolors=["white" if c else col for c in cens],
                                edgecolors=[col if c else "white" for c in cens], zorder=3,
                                gid=f"donor_{slug(donor)}")
                handles.append(sc)
                labels.append(donor)
            vals = sub["plot_value"].to_numpy()
            if vals.size:
                mean = float(vals.mean())
                sem = float(vals.std(ddof=1) / math.sqrt(vals.size)) if vals.size > 1 else 0.0
                ax.plot([i - 0.3, i + 0.3], [mean, mean], color="#000000", lw=1.3, zorder=4,
                        gid=f"mean_{slug(arm)}", solid_capstyle="butt")
                if vals.size > 1:
                    ax.errorbar([i], [mean], yerr=[sem], color="#000000", lw=0, elinewidth=0.8,
                                capsize=3.0, capthick=0.8, zorder=4)
        ax.set_xticks(range(len(arms)),
                      [textwrap.fill(style.arm_label(a, arm_labels), 12) for a in arms])
        ax.set_xlim(-0.6, len(arms) - 0.4)
        _draw.floor_at_zero(ax, ok["plot_value"].to_numpy())
        unit = str(d["unit"].iloc[0])
        ax.set_ylabel(ylabel or style.outcome_label(str(d["outcome"].iloc[0]), unit))
        day = int(d["study_day"].iloc[0])
        ax.set_title(title or f"Study day {day}", loc="left", fontsize=7.5)
        _draw.finish_axes(ax)
        ax.tick_params(axis="x", length=0)
        if d["is_censored"].any():
            handles.append(Line2D([], [], ls="none", marker="o", ms=3, mfc="white", mec="#555555"))
            labels.append("censored")
        ncol = 1 if len(labels) <= 10 else 2
        fig.legend(handles, labels, loc="outside right center", ncols=ncol, title="Donor",
                   fontsize=5.5, title_fontsize=6.0, handletextpad=0.2, columnspacing=0.6,
                   labelspacing=0.3, markerscale=0.9)
    return fig
