"""Drawing helpers shared by the figure modules."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from nocilab.report import style


def new_figure(figsize: tuple[float, float]) -> Figure:
    """A figure not registered with pyplot (no global state, no open-figure warnings)."""
    return Figure(figsize=figsize, layout="constrained")


def finish_axes(ax: Axes) -> None:
    """Tick sizes and widths set on the axes, so they hold whatever the rc at draw time."""
    rc = style.rc_params()
    ax.tick_params(axis="both", which="major", labelsize=rc["xtick.labelsize"],
                   width=rc["xtick.major.width"], length=rc["xtick.major.size"],
                   direction="out", pad=2.0)
    for side in ("left", "bottom"):
        ax.spines[side].set_linewidth(rc["axes.linewidth"])
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def runs(days: Iterable[int]) -> list[tuple[int, int]]:
    """Contiguous runs of integer days: (0, 1, 2, 3, 7) -> [(0, 3), (7, 7)]."""
    ds = sorted({int(d) for d in days})
    out: list[tuple[int, int]] = []
    for d in ds:
        if out and d == out[-1][1] + 1:
            out[-1] = (out[-1][0], d)
        else:
            out.append((d, d))
    return out


def shade_dosing(ax: Axes, dosing_days: Sequence[int]) -> None:
    """Grey bands behind the injection days (one band per run of consecutive days)."""
    for lo, hi in runs(dosing_days):
        ax.axvspan(lo - 0.4, hi + 0.4, color=style.SHADE, lw=0, zorder=0, gid="dosing")


def baseline_separator(ax: Axes, days: Sequence[int], dosing_days: Sequence[int], *,
                       label: bool = True) -> float | None:
    """A dashed line between the baseline days (< 0) and day 0 onwards; returns its x."""
    days = sorted({int(d) for d in days})
    before = [d for d in days if d < 0]
    after = [d for d in list(days) + [int(x) for x in dosing_days] if d >= 0]
    if not before or not after:
        return None
    x = (max(before) + min(after)) / 2.0
    if any(lo - 0.4 <= x <= hi + 0.4 for lo, hi in runs(dosing_days)):
        x = min(lo for lo, _ in runs(dosing_days)) - 0.5
    ax.axvline(x, color="#555555", lw=0.5, ls=(0, (2.5, 2)), zorder=0.5, gid="baseline_separator")
    if label:
        ax.annotate("Baseline", xy=(x, 1.0), xycoords=ax.get_xaxis_transform(),
                    xytext=(-2.0, 1.0), textcoords="offset points", ha="right", va="bottom",
                    fontsize=6.0, color="#555555", gid="baseline_label")
    return x


def day_ticks(ax: Axes, days: Sequence[int], *, max_ticks: int = 12) -> None:
    """x ticks on the study days measured (thinned to ``max_ticks``)."""
    days = sorted({int(d) for d in days})
    if len(days) <= max_ticks:
        ax.xaxis.set_major_locator(FixedLocator(days))
    else:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=max_ticks, integer=True))


def pad_days(ax: Axes, days: Sequence[int], dosing_days: Sequence[int] = ()) -> None:
    """x limits half a day beyond the first and last day shown."""
    allx = [int(d) for d in days] + [int(d) for d in dosing_days]
    lo, hi = min(allx), max(allx)
    span = max(hi - lo, 1)
    ax.set_xlim(lo - max(0.6, 0.03 * span), hi + max(0.6, 0.03 * span))


def text_width(text: str, *, size: float, weight: str = "normal") -> float:
    """Width in points of one line of ``text`` in the current font at ``size`` pt."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    if not text:
        return 0.0
    return float(TextPath((0, 0), text, prop=FontProperties(size=size, weight=weight))
                 .get_extents().width)


def wrap_to_width(text: str, width_pt: float, *, size: float, weight: str = "normal") -> str:
    """``text`` broken into lines at spaces so that each line fits ``width_pt`` points
    (a single word wider than that keeps its own line)."""
    out: list[str] = []
    for para in text.split("\n"):
        line = ""
        for word in para.split(" "):
            trial = f"{line} {word}" if line else word
            if line and text_width(trial, size=size, weight=weight) > width_pt:
                out.append(line)
                line = word
            else:
                line = trial
        out.append(line)
    return "\n".join(out)


def floor_at_zero(ax: Axes, values: np.ndarray, *, reach: float = 1.0) -> None:
    """Start the y axis at 0 when the data come close to it, else keep the data's range.

    Zero is included when every value is non-negative and the smallest lies no farther
    from 0 than ``reach`` times the data's span (thresholds, latencies, counts: the
    honest bar of scale). Data far from zero, such as body weights of 17-24 g, keep a
    data-driven range: an axis from 0 would flatten every difference that matters.
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size and v.min() >= 0 and v.min() <= reach * (v.max() - v.min()):
        ax.set_ylim(bottom=0)


def log_y_axis(ax: Axes, values: np.ndarray) -> None:
    """A log10 y axis labelled in plain numbers (0.1, 0.2, 0.5, 1, 2 ...), not powers of 10.

    Ticks at 1, 2 and 5 per decade (every power of 10 only when the values span more
    than three decades); minor ticks at the other integers, unlabelled.
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    ax.set_yscale("log")
    decades = float(np.log10(v.max() / v.min())) if v.size else 0.0
    subs = (1.0,) if decades > 3 else (1.0, 2.0, 5.0)
    ax.yaxis.set_major_locator(LogLocator(base=10.0, subs=subs))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _pos: f"{y:g}"))
    ax.yaxis.set_minor_locator(LogLocator(base=10.0, subs=np.arange(2, 10)))
    ax.yaxis.set_minor_formatter(NullFormatter())
