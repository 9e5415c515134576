"""The study's records: animals and their history, the audit chain's check.

- ``GET /animals``: the animals by code (cage, sex), each linked to its history.
- ``GET /animals/{code}``: every version of the animal's readings (current, corrected,
  deleted) and the audit events that wrote them (:func:`nocilab.records.animal_history`).
- ``GET /audit``: ``audit verify``: the chain recomputed, the head hash to keep outside
  the database, or the first broken event.
"""

from __future__ import annotations

import math

import pandas as pd

from fastapi import APIRouter, Request
from fastapi.responses import Response

from nocilab import records
from nocilab.web.app import render
from nocilab.web.auth import route
from nocilab.web.pages import ALL

router = APIRouter()

HISTORY_ROLES = ("admin", "experimenter", "analyst")


def _shown(num: object, text: object) -> str:
    if isinstance(num, int | float) and not math.isnan(num):
        return f"{num:g}"
    return text if isinstance(text, str) else ""


@route(router, "GET", "/animals", *HISTORY_ROLES, name="animals")
def animals_page(request: Request) -> Response:
    web = request.app.state.web
    table = records.animal_list(web.study, web.store)
    obs = web.store.observations()
    code_of = dict(zip(table["animal"], table["code"], strict=True))
    counts = obs["animal"].map(code_of).value_counts().to_dict()
    rows = [{"code": r.code, "cage": r.cage, "sex": r.sex, "n": int(counts.get(r.code, 0))}
            for r in table.itertuples(index=False)]
    return render(request, "animals.html", rows=rows)


@route(router, "GET", "/animals/{code}", *HISTORY_ROLES, name="animal_history")
def animal_page(request: Request, code: str) -> Response:
    web = request.app.state.web
    hist = records.animal_history(web.study, web.store, code)
    versions = [{
        "assay": r.assay, "day": int(r.study_day), "trial": int(r.trial),
        "quantity": r.quantity, "value": "" if r.deleted else _shown(r.value_num, r.value_text),
        "id": int(r.observation_id), "action": r.action or "insert", "reason": r.reason,
        "by": r.entered_by, "at": str(r.entered_at)[:19].replace("T", " "),
        "current": bool(r.current), "deleted": bool(r.deleted),
        "next": "" if pd.isna(r.superseded_by) else int(r.superseded_by)}
        for r in hist.versions.itertuples(index=False)]
    events = [{"id": int(e.event_id), "at": str(e.at)[:19].replace("T", " "),
               "actor": e.actor, "action": e.action, "entity": e.entity,
               "entity_id": e.entity_id, "value": e.value, "reason": e.reason,
               "hash": str(e.hash)[:16]}
              for e in hist.events.itertuples(index=False)]
    return render(request, "animal.html", code=hist.code, versions=versions, events=events,
                  n_current=sum(v["current"] for v in versions))


@route(router, "GET", "/audit", *ALL, name="audit")
def audit_page(request: Request) -> Response:
    report = request.app.state.web.store.verify_audit()
    return render(request, "audit.html", report=report)
