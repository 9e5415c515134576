"""Allocation and unblinding for admins: the same library calls as ``nocilab allocate``
and ``nocilab unblind``.

- ``GET /admin/allocation``: the blinding state, the current allocation run, and the
  forms that apply (allocate, allocate again with a reason, unblind).
- ``POST /admin/allocate``: allocate at random (balanced), blind with codes; the key is
  encrypted under the passphrase typed twice.
- ``POST /admin/unblind``: open the key with the passphrase and a reason (audited).

The passphrase travels only in the POST body (never in a URL, so never in an access
log), is handed to :mod:`nocilab.design.blinding` and dropped: it is not stored, not
logged, and never written back into a page (a refused form comes back with its
passphrase fields empty).
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from nocilab.design.blinding import allocate_study, blinding_state, unblind
from nocilab.errors import BlindingError, DesignError, NocilabError
from nocilab.store import _allocation as sa_alloc
from nocilab.web.app import render
from nocilab.web.auth import route

router = APIRouter()


def _page(request: Request, *, error: str = "", status: int = 200,
          typed: dict[str, str] | None = None) -> Response:
    web = request.app.state.web
    state = blinding_state(web.study, web.store)
    run = sa_alloc.current_run(web.store)
    unblinding = sa_alloc.unblinding(web.store, run.run_id) if run is not None else None
    return render(request, "allocation.html", status_code=status, state=state, run=run,
                  unblinding=unblinding, error=error, typed=typed or {},
                  n_animals=len(web.study.animal_ids))


def _optional_int(text: str, what: str, *, minimum: int) -> int | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        raise DesignError(f"{what} must be a whole number; got {text!r}") from None
    if value < minimum:
        raise DesignError(f"{what} must be at least {minimum}; got {value}")
    return value


@route(router, "GET", "/admin/allocation", "admin", name="allocation")
def allocation_page(request: Request) -> Response:
    return _page(request)


@route(router, "POST", "/admin/allocate", "admin", name="allocate")
def allocate(request: Request, passphrase: str = Form(...), passphrase_again: str = Form(...),
             seed: str = Form(""), per_preparation: str = Form(""),
             candidates: str = Form("1000"), replace: str = Form(""),
             reason: str = Form("")) -> Response:
    web = request.app.state.web
    typed = {"seed": seed, "per_preparation": per_preparation, "candidates": candidates,
             "reason": reason}
    try:
        if passphrase != passphrase_again:
            raise BlindingError("the two passphrases differ; type the same passphrase twice")
        report = allocate_study(
            web.study, web.store, passphrase=passphrase, actor=request.state.user.username,
            seed=_optional_int(seed, "the seed", minimum=0),
            per_preparation=_optional_int(per_preparation, "animals per preparation",
                                          minimum=1),
            n_candidates=_optional_int(candidates, "candidates", minimum=1) or 1000,
            force=bool(replace), reason=reason.strip() or None)
    except NocilabError as exc:
        return _page(request, error=exc.render(), status=400, typed=typed)
    request.session["flash"] = (report.summary().replace("\n", "; ") + ". Keep the "
                                "passphrase safe: it alone opens the key at unblinding.")
    return RedirectResponse("/admin/allocation", status_code=303)


@route(router, "POST", "/admin/unblind", "admin", name="unblind")
def unblind_study(request: Request, passphrase: str = Form(...),
                  reason: str = Form("")) -> Response:
    web = request.app.state.web
    try:
        report = unblind(web.study, web.store, passphrase=passphrase,
                         actor=request.state.user.username, reason=reason)
    except NocilabError as exc:
        return _page(request, error=exc.render(), status=400, typed={"unblind_reason": reason})
    request.session["flash"] = (f"Study {web.study.info.id} unblinded (allocation run "
                                f"{report.run_id}) by {report.unblinded_by}; recorded as "
                                f"audit event {report.event_id}.")
    return RedirectResponse("/admin/allocation", status_code=303)
