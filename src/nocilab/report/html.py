"""The self-contained HTML report: one file, figures inline as SVG, no network needed.

:func:`render_report` fills the Jinja2 template ``templates/report.html`` (styles from
``templates/report.css`` are inlined). :func:`table_html` renders a results table for
the page, rounding only for display: the CSV files keep full precision.
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

P_COLUMNS = ("p", "p_adj", "p_gg", "p_holm", "p_value", "p_outcomes")
INT_COLUMNS = ("df_num", "n", "n_animals", "n_donors", "n_censored", "n_total", "study_day",
               "day", "item")


def fmt_p(p: float) -> str:
    """A p-value as a reader expects it: '< 0.001', '0.012', '0.43'."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return ""
    if p < 0.001:
        return "< 0.001"
    if p < 0.01:
        return f"{p:.3f}"
    return f"{p:.2f}" if p >= 0.1 else f"{p:.3f}"


def fmt_num(x: Any, digits: int = 3) -> str:
    """A number with ``digits`` significant digits (no scientific notation for lab sizes)."""
    if x is None:
        return ""
    if isinstance(x, bool | np.bool_):
        return "yes" if x else "no"
    if isinstance(x, int | np.integer):
        return str(int(x))
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if math.isnan(v):
        return ""
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    if v == 0:
        return "0"
    mag = math.floor(math.log10(abs(v)))
    if mag >= 6 or mag < -4:
        return f"{v:.{digits - 1}e}"
    decimals = max(0, digits - 1 - mag)
    return f"{v:,.{decimals}f}" if abs(v) >= 1e4 else f"{v:.{decimals}f}"


def table_html(frame: pd.DataFrame, *, columns: list[str] | None = None,
               labels: dict[str, str] | None = None, max_rows: int = 400) -> str:
    """An HTML table of ``frame`` with numbers right-aligned and p-values formatted."""
    if columns is not None:
        frame = frame[[c for c in columns if c in frame.columns]]
    labels = labels or {}
    head = "".join(
        f'<th class="{"num" if pd.api.types.is_numeric_dtype(frame[c]) else ""}">'
        f"{html.escape(labels.get(c, c))}</th>" for c in frame.columns)
    rows = []
    for rec in frame.head(max_rows).itertuples(index=False):
        cells = []
        for c, v in zip(frame.columns, rec):
            numeric = isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)
            if c in P_COLUMNS and numeric:
                text = fmt_p(float(v))
            elif c in INT_COLUMNS and numeric and not (isinstance(v, float) and math.isnan(v)) \
                    and float(v).is_integer():
                text = str(int(v))
            elif numeric:
                text = fmt_num(v)
            else:
                text = "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
            cells.append(f'<td class="{"num" if numeric else ""}">{html.escape(text)}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = ""
    if len(frame) > max_rows:
        more = f'<p class="note">{len(frame) - max_rows} more rows in the CSV file.</p>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"


def _environment() -> Environment:
    return Environment(loader=PackageLoader("nocilab.report", "templates"),
                       autoescape=select_autoescape(["html"]), keep_trailing_newline=True)


def render_report(context: dict[str, Any]) -> str:
    """Render the report page from a context dict (see :mod:`nocilab.report.build`)."""
    env = _environment()
    css = env.loader.get_source(env, "report.css")[0]  # type: ignore[union-attr]
    return env.get_template("report.html").render(css=css, **context)
