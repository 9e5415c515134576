"""Figures of a nocilab report, and writing them out.

Every figure function takes data plus keyword options and returns a
:class:`matplotlib.figure.Figure` built outside pyplot (no global state, never shown):

- :func:`time_course`: mean ± SEM per arm by study day, animals faint, injection days
  shaded, baseline set apart, significance stars, censored values marked;
- :func:`donor_small_multiples`: one panel per donor against the control band;
- :func:`donor_forest`: per-donor effects with intervals, "k of n donors" per arm;
- :func:`endpoint_dots`: every animal on one day, by arm and donor, mean ± SEM;
- :func:`censoring_bars`: share of censored values per arm and day;
- :func:`power_curves`: power against donors per arm from a simulated grid.

:func:`save_figure` writes PNG/PDF/SVG (and TIFF/EPS) files; :func:`figure_svg`
returns an SVG string to embed inline in HTML, its ids made unique per figure.
"""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure

from nocilab.errors import NocilabError
from nocilab.report import style
from nocilab.report.figures_donors import donor_forest, endpoint_dots
from nocilab.report.figures_power import power_curves
from nocilab.report.figures_time import censoring_bars, donor_small_multiples, time_course

__all__ = [
    "censoring_bars",
    "donor_forest",
    "donor_small_multiples",
    "endpoint_dots",
    "figure_svg",
    "power_curves",
    "save_figure",
    "time_course",
]

FORMATS = ("png", "pdf", "svg", "tif", "eps")

# metadata that would otherwise put the date or version in the file (same data, same bytes)
_METADATA = {
    "png": {"Software": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Producer": None},
    "svg": {"Date": None},
    "eps": {"CreationDate": None},
    "tif": None,
}


def save_figure(fig: Figure, path_stem: str | Path, formats: Sequence[str] = ("png", "pdf", "svg"),
                *, dpi: int = 300) -> list[Path]:
    """Write ``fig`` once per format as ``<path_stem>.<format>``.

    Parameters
    ----------
    fig
        A figure from this module.
    path_stem
        Path without suffix (``out/figures/threshold_time_course``); missing folders
        are created.
    formats
        Any of ``png``, ``pdf``, ``svg``, ``tif``, ``eps``. PDF, SVG and EPS are
        vector with editable text; PNG and TIFF are raster at ``dpi``.
    dpi
        Resolution of raster formats (300 for halftones; 600 or more for line art).

    Returns
    -------
    list of pathlib.Path
        The files written, in the order of ``formats``.
    """
    if isinstance(formats, str):
        formats = (formats,)
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        named = ", ".join(map(repr, bad)) or "(none)"
        raise NocilabError(f"save_figure: unknown figure format(s) {named}; "
                           f"expected some of {', '.join(FORMATS)}")
    stem = Path(path_stem)
    if stem.name in ("", ".", ".."):
        raise NocilabError(f"save_figure: {str(path_stem)!r} does not name a file")
    stem.parent.mkdir(parents=True, exist_ok=True)
    out = []
    with style.publication_style():
        for fmt in dict.fromkeys(formats):
            path = stem.with_name(f"{stem.name}.{fmt}")
            kwargs = {"format": "tiff" if fmt == "tif" else fmt, "dpi": dpi}
            if _METADATA[fmt] is not None:
                kwargs["metadata"] = _METADATA[fmt]
            if fmt == "tif":
                kwargs["pil_kwargs"] = {"compression": "tiff_lzw"}
            fig.savefig(path, **kwargs)
            out.append(path)
    return out


_ID_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


def figure_svg(fig: Figure, *, id_prefix: str | None = None) -> str:
    """The figure as an ``<svg>`` element for inline HTML.

    The XML declaration, DOCTYPE and comments are stripped; every id is prefixed with
    ``id_prefix`` (default: a fresh random one), references to it (``url(#...)``,
    ``xlink:href``) follow, the root gets ``id=id_prefix`` and matplotlib's global
    ``*`` stylesheet is scoped to it, so several figures can live in one page.

    Parameters
    ----------
    fig
        A figure from this module.
    id_prefix
        Letters, digits, ``_`` and ``-``, starting with a letter. Give one for
        byte-identical output across runs.

    Returns
    -------
    str
        An SVG document fragment starting with ``<svg``; text is kept as text.
    """
    if id_prefix is None:
        id_prefix = f"fig-{uuid.uuid4().hex[:10]}"
    if not _ID_PREFIX.match(id_prefix):
        raise NocilabError(f"figure_svg: id_prefix {id_prefix!r} must start with a letter and hold "
                           "only letters, digits, '_' and '-'")
    buf = io.BytesIO()
    with style.publication_style():
        fig.savefig(buf, format="svg", metadata=_METADATA["svg"])
    text = buf.getvalue().decode("utf-8")
    start = text.find("<svg")
    if start < 0:  # pragma: no cover - matplotlib always writes an <svg> root
        raise NocilabError("figure_svg: matplotlib wrote no <svg> element")
    text = re.sub(r"<!--.*?-->", "", text[start:], flags=re.S)
    ids = set(re.findall(r'\bid="([^"]+)"', text))
    new = {old: f"{id_prefix}-{old}" for old in ids}

    def _ref(match: re.Match[str]) -> str:
        target = match.group(2)
        return f"{match.group(1)}{new.get(target, target)}{match.group(3)}"

    text = re.sub(r'(\bid=")([^"]+)(")', _ref, text)
    text = re.sub(r"(url\(#)([^)]+)(\))", _ref, text)
    text = re.sub(r'((?:xlink:)?href="#)([^"]+)(")', _ref, text)
    text = re.sub(r"<svg\b", f'<svg id="{id_prefix}"', text, count=1)
    text = text.replace("*{stroke-linejoin", f"#{id_prefix} *{{stroke-linejoin")
    return text.strip() + "\n"
