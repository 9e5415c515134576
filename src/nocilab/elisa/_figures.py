"""Figures of the laboratory readouts: the equivalence forest plot and donor scatters.

Each function takes the tidy table a calculator returned and gives back a matplotlib
:class:`~matplotlib.figure.Figure` (no global pyplot state, nothing written); saving is
the caller's (``nocilab.report.figures.save_figure``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from nocilab.errors import SchemaError

_COLOURS = {"equivalent within the margin": "#1b7837", "different": "#b2182b",
            "inconclusive": "#4d4d4d"}


def equivalence_forest(table: pd.DataFrame, *, title: str | None = None,
                       width: float = 6.5) -> Figure:
    """Forest plot of a panel's arm differences against their equivalence margins.

    Parameters
    ----------
    table
        :attr:`nocilab.stats.EquivalencePanel.table`.
    title
        Figure title (default: none).
    width
        Inches; the height follows the number of rows.

    Returns
    -------
    matplotlib.figure.Figure
        One row per analyte (and arm): the estimate, its 95% interval (thin line), its
        ``1 - 2 alpha`` TOST interval (thick line) and the margin as a shaded band; the
        conclusion is written at the right. On the log10 scale the axis is the ratio of
        geometric means (treated / control, log axis), otherwise the difference. A row
        that was not tested shows its note. Each row's point carries gid
        ``analyte_<analyte>``.
    """
    need = ("analyte", "arm", "scale", "difference", "ci_low", "ci_high", "tost_ci_low",
            "tost_ci_high", "margin_low", "margin_high", "conclusion", "note")
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise SchemaError(f"equivalence_forest: table lacks column(s) {', '.join(missing)}")
    if table.empty:
        raise SchemaError("equivalence_forest: the table has no rows")
    t = table.reset_index(drop=True)
    log = bool((t["scale"] == "log10").all())
    several_arms = t["arm"].nunique() > 1

    def tr(v):
        v = np.asarray(v, dtype=float)
        return 10.0**v if log else v

    n = len(t)
    fig = Figure(figsize=(width, 0.9 + 0.38 * n))
    ax = fig.add_axes((0.2, 0.9 / (0.9 + 0.38 * n), 0.5, 0.38 * n / (0.9 + 0.38 * n) * 0.92))
    ys = np.arange(n)[::-1]
    for y, (_, r) in zip(ys, t.iterrows(), strict=True):
        ax.fill_betweenx([y - 0.35, y + 0.35], tr(r["margin_low"]), tr(r["margin_high"]),
                         color="#d9f0d3", lw=0, zorder=0)
        colour = _COLOURS.get(r["conclusion"], "#4d4d4d")
        if np.isfinite(r["difference"]):
            ax.plot(tr([r["ci_low"], r["ci_high"]]), [y, y], color=colour, lw=1, zorder=2)
            ax.plot(tr([r["tost_ci_low"], r["tost_ci_high"]]), [y, y], color=colour, lw=3.5,
                    solid_capstyle="butt", zorder=3)
            pt = ax.plot([float(tr(r["difference"]))], [y], "o", color="white", mec=colour,
                         mew=1.5, ms=6, zorder=4)[0]
            pt.set_gid(f"analyte_{r['analyte']}")
            text = r["conclusion"]
        else:
            text = r["note"] or "not tested"
        ax.annotate(text, xy=(1.02, y), xycoords=("axes fraction", "data"), va="center",
                    fontsize=8, color=colour)
    ax.axvline(1.0 if log else 0.0, color="black", lw=0.8, zorder=1)
    if log:
        from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

        ax.set_xscale("log")
        lo, hi = ax.get_xlim()
        nice = [v for v in (0.1, 0.25, 0.5, 0.8, 1.0, 1.25, 2.0, 4.0, 10.0) if lo <= v <= hi]
        ax.xaxis.set_major_locator(FixedLocator(nice))
        ax.xaxis.set_major_formatter(lambda v, _: f"{v:g}")
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_minor_formatter(NullFormatter())
    labels = [f"{a} ({arm})" if several_arms else str(a)
              for a, arm in zip(t["analyte"], t["arm"], strict=True)]
    ax.set_yticks(ys, labels)
    ax.set_ylim(-0.7, n - 0.3)
    control = str(t["control"].iloc[0]) if "control" in t.columns else "control"
    arm = str(t["arm"].iloc[0]) if not several_arms else "arm"
    ax.set_xlabel(f"Ratio of geometric means, {arm} / {control}" if log else
                  f"Difference, {arm} - {control}")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.text(0.01, 0.005, "thin: 95% CI; thick: TOST interval; band: equivalence margin",
             fontsize=7, color="#4d4d4d")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def donor_scatter(x, y, *, labels, xlabel: str, ylabel: str,
                  groups: Mapping[str, str] | None = None, title: str | None = None,
                  width: float = 4.0) -> Figure:
    """Scatter of one value per donor against another, each point labelled.

    Parameters
    ----------
    x, y
        The two values per donor (same order as ``labels``); missing pairs are skipped.
    labels
        What each point is called: donor ids, or their codes while the study is blinded
        (the caller decides; nothing here looks donors up).
    xlabel, ylabel
        Axis labels (with units).
    groups
        label -> group (for example an arm, only once unblinded) to colour the points.
    title
        Figure title, e.g. the correlation.

    Returns
    -------
    matplotlib.figure.Figure
        Each point carries gid ``donor_<label>``.
    """
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    names = [str(v) for v in labels]
    if not len(xs) == len(ys) == len(names):
        raise SchemaError(f"donor_scatter: {len(xs)} x values, {len(ys)} y values and "
                          f"{len(names)} labels")
    fig = Figure(figsize=(width, width * 0.85))
    ax = fig.add_subplot()
    palette = ["#2166ac", "#b2182b", "#1b7837", "#762a83", "#e08214"]
    group_names = sorted(set((groups or {}).values()))
    for xi, yi, name in zip(xs, ys, names, strict=True):
        if not (np.isfinite(xi) and np.isfinite(yi)):
            continue
        g = (groups or {}).get(name)
        colour = palette[group_names.index(g) % len(palette)] if g in group_names else "#333333"
        pt = ax.plot([xi], [yi], "o", color=colour, ms=5)[0]
        pt.set_gid(f"donor_{name}")
        ax.annotate(name, (xi, yi), xytext=(3, 3), textcoords="offset points", fontsize=7)
    for i, g in enumerate(group_names):
        ax.plot([], [], "o", color=palette[i % len(palette)], label=g)
    if group_names:
        ax.legend(fontsize=7, frameon=False)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig
