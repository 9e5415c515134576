"""The store's allocation tables: runs, the encrypted key, public codes, unblindings.

What is stored where
--------------------
- ``allocation_runs``: one row per allocation (the newest row is the one in force). Who
  and when, the method, the baseline imbalance before and after, the covariates used,
  the reason when an earlier allocation was replaced (``--force``), and ``order_seed``,
  a public random number that seeds the testing order of the printed sheets. The
  allocation seed is **not** here: with the study file it would reproduce the
  assignment, so it travels inside the encrypted key until unblinding.
- ``allocation_keys``: the key (animal code -> arm, donor, preparation) as AES-GCM
  ciphertext, with the KDF name and parameters, salt, nonce and the associated data.
- ``allocation_codes``: the public codes, one row per animal: animal id, animal code,
  vial code. No arm, donor or preparation. Rows are written in the order of the animal
  codes (random), never in an order that follows the preparations.
- ``unblindings``: one row per opened key: who, when, why, the key as plain JSON and its
  SHA-256 (also recorded in the ``unblind`` audit event).

These tables belong to the design layer; they are written only through the functions
here, inside a :class:`~nocilab.store.Transaction` that also appends the audit event,
so the rows and their event commit together or not at all. They are registered on the
store's ``metadata`` so that the schema test compares them with the migrations.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from nocilab.errors import StoreError
from nocilab.store import _tables as t
from nocilab.store._audit import utc_now
from nocilab.store._store import Store
from nocilab.store._transaction import Transaction, require_text

allocation_runs = sa.Table(
    "allocation_runs",
    t.metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("study_id", sa.Text, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("method", sa.Text, nullable=False),
    sa.Column("n_candidates", sa.Integer, nullable=False),
    sa.Column("covariates", sa.Text, nullable=False),
    sa.Column("imbalance_before", sa.Float, nullable=True),
    sa.Column("imbalance_after", sa.Float, nullable=True),
    sa.Column("order_seed", sa.Text, nullable=False),
    sa.Column("forced_reason", sa.Text, nullable=True),
)

allocation_keys = sa.Table(
    "allocation_keys",
    t.metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("allocation_runs.id"), primary_key=True,
              autoincrement=False),
    sa.Column("cipher", sa.Text, nullable=False),
    sa.Column("kdf", sa.Text, nullable=False),
    sa.Column("salt", sa.LargeBinary, nullable=False),
    sa.Column("nonce", sa.LargeBinary, nullable=False),
    sa.Column("associated_data", sa.Text, nullable=False),
    sa.Column("ciphertext", sa.LargeBinary, nullable=False),
)

allocation_codes = sa.Table(
    "allocation_codes",
    t.metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("allocation_runs.id"), primary_key=True,
              autoincrement=False),
    sa.Column("animal", sa.Text, primary_key=True),
    sa.Column("animal_code", sa.Text, nullable=False),
    sa.Column("vial_code", sa.Text, nullable=False),
    sa.UniqueConstraint("run_id", "animal_code"),
)

unblindings = sa.Table(
    "unblindings",
    t.metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("allocation_runs.id"), primary_key=True,
              autoincrement=False),
    sa.Column("unblinded_by", sa.Text, nullable=False),
    sa.Column("unblinded_at", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("key_json", sa.Text, nullable=False),
    sa.Column("key_sha256", sa.String(64), nullable=False),
    sa.Column("event_id", sa.Integer, nullable=False),
)

ENTITY = "allocation"
"""The audit entity of allocation and unblinding events (entity_id: the run id)."""


@dataclass(frozen=True)
class RunRecord:
    """One allocation run as stored (public fields only)."""

    run_id: int
    study_id: str
    created_by: str
    created_at: str
    method: str
    n_candidates: int
    covariates: tuple[str, ...]
    imbalance_before: float | None
    imbalance_after: float | None
    order_seed: int
    forced_reason: str | None


@dataclass(frozen=True)
class KeyBlob:
    """The encrypted key of one run: what is needed to try a passphrase on it."""

    run_id: int
    cipher: str
    kdf: dict[str, Any]
    salt: bytes
    nonce: bytes
    associated_data: str
    ciphertext: bytes


@dataclass(frozen=True)
class UnblindingRecord:
    """An opened key: who opened it, when, why, and the key itself."""

    run_id: int
    unblinded_by: str
    unblinded_at: str
    reason: str
    key_json: str
    key_sha256: str
    event_id: int


def next_run_id(tx: Transaction) -> int:
    """The id the next allocation run will get (valid under the transaction's write lock)."""
    return tx.next_id(allocation_runs)


def record_allocation(
    tx: Transaction,
    run_id: int,
    *,
    study_id: str,
    actor: str,
    method: str,
    n_candidates: int,
    covariates: Sequence[str],
    imbalance_before: float | None,
    imbalance_after: float | None,
    order_seed: int,
    forced_reason: str | None,
    codes: Sequence[tuple[str, str, str]],
    blob: KeyBlob,
    event_after: dict[str, Any],
    replaces: int | None,
) -> int:
    """Write one allocation run, its key and its codes, and the ``allocate`` event.

    ``run_id`` comes from :func:`next_run_id` in the same transaction (the key's
    associated data names it, so it is known before the key is encrypted). ``codes``
    holds ``(animal, animal_code, vial_code)``; ``blob.run_id`` is ignored.
    ``event_after`` is recorded in the event's ``after`` with the run id and the codes
    added. Returns the run id.
    """
    actor = require_text(actor, "actor")
    conn = tx.connection
    if run_id != next_run_id(tx):
        raise StoreError(f"allocation run {run_id} is not the next run id")
    at = utc_now()
    conn.execute(allocation_runs.insert(), [{
        "id": run_id, "study_id": study_id, "created_by": actor, "created_at": at,
        "method": method, "n_candidates": int(n_candidates),
        "covariates": json.dumps(list(covariates)),
        "imbalance_before": imbalance_before, "imbalance_after": imbalance_after,
        "order_seed": str(order_seed), "forced_reason": forced_reason,
    }])
    conn.execute(allocation_keys.insert(), [{
        "run_id": run_id, "cipher": blob.cipher, "kdf": json.dumps(blob.kdf, sort_keys=True),
        "salt": blob.salt, "nonce": blob.nonce, "associated_data": blob.associated_data,
        "ciphertext": blob.ciphertext,
    }])
    ordered = sorted(codes, key=lambda c: c[1])  # code order: random, tells nothing
    conn.execute(allocation_codes.insert(), [
        {"run_id": run_id, "animal": a, "animal_code": ac, "vial_code": vc}
        for a, ac, vc in ordered
    ])
    after = dict(event_after)
    after.update(run=run_id, codes=[list(c) for c in ordered],
                 ciphertext_sha256=hashlib.sha256(blob.ciphertext).hexdigest())
    before = None if replaces is None else {"run": replaces}
    tx.append_event("allocate", ENTITY, run_id, actor=actor, before=before, after=after,
                    reason=forced_reason)
    return run_id


def record_unblinding(tx: Transaction, run_id: int, *, actor: str, reason: str,
                      key_json: str, event_after: dict[str, Any]) -> UnblindingRecord:
    """Store the opened key of ``run_id`` and append the ``unblind`` event."""
    actor = require_text(actor, "actor")
    reason = require_text(reason, "the reason for unblinding")
    conn = tx.connection
    done = conn.execute(sa.select(unblindings.c.run_id)
                        .where(unblindings.c.run_id == run_id)).scalar()
    if done is not None:
        raise StoreError(f"allocation run {run_id} is already unblinded")
    digest = hashlib.sha256(key_json.encode("utf-8")).hexdigest()
    after = dict(event_after)
    after.update(run=run_id, key_sha256=digest)
    event_id = tx.append_event("unblind", ENTITY, run_id, actor=actor, after=after,
                               reason=reason)
    at = conn.execute(sa.select(t.audit_events.c.at)
                      .where(t.audit_events.c.id == event_id)).scalar_one()
    row = {"run_id": run_id, "unblinded_by": actor, "unblinded_at": at, "reason": reason,
           "key_json": key_json, "key_sha256": digest, "event_id": event_id}
    conn.execute(unblindings.insert(), [row])
    return UnblindingRecord(**row)


# ----------------------------------------------------------------------------- reading

def _run(row: Any) -> RunRecord:
    return RunRecord(
        run_id=int(row.id), study_id=row.study_id, created_by=row.created_by,
        created_at=row.created_at, method=row.method, n_candidates=int(row.n_candidates),
        covariates=tuple(json.loads(row.covariates)),
        imbalance_before=row.imbalance_before, imbalance_after=row.imbalance_after,
        order_seed=int(row.order_seed), forced_reason=row.forced_reason,
    )


def current_run(store: Store) -> RunRecord | None:
    """The allocation in force (the newest run), or None when the study is not allocated."""
    r = allocation_runs
    with store._reading() as conn:
        row = conn.execute(sa.select(r).order_by(r.c.id.desc()).limit(1)).one_or_none()
    return None if row is None else _run(row)


def runs(store: Store) -> list[RunRecord]:
    """Every allocation run, oldest first."""
    r = allocation_runs
    with store._reading() as conn:
        return [_run(row) for row in conn.execute(sa.select(r).order_by(r.c.id))]


def codes(store: Store, run_id: int) -> list[tuple[str, str, str]]:
    """``(animal, animal_code, vial_code)`` of one run, ordered by animal code."""
    c = allocation_codes
    with store._reading() as conn:
        rows = conn.execute(sa.select(c.c.animal, c.c.animal_code, c.c.vial_code)
                            .where(c.c.run_id == run_id).order_by(c.c.animal_code)).all()
    return [(str(a), str(ac), str(vc)) for a, ac, vc in rows]


def key_blob(store: Store, run_id: int) -> KeyBlob:
    """The encrypted key of one run (StoreError when it is missing)."""
    k = allocation_keys
    with store._reading() as conn:
        row = conn.execute(sa.select(k).where(k.c.run_id == run_id)).one_or_none()
    if row is None:
        raise StoreError(f"the encrypted key of allocation run {run_id} is missing from "
                         f"{store.url}; the store has been altered")
    return KeyBlob(run_id=int(row.run_id), cipher=row.cipher, kdf=json.loads(row.kdf),
                   salt=bytes(row.salt), nonce=bytes(row.nonce),
                   associated_data=row.associated_data, ciphertext=bytes(row.ciphertext))


def unblinding(store: Store, run_id: int) -> UnblindingRecord | None:
    """The unblinding of one run, or None while it is blinded.

    The stored key is checked against the SHA-256 recorded in its ``unblind`` audit
    event; a key changed behind the store's back raises StoreError.
    """
    u, a = unblindings, t.audit_events
    with store._reading() as conn:
        row = conn.execute(sa.select(u).where(u.c.run_id == run_id)).one_or_none()
        if row is None:
            return None
        event = conn.execute(sa.select(a.c.action, a.c.entity, a.c.entity_id, a.c.after)
                             .where(a.c.id == row.event_id)).one_or_none()
    record = UnblindingRecord(**row._asdict())
    digest = hashlib.sha256(record.key_json.encode("utf-8")).hexdigest()
    ok = (event is not None and event.action == "unblind" and event.entity == ENTITY
          and event.entity_id == str(run_id)
          and json.loads(event.after or "{}").get("key_sha256") == digest)
    if not ok or digest != record.key_sha256:
        raise StoreError(f"the opened key of allocation run {run_id} does not match its "
                         f"unblind audit event {record.event_id}: the store has been altered")
    return record


# ----------------------------------------------------------------------------- verify

def replay_findings(conn: sa.Connection, events: Sequence[Any]) -> list[tuple[int | None, str]]:
    """Check the allocation tables against their ``allocate`` and ``unblind`` events.

    Every ``allocation_runs``, ``allocation_keys``, ``allocation_codes`` and
    ``unblindings`` row must be what its event says: the run's method, candidates,
    covariates, imbalances, study, who, the reason of a forced re-allocation and (for runs
    recorded with it) the order seed; the key's cipher, KDF and ciphertext hash; the
    codes exactly; the opened key's hash, who and why. A row without an event, or an
    event without its rows, is a finding too. Returns ``(event id or None, why)`` pairs.
    """
    out: list[tuple[int | None, str]] = []
    allocs: dict[int, Any] = {}
    opens: dict[int, Any] = {}
    for ev in events:
        if ev.entity != ENTITY:
            continue
        try:
            run = int(ev.entity_id)
            after = json.loads(ev.after or "null")
        except (TypeError, ValueError):
            return [(ev.id, "it is not a well-formed allocation event")]
        if not isinstance(after, dict) or after.get("run") != run:
            return [(ev.id, "it is not a well-formed allocation event")]
        if ev.action == "allocate":
            allocs[run] = (ev, after)
        elif ev.action == "unblind":
            if run not in allocs:
                return [(ev.id, f"it unblinds allocation run {run}, which no earlier event created")]
            opens[run] = (ev, after)
        else:
            return [(ev.id, f"unknown action {ev.action!r} for an allocation")]

    def missing(table: str, run: int, ev: Any) -> None:
        out.append((ev.id, f"{table} row of run {run} is missing, though audit event "
                           f"{ev.id} records it"))

    def differ(run: int, ev: Any, table: str, pairs: list[tuple[str, Any, Any]]) -> None:
        for field, have, want in pairs:
            if have != want:
                out.append((ev.id, f"{table} row of run {run} does not match the audit trail: "
                                   f"{field} is {have!r} but audit event {ev.id} leaves it "
                                   f"{want!r}"))
                return

    runs_rows = {r.id: r for r in conn.execute(sa.select(allocation_runs)).all()}
    key_rows = {r.run_id: r for r in conn.execute(sa.select(allocation_keys)).all()}
    code_rows: dict[int, list[list[str]]] = {}
    for r in conn.execute(sa.select(allocation_codes).order_by(
            allocation_codes.c.run_id, allocation_codes.c.animal_code)).all():
        code_rows.setdefault(r.run_id, []).append([r.animal, r.animal_code, r.vial_code])
    open_rows = {r.run_id: r for r in conn.execute(sa.select(unblindings)).all()}

    for run, (ev, after) in allocs.items():
        row = runs_rows.get(run)
        if row is None:
            missing("allocation_runs", run, ev)
            continue
        pairs = [("study_id", row.study_id, after.get("study")),
                 ("created_by", row.created_by, ev.actor),
                 ("method", row.method, after.get("method")),
                 ("n_candidates", row.n_candidates, after.get("n_candidates")),
                 ("covariates", json.loads(row.covariates), after.get("covariates")),
                 ("imbalance_before", row.imbalance_before, after.get("imbalance_before")),
                 ("imbalance_after", row.imbalance_after, after.get("imbalance_after")),
                 ("forced_reason", row.forced_reason, ev.reason)]
        if "order_seed" in after:
            pairs.append(("order_seed", row.order_seed, after["order_seed"]))
        differ(run, ev, "allocation_runs", pairs)
        key = key_rows.get(run)
        if key is None:
            missing("allocation_keys", run, ev)
        else:
            differ(run, ev, "allocation_keys", [
                ("ciphertext (SHA-256)", hashlib.sha256(key.ciphertext).hexdigest(),
                 after.get("ciphertext_sha256")),
                ("cipher", key.cipher, after.get("cipher")),
                ("kdf", json.loads(key.kdf), after.get("kdf"))])
        have = code_rows.get(run, [])
        want = sorted(after.get("codes") or [], key=lambda c: c[1])
        if have != want:
            extra = [c for c in have if c not in want]
            gone = [c for c in want if c not in have]
            what = (f"animal {extra[0][0]!r} has codes {extra[0][1]}/{extra[0][2]} that the "
                    "event does not give" if extra else
                    f"animal {gone[0][0]!r}'s codes {gone[0][1]}/{gone[0][2]} are missing")
            out.append((ev.id, f"allocation_codes of run {run} do not match audit event "
                               f"{ev.id}: {what}"))
    for run, (ev, after) in opens.items():
        row = open_rows.get(run)
        if row is None:
            missing("unblindings", run, ev)
            continue
        differ(run, ev, "unblindings", [
            ("key_sha256", row.key_sha256, after.get("key_sha256")),
            ("key_json (SHA-256)", hashlib.sha256(row.key_json.encode("utf-8")).hexdigest(),
             after.get("key_sha256")),
            ("unblinded_by", row.unblinded_by, ev.actor),
            ("reason", row.reason, ev.reason),
            ("event_id", row.event_id, ev.id)])
    for table, rows, known in (("allocation_runs", runs_rows, allocs),
                               ("allocation_keys", key_rows, allocs),
                               ("allocation_codes", code_rows, allocs),
                               ("unblindings", open_rows, opens)):
        for run in sorted(rows.keys() - known.keys()):
            out.append((None, f"{table} row of run {run} has no audit event: it was "
                              "written behind the store's back"))
    return out
