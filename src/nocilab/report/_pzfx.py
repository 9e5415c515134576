"""GraphPad Prism XML (.pzfx): one "grouped" table per outcome.

The layout Prism reads for a grouped (two-way) data table with replicate values::

    <?xml version="1.0" encoding="UTF-8"?>
    <GraphPadPrismFile xmlns="http://graphpad.com/prism/Prism.htm" PrismXMLVersion="5.00">
      <Created><OriginalVersion CreatedByProgram=... DateTime=.../></Created>
      <InfoSequence><Ref ID="Info0" Selected="1"/></InfoSequence>
      <Info ID="Info0"><Title/><Notes/><Constant><Name/><Value/></Constant>...</Info>
      <TableSequence><Ref ID="Table0" Selected="1"/>...</TableSequence>
      <Table ID="Table0" XFormat="none" YFormat="replicates" Replicates="N"
             TableType="TwoWay" EVFormat="AsteriskAfterNumber">
        <Title>...</Title>
        <RowTitlesColumn><Subcolumn><d>Day -3</d>...</Subcolumn></RowTitlesColumn>
        <YColumn Subcolumns="N"><Title>arm</Title>
          <Subcolumn><d>value of replicate 1 on row 1</d>...</Subcolumn> x N
        </YColumn> ...
      </Table>
    </GraphPadPrismFile>

Grouped tables have no X column. Here rows are study days, data sets (``YColumn``) are
arms with the control first, and the replicate subcolumns are the arm's animals (sorted
by donor, then animal); an arm with fewer animals is padded with empty cells. The
animal of each subcolumn and every censored value are listed in the project notes, as
Prism has no place for them in the table.

Beside an outcome's grouped table, a **column table of donor means** (``TableType=
"OneWay"``, one ``YColumn`` per arm with one subcolumn, one row per donor) holds what the
report's donor-level test compares: each donor's mean over its mice of the mean change
from baseline over the analysis window (:func:`nocilab.stats.donor_test.unit_means`).
In Prism, an unpaired t test with equal SDs on the two columns (or a one-way ANOVA with
Dunnett's test against the control column for several arms) gives the test's t, df and
p. The donor of each row is listed in the notes. Written from the format as Prism files show
it; no Prism code or third-party writer is used.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from nocilab.errors import NocilabError
from nocilab.report import style
from nocilab.report._plotdata import check_derived, natural_key

PRISM_NS = "http://graphpad.com/prism/Prism.htm"


def _version() -> str:
    try:
        from importlib.metadata import version
        return version("nocilab")
    except Exception:  # pragma: no cover - not installed as a distribution
        return "unknown"


def _number(v: float) -> str:
    """Shortest text that reads back as the same float."""
    if float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


def _decimals(values: list[float]) -> int:
    """Decimals Prism should display: enough for every value, at most 6."""
    need = 0
    for v in values:
        for k in range(0, 7):
            if abs(round(v, k) - v) <= 1e-9 * max(1.0, abs(v)):
                need = max(need, k)
                break
        else:
            need = 6
    return need


def _grouped_table(d: pd.DataFrame, *, table_id: str, title: str, control: str,
                   arm_labels: Mapping[str, str] | None) -> tuple[ET.Element, list[str]]:
    """One grouped table element and the note lines describing its subcolumns."""
    arms = style.arm_order(d["arm"], control=control, arm_labels=arm_labels)
    days = sorted(int(x) for x in d["study_day"].unique())
    animals = {}
    for arm in arms:
        sub = d[d["arm"] == arm][["donor", "animal"]].drop_duplicates()
        order = sorted(sub.itertuples(index=False),
                       key=lambda r: (natural_key(r.donor), natural_key(r.animal)))
        animals[arm] = [(r.animal, r.donor) for r in order]
    n_rep = max(len(a) for a in animals.values())
    value = {(r.animal, int(r.study_day)): r.plot_value
             for r in d[["animal", "study_day", "plot_value"]].itertuples(index=False)}
    finite = [float(v) for v in value.values() if isinstance(v, float) and math.isfinite(v)]
    decimals = str(_decimals(finite))

    table = ET.Element("Table", {
        "ID": table_id, "XFormat": "none", "YFormat": "replicates",
        "Replicates": str(n_rep), "TableType": "TwoWay", "EVFormat": "AsteriskAfterNumber",
    })
    ET.SubElement(table, "Title").text = title
    rows = ET.SubElement(table, "RowTitlesColumn", {"Width": "64"})
    sub = ET.SubElement(rows, "Subcolumn")
    for day in days:
        ET.SubElement(sub, "d").text = style.day_label(day)
    notes = [f"Table '{title}': rows are study days; subcolumns are animals."]
    for arm in arms:
        label = style.arm_label(arm, arm_labels)
        col = ET.SubElement(table, "YColumn", {"Width": str(max(81, 54 * n_rep)),
                                               "Decimals": decimals, "Subcolumns": str(n_rep)})
        ET.SubElement(col, "Title").text = label
        for k in range(n_rep):
            sc = ET.SubElement(col, "Subcolumn")
            animal = animals[arm][k][0] if k < len(animals[arm]) else None
            for day in days:
                cell = ET.SubElement(sc, "d")
                v = value.get((animal, day)) if animal is not None else None
                if v is not None and math.isfinite(v):
                    cell.text = _number(v)
        notes.append(f"  {label}: " + ", ".join(f"{i + 1} = {a} ({dn})"
                                                 for i, (a, dn) in enumerate(animals[arm])))
    cens = d[d["is_censored"]].sort_values(["animal", "study_day"])
    if len(cens):
        notes.append("  Censored values, entered at their bound: " + ", ".join(
            f"{r.animal} {style.day_label(r.study_day)} ({r.censored} at {_number(r.bound)})"
            for r in cens.itertuples(index=False)))
    missing = d[~d["plot_value"].map(lambda v: math.isfinite(v))]
    if len(missing):
        notes.append("  Left empty (no value): " + ", ".join(
            f"{r.animal} {style.day_label(r.study_day)}"
            + (f" ({r.note})" if "note" in d.columns and str(r.note or "") else "")
            for r in missing.itertuples(index=False)))
    return table, notes


DONOR_MEAN_COLUMNS = ("unit", "arm", "n_animals", "value")
"""The columns of a donor-mean table (those of :data:`nocilab.stats.donor_test.UNIT_COLUMNS`)."""


@dataclass(frozen=True)
class DonorMeans:
    """One outcome's donor means as the donor-level test uses them.

    ``units`` has :data:`DONOR_MEAN_COLUMNS` (``unit`` is ``"donor P01"``, or
    ``"animal M07"`` for an animal without a donor); ``quantity`` and ``window`` say what
    each value is (``"mean change from baseline"``, ``"days 1-21"``).
    """

    units: pd.DataFrame
    quantity: str
    window: str


def donor_means(rows: pd.DataFrame, *, baseline_days: tuple[float, ...],
                window: tuple[float | None, float | None]) -> DonorMeans:
    """The donor means of one outcome's derived rows, computed exactly as the donor-level
    test computes them (:func:`nocilab.stats.donor_test.unit_means`), with the same
    baseline days and window as the analysis."""
    from nocilab.stats.donor_test import unit_means

    has_donor = rows["donor"].notna().any() and (rows["donor"].astype(str).str.strip() != "").any()
    units, quantity, window_text, _ = unit_means(
        rows, value="value", arm="arm", day="study_day", animal="animal",
        donor="donor" if has_donor else None, baseline_days=baseline_days, window=window)
    return DonorMeans(units=units, quantity=quantity, window=window_text)


def _column_table(means: DonorMeans, *, table_id: str, title: str, control: str,
                  arm_labels: Mapping[str, str] | None) -> tuple[ET.Element, list[str]]:
    """A column (one-way) table: one data set per arm, one row per donor."""
    u = means.units
    missing = [c for c in DONOR_MEAN_COLUMNS if c not in u.columns]
    if missing:
        raise NocilabError(f"write_pzfx: donor means for {title!r} lack column(s) "
                           f"{', '.join(missing)}; expected {', '.join(DONOR_MEAN_COLUMNS)}")
    if control not in set(u["arm"].astype(str)):
        raise NocilabError(f"write_pzfx: donor means for {title!r} have no control arm "
                           f"{control!r}")
    arms = style.arm_order(u["arm"].astype(str), control=control, arm_labels=arm_labels)
    decimals = str(_decimals([float(v) for v in u["value"] if math.isfinite(v)]))
    table = ET.Element("Table", {"ID": table_id, "XFormat": "none", "TableType": "OneWay",
                                 "EVFormat": "AsteriskAfterNumber"})
    ET.SubElement(table, "Title").text = title
    notes = [f"Table '{title}': one value per donor, the {means.quantity} over "
             f"{means.window} averaged over the donor's mice: the values the donor-level "
             "test compares (results/donor_test.csv). An unpaired t test with equal SDs "
             "(or a one-way ANOVA with Dunnett's test against the first column, for several "
             "arms) reproduces it."]
    for arm in arms:
        sub = u[u["arm"].astype(str) == arm]
        sub = sub.iloc[sorted(range(len(sub)), key=lambda i: natural_key(str(sub["unit"].iloc[i])))]
        label = style.arm_label(arm, arm_labels)
        col = ET.SubElement(table, "YColumn", {"Width": "81", "Decimals": decimals,
                                               "Subcolumns": "1"})
        ET.SubElement(col, "Title").text = label
        sc = ET.SubElement(col, "Subcolumn")
        for v in sub["value"]:
            ET.SubElement(sc, "d").text = _number(float(v)) if math.isfinite(v) else None
        notes.append(f"  {label}: " + ", ".join(
            f"{i + 1} = {unit.split(' ', 1)[-1]} ({n} {'mouse' if n == 1 else 'mice'})"
            for i, (unit, n) in enumerate(zip(sub["unit"], sub["n_animals"].astype(int),
                                              strict=True))))
    return table, notes


def _document(tables: list[tuple[pd.DataFrame, str]], *, control: str,
              arm_labels: Mapping[str, str] | None, created: datetime | None,
              donor_tables: Mapping[str, DonorMeans] | None = None) -> str:
    stamp = (created or datetime.now(UTC)).replace(microsecond=0)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    root = ET.Element("GraphPadPrismFile", {"xmlns": PRISM_NS, "PrismXMLVersion": "5.00"})
    cr = ET.SubElement(root, "Created")
    ET.SubElement(cr, "OriginalVersion", {"CreatedByProgram": "nocilab",
                                          "CreatedByVersion": _version(), "Login": "",
                                          "DateTime": stamp.isoformat()})
    seq = ET.SubElement(root, "InfoSequence")
    ET.SubElement(seq, "Ref", {"ID": "Info0", "Selected": "1"})
    info = ET.SubElement(root, "Info", {"ID": "Info0"})
    ET.SubElement(info, "Title").text = "Project info 1"
    notes_el = ET.SubElement(info, "Notes")
    font = ET.SubElement(notes_el, "Font", {"Color": "#000000", "Face": "Helvetica"})

    elements, lines = [], [f"Exported by nocilab {_version()}. Values as derived; "
                           "censored values entered at their bound."]
    donor_tables = donor_tables or {}
    for frame, title in tables:
        el, note = _grouped_table(frame, table_id=f"Table{len(elements)}", title=title,
                                  control=control, arm_labels=arm_labels)
        elements.append(el)
        lines += note
        if title in donor_tables:
            el, note = _column_table(donor_tables[title], table_id=f"Table{len(elements)}",
                                     title=f"{title} donor means", control=control,
                                     arm_labels=arm_labels)
            elements.append(el)
            lines += note
    font.text = lines[0]
    for line in lines[1:]:
        ET.SubElement(font, "BR").tail = line
    for name, val in (("Experiment Date", stamp.date().isoformat()),
                      ("Exported by", f"nocilab {_version()}")):
        const = ET.SubElement(info, "Constant")
        ET.SubElement(const, "Name").text = name
        ET.SubElement(const, "Value").text = val

    tseq = ET.SubElement(root, "TableSequence")
    for i in range(len(elements)):
        attrs = {"ID": f"Table{i}"}
        if i == 0:
            attrs["Selected"] = "1"
        ET.SubElement(tseq, "Ref", attrs)
    root.extend(elements)
    ET.indent(root, space="")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            + ET.tostring(root, encoding="unicode", short_empty_elements=True) + "\n")


def to_pzfx(derived: pd.DataFrame, *, control: str,
            arm_labels: Mapping[str, str] | None = None,
            title: str | None = None,
            created: datetime | None = None) -> str:
    """One outcome as a Prism file holding one grouped table.

    Parameters
    ----------
    derived
        Rows of the derived table for one outcome.
    control
        The control arm (first data set).
    arm_labels
        arm -> data-set title; its order sets the order of the other arms.
    title
        Table title; default the readable outcome and unit (``"Threshold (g)"``).
    created
        Time stamp written into the file (default now, UTC); fix it for
        byte-identical output.

    Returns
    -------
    str
        The ``.pzfx`` XML text (write it with UTF-8 encoding).
    """
    d = check_derived(derived, what="to_pzfx", control=control)
    title = title or style.outcome_label(str(d["outcome"].iloc[0]), str(d["unit"].iloc[0]))
    return _document([(d, title)], control=control, arm_labels=arm_labels, created=created)


def write_pzfx(path: str | Path, tables: Mapping[str, pd.DataFrame], *, control: str,
               arm_labels: Mapping[str, str] | None = None,
               created: datetime | None = None,
               donor_tables: Mapping[str, DonorMeans] | None = None) -> Path:
    """Write several outcomes into one Prism file, one grouped table each, each followed
    by its column table of donor means when ``donor_tables`` has one.

    Parameters
    ----------
    path
        The ``.pzfx`` file; its folder is created if missing.
    tables
        table title -> rows of the derived table for one outcome (see
        :func:`~nocilab.report.exports.tables_by_outcome`).
    control, arm_labels, created
        As for :func:`to_pzfx`; every table must contain the control arm.
    donor_tables
        table title (a key of ``tables``) -> :class:`DonorMeans` of that outcome
        (:func:`donor_means`); written as the column table ``"<title> donor means"``.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    if not isinstance(tables, Mapping) or not tables:
        raise NocilabError("write_pzfx: expected a non-empty mapping of title -> derived rows")
    checked = []
    for name, frame in tables.items():
        if not str(name).strip():
            raise NocilabError("write_pzfx: a table title is empty")
        checked.append((check_derived(frame, what=f"write_pzfx, table {name!r}", control=control),
                        str(name)))
    unknown = sorted(set(donor_tables or {}) - {t for _, t in checked})
    if unknown:
        raise NocilabError(f"write_pzfx: donor means for {', '.join(unknown)}, which is not "
                           "a table of the file")
    text = _document(checked, control=control, arm_labels=arm_labels, created=created,
                     donor_tables=donor_tables)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p
