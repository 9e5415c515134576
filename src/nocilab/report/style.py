"""Publication defaults for every nocilab figure: fonts, sizes, colours, labels.

Figures are drawn inside :func:`publication_style`, a ``matplotlib.rc_context`` with
a sans-serif font at 7-8 pt, thin axes without top and right spines, outward ticks,
editable text in PDF and SVG (TrueType fonts, SVG text kept as text) and no dates
written into the files, so the same data give the same bytes.

Colours come from the Okabe-Ito palette (Okabe & Ito 2008, "Color Universal Design"),
which stays distinguishable under the common colour-vision deficiencies; the control
arm is always black, its individual animals grey.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import matplotlib as mpl

# Okabe-Ito, ordered for treatment arms: strong, well separated hues first; yellow
# (poor contrast on white) last. Black is kept for the control arm.
OKABE_ITO: Mapping[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
ARM_COLOURS: tuple[str, ...] = (
    OKABE_ITO["vermillion"],
    OKABE_ITO["blue"],
    OKABE_ITO["bluish_green"],
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["orange"],
    OKABE_ITO["sky_blue"],
    OKABE_ITO["yellow"],
)
CONTROL_COLOUR = "#000000"
CONTROL_LIGHT = "#7F7F7F"
"""Grey for the control arm's individual animals and reference bands."""
SHADE = "#E8E8E8"
"""Light grey for the injection-day shading."""

ARM_MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X")
"""Marker per arm (control first), so arms stay apart in greyscale print."""
DONOR_MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h", "*", "p")

SINGLE_COLUMN_IN = 3.5  # 89 mm
ONE_AND_HALF_COLUMN_IN = 4.7  # 120 mm
DOUBLE_COLUMN_IN = 7.2  # 183 mm

_SANS_PREFERENCE = ("Arial", "Helvetica", "Liberation Sans", "Nimbus Sans", "DejaVu Sans")


@lru_cache(maxsize=1)
def _sans_fonts() -> tuple[str, ...]:
    """The preferred sans-serif families that are installed (DejaVu Sans always is)."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    found = tuple(name for name in _SANS_PREFERENCE if name in installed)
    return found or ("DejaVu Sans",)


def rc_params() -> dict[str, Any]:
    """The matplotlib settings every nocilab figure is drawn and saved with."""
    return {
        "font.family": "sans-serif",
        "font.sans-serif": list(_sans_fonts()),
        "font.size": 7.0,
        "axes.titlesize": 8.0,
        "axes.labelsize": 7.5,
        "xtick.labelsize": 7.0,
        "ytick.labelsize": 7.0,
        "legend.fontsize": 6.5,
        "legend.title_fontsize": 7.0,
        "figure.titlesize": 8.5,
        "axes.linewidth": 0.6,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.edgecolor": "#000000",
        "axes.labelcolor": "#000000",
        "axes.titleweight": "normal",
        "axes.titlepad": 4.0,
        "axes.unicode_minus": True,
        "xtick.major.width": 0.6,
        "ytick.major.width": 0.6,
        "xtick.major.size": 2.5,
        "ytick.major.size": 2.5,
        "xtick.direction": "out",
        "ytick.direction": "out",
        "xtick.color": "#000000",
        "ytick.color": "#000000",
        "lines.linewidth": 1.0,
        "lines.markersize": 3.5,
        "errorbar.capsize": 1.5,
        "legend.frameon": False,
        "legend.handlelength": 1.6,
        "legend.borderaxespad": 0.3,
        "figure.dpi": 100,
        "figure.facecolor": "white",
        "savefig.dpi": 300,
        "savefig.facecolor": "white",
        "savefig.bbox": "tight",
        "savefig.pad_inches": 0.02,
        "pdf.fonttype": 42,
        "ps.fonttype": 42,
        "svg.fonttype": "none",
        "svg.hashsalt": "nocilab",
        "path.simplify": True,
    }


@contextmanager
def publication_style() -> Iterator[None]:
    """Context in which figures are built and saved with :func:`rc_params`."""
    with mpl.rc_context(rc_params()):
        yield


def arm_order(arms: Iterable[str], *, control: str,
              arm_labels: Mapping[str, str] | None = None) -> list[str]:
    """Arms in display order: the control first, then the order of ``arm_labels``,
    then any other arm alphabetically."""
    present = list(dict.fromkeys(str(a) for a in arms))
    rest = [a for a in present if a != control]
    ordered = [a for a in (arm_labels or {}) if a in rest]
    ordered += sorted(a for a in rest if a not in ordered)
    return ([control] if control in present else []) + ordered


def arm_colours(arms: Sequence[str], *, control: str) -> dict[str, str]:
    """Colour of each arm: black for ``control``, Okabe-Ito hues for the others."""
    colours: dict[str, str] = {}
    i = 0
    for arm in arms:
        if arm == control:
            colours[arm] = CONTROL_COLOUR
        else:
            colours[arm] = ARM_COLOURS[i % len(ARM_COLOURS)]
            i += 1
    return colours


def arm_markers(arms: Sequence[str]) -> dict[str, str]:
    """Marker of each arm, in display order."""
    return {arm: ARM_MARKERS[i % len(ARM_MARKERS)] for i, arm in enumerate(arms)}


def light(colour: str, *, amount: float = 0.55) -> tuple[float, float, float]:
    """``colour`` mixed with white; ``amount`` 0 keeps it, 1 gives white."""
    r, g, b = mpl.colors.to_rgb(colour)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)


def arm_label(arm: str, arm_labels: Mapping[str, str] | None) -> str:
    """The caller's label for ``arm``, or the arm id itself."""
    return str((arm_labels or {}).get(arm, arm))


# outcome -> readable quantity; the unit comes from the derived table's ``unit`` column.
OUTCOME_LABELS: Mapping[str, str] = {
    "threshold_g": "Threshold",
    "latency_s": "Latency",
    "fibres_per_mm": "IENFD",
    "force_g": "Grip force",
    "force_g_per_g": "Grip force per body weight",
    "distance_m": "Distance travelled",
    "counts": "Activity counts",
    "count": "Responses",
    "weight_g": "Body weight",
    "concentration_ug_ml": "Human IgG",
    "fraction_positive": "Positive cells",
}

# unit suffixes that outcome names carry (``*_g``, ``*_s``, ``*_per_mm`` ...)
_UNIT_SUFFIX = re.compile(r"_(g|s|mm|m|min|h|mg|ug_ml|ng_ml|per_mm|per_g|pct|percent)$")


def outcome_label(outcome: str, unit: str | None = None) -> str:
    """A readable axis label: ``threshold_g`` and ``g`` give ``"Threshold (g)"``.

    Known outcomes use :data:`OUTCOME_LABELS`; others drop their unit suffix and turn
    underscores into spaces (``paw_withdrawals_s`` -> ``"Paw withdrawals"``).

    Examples
    --------
    >>> outcome_label("fibres_per_mm", "fibres/mm")
    'IENFD (fibres/mm)'
    >>> outcome_label("licking_time_s", "s")
    'Licking time (s)'
    >>> outcome_label("counts", "")
    'Activity counts'
    """
    name = OUTCOME_LABELS.get(outcome)
    if name is None:
        stem = _UNIT_SUFFIX.sub("", outcome) or outcome
        words = stem.replace("_", " ").strip()
        name = words[:1].upper() + words[1:]
    unit = (unit or "").strip()
    return f"{name} ({unit})" if unit else name


def stars(p: float) -> str:
    """Significance stars: ``*`` p < 0.05, ``**`` < 0.01, ``***`` < 0.001, else ``""``.

    Examples
    --------
    >>> [stars(p) for p in (0.2, 0.05, 0.049, 0.0099, 0.0001)]
    ['', '', '*', '**', '***']
    """
    if p is None or not math.isfinite(float(p)):
        return ""
    p = float(p)
    if p < 0.001:
        return "***"
    if p < 0.01:
        return "**"
    if p < 0.05:
        return "*"
    return ""


def day_label(day: int) -> str:
    """Row title of a study day: ``"Day -3"``."""
    return f"Day {int(day)}"
