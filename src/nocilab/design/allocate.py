"""Randomised allocation of animals to preparations (individual donors or pools).

The method
----------
**Balanced numbers.** Animals are split over the preparations as evenly as possible:
every preparation gets ``n // k`` or ``n // k + 1`` animals (``n`` animals, ``k``
preparations), or exactly ``per_preparation`` when that is asked for. An arm gets the
animals of its preparations, so arms are balanced in proportion to their preparations
(the unit of inference is the donor, see DOMAIN.md). Fewer animals than preparations,
an arm without preparations, or a ``per_preparation`` that does not fit the number of
animals, raise :class:`~nocilab.errors.DesignError` naming the constraint.

**Stratified permuted blocks (sex, cage).** Animals are taken sex by sex (in random
order), and within a sex cage by cage (cages in random order, animals in random order
within a cage). They are dealt, in that order, onto a sequence of preparation *blocks*:
each block holds every preparation once, in an order that interleaves the arms (the
preparations of each arm are shuffled and spread evenly over the block, with a random
phase per arm), so consecutive animals, and hence the animals of one cage, alternate
between arms. Within one sex every preparation gets the same number of animals, give or
take one; the "give or take one" preparations of each sex are those with the fewest
animals so far (ties broken by the interleaved order), which keeps the totals balanced
to within one as well.

**Baseline balance (re-randomisation).** When baseline readings exist (derived values of
the scheduled assays on negative study days), every (assay, outcome) gives one
covariate per animal (mean over baseline days), standardised over the animals (mean 0,
SD 1; an animal without a value counts as the mean). For an allocation, the imbalance
of a covariate is the largest difference between two arm means in SD units (the
standardised mean difference between the two most distant arms); the allocation's
imbalance is the largest over covariates. ``n_candidates`` allocations are drawn as
above from independent streams of the seed; the one with the smallest imbalance (ties:
smallest sum of squares, then the earlier candidate) is chosen. Every candidate keeps
the balance of numbers, sex and cage. ``imbalance_before`` is that of candidate 0 (the
plain randomisation), ``imbalance_after`` that of the chosen one. This is
re-randomisation in the sense of Morgan and Rubin (2012, *Ann Stat* 40:1263); the
analysis should still adjust for the baseline.

**Reproducibility.** The same seed, the same ``n_candidates`` and the same inputs (the
animals and preparations in file order, the baseline values) give the same allocation:
each candidate is drawn from ``numpy.random.SeedSequence(seed).spawn(n_candidates)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nocilab.errors import DesignError

__all__ = [
    "ALLOCATION_COLUMNS",
    "Allocation",
    "allocate_animals",
    "arm_imbalance",
    "baseline_covariates",
    "study_allocation_inputs",
]

ALLOCATION_COLUMNS = ("animal", "preparation", "arm", "sex", "cage")
"""Columns of :meth:`Allocation.to_frame`."""

METHOD = "stratified permuted blocks (sex, cage), arms interleaved"
RERANDOMISED = ("; baseline re-randomisation: best of {n} candidates by max standardised "
                "arm difference")


@dataclass(frozen=True)
class Allocation:
    """The result of :func:`allocate_animals`.

    Attributes
    ----------
    animals, preparations, arms, sexes, cages : tuple of str
        One entry per animal, in the order the animals were given.
    seed : int
        The seed the allocation was drawn from.
    n_candidates : int
        Candidate allocations drawn (1 without baseline covariates).
    candidate : int
        The index of the chosen candidate (0 without baseline covariates).
    covariates : tuple of str
        The baseline covariates balanced (``assay:outcome``); empty when none.
    imbalance_before, imbalance_after : float or None
        Largest standardised arm difference of candidate 0 and of the chosen candidate;
        None without covariates (nothing to balance).
    method : str
        A one-line description of the method, for the record.
    """

    animals: tuple[str, ...]
    preparations: tuple[str, ...]
    arms: tuple[str, ...]
    sexes: tuple[str, ...]
    cages: tuple[str, ...]
    seed: int
    n_candidates: int
    candidate: int
    covariates: tuple[str, ...]
    imbalance_before: float | None
    imbalance_after: float | None
    method: str

    def to_frame(self) -> pd.DataFrame:
        """One row per animal with the columns of :data:`ALLOCATION_COLUMNS`."""
        return pd.DataFrame({"animal": self.animals, "preparation": self.preparations,
                             "arm": self.arms, "sex": self.sexes, "cage": self.cages},
                            columns=list(ALLOCATION_COLUMNS))

    def counts(self) -> pd.Series:
        """Animals per preparation (index: preparation)."""
        return self.to_frame().groupby("preparation").size()


# ------------------------------------------------------------------------- constraints

def _check(animals: pd.DataFrame, preps: pd.DataFrame, arms: tuple[str, ...],
           per_preparation: int | None) -> None:
    for name, frame, cols in (("animals", animals, ("animal", "sex", "cage")),
                              ("preparations", preps, ("preparation", "arm"))):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise DesignError(f"the {name} table lacks column(s) {', '.join(missing)}")
    n, k = len(animals), len(preps)
    if k == 0:
        raise DesignError("the study defines no preparation to allocate animals to")
    for col, frame in (("animal", animals), ("preparation", preps)):
        dup = sorted(frame[col][frame[col].duplicated()].astype(str).unique())
        if dup:
            raise DesignError(f"{col} ids must be unique; repeated: {', '.join(dup)}")
    empty = [a for a in arms if a not in set(preps["arm"])]
    if empty:
        raise DesignError(
            f"arm(s) {', '.join(empty)} have no preparation: balanced allocation needs at "
            "least one preparation per arm (add one, or remove the arm from study.toml)")
    if n < k:
        raise DesignError(
            f"{n} animals cannot be balanced over {k} preparations: every preparation "
            f"(donor or pool) needs at least one animal, so at least {k} animals are "
            f"needed ({k - n} more, or {k - n} fewer preparations)")
    if per_preparation is not None:
        if per_preparation < 1:
            raise DesignError(f"animals per preparation must be at least 1, got {per_preparation}")
        if per_preparation * k != n:
            raise DesignError(
                f"{per_preparation} animals per preparation for {k} preparations needs "
                f"{per_preparation * k} animals; the study has {n} to allocate")


# ----------------------------------------------------------------------------- drawing

def _interleave(items: np.ndarray, arm_of: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``items`` (preparation indices) shuffled within arm and spread evenly over arms.

    The preparations of an arm with ``m`` of them in the block get the keys
    ``(0 + u) / m, (1 + u) / m ...`` in random order (``u`` a random phase per arm);
    sorting all keys interleaves the arms in proportion to their sizes.
    """
    keys = np.empty(len(items))
    arms_here = arm_of[items]
    for arm in np.unique(arms_here):
        where = rng.permutation(np.flatnonzero(arms_here == arm))
        keys[where] = (np.arange(len(where)) + rng.random()) / len(where)
    tie = rng.random(len(items))
    return items[np.lexsort((tie, keys))]


def _draw(sex_groups: list[tuple[str, list[tuple[str, np.ndarray]]]], k: int,
          arm_of: np.ndarray, n_animals: int, rng: np.random.Generator) -> np.ndarray:
    """One candidate: preparation index per animal (positions as in the input)."""
    out = np.empty(n_animals, dtype=np.int64)
    totals = np.zeros(k, dtype=np.int64)
    allp = np.arange(k)
    for gi in rng.permutation(len(sex_groups)):
        cages = sex_groups[gi][1]
        order = np.concatenate([rng.permutation(cages[ci][1])
                                for ci in rng.permutation(len(cages))])
        q, r = divmod(len(order), k)
        blocks = [_interleave(allp, arm_of, rng) for _ in range(q)]
        if r:
            ranked = _interleave(allp, arm_of, rng)
            rank = np.empty(k, dtype=np.int64)
            rank[ranked] = np.arange(k)
            extra = np.lexsort((rank, totals))[:r]  # fewest so far, then interleaved
            blocks.append(_interleave(np.sort(extra), arm_of, rng))
        seq = np.concatenate(blocks) if blocks else np.empty(0, dtype=np.int64)
        out[order] = seq
        totals += np.bincount(seq, minlength=k)
    return out


# --------------------------------------------------------------------------- imbalance

def _standardise(baseline: pd.DataFrame, animals: list[str]) -> tuple[np.ndarray, list[str]]:
    """Columns standardised over the animals; missing values become 0 (the mean)."""
    frame = baseline.reindex(animals)
    cols, zs = [], []
    for col in frame.columns:
        x = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(x)
        if ok.sum() < 2:
            continue
        sd = float(np.std(x[ok], ddof=1))
        if not sd > 0:
            continue
        z = np.where(ok, (x - np.mean(x[ok])) / sd, 0.0)
        cols.append(str(col))
        zs.append(z)
    if not zs:
        return np.empty((len(animals), 0)), []
    return np.column_stack(zs), cols


def arm_imbalance(arm_index: np.ndarray, z: np.ndarray,
                  n_arms: int) -> tuple[np.ndarray, np.ndarray]:
    """Imbalance of many allocations at once.

    Parameters
    ----------
    arm_index : (m, n) int array
        Arm of each of ``n`` animals in each of ``m`` candidate allocations.
    z : (n, q) float array
        Standardised covariates.
    n_arms : int

    Returns
    -------
    worst, sumsq : (m,) arrays
        The largest difference between two arm means over covariates (SD units), and
        the sum over covariates of the squared largest differences.

    Examples
    --------
    >>> z = np.array([[-1.0], [-1.0], [1.0], [1.0]])
    >>> worst, _ = arm_imbalance(np.array([[0, 0, 1, 1], [0, 1, 0, 1]]), z, 2)
    >>> worst.tolist()
    [2.0, 0.0]
    """
    arm_index = np.atleast_2d(arm_index)
    m = arm_index.shape[0]
    if z.shape[1] == 0:
        return np.zeros(m), np.zeros(m)
    onehot = (arm_index[:, None, :] == np.arange(n_arms)[None, :, None]).astype(float)
    counts = onehot.sum(axis=2)  # (m, A)
    means = np.einsum("man,nq->maq", onehot, z) / np.maximum(counts, 1)[:, :, None]
    present = (counts > 0)[:, :, None]
    hi = np.where(present, means, -np.inf).max(axis=1)
    lo = np.where(present, means, np.inf).min(axis=1)
    spread = hi - lo  # (m, q)
    return spread.max(axis=1), (spread ** 2).sum(axis=1)


# ---------------------------------------------------------------------------- the entry

def allocate_animals(animals: pd.DataFrame, preparations: pd.DataFrame, *, seed: int,
                     baseline: pd.DataFrame | None = None, n_candidates: int = 1000,
                     per_preparation: int | None = None,
                     arms: tuple[str, ...] | None = None) -> Allocation:
    """Allocate animals to preparations at random, balanced and reproducibly.

    Parameters
    ----------
    animals : DataFrame
        Columns ``animal``, ``sex``, ``cage``; one row per animal to allocate.
    preparations : DataFrame
        Columns ``preparation``, ``arm``; one row per preparation (donor or pool).
    seed : int
        Non-negative; the allocation is a function of the seed and the inputs.
    baseline : DataFrame, optional
        Baseline covariates: index animal, one numeric column per covariate (NaN where
        an animal has no value). Columns constant over the animals or with fewer than
        two values are left out.
    n_candidates : int
        Candidates drawn when there are covariates (see the module Notes).
    per_preparation : int, optional
        Require exactly this many animals per preparation.
    arms : tuple of str, optional
        Every arm of the study; an arm without a preparation is an error.

    Returns
    -------
    Allocation

    Raises
    ------
    DesignError
        A constraint cannot be met; the message names it.

    Examples
    --------
    >>> animals = pd.DataFrame({"animal": [f"m{i}" for i in range(8)], "sex": ["F"] * 8,
    ...                         "cage": ["A"] * 4 + ["B"] * 4})
    >>> preps = pd.DataFrame({"preparation": ["p1", "p2", "c1", "c2"],
    ...                       "arm": ["patient", "patient", "control", "control"]})
    >>> a = allocate_animals(animals, preps, seed=1)
    >>> a.counts().tolist()
    [2, 2, 2, 2]
    >>> a == allocate_animals(animals, preps, seed=1)
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise DesignError(f"the seed must be a non-negative whole number, got {seed!r}")
    if n_candidates < 1:
        raise DesignError(f"n_candidates must be at least 1, got {n_candidates}")
    animals = animals.reset_index(drop=True)
    preps = preparations.reset_index(drop=True)
    arm_ids = tuple(arms) if arms is not None else tuple(dict.fromkeys(preps.get("arm", [])))
    _check(animals, preps, arm_ids, per_preparation)
    ids = animals["animal"].astype(str).tolist()
    prep_ids = preps["preparation"].astype(str).to_numpy()
    arm_of_prep_label = preps["arm"].astype(str).to_numpy()
    arm_pos = {a: i for i, a in enumerate(arm_ids)}
    arm_of = np.array([arm_pos[a] for a in arm_of_prep_label], dtype=np.int64)
    k, n = len(prep_ids), len(ids)

    sex_groups: list[tuple[str, list[tuple[str, np.ndarray]]]] = []
    sexes = animals["sex"].astype(str).to_numpy()
    cages = animals["cage"].astype(str).to_numpy()
    for sex in sorted(set(sexes)):
        in_sex = np.flatnonzero(sexes == sex)
        groups = [(c, in_sex[cages[in_sex] == c]) for c in sorted(set(cages[in_sex]))]
        sex_groups.append((sex, groups))

    z, covariates = (np.empty((n, 0)), []) if baseline is None else _standardise(baseline, ids)
    m = n_candidates if covariates else 1
    streams = np.random.SeedSequence(int(seed)).spawn(m)
    draws = np.stack([_draw(sex_groups, k, arm_of, n, np.random.default_rng(s))
                      for s in streams])
    if covariates:
        worst, sumsq = arm_imbalance(arm_of[draws], z, len(arm_ids))
        best = int(np.lexsort((np.arange(m), sumsq, worst))[0])
        before, after = float(worst[0]), float(worst[best])
        method = METHOD + RERANDOMISED.format(n=m)
    else:
        best, before, after, method = 0, None, None, METHOD
    chosen = draws[best]
    return Allocation(
        animals=tuple(ids), preparations=tuple(prep_ids[chosen].tolist()),
        arms=tuple(arm_of_prep_label[chosen].tolist()), sexes=tuple(sexes.tolist()),
        cages=tuple(cages.tolist()), seed=int(seed), n_candidates=m, candidate=best,
        covariates=tuple(covariates), imbalance_before=before, imbalance_after=after,
        method=method)


# -------------------------------------------------------------------- study and store

def study_allocation_inputs(study) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The animals to allocate and the preparations of a study.

    Returns ``(animals, preparations)``: animals (``animal, sex, cage``) without a
    preparation in study.toml, in file order; every preparation (``preparation, arm,
    donor``) in file order, ``donor`` being the donor unit.

    Raises DesignError when some animals have a preparation in study.toml and others
    do not (allocation assigns all animals or none), or when every animal already has
    one (nothing to allocate).
    """
    table = study.animal_table()
    given = table[table["preparation"] != ""]
    if len(table) == 0:
        raise DesignError(f"{study.path}: the study has no [[animals]] to allocate")
    if len(given) == len(table):
        raise DesignError(
            f"{study.path}: every animal already has a preparation in study.toml, so "
            "there is nothing to allocate (remove the preparation keys to allocate at random)")
    if len(given):
        names = ", ".join(given["animal"].head(8)) + (", ..." if len(given) > 8 else "")
        raise DesignError(
            f"{study.path}: {len(given)} animal(s) already have a preparation in "
            f"study.toml ({names}); allocation assigns all animals or none: remove those "
            "preparation keys, or assign every animal by hand")
    animals = table[["animal", "sex", "cage"]].reset_index(drop=True)
    preps = pd.DataFrame({
        "preparation": [p.id for p in study.preparations],
        "arm": [study.arm_of_preparation(p.id) for p in study.preparations],
        "donor": [study.donor_unit_of_preparation(p.id) for p in study.preparations],
    })
    return animals, preps


def baseline_covariates(study, observations: pd.DataFrame) -> pd.DataFrame:
    """Baseline covariates from raw observations: one column per ``assay:outcome``.

    Uses the current readings on the scheduled baseline (negative) days of each assay,
    derived by the assay calculators; a censored value counts at its bound. Each
    animal's covariate is its mean over the baseline days. Index: animal id. Empty
    (no columns) when there are no baseline readings.
    """
    from nocilab.derive import derive_observations

    if observations.empty:
        return pd.DataFrame(index=pd.Index([], name="animal"))
    keep = np.zeros(len(observations), dtype=bool)
    for assay in study.schedule:
        days = study.baseline_days(assay)
        keep |= ((observations["assay"] == assay) & observations["study_day"].isin(days)).to_numpy()
    base = observations[keep]
    if base.empty:
        return pd.DataFrame(index=pd.Index([], name="animal"))
    derived = derive_observations(base, study)
    derived = derived[np.isfinite(derived["value"].to_numpy(dtype=float))]
    derived = derived.assign(covariate=derived["assay"] + ":" + derived["outcome"])
    wide = derived.pivot_table(index="animal", columns="covariate", values="value",
                               aggfunc="mean")
    wide.columns.name = None
    return wide.sort_index(axis=1)
