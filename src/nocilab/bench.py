"""At the bench: test sessions, their animals in testing order, readings entered by hand.

A test session is one assay on one study day of the ``[schedule]``. This module gives

- :func:`entry_form`: what one reading of an assay is made of (the fields of its form);
- :func:`session_animals`: the animals of a session by code, in the session's random
  testing order (the order of the printed test sheet), with what is stored for each;
- :func:`schedule_progress`: per assay and day, how many animals are done, partly done
  or missing, and whether a session is late;
- :func:`enter_reading`: one reading typed in, checked by the importer's own checks
  (:func:`nocilab.ingest.one_reading.check_reading`: those of
  :func:`nocilab.ingest.validate.check_readings`, on one reading without frames) and
  written by the importer's write path
  (:meth:`Store.import_observations`: one transaction, the ``import`` and ``insert``
  audit events carrying who entered it). Each form carries a token: sending the same
  form twice adds nothing. A second value for a reading already stored is refused
  (:class:`~nocilab.errors.ReadingAlreadyStored`): it must be a correction;
- :func:`reading_value`, :func:`trial_values`: the derived value of one trial and of
  the animal's day, from the same calculators as the derived table.

Everything here shows animals by their codes (the animal id itself in an open study)
and never an arm, donor or preparation: the bench is blinded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from nocilab.assays.registry import derive_readings
from nocilab.design.blinding import assignments, blinding_state
from nocilab.design.sheets import session_order
from nocilab.errors import (AssayError, DesignError, Problem, ReadingAlreadyStored,
                             ReadingProblems, StoreError)
from nocilab.ingest.edit import write_changes
from nocilab.ingest.one_reading import check_reading
from nocilab.ingest.validate import OBSERVATION_ROWS
from nocilab.store import _allocation as sa_alloc
from nocilab.store._audit import canonical_json

__all__ = [
    "AnimalSession",
    "EntryField",
    "EntryForm",
    "EntryResult",
    "SessionAnimal",
    "animal_session",
    "correct_reading",
    "entry_form",
    "enter_reading",
    "reading_value",
    "schedule_progress",
    "session_animals",
    "trial_values",
]

ENTRY_SOURCE = "web entry"
"""The ``imports.file_name`` prefix of readings entered by hand."""


@dataclass(frozen=True)
class EntryField:
    """One number or text of a reading: its quantity, a label and its limits."""

    quantity: str
    label: str
    unit: str
    minimum: float | None = None
    maximum: float | None = None
    step: str = "any"


@dataclass(frozen=True)
class EntryForm:
    """What one reading of an assay holds, and how many make an animal's day.

    ``kind`` is ``"series"`` (von Frey up-down or SUDO: X/O taps; the quantities stored
    are ``xo_series``, ``last_filament`` and ``filaments_used``) or ``"numbers"`` (the
    ``fields``). ``trials`` readings (trials, sections) are expected per animal and day.
    ``cutoff`` is the cut-off above which nothing can be recorded (a reading at it is
    censored), with ``cutoff_unit``.
    """

    assay: str
    kind: str
    method: str
    trials: int
    fields: tuple[EntryField, ...]
    cutoff: float | None = None
    cutoff_unit: str = ""

    @property
    def quantities(self) -> tuple[str, ...]:
        """The quantities every complete reading has."""
        if self.kind == "series":
            return ("xo_series",) if self.method == "sudo" else ("xo_series", "last_filament")
        return tuple(f.quantity for f in self.fields)

    @property
    def trial_label(self) -> str:
        return "section" if self.assay == "ienfd" else "trial"


def entry_form(assay: str, settings: Any) -> EntryForm:
    """The form of one reading of ``assay`` with its study settings."""
    method = str(getattr(settings, "method", "") or "")
    trials = int(getattr(settings, "trials", 1) or 1)
    if assay == "von_frey" and method in ("up_down", "sudo"):
        return EntryForm(assay, "series", method, trials, ())
    if assay == "von_frey":
        cut = settings.cutoff_g
        return EntryForm(assay, "numbers", method, trials,
                         (EntryField("force_g", "force", "g", 0.0, cut),), cut, "g")
    if assay == "paw_pressure":
        cut = settings.cutoff_g
        return EntryForm(assay, "numbers", "", trials,
                         (EntryField("force_g", "force", "g", 0.0, cut),), cut, "g")
    if assay in ("cold_plate", "heat"):
        if settings.mode == "count":
            return EntryForm(assay, "numbers", settings.mode, trials,
                             (EntryField("count", "count", "", 0.0, None, "1"),))
        cut = settings.cutoff_s
        return EntryForm(assay, "numbers", settings.mode, trials,
                         (EntryField("latency_s", "latency", "s", 0.0, cut),), cut, "s")
    if assay == "grip":
        return EntryForm(assay, "numbers", "", trials,
                         (EntryField("force_g", "peak force", "g", 0.0),))
    if assay == "activity":
        field = (EntryField("distance_m", "distance", "m", 0.0)
                 if settings.quantity == "distance_m" else
                 EntryField("counts", "counts", "", 0.0, None, "1"))
        return EntryForm(assay, "numbers", "", 1, (field,))
    if assay == "body_weight":
        return EntryForm(assay, "numbers", "", 1, (EntryField("weight_g", "weight", "g", 0.0),))
    if assay == "ienfd":
        return EntryForm(assay, "numbers", "", int(settings.sections or 3),
                         (EntryField("fibres", "fibres crossing", "", 0.0, None, "1"),
                          EntryField("length_mm", "epidermis length", "mm", 0.0)))
    raise DesignError(f"no entry form for the assay {assay!r}")


# ---------------------------------------------------------------------- sessions

def _check_session(study, assay: str, study_day: int) -> None:
    if not study.scheduled(assay, study_day):
        days = study.schedule.get(assay)
        known = (f"scheduled on days {', '.join(map(str, days))}" if days else
                 f"not scheduled (scheduled assays: {', '.join(study.schedule) or 'none'})")
        raise DesignError(f"{assay} on study day {study_day} is not in the schedule; "
                          f"{assay} is {known}")


@dataclass(frozen=True)
class _Roster:
    """The animals as the bench sees them under one allocation run: code -> animal id,
    each animal's cage and sex, the seed of the testing orders, and the orders drawn."""

    run_id: int | None
    animal_of: dict[str, str]
    cage: dict[str, str]
    sex: dict[str, str]
    seed: int
    orders: dict[tuple[str, int], list[str]]

    def order(self, assay: str, study_day: int) -> list[str]:
        """The codes in the testing order of one session (drawn once per session)."""
        key = (assay, int(study_day))
        got = self.orders.get(key)
        if got is None:
            got = session_order(list(self.animal_of), order_seed=self.seed, assay=assay,
                                study_day=study_day)
            self.orders[key] = got
        return got


_ROSTERS: dict[int, tuple[Any, Any, _Roster]] = {}
"""Rosters already read per allocation run: id(study) -> (study, store, roster)."""


def _roster(study, store) -> _Roster:
    """The animals' codes, cages, sexes and the seed of the testing orders.

    An allocation run is never changed once written (a new allocation is a new run), so
    the codes of the run in force are read once per study and store and reused while
    that run stays in force.
    """
    run = sa_alloc.current_run(store)
    hit = _ROSTERS.get(id(study))
    if run is not None and hit is not None and hit[0] is study and hit[1] is store \
            and hit[2].run_id == run.run_id:
        return hit[2]
    state = blinding_state(study, store)
    if state == "not allocated":
        raise DesignError(f"study {study.info.id} is not allocated yet: animals get their "
                          "codes and testing orders with `nocilab allocate`")
    codes = assignments(study, store, reveal=False)
    if run is None:  # open study: the seed the printed sheets use
        seed = int.from_bytes(hashlib.sha256(study.info.id.encode()).digest()[:8], "big")
    else:
        seed = run.order_seed
    table = study.animal_table()
    roster = _Roster(run_id=None if run is None else run.run_id,
                     animal_of=dict(zip(codes["animal_code"], codes["animal"], strict=True)),
                     cage={a: str(c) for a, c in zip(table["animal"], table["cage"],
                                                     strict=True)},
                     sex={a: str(x) for a, x in zip(table["animal"], table["sex"],
                                                    strict=True)},
                     seed=seed, orders={})
    if run is not None:
        if len(_ROSTERS) > 16:
            _ROSTERS.clear()
        _ROSTERS[id(study)] = (study, store, roster)
    return roster


def _animal_of(study, roster: _Roster, code: str) -> str:
    animal = roster.animal_of.get(code)
    if animal is None:
        raise DesignError(f"no animal with the code {code!r} in study {study.info.id}")
    return animal


@dataclass(frozen=True)
class SessionAnimal:
    """One animal of a test session, as the bench sees it (codes only).

    ``readings`` maps each stored trial to its values (quantity -> value as text) and
    ``observation_ids`` each trial to its quantities' observation ids.
    """

    position: int
    code: str
    cage: str
    sex: str
    trials_done: int
    trials_expected: int
    readings: dict[int, dict[str, str]]
    observation_ids: dict[int, dict[str, int]]

    @property
    def status(self) -> str:
        """``done``, ``partial`` or ``missing``."""
        if self.trials_done >= self.trials_expected:
            return "done"
        return "partial" if self.readings else "missing"

    @property
    def next_trial(self) -> int | None:
        """The first trial not yet complete (None when done)."""
        for trial in range(1, self.trials_expected + 1):
            if trial not in self.readings:
                return trial
        return None


def _text(value_num: Any, value_text: Any) -> str:
    if value_text is not None and not (isinstance(value_text, float) and np.isnan(value_text)):
        return str(value_text)
    return f"{float(value_num):g}"


def _stored(store, assay: str, study_day: int | None = None) -> pd.DataFrame:
    return store.observations(assay=assay, study_day=study_day)


def _complete_trials(obs: pd.DataFrame, form: EntryForm) -> pd.DataFrame:
    """Per animal, day: the number of trials holding every quantity of the form."""
    need = set(form.quantities)
    sub = obs[obs["quantity"].isin(need)]
    per_trial = sub.groupby(["animal", "study_day", "trial"])["quantity"].nunique()
    full = per_trial[per_trial == len(need)].reset_index()
    return full.groupby(["animal", "study_day"]).size().rename("n_done").reset_index()


def session_animals(study, store, assay: str, study_day: int) -> list[SessionAnimal]:
    """The animals of one session in its testing order, with what is stored for each.

    Raises DesignError when the session is not in the schedule or the study is not
    allocated.
    """
    _check_session(study, assay, study_day)
    roster = _roster(study, store)
    form = entry_form(assay, study.assay_settings(assay))
    return _animals(roster, form, study_day, _stored(store, assay, study_day))


def _animals(roster: _Roster, form: EntryForm, study_day: int,
             obs: pd.DataFrame) -> list[SessionAnimal]:
    """The animals of a session in testing order, from the session's observations."""
    readings, ids = _stored_readings(obs)
    need = set(form.quantities)
    out = []
    for i, code in enumerate(roster.order(form.assay, study_day)):
        animal = roster.animal_of[code]
        out.append(_session_animal(i + 1, code, animal, roster, form, need,
                                   readings.get(animal, {}), ids.get(animal, {})))
    return out


def _stored_readings(obs: pd.DataFrame) -> tuple[dict[str, dict[int, dict[str, str]]],
                                                 dict[str, dict[int, dict[str, int]]]]:
    """Per animal and trial: each quantity's value as text, and its observation id."""
    readings: dict[str, dict[int, dict[str, str]]] = {}
    ids: dict[str, dict[int, dict[str, int]]] = {}
    for animal, trial, quantity, num, text, oid in zip(  # one pass: no frame per animal
            obs["animal"], obs["trial"], obs["quantity"], obs["value_num"], obs["value_text"],
            obs["observation_id"], strict=True):
        readings.setdefault(animal, {}).setdefault(int(trial), {})[quantity] = _text(num, text)
        ids.setdefault(animal, {}).setdefault(int(trial), {})[quantity] = int(oid)
    return readings, ids


def _session_animal(position: int, code: str, animal: str, roster: _Roster, form: EntryForm,
                    need: set[str], stored: dict[int, dict[str, str]],
                    ids: dict[int, dict[str, int]]) -> SessionAnimal:
    return SessionAnimal(position=position, code=code, cage=roster.cage[animal],
                         sex=roster.sex[animal],
                         trials_done=sum(need <= q.keys() for q in stored.values()),
                         trials_expected=form.trials, readings=stored, observation_ids=ids)


def _animal_readings(store, animal: str, assay: str, study_day: int
                     ) -> tuple[dict[int, dict[str, str]], dict[int, dict[str, int]]]:
    """One animal's stored readings of one session (trial -> quantity -> value, id)."""
    obs = store.observations(assay=assay, animal=animal)
    readings, ids = _stored_readings(obs[obs["study_day"] == study_day])
    return readings.get(animal, {}), ids.get(animal, {})


def session_animal(study, store, assay: str, study_day: int, code: str) -> SessionAnimal:
    """One animal of a session by its code; DesignError when it is not in the study."""
    _check_session(study, assay, study_day)
    roster = _roster(study, store)
    animal = _animal_of(study, roster, code)
    form = entry_form(assay, study.assay_settings(assay))
    readings, ids = _animal_readings(store, animal, assay, study_day)
    order = roster.order(assay, study_day)
    return _session_animal(order.index(code) + 1, code, animal, roster, form,
                           set(form.quantities), readings, ids)


def schedule_progress(study, store, *, today: dt.date | None = None) -> pd.DataFrame:
    """The schedule's progress: one row per assay and study day.

    Columns: ``assay``, ``study_day``, ``date`` (ISO text, "" without a
    ``[study] start_date``), ``n_animals``, ``n_done``, ``n_partial``, ``n_missing``,
    ``late`` (the date has passed and readings are missing). Sorted by day, then assay.
    Works before allocation too (counts by animal id; nothing is shown per animal).
    """
    today = today or dt.date.today()
    animals = set(study.animal_ids)
    start = study.info.start_date
    rows = []
    for assay, days in study.schedule.items():
        form = entry_form(assay, study.assay_settings(assay))
        obs = _stored(store, assay)
        obs = obs[obs["animal"].isin(animals)]
        done = _complete_trials(obs, form)
        any_reading = obs.groupby("study_day")["animal"].nunique().to_dict()
        for day in days:
            d = done[done["study_day"] == day]
            n_done = int((d["n_done"] >= form.trials).sum())
            n_any = int(any_reading.get(day, 0))
            date = "" if start is None else (start + dt.timedelta(days=int(day))).isoformat()
            missing = len(animals) - n_any
            rows.append({"assay": assay, "study_day": int(day), "date": date,
                         "n_animals": len(animals), "n_done": n_done,
                         "n_partial": n_any - n_done, "n_missing": missing,
                         "late": bool(date) and dt.date.fromisoformat(date) < today
                         and n_done < len(animals)})
    frame = pd.DataFrame(rows, columns=["assay", "study_day", "date", "n_animals", "n_done",
                                        "n_partial", "n_missing", "late"])
    return frame.sort_values(["study_day", "assay"], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------- entering

@dataclass(frozen=True)
class EntryResult:
    """What :func:`enter_reading` did.

    ``already_saved`` is True (and nothing was written) when the same form had been
    sent before; ``observation_ids`` maps each quantity to its stored observation.
    """

    code: str
    assay: str
    study_day: int
    trial: int
    import_id: int
    n_inserted: int
    already_saved: bool
    observation_ids: dict[str, int]


def entry_token() -> str:
    """A fresh token for one entry form (sent back with it; makes re-sending harmless)."""
    import secrets

    return secrets.token_hex(16)


def _source(code: str, assay: str, study_day: int, trial: int) -> str:
    return f"{ENTRY_SOURCE}: {assay}, day {study_day}, animal {code}, trial {trial}"


def enter_reading(study, store, *, code: str, assay: str, study_day: int, trial: int,
                  values: dict[str, str], actor: str, token: str) -> EntryResult:
    """Store one reading typed in at the bench, all or nothing.

    Parameters
    ----------
    study, store
    code : str
        The animal's code (as the session page lists it).
    assay, study_day, trial
        The session and the trial (section) of the reading.
    values : dict
        Quantity -> value as typed (text); every quantity of the assay's form.
    actor : str
        Who entered it (the logged-in user): the audit events carry it.
    token : str
        The form's token (:func:`entry_token`): a form sent twice is stored once.

    Raises
    ------
    ReadingProblems
        A value the importer would refuse (not a number, beyond the cut-off, a series
        that breaks the up-down rule ...), each problem listed; nothing is written.
    ReadingAlreadyStored
        The reading is already stored (under another form): it must be corrected.
    DesignError
        The session is not scheduled, the study not allocated, the code unknown.
    """
    source = _source(code, assay, study_day, trial)
    _check_session(study, assay, study_day)
    roster = _roster(study, store)
    animal = _animal_of(study, roster, code)
    form = entry_form(assay, study.assay_settings(assay))
    if not isinstance(token, str) or len(token) < 16:
        raise ReadingProblems(source, [Problem(source, "the form has no valid entry token; "
                                              "reload the page")])
    if not isinstance(trial, int) or not 1 <= trial <= form.trials:
        raise ReadingProblems(source, [Problem(source, f"{form.trial_label} must be 1 to "
                                              f"{form.trials}", trial)])
    clean = {q: ("" if values.get(q) is None else str(values.get(q)).strip())
             for q in (*form.quantities, "filaments_used") if q in values or
             q in form.quantities}
    missing = [q for q in form.quantities if not clean.get(q)]
    if missing:
        raise ReadingProblems(source, [Problem(source, f"no {q} entered") for q in missing])
    payload = canonical_json({"assay": assay, "day": study_day, "code": code, "trial": trial,
                              "values": clean, "token": token})
    sha = hashlib.sha256(f"nocilab web entry v1\n{payload}".encode()).hexdigest()
    cells = [{"animal": code, "study_day": study_day, "trial": trial, "assay": assay,
              "quantity": q, "raw": v, "where": f"{source}, {q}", "_day_where": source,
              "_animal_where": source, "_trial_where": source} for q, v in clean.items() if v]
    try:
        with store.transaction() as tx:
            # the one check every write passes, against the store inside the write; an
            # insert is checked against the stored readings of its own animal and assay
            # (the importer's checks compare readings of one animal, day, assay and trial)
            stored = store.observations(current_only=False, assay=assay, animal=animal, tx=tx)
            current = stored[stored["superseded_by"].isna() & ~stored["deleted"]
                             & (stored["study_day"] == study_day)]
            readings, ids = _stored_readings(current)
            result = None
            if trial not in readings.get(animal, {}):
                rows, problems = check_reading(study, stored, cells,
                                               animal_codes=roster.animal_of)
                if problems:
                    raise ReadingProblems(source, problems)
                result = store.import_observations(
                    rows[list(OBSERVATION_ROWS)], file_name=source, file_sha256=sha,
                    actor=actor, tx=tx,
                    detail=json.dumps({"source": "web", "session": f"{assay}:{study_day}"}))
    except (StoreError, ReadingProblems):
        # another form (or this one, sent twice at once) may have stored this reading
        # since the page was read
        again, ids_again = _animal_readings(store, animal, assay, study_day)
        if trial in again:
            earlier = _sent_before(store, sha, code, assay, study_day, trial, ids_again)
            if earlier is None:
                raise _already(source, ids_again, trial) from None
            return earlier
        raise
    if result is None:  # stored already: this form sent again, or another one first
        earlier = _sent_before(store, sha, code, assay, study_day, trial, ids.get(animal, {}))
        if earlier is None:
            raise _already(source, ids.get(animal, {}), trial)
        return earlier
    _readings, ids_now = _animal_readings(store, animal, assay, study_day)
    return EntryResult(code, assay, study_day, trial, result.import_id, result.n_inserted,
                       result.already_imported, ids_now.get(trial, {}))


def _sent_before(store, sha: str, code: str, assay: str, study_day: int, trial: int,
                 ids: dict[int, dict[str, int]]) -> EntryResult | None:
    """The result of a form already stored (its entry's SHA-256), or None."""
    imports = store.imports()
    earlier = imports[imports["file_sha256"] == sha]
    if earlier.empty:
        return None
    return EntryResult(code, assay, study_day, trial, int(earlier["import_id"].iloc[0]), 0,
                       True, ids.get(trial, {}))


def correct_reading(study, store, *, code: str, assay: str, study_day: int, trial: int,
                    values: dict[str, str], actor: str, reason: str) -> list[int]:
    """Correct a stored reading: every quantity that changes, in one transaction.

    The new values are checked as an entry is (:func:`enter_reading`); each changed
    quantity is superseded by a corrected observation (the old one stays in its
    history), a quantity the reading lacked is added, both with ``reason`` in their
    audit events. Returns the new observation ids.

    Raises
    ------
    ReadingProblems
        No reason, nothing stored for this trial, a value the importer would refuse, or
        values that change nothing.
    """
    source = f"correction: {_source(code, assay, study_day, trial)[len(ENTRY_SOURCE) + 2:]}"
    animal = session_animal(study, store, assay, study_day, code)
    stored = animal.readings.get(trial)
    if not stored:
        raise ReadingProblems(source, [Problem(source, f"nothing is stored for trial {trial}; "
                                              "enter it instead of correcting it")])
    if not isinstance(reason, str) or not reason.strip():
        raise ReadingProblems(source, [Problem(source, "a correction needs a reason (it is "
                                              "recorded in the audit trail)")])
    form = entry_form(assay, study.assay_settings(assay))
    clean = {q: str(v).strip() for q, v in values.items() if v is not None and str(v).strip()}
    missing = [q for q in form.quantities if q not in clean]
    if missing:
        raise ReadingProblems(source, [Problem(source, f"no {q} entered") for q in missing])
    ids = animal.observation_ids[trial]
    changed = {q: v for q, v in clean.items() if stored.get(q) != v}
    if not changed:
        raise ReadingProblems(source, [Problem(source, "the correction changes nothing")])
    animal_id = _animal_of(study, _roster(study, store), code)
    changes = pd.DataFrame([
        {"action": "correct", "observation_id": ids[q], "raw": v, "reason": reason.strip(),
         "where": f"{source}, {q}"} if q in ids else
        {"action": "insert", "animal": animal_id, "study_day": study_day, "assay": assay,
         "trial": trial, "quantity": q, "raw": v, "reason": reason.strip(),
         "where": f"{source}, {q}", "_day_where": source, "_animal_where": source,
         "_trial_where": source}
        for q, v in changed.items()])
    return write_changes(study, store, changes, actor=actor, source=source)


def _already(source: str, observation_ids: dict[int, dict[str, int]],
             trial: int) -> ReadingAlreadyStored:
    ids = observation_ids.get(trial, {})
    listed = ", ".join(f"{q} {oid}" for q, oid in sorted(ids.items()))
    return ReadingAlreadyStored(source, [Problem(
        source, f"this reading is already stored (observation {listed}); a second value "
                "must be a correction of the stored one, with a reason")], ids)


_VALUE_COLUMNS = ["outcome", "value", "unit", "censored", "bound", "n_trials", "note"]


def reading_value(study, store, assay: str, study_day: int, code: str, *,
                  values: dict[str, str] | None = None) -> dict[str, pd.DataFrame]:
    """Derived values of one animal's session, from the derived table's calculators.

    Returns ``{"trial": ..., "day": ...}``: ``trial`` the outcome of ``values`` alone
    (one reading, stored or not; an empty frame when None), ``day`` the animal's row
    of the derived table (:func:`nocilab.derive.derive_observations`) for this assay
    and day. Frames have the columns outcome, value, unit, censored, bound, n_trials,
    note: no arm, donor or preparation.

    Only what these rows need is read and derived: the animal's readings of the assay
    on that day (and, for grip per body weight, its weighings and other days).
    """
    from nocilab.derive import derive_observations, readings_frame

    settings = study.assay_settings(assay)
    out: dict[str, pd.DataFrame] = {"trial": pd.DataFrame(columns=_VALUE_COLUMNS),
                                    "day": pd.DataFrame(columns=_VALUE_COLUMNS)}
    if values:
        frame = pd.DataFrame([{"animal": code, "study_day": study_day, "trial": 1,
                               **{q: _as_value(q, v) for q, v in values.items()}}])
        out["trial"] = derive_readings(assay, frame, settings)[_VALUE_COLUMNS].reset_index(
            drop=True)
    animal = _animal_of(study, _roster(study, store), code)
    obs = store.observations(assay=assay, animal=animal)
    if assay == "grip" and getattr(settings, "per_body_weight", False):
        obs = pd.concat([obs, store.observations(assay="body_weight", animal=animal)],
                        ignore_index=True)  # weighed on other days too: the whole table
    else:
        obs = obs[obs["study_day"] == study_day]
        if obs.empty:
            return out
        try:  # the day's readings alone through the assay's calculator
            day = derive_readings(assay, readings_frame(obs, assay), settings)
        except AssayError:
            pass  # readings the assay refuses: derive_observations names each one
        else:
            day = day.astype({"bound": float}).sort_values("outcome", kind="stable")
            out["day"] = day[_VALUE_COLUMNS].reset_index(drop=True)
            return out
    if (obs["assay"] == assay).any():
        # no allocation attached: the columns kept name no arm, donor or preparation
        derived = derive_observations(obs, study)
        day = derived[(derived["assay"] == assay) & (derived["study_day"] == study_day)]
        out["day"] = day[_VALUE_COLUMNS].reset_index(drop=True)
    return out


@dataclass(frozen=True)
class AnimalSession:
    """What the bench shows of one animal in a session (:func:`animal_session`).

    ``animals`` is the session in testing order (:func:`session_animals`), ``animal``
    the one asked for; ``day_value`` and ``trial_values`` are the ``day`` frame of
    :func:`reading_value` and, for an X/O series, each stored reading's own value
    (:func:`trial_values`; empty for numeric assays).
    """

    animals: list[SessionAnimal]
    animal: SessionAnimal
    day_value: pd.DataFrame
    trial_values: dict[int, pd.DataFrame]


def animal_session(study, store, assay: str, study_day: int, code: str) -> AnimalSession:
    """One animal of a session with its values, from one read of the session's readings.

    The same as :func:`session_animals`, :func:`reading_value` (``day``) and
    :func:`trial_values`; the day's value and the series' own values go through the
    assay's calculator in one call.

    Raises DesignError when the session is not scheduled, the study not allocated or the
    code unknown.
    """
    _check_session(study, assay, study_day)
    roster = _roster(study, store)
    animal_id = _animal_of(study, roster, code)
    settings = study.assay_settings(assay)
    form = entry_form(assay, settings)
    obs = _stored(store, assay, study_day)
    animals = _animals(roster, form, study_day, obs)
    animal = next(a for a in animals if a.code == code)
    series = animal.readings if form.kind == "series" else {}
    if assay == "grip" and getattr(settings, "per_body_weight", False):
        day = reading_value(study, store, assay, study_day, code)["day"]
        return AnimalSession(animals, animal, day, trial_values(study, assay, study_day,
                                                                  series))
    mine = obs[obs["animal"] == animal_id]
    try:
        day, trials = _values(study, assay, study_day, animal_id, mine, series)
    except AssayError:  # a stored reading the assay refuses: named one by one
        day = reading_value(study, store, assay, study_day, code)["day"]
        trials = trial_values(study, assay, study_day, series)
    return AnimalSession(animals, animal, day, trials)


def _values(study, assay: str, study_day: int, animal: str, obs: pd.DataFrame,
            series: dict[int, dict[str, str]]) -> tuple[pd.DataFrame, dict[int, pd.DataFrame]]:
    """The day's value of one animal's readings ``obs`` and each reading of ``series``
    alone, from one call of the assay's calculator (each reading as an animal of its
    own beside the day's readings)."""
    from nocilab.derive import readings_frame

    day_readings = readings_frame(obs, assay) if not obs.empty else pd.DataFrame()
    label = {t: f"{animal} trial {t}" for t, values in series.items() if values}
    alone = [{"animal": label[t], "study_day": study_day, "trial": 1,
              **{q: _as_value(q, v) for q, v in series[t].items()}} for t in sorted(label)]
    parts = [p for p in (day_readings, pd.DataFrame(alone)) if not p.empty]
    if not parts:
        return pd.DataFrame(columns=_VALUE_COLUMNS), {}
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    derived = derive_readings(assay, frame, study.assay_settings(assay))
    derived = derived.astype({"bound": float})
    day = derived[derived["animal"] == animal].sort_values("outcome", kind="stable")
    trials = {t: derived.loc[derived["animal"] == name, _VALUE_COLUMNS].reset_index(drop=True)
              for t, name in label.items()}
    return day[_VALUE_COLUMNS].reset_index(drop=True), trials


def trial_values(study, assay: str, study_day: int,
                 readings: dict[int, dict[str, str]]) -> dict[int, pd.DataFrame]:
    """The derived value of each reading alone: trial -> the ``trial`` frame of
    :func:`reading_value` for that reading's values.

    Readings with the same quantities go through the assay's calculator in one call
    (each as an animal of its own, so nothing is averaged across them).
    """
    settings = study.assay_settings(assay)
    groups: dict[tuple[str, ...], list[int]] = {}
    for trial, values in readings.items():
        if values:
            groups.setdefault(tuple(sorted(values)), []).append(trial)
    out: dict[int, pd.DataFrame] = {}
    for quantities, trials in groups.items():
        frame = pd.DataFrame([{"animal": f"trial {t}", "study_day": study_day, "trial": 1,
                               **{q: _as_value(q, readings[t][q]) for q in quantities}}
                              for t in trials])
        derived = derive_readings(assay, frame, settings)
        for t in trials:
            out[t] = derived.loc[derived["animal"] == f"trial {t}",
                                 _VALUE_COLUMNS].reset_index(drop=True)
    return out


_TEXT_QUANTITIES = ("xo_series", "last_filament", "filaments_used")


def _as_value(quantity: str, value: str) -> Any:
    if quantity in _TEXT_QUANTITIES:
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return np.nan
