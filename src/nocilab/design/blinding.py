"""Blinding: codes, the encrypted allocation key, unblinding, and what the blinded see.

Codes
-----
Every animal gets an animal code (``A-7KQ2``) and every preparation a vial code
(``V-93XF``): ``A-``/``V-`` and four characters from :data:`CODE_ALPHABET`, which leaves
out the characters people confuse (0/O, 1/I/L, 5/S, 8/B, U/V). Codes are drawn from the
operating system's CSPRNG (:mod:`secrets`), unique within a run, and stored. They are
deliberately *not* drawn from the allocation seed: the seed (with study.toml) reproduces
the assignment, so codes computed from it would let anyone who knows or guesses the
seed (a small hand-typed number) recompute the key from the codes on a cage card.
Independent codes carry no information about the assignment; the assignment stays
reproducible from the seed, which is kept inside the encrypted key until unblinding.

The key
-------
The key (animal code -> arm, donor unit, preparation; vial code -> preparation; the seed
and the chosen candidate) is JSON encrypted with AES-256-GCM under a key derived from the
allocator's passphrase with scrypt (N = 2**17, r = 8, p = 1, 16-byte random salt; the
parameters are stored with the ciphertext so they can be raised later). The associated
data binds the ciphertext to the study id and allocation run id, so a key cannot be moved
to another study or run. A wrong passphrase (or an altered ciphertext) fails
authentication and raises :class:`~nocilab.errors.BlindingError` saying "wrong
passphrase", nothing else. The passphrase is never stored or recorded.

States
------
:func:`blinding_state` is one of ``'not allocated'``, ``'blinded'``, ``'unblinded'`` or
``'open'`` (every animal has its preparation in study.toml: nothing is hidden). While
blinded, :func:`assignments` gives codes only: ``preparation`` and ``donor`` hold the
vial code and ``arm`` is ``'blinded'``. Animals that share a vial share a preparation,
which the person injecting sees anyway; which preparation, donor or arm it is stays in
the key. :func:`unblind` opens the key with the passphrase and a reason, stores it
opened in the store and records an ``unblind`` audit event (who, when, why, the key's
SHA-256, never the passphrase); from then on :func:`assignments` shows arms.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from typing import Any

import pandas as pd
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from nocilab.design.allocate import allocate_animals, baseline_covariates, study_allocation_inputs
from nocilab.errors import BlindingError, DesignError
from nocilab.store import _allocation as sa_alloc

__all__ = [
    "ASSIGNMENT_COLUMNS",
    "AllocationReport",
    "BLINDED_ARM",
    "CODE_ALPHABET",
    "STATES",
    "UnblindReport",
    "allocate_study",
    "allocation_seed",
    "animal_id_for_codes",
    "assignments",
    "blinding_state",
    "check_can_allocate",
    "decrypt_key",
    "encrypt_key",
    "group_codes",
    "new_codes",
    "new_group_codes",
    "unblind",
]

CODE_ALPHABET = "234679ACDEFGHJKMNPQRTWXYZ"
"""Characters of codes: digits and capitals without 0 O 1 I L 5 S 8 B U V."""
CODE_LENGTH = 4
BLINDED_ARM = "blinded"
"""The ``arm`` shown for every animal while the study is blinded."""
STATES = ("not allocated", "blinded", "unblinded", "open")
ASSIGNMENT_COLUMNS = ("animal", "animal_code", "preparation", "vial_code", "donor", "arm")
"""Columns of :func:`assignments`."""

SCRYPT = {"name": "scrypt", "n": 2**17, "r": 8, "p": 1, "length": 32}
_KDF_LIMITS = {"n": (2**14, 2**20), "r": (8, 16), "p": (1, 4)}
CIPHER = "AES-256-GCM"
MIN_PASSPHRASE = 8
KEY_VERSION = 1


# ------------------------------------------------------------------------------- codes

def new_codes(n: int, prefix: str, *, avoid: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """``n`` unique random codes ``PREFIX-XXXX`` from the operating system's CSPRNG.

    Examples
    --------
    >>> codes = new_codes(3, "A")
    >>> len(set(codes)), all(c.startswith("A-") and len(c) == 6 for c in codes)
    (3, True)
    """
    space = len(CODE_ALPHABET) ** CODE_LENGTH
    if n > space // 4:
        raise DesignError(f"{n} codes are too many for {CODE_LENGTH}-character codes")
    out: list[str] = []
    seen = set(avoid)
    while len(out) < n:
        code = f"{prefix}-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if code not in seen:
            seen.add(code)
            out.append(code)
    return out


# ----------------------------------------------------------------------------- the key

def _aad(study_id: str, run_id: int) -> str:
    return f"nocilab allocation key v{KEY_VERSION}|study={study_id}|run={run_id}"


def _check_passphrase(passphrase: str) -> bytes:
    if not isinstance(passphrase, str) or len(passphrase) < MIN_PASSPHRASE:
        raise BlindingError(f"the passphrase must have at least {MIN_PASSPHRASE} characters")
    return passphrase.encode("utf-8")


def _derive(passphrase: bytes, salt: bytes, kdf: dict[str, Any]) -> bytes:
    if kdf.get("name") != "scrypt" or kdf.get("length") != 32:
        raise BlindingError(f"the allocation key uses an unknown key derivation {kdf!r}")
    for name, (lo, hi) in _KDF_LIMITS.items():
        v = kdf.get(name)
        if not isinstance(v, int) or not lo <= v <= hi:
            raise BlindingError(f"the allocation key's scrypt parameter {name}={v!r} is "
                                f"outside {lo}..{hi}")
    return Scrypt(salt=salt, length=32, n=kdf["n"], r=kdf["r"], p=kdf["p"]).derive(passphrase)


def encrypt_key(key: dict[str, Any], passphrase: str, *, associated_data: str,
                kdf_n: int = SCRYPT["n"]) -> sa_alloc.KeyBlob:
    """Encrypt an allocation key (JSON-serialisable) under a passphrase.

    Returns a :class:`~nocilab.store._allocation.KeyBlob` (run id 0 until stored).
    ``kdf_n`` is scrypt's cost (a power of two, 2**14 .. 2**20).
    """
    kdf = dict(SCRYPT, n=int(kdf_n))
    salt, nonce = os.urandom(16), os.urandom(12)
    secret = _derive(_check_passphrase(passphrase), salt, kdf)
    plain = json.dumps(key, sort_keys=True, separators=(",", ":")).encode("utf-8")
    ct = AESGCM(secret).encrypt(nonce, plain, associated_data.encode("utf-8"))
    return sa_alloc.KeyBlob(run_id=0, cipher=CIPHER, kdf=kdf, salt=salt, nonce=nonce,
                            associated_data=associated_data, ciphertext=ct)


def decrypt_key(blob: sa_alloc.KeyBlob, passphrase: str, *, associated_data: str) -> str:
    """The key's JSON text; BlindingError "wrong passphrase" when it does not open.

    ``associated_data`` is the one expected for the study and run (not the stored copy),
    so a key moved from another study or run does not open either.
    """
    if blob.cipher != CIPHER:
        raise BlindingError(f"the allocation key uses an unknown cipher {blob.cipher!r}")
    if not isinstance(passphrase, str) or not passphrase:
        raise BlindingError("wrong passphrase: the allocation key cannot be opened with it")
    secret = _derive(passphrase.encode("utf-8"), blob.salt, blob.kdf)
    try:
        plain = AESGCM(secret).decrypt(blob.nonce, blob.ciphertext,
                                       associated_data.encode("utf-8"))
    except InvalidTag:
        raise BlindingError("wrong passphrase: the allocation key cannot be opened with it "
                            "(or the stored key was altered)") from None
    return plain.decode("utf-8")


# -------------------------------------------------------------------------- allocating

@dataclass(frozen=True)
class AllocationReport:
    """What :func:`allocate_study` did; holds nothing secret (no seed, no arms)."""

    run_id: int
    n_animals: int
    n_vials: int
    covariates: tuple[str, ...]
    imbalance_before: float | None
    imbalance_after: float | None
    n_candidates: int
    method: str
    replaced_run: int | None

    def summary(self) -> str:
        """A few lines for the command line."""
        lines = [f"allocation run {self.run_id}: {self.n_animals} animals over "
                 f"{self.n_vials} vials, blinded (codes only; key encrypted)"]
        if self.replaced_run is not None:
            lines.append(f"replaces allocation run {self.replaced_run}")
        if self.covariates:
            lines.append(f"baseline covariates: {', '.join(self.covariates)}")
            lines.append(f"largest standardised arm difference: {self.imbalance_before:.3f} "
                         f"(plain randomisation) -> {self.imbalance_after:.3f} (best of "
                         f"{self.n_candidates})")
        else:
            lines.append("no baseline readings in the store: no baseline balancing")
        return "\n".join(lines)


def check_can_allocate(study, store, *, force: bool = False,
                       reason: str | None = None) -> sa_alloc.RunRecord | None:
    """Raise DesignError unless the study may be allocated now; returns the run replaced.

    Allocating again needs ``force`` and a ``reason``. Also checks that the study has
    animals to allocate (see :func:`~nocilab.design.allocate.study_allocation_inputs`).
    """
    previous = sa_alloc.current_run(store)
    if previous is not None:
        if not force:
            raise DesignError(
                f"study {study.info.id} is already allocated (run {previous.run_id}, "
                f"{previous.created_at} by {previous.created_by}); allocating again "
                "replaces every code: give --force with --reason to do so")
        if not (reason and reason.strip()):
            raise DesignError("--force replaces an allocation and needs --reason (recorded "
                              "in the audit trail)")
    study_allocation_inputs(study)
    return previous


def allocate_study(study, store, *, passphrase: str, actor: str, seed: int | None = None,
                   per_preparation: int | None = None, n_candidates: int = 1000,
                   force: bool = False, reason: str | None = None,
                   kdf_n: int = SCRYPT["n"]) -> AllocationReport:
    """Allocate a study's animals at random, blind them and store the encrypted key.

    Parameters
    ----------
    study : nocilab.model.Study
        Its animals have no ``preparation`` in study.toml.
    store : nocilab.store.Store
        Baseline readings (negative study days) in it are balanced between arms.
    passphrase : str
        Chosen by the allocator (at least 8 characters); opens the key at unblinding.
    actor : str
        Who allocates (recorded).
    seed : int, optional
        The allocation seed; default a 128-bit random number. Kept in the encrypted key.
    per_preparation, n_candidates
        See :func:`nocilab.design.allocate.allocate_animals`.
    force, reason
        Replace an existing allocation; ``reason`` is then required and recorded.
    kdf_n : int
        scrypt cost; leave the default outside tests.

    Raises
    ------
    DesignError
        Already allocated (without ``force`` and ``reason``), or a constraint that
        cannot be met.
    BlindingError
        The passphrase is too short.
    """
    _check_passphrase(passphrase)
    previous = check_can_allocate(study, store, force=force, reason=reason)
    animals, preps = study_allocation_inputs(study)
    observations = store.observations()
    if previous is not None:  # readings taken under the old codes belong to their animals
        ids = animal_id_for_codes(store)
        observations = observations.assign(animal=observations["animal"].replace(ids))
    baseline = baseline_covariates(study, observations)
    seed = secrets.randbits(128) if seed is None else seed
    alloc = allocate_animals(animals, preps, seed=seed, baseline=baseline,
                             n_candidates=n_candidates, per_preparation=per_preparation,
                             arms=study.arm_ids)
    animal_codes = new_codes(len(alloc.animals), "A")
    vial_codes = dict(zip(preps["preparation"], new_codes(len(preps), "V"), strict=True))
    donor_of = dict(zip(preps["preparation"], preps["donor"], strict=True))
    rows = [{"animal": a, "animal_code": ac, "vial_code": vial_codes[p], "preparation": p,
             "donor": donor_of[p], "arm": arm}
            for a, ac, p, arm in zip(alloc.animals, animal_codes, alloc.preparations,
                                     alloc.arms, strict=True)]
    vials = [{"vial_code": vial_codes[p], "preparation": p,
              "donors": list(study.preparation(p).donors), "arm": study.arm_of_preparation(p)}
             for p in preps["preparation"]]
    order_seed = secrets.randbits(63)
    forced = reason.strip() if previous is not None and reason else None
    with store.transaction() as tx:
        run_id = sa_alloc.next_run_id(tx)
        key = {"version": KEY_VERSION, "study": study.info.id, "run": run_id,
               "seed": str(alloc.seed), "candidate": alloc.candidate,
               "n_candidates": alloc.n_candidates, "per_preparation": per_preparation,
               "animals": sorted(rows, key=lambda r: r["animal_code"]),
               "vials": sorted(vials, key=lambda v: v["vial_code"])}
        blob = encrypt_key(key, passphrase, associated_data=_aad(study.info.id, run_id),
                           kdf_n=kdf_n)
        sa_alloc.record_allocation(
            tx, run_id, study_id=study.info.id, actor=actor, method=alloc.method,
            n_candidates=alloc.n_candidates, covariates=alloc.covariates,
            imbalance_before=alloc.imbalance_before, imbalance_after=alloc.imbalance_after,
            order_seed=order_seed, forced_reason=forced,
            codes=[(r["animal"], r["animal_code"], r["vial_code"]) for r in rows], blob=blob,
            event_after={"study": study.info.id, "method": alloc.method,
                         "n_candidates": alloc.n_candidates,
                         "covariates": list(alloc.covariates),
                         "imbalance_before": alloc.imbalance_before,
                         "imbalance_after": alloc.imbalance_after,
                         "kdf": blob.kdf, "cipher": blob.cipher,
                         "order_seed": str(order_seed)},
            replaces=None if previous is None else previous.run_id)
        groups = new_group_codes(len(study.arm_ids))
        arm_group = dict(zip(study.arm_ids, groups, strict=True))
        store.set_meta(f"group_codes:run{run_id}",
                       json.dumps({v["vial_code"]: arm_group[v["arm"]] for v in vials},
                                  sort_keys=True),
                       actor=actor, tx=tx)
    return AllocationReport(run_id=run_id, n_animals=len(rows), n_vials=len(vials),
                            covariates=alloc.covariates, imbalance_before=alloc.imbalance_before,
                            imbalance_after=alloc.imbalance_after,
                            n_candidates=alloc.n_candidates, method=alloc.method,
                            replaced_run=None if previous is None else previous.run_id)


def new_group_codes(n: int) -> list[str]:
    """``n`` distinct group labels (``group K``, ``group R`` ...) in random order.

    One per arm, for blinded analyses: they say which vials share an arm, not which
    arm it is (the letters are drawn at random, not in the order of the study file).
    """
    letters = [c for c in CODE_ALPHABET if c.isalpha()]
    picked = []
    while len(picked) < n:
        c = secrets.choice(letters)
        if c not in picked:
            picked.append(c)
    return [f"group {c}" for c in picked]


def allocation_seed(store) -> str:
    """The seed of the allocation in force, once unblinded ('' before: it is sealed)."""
    run = sa_alloc.current_run(store)
    if run is None:
        return ""
    record = sa_alloc.unblinding(store, run.run_id)
    return "" if record is None else str(json.loads(record.key_json)["seed"])


def group_codes(store) -> dict[str, str]:
    """Vial code -> coded group (one per arm) of the allocation in force; empty if none."""
    run = sa_alloc.current_run(store)
    if run is None:
        return {}
    raw = store.get_meta(f"group_codes:run{run.run_id}")
    return json.loads(raw) if raw else {}


# ------------------------------------------------------------------------- unblinding

@dataclass(frozen=True)
class UnblindReport:
    """Who unblinded which run, when and why; the seed now revealed."""

    run_id: int
    unblinded_by: str
    unblinded_at: str
    reason: str
    seed: str
    event_id: int


def _current(study, store) -> sa_alloc.RunRecord:
    run = sa_alloc.current_run(store)
    if run is None:
        raise BlindingError(f"study {study.info.id} has no allocation in {store.url}: "
                            "nothing to unblind (run `nocilab allocate` first)")
    if run.study_id != study.info.id:
        raise DesignError(f"the allocation in {store.url} belongs to study {run.study_id!r}, "
                          f"not to {study.info.id!r} ({study.path})")
    return run


def unblind(study, store, *, passphrase: str, actor: str, reason: str) -> UnblindReport:
    """Open the allocation key with the passphrase; recorded with who, when and why.

    Raises BlindingError for a wrong passphrase, a missing reason, a study that is not
    allocated or is already unblinded. Nothing is written when it fails.
    """
    if not (isinstance(reason, str) and reason.strip()):
        raise BlindingError("unblinding needs a reason (recorded in the audit trail)")
    run = _current(study, store)
    if sa_alloc.unblinding(store, run.run_id) is not None:
        raise BlindingError(f"study {study.info.id} is already unblinded (run {run.run_id})")
    blob = sa_alloc.key_blob(store, run.run_id)
    text = decrypt_key(blob, passphrase, associated_data=_aad(study.info.id, run.run_id))
    key = json.loads(text)
    with store.transaction() as tx:
        rec = sa_alloc.record_unblinding(tx, run.run_id, actor=actor, reason=reason.strip(),
                                         key_json=text,
                                         event_after={"study": study.info.id,
                                                      "seed": key["seed"]})
    return UnblindReport(run_id=run.run_id, unblinded_by=rec.unblinded_by,
                         unblinded_at=rec.unblinded_at, reason=rec.reason, seed=key["seed"],
                         event_id=rec.event_id)


# --------------------------------------------------------------------- what is shown

def blinding_state(study, store) -> str:
    """``'not allocated'``, ``'blinded'``, ``'unblinded'`` or ``'open'`` (see the module)."""
    run = sa_alloc.current_run(store)
    if run is not None:
        _current(study, store)
        return "unblinded" if sa_alloc.unblinding(store, run.run_id) is not None else "blinded"
    animals = study.animal_table()
    if len(animals) and (animals["preparation"] != "").all():
        return "open"
    return "not allocated"


def animal_id_for_codes(store) -> dict[str, str]:
    """Animal code -> animal id of the allocation in force (public; empty when none)."""
    run = sa_alloc.current_run(store)
    if run is None:
        return {}
    return {code: animal for animal, code, _vial in sa_alloc.codes(store, run.run_id)}


def assignments(study, store, *, reveal: bool) -> pd.DataFrame:
    """Every animal of the study with its codes and, where allowed, its assignment.

    Parameters
    ----------
    study : nocilab.model.Study
    store : nocilab.store.Store
    reveal : bool
        Show preparation, donor and arm when the study is unblinded. When it is still
        blinded (or ``reveal`` is False) ``preparation`` and ``donor`` hold the vial code
        and ``arm`` is :data:`BLINDED_ARM`.

    Returns
    -------
    DataFrame
        Columns :data:`ASSIGNMENT_COLUMNS`, one row per animal in study-file order.
        ``'open'`` studies: codes are the animal and preparation ids themselves.
        ``'not allocated'``: every column but ``animal`` is ``""``.
    """
    table = study.animal_table()
    state = blinding_state(study, store)
    if state in ("open", "not allocated"):
        out = pd.DataFrame({"animal": table["animal"],
                            "animal_code": table["animal"] if state == "open" else "",
                            "preparation": table["preparation"],
                            "vial_code": table["preparation"], "donor": table["donor"],
                            "arm": table["arm"]})
        return out[list(ASSIGNMENT_COLUMNS)].reset_index(drop=True)
    run = sa_alloc.current_run(store)
    assert run is not None  # state says so
    codes = pd.DataFrame(sa_alloc.codes(store, run.run_id),
                         columns=["animal", "animal_code", "vial_code"])
    stray = sorted(set(codes["animal"]) - set(table["animal"]))
    assigned = sorted(set(table.loc[table["preparation"] != "", "animal"]) & set(codes["animal"]))
    if stray or assigned:
        what = (f"animals {', '.join(stray[:8])} are in the allocation but not in study.toml"
                if stray else f"animals {', '.join(assigned[:8])} have a preparation in "
                "study.toml and in the allocation")
        raise DesignError(f"{study.path} does not match the allocation in {store.url}: {what}")
    out = table[["animal"]].merge(codes, on="animal", how="left").fillna("")
    if state == "unblinded" and reveal:
        record = sa_alloc.unblinding(store, run.run_id)
        assert record is not None
        key = pd.DataFrame(json.loads(record.key_json)["animals"])
        unknown = sorted(set(key["preparation"]) - {p.id for p in study.preparations})
        if unknown:
            raise DesignError(f"the allocation key names preparation(s) {', '.join(unknown)} "
                              f"that {study.path} no longer defines")
        out = out.merge(key[["animal", "preparation"]], on="animal", how="left").fillna("")
        out["donor"] = [study.donor_unit_of_preparation(p) if p else "" for p in out["preparation"]]
        out["arm"] = [study.arm_of_preparation(p) if p else "" for p in out["preparation"]]
    else:
        out["preparation"] = out["vial_code"]
        out["donor"] = out["vial_code"]
        out["arm"] = [BLINDED_ARM if c else "" for c in out["animal_code"]]
    return out[list(ASSIGNMENT_COLUMNS)].reset_index(drop=True)
