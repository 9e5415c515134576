"""Printable sheets for the blinded: cage cards, the injection sheet, test sheets.

Every sheet shows codes only (animal codes, vial codes), never an arm, donor or
preparation, whatever the blinding state: sheets are for the people who inject and
test. They are standalone HTML files (Jinja2 templates in ``templates/``) with
print-friendly CSS: A4 pages, one sheet per page, borders that print.

- **Cage cards**: per cage, the animal codes with sex, strain and age.
- **Injection sheet**: animal code -> vial code, dose (mg), volume, route, and one box
  per injection day. The volume is printed only when every preparation is given in the
  same volume; otherwise it would tell preparations apart (study.toml lists their
  concentrations), so the sheet says "as on the vial label" and the labels carry it.
- **Test sheets**: one per assay and study day of the schedule, animals in a random
  testing order (seeded per session from the allocation's public ``order_seed``, so a
  sheet printed twice has the same order), with empty reading columns: one per trial
  for plain readings, and for von Frey up-down a row of X/O boxes per trial (long
  enough for the longest series the filament set allows) and the last filament used.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd

from nocilab import __version__
from nocilab.design.blinding import assignments, blinding_state
from nocilab.errors import DesignError
from nocilab.store import _allocation as sa_alloc

__all__ = [
    "Session",
    "cage_cards_html",
    "injection_sheet_html",
    "parse_session",
    "reading_columns",
    "session_order",
    "session_sheet_html",
    "write_sheets",
]

SUDO_STIMULI = 5
OPEN_LABEL = "open study (not blinded)"


@dataclass(frozen=True)
class Session:
    """One test session: an assay on a study day."""

    assay: str
    study_day: int

    @property
    def file_name(self) -> str:
        return f"test_{self.assay}_day{self.study_day}.html"


def parse_session(text: str) -> Session:
    """``'von_frey:-1'`` -> ``Session('von_frey', -1)``.

    Examples
    --------
    >>> parse_session("paw_pressure:3")
    Session(assay='paw_pressure', study_day=3)
    """
    assay, sep, day = text.partition(":")
    try:
        if not sep or not assay.strip():
            raise ValueError
        return Session(assay.strip(), int(day))
    except ValueError:
        raise DesignError(f"session {text!r}: expected ASSAY:DAY, e.g. von_frey:-1") from None


# ------------------------------------------------------------------------------- pure

def session_order(codes: list[str], *, order_seed: int, assay: str, study_day: int) -> list[str]:
    """The codes in the random testing order of one session (reproducible).

    The permutation is drawn from ``SHA-256(order_seed | assay | study_day)``, so every
    session has its own order and printing a sheet again gives the same order. The
    codes are sorted first, so the order does not depend on how they were listed.
    """
    digest = hashlib.sha256(f"{order_seed}|{assay}|{study_day}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest, "big"))
    ordered = sorted(codes)
    return [ordered[i] for i in rng.permutation(len(ordered))]


def _xo_boxes(settings: Any) -> int:
    """X/O boxes for the longest up-down series the filament set allows.

    A run of one response can last from the start filament to the end of the set before
    the first change (``max(start + 1, n - start)`` stimuli), then
    ``stimuli_after_change`` more are given.
    """
    from nocilab.assays.von_frey import load_filament_set

    fs = load_filament_set(settings.filaments)
    n = len(fs)
    start = fs.position(settings.start_filament) if settings.start_filament else (n + 1) // 2 - 1
    return max(start + 1, n - start) + int(settings.stimuli_after_change)


def reading_columns(assay: str, settings: Any) -> dict:
    """The empty columns of a test sheet: ``{"kind": ..., "trials": n, ...}``.

    ``kind`` is ``"xo"`` (von Frey up-down or SUDO: ``boxes`` X/O boxes and a last
    filament cell per trial) or ``"values"`` (``labels``: one column per label).
    """
    method = getattr(settings, "method", None)
    trials = int(getattr(settings, "trials", 1) or 1)
    if assay == "von_frey" and method in ("up_down", "sudo"):
        boxes = SUDO_STIMULI if method == "sudo" else _xo_boxes(settings)
        return {"kind": "xo", "trials": trials, "boxes": boxes,
                "filaments": str(settings.filaments)}
    if assay == "von_frey":
        quantity = "force (g)"
    elif assay in ("cold_plate", "heat"):
        quantity = "latency (s)" if settings.mode == "latency" else "count"
    elif assay == "activity":
        quantity = "distance (m)" if settings.quantity == "distance_m" else "counts"
        trials = 1
    elif assay == "body_weight":
        quantity, trials = "weight (g)", 1
    elif assay == "ienfd":
        trials = int(settings.sections or 3)
        labels = [f"s{s} {q}" for s in range(1, trials + 1) for q in ("fibres", "length (mm)")]
        return {"kind": "values", "trials": trials, "labels": labels}
    else:
        quantity = "force (g)"
    labels = [quantity] if trials == 1 else [f"{quantity} {t}" for t in range(1, trials + 1)]
    return {"kind": "values", "trials": trials, "labels": labels}


def _settings_note(assay: str, settings: Any) -> str:
    parts = []
    for name in ("method", "mode", "filaments", "temperature_c", "cutoff_g", "cutoff_s",
                 "window_s", "stimuli_after_change", "aggregate", "apparatus", "marker"):
        value = getattr(settings, name, None)
        if value is not None:
            parts.append(f"{name.replace('_', ' ')}: {value}")
    return "; ".join(parts)


def _volume_ul(prep: Any, amount_mg: float) -> float | None:
    if prep.concentration_mg_ml:
        return amount_mg / prep.concentration_mg_ml * 1000.0
    return prep.volume_ul


# ---------------------------------------------------------------------- from the study

def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("nocilab.design", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _blinded(study, store) -> tuple[pd.DataFrame, int, str]:
    """Codes joined with the public animal data, the order seed and the run label."""
    state = blinding_state(study, store)
    if state == "not allocated":
        raise DesignError(f"study {study.info.id} is not allocated: run `nocilab allocate` "
                          "before printing sheets")
    codes = assignments(study, store, reveal=False)[["animal", "animal_code", "vial_code"]]
    table = study.animal_table()[["animal", "sex", "cage", "strain", "age_weeks"]]
    frame = codes.merge(table, on="animal", how="left")
    run = sa_alloc.current_run(store)
    if run is None:  # open study: animal ids are the codes, no secret order seed exists
        seed = int.from_bytes(hashlib.sha256(study.info.id.encode()).digest()[:8], "big")
        label = OPEN_LABEL
    else:
        seed, label = run.order_seed, f"allocation run {run.run_id}, blinded codes"
    return frame, seed, label


def _context(study, label: str, title: str) -> dict:
    return {"study_id": study.info.id, "study_title": study.info.title, "title": title,
            "run_label": label, "blinded": label != OPEN_LABEL, "version": __version__,
            "generated": dt.date.today().isoformat()}


def cage_cards_html(study, store) -> str:
    """Cage cards: per cage, animal codes with sex, strain and age; no arm."""
    frame, _seed, label = _blinded(study, store)
    cages = []
    for cage, sub in frame.groupby("cage", sort=True):
        sub = sub.sort_values("animal_code")
        cages.append({"cage": cage, "animals": [
            {"code": r.animal_code, "sex": r.sex, "strain": r.strain,
             "age": "" if not math.isfinite(r.age_weeks) else f"{r.age_weeks:.1f} wk"}
            for r in sub.itertuples()]})
    return _env().get_template("cage_cards.html").render(
        **_context(study, label, "Cage cards"), cages=cages)


def injection_sheet_html(study, store) -> str:
    """The injection sheet: animal code -> vial code, dose, volume, route, days."""
    frame, _seed, label = _blinded(study, store)
    dosing = study.dosing
    volumes = {p.id: _volume_ul(p, dosing.amount_mg) for p in study.preparations}
    distinct = {None if v is None else round(v, 3) for v in volumes.values()}
    if len(distinct) == 1 and None not in distinct:
        volume, note = f"{next(iter(distinct)):g} µl", ""
    else:
        volume = "see vial"
        note = ("Volumes differ between preparations (or are not given): each vial label "
                "states its volume. Printing them here would tell the preparations apart.")
    rows = [{"code": r.animal_code, "cage": r.cage, "vial": r.vial_code}
            for r in frame.sort_values(["cage", "animal_code"]).itertuples()]
    return _env().get_template("injection_sheet.html").render(
        **_context(study, label, "Injection sheet"), rows=rows, amount_mg=f"{dosing.amount_mg:g}",
        route=dosing.route, days=list(dosing.days), volume=volume, note=note)


def session_sheet_html(study, store, session: Session) -> str:
    """The test sheet of one session: codes in random order, empty reading columns."""
    from nocilab.assays.registry import get_assay

    if not study.scheduled(session.assay, session.study_day):
        days = study.schedule.get(session.assay)
        known = (f"scheduled on days {', '.join(map(str, days))}" if days else
                 f"not scheduled (scheduled assays: {', '.join(study.schedule) or 'none'})")
        raise DesignError(f"{study.path}: {session.assay} on study day {session.study_day} "
                          f"is not in [schedule]; {session.assay} is {known}")
    frame, seed, label = _blinded(study, store)
    settings = study.assay_settings(session.assay)
    columns = reading_columns(session.assay, settings)
    order = session_order(frame["animal_code"].tolist(), order_seed=seed,
                          assay=session.assay, study_day=session.study_day)
    cage = dict(zip(frame["animal_code"], frame["cage"], strict=True))
    sex = dict(zip(frame["animal_code"], frame["sex"], strict=True))
    rows = [{"n": i + 1, "code": c, "cage": cage[c], "sex": sex[c]} for i, c in enumerate(order)]
    day = session.study_day
    kind = "baseline" if day < 0 else "after the first injection"
    title = get_assay(session.assay).title
    if session.assay == "von_frey":
        title = f"von Frey ({str(settings.method).replace('_', '-')})"
    return _env().get_template("test_sheet.html").render(
        **_context(study, label, f"{title}: study day {day}"),
        assay=session.assay, study_day=day, day_kind=kind, rows=rows, columns=columns,
        settings_note=_settings_note(session.assay, settings))


def write_sheets(study, store, out: str | Path, *,
                 sessions: list[Session] | None = None) -> list[Path]:
    """Write the cage cards, the injection sheet and test sheets into folder ``out``.

    ``sessions`` default: every assay and study day of the schedule. Returns the paths
    written (``cage_cards.html``, ``injection_sheet.html``,
    ``test_<assay>_day<day>.html`` ...).
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise DesignError(f"{out} is a file; --out needs a folder")
    if sessions is None:
        sessions = sorted((Session(a, d) for a, days in study.schedule.items() for d in days),
                          key=lambda s: (s.study_day, s.assay))
    pages = [("cage_cards.html", cage_cards_html(study, store)),
             ("injection_sheet.html", injection_sheet_html(study, store))]
    pages += [(s.file_name, session_sheet_html(study, store, s)) for s in sessions]
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, html in pages:
        path = out / name
        path.write_text(html, encoding="utf-8")
        written.append(path)
    return written
