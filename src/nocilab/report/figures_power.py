"""Power curves from a simulated power grid (``nocilab.design`` power by simulation)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from nocilab.errors import SchemaError
from nocilab.report import _draw, style

POWER_GRID_COLUMNS = ("donors_per_arm", "mice_per_donor", "power", "ci_low", "ci_high")


def power_curves(grid: pd.DataFrame, *, target: float = 0.8,
                 title: str | None = None,
                 figsize: tuple[float, float] = (style.SINGLE_COLUMN_IN, 2.5)) -> Figure:
    """Power against donors per arm, one line per number of mice per donor.

    Parameters
    ----------
    grid
        Columns ``donors_per_arm``, ``mice_per_donor``, ``power`` (0-1), ``ci_low``,
        ``ci_high`` (the Monte-Carlo interval of the power estimate), one row per
        design.
    target
        Power to reach (0-1), drawn as a dashed line; each line's legend entry says
        the fewest donors per arm that reach it.
    title, figsize
        Axes title; size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        One line per mice-per-donor value (gid ``power_<m>``) with its interval
        band (gid ``band_<m>``) and the target line (gid ``target``).
    """
    if not isinstance(grid, pd.DataFrame):
        raise SchemaError(f"power_curves: expected a DataFrame, got {type(grid).__name__}")
    missing = [c for c in POWER_GRID_COLUMNS if c not in grid.columns]
    if missing:
        raise SchemaError(f"power_curves: grid lacks column(s) {', '.join(missing)}; expected "
                          f"{', '.join(POWER_GRID_COLUMNS)}")
    if grid.empty:
        raise SchemaError("power_curves: the power grid has no rows")
    for c in POWER_GRID_COLUMNS:
        if not pd.api.types.is_numeric_dtype(grid[c]):
            raise SchemaError(f"power_curves: column {c!r} must be numeric, "
                              f"has dtype {grid[c].dtype}")
    p = grid[["power", "ci_low", "ci_high"]].to_numpy(dtype=float)
    bad = np.isfinite(p) & ((p < 0) | (p > 1))
    if bad.any():
        raise SchemaError("power_curves: power and its interval must lie in 0-1 (proportions); "
                          f"found {p[bad][0]!r}")
    if not 0 < float(target) < 1:
        raise SchemaError(f"power_curves: target must lie between 0 and 1, got {target!r}")
    if grid.duplicated(["donors_per_arm", "mice_per_donor"]).any():
        raise SchemaError("power_curves: the grid has more than one row for a design "
                          "(donors_per_arm, mice_per_donor)")

    mice = sorted(grid["mice_per_donor"].unique())
    if len(mice) <= len(style.ARM_COLOURS):
        colours = list(style.ARM_COLOURS[: len(mice)])
    else:
        from matplotlib import colormaps
        cmap = colormaps["cividis"]
        colours = [cmap(v) for v in np.linspace(0.05, 0.9, len(mice))]
    with style.publication_style():
        fig = _draw.new_figure(figsize)
        ax = fig.add_subplot()
        ax.axhline(target, color="#555555", lw=0.7, ls=(0, (4, 2)), zorder=1, gid="target")
        for k, (m, col) in enumerate(zip(mice, colours, strict=True)):
            g = grid[grid["mice_per_donor"] == m].sort_values("donors_per_arm")
            x = g["donors_per_arm"].to_numpy(dtype=float)
            ax.fill_between(x, g["ci_low"], g["ci_high"], color=col, alpha=0.18, lw=0,
                            zorder=2, gid=f"band_{int(m) if float(m).is_integer() else m}")
            reach = g.loc[g["power"] >= target, "donors_per_arm"]
            mlabel = int(m) if float(m).is_integer() else m
            note = (f"{target:.0%} at {int(reach.min())} donors" if len(reach)
                    else f"{target:.0%} not reached")
            ax.plot(x, g["power"], color=col, lw=1.1, marker=style.ARM_MARKERS[k % 7], ms=3.2,
                    mec="white", mew=0.4, zorder=3, gid=f"power_{mlabel}",
                    label=f"{mlabel} ({note})")
        ax.set_ylim(0, 1.02)
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("Donors per arm")
        ax.set_ylabel("Power")
        ax.text(0.01, target, f"target {target:.0%}", transform=ax.get_yaxis_transform(),
                ha="left", va="bottom", fontsize=6.0, color="#555555")
        if title:
            ax.set_title(title, loc="left")
        _draw.finish_axes(ax)
        ax.legend(loc="lower right", title="Mice per donor", bbox_to_anchor=(1.0, 0.02),
                  fontsize=6.0, title_fontsize=6.5)
    return fig
