"""What the store records about one animal: every version of its readings and the audit
events that wrote them, addressed by the animal's code.

While a study is blinded animals are named by their codes only (an animal id typed
instead is refused); in an open or unblinded study the id works too. Nothing here reads
an arm, donor or preparation. Used by the web app's animal pages; the rows are those of
:meth:`nocilab.store.Store.observations` and :meth:`~nocilab.store.Store.audit_events`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd

from nocilab.design.blinding import assignments, blinding_state
from nocilab.errors import DesignError, one_of

__all__ = ["AnimalHistory", "animal_history", "animal_list"]

OBSERVATION_ENTITY = "observation"
IMPORT_ENTITY = "import"


@dataclass(frozen=True)
class AnimalHistory:
    """One animal's record.

    Attributes
    ----------
    code : str
        The animal's code (its id in an open study).
    animal : str
        Its id in the store.
    versions : DataFrame
        Every version of every reading of the animal, ordered by assay, study day,
        trial, quantity and observation id: the columns of
        ``Store.observations(current_only=False)`` plus ``action`` (insert, correct,
        delete, from the event that wrote it), ``reason``, ``event_id`` and ``current``
        (the version in force: not superseded, not deleted).
    events : DataFrame
        The audit events that wrote those versions and the imports they came in, in
        chain order: ``event_id``, ``at``, ``actor``, ``action``, ``entity``,
        ``entity_id``, ``reason``, ``hash``, and ``value`` (the version's value, or the
        imported file's name).
    """

    code: str
    animal: str
    versions: pd.DataFrame
    events: pd.DataFrame


def animal_list(study, store) -> pd.DataFrame:
    """The animals as they may be shown: ``code``, ``cage``, ``sex``, sorted by code.

    DesignError while the study is not allocated (animals have no codes yet).
    """
    state = blinding_state(study, store)
    if state == "not allocated":
        raise DesignError(f"study {study.info.id} is not allocated yet: animals get their "
                          "codes with the allocation")
    codes = assignments(study, store, reveal=False)[["animal", "animal_code"]]
    table = study.animal_table()[["animal", "cage", "sex"]]
    out = codes.merge(table, on="animal", how="left").rename(columns={"animal_code": "code"})
    return out[["code", "cage", "sex", "animal"]].sort_values("code").reset_index(drop=True)


def _resolve(study, store, code: str) -> tuple[str, str]:
    animals = animal_list(study, store)
    by_code = dict(zip(animals["code"], animals["animal"], strict=True))
    if code in by_code:
        return code, by_code[code]
    if blinding_state(study, store) != "blinded":
        by_id = dict(zip(animals["animal"], animals["code"], strict=True))
        if code in by_id:
            return by_id[code], code
    raise DesignError(f"no animal with the code {code!r} in study {study.info.id}; expected "
                      f"{one_of(animals['code'])}")


def _value(row: dict | None) -> str:
    if not row:
        return ""
    if row.get("deleted"):
        return "deleted"
    num, text = row.get("value_num"), row.get("value_text")
    shown = f"{num:g}" if isinstance(num, int | float) else (text or "")
    return f"{row.get('quantity', '')} = {shown}"


def animal_history(study, store, code: str) -> AnimalHistory:
    """The history of the animal with ``code`` (see :class:`AnimalHistory`).

    Raises
    ------
    DesignError
        No animal has this code (or, while blinded, an animal id was given).
    """
    code, animal = _resolve(study, store, code)
    obs = store.observations(current_only=False)
    mine = obs[obs["animal"] == animal].copy()
    events = store.audit_events(entity=OBSERVATION_ENTITY)
    ids = {str(i) for i in mine["observation_id"]}
    wrote = events[events["entity_id"].astype(str).isin(ids)].copy()
    by_id = {int(r.entity_id): r for r in wrote.itertuples(index=False)}
    mine["action"] = [by_id[i].action if i in by_id else "" for i in mine["observation_id"]]
    mine["reason"] = [by_id[i].reason if i in by_id and isinstance(by_id[i].reason, str)
                      else "" for i in mine["observation_id"]]
    mine["event_id"] = [int(by_id[i].event_id) if i in by_id else 0
                        for i in mine["observation_id"]]
    mine["current"] = mine["superseded_by"].isna() & ~mine["deleted"].astype(bool)
    mine = mine.sort_values(["assay", "study_day", "trial", "quantity", "observation_id"])
    wrote["value"] = [_value(json.loads(a) if isinstance(a, str) else None)
                      for a in wrote["after"]]
    imports = store.audit_events(entity=IMPORT_ENTITY)
    used = {str(int(i)) for i in mine["import_id"].dropna()}
    imported = imports[imports["entity_id"].astype(str).isin(used)].copy()
    imported["value"] = [json.loads(a).get("file_name", "") if isinstance(a, str) else ""
                         for a in imported["after"]]
    cols = ["event_id", "at", "actor", "action", "entity", "entity_id", "reason", "hash",
            "value"]
    trail = pd.concat([wrote[cols], imported[cols]], ignore_index=True)
    trail["reason"] = trail["reason"].where(trail["reason"].notna(), "")
    trail = trail.sort_values("event_id").reset_index(drop=True)
    return AnimalHistory(code=code, animal=animal, versions=mine.reset_index(drop=True),
                         events=trail)
