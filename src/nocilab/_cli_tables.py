"""Tables for the terminal: a data frame as a rich table, missing values left blank."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
from rich.table import Table


def cell(value: object) -> str:
    """The text of one cell: blank for a missing value, plain numbers (no ``np.float64``)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def frame_table(frame: pd.DataFrame, columns: Mapping[str, str] | Sequence[str], *,
                title: str | None = None, numeric: Sequence[str] = (),
                times: Sequence[str] = ()) -> Table:
    """A rich table of ``frame``'s ``columns`` (a mapping gives them headers).

    Missing values (None, NaN, <NA>) are blank; columns in ``numeric`` are right-aligned;
    columns in ``times`` (ISO timestamps) are shown to the second, in UTC. Numbers and times
    never wrap; long text wraps inside its column instead of widening the table.
    """
    headers = dict(columns) if isinstance(columns, Mapping) else {c: c for c in columns}
    table = Table(title=title, show_header=True)
    shown = frame[list(headers)].copy()
    for col in times:
        if col in shown:
            stamps = pd.to_datetime(shown[col], utc=True, errors="coerce", format="ISO8601")
            shown[col] = stamps.dt.strftime("%Y-%m-%d %H:%M:%S").where(stamps.notna(), None)
    for col, header in headers.items():
        fixed = col in numeric or col in times
        table.add_column(header, justify="right" if col in numeric else "left",
                         no_wrap=fixed, overflow="fold")
    for row in shown.itertuples(index=False):
        table.add_row(*[cell(v) for v in row])
    return table
