"""Allocation: balance of numbers, sex and cage; constraints; seeds; baseline balance."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from _allocation_study import (
    PREPARATIONS,
    baseline_rows,
    import_baseline,
    study_data,
    write_study,
)

from nocilab.design.allocate import (
    allocate_animals,
    arm_imbalance,
    baseline_covariates,
    study_allocation_inputs,
)
from nocilab.errors import DesignError
from nocilab.store import Store


def _animals(n: int, *, cage_size: int = 4, n_female: int | None = None) -> pd.DataFrame:
    n_female = n if n_female is None else n_female
    return pd.DataFrame({"animal": [f"m{i:03d}" for i in range(n)],
                         "sex": ["F" if i < n_female else "M" for i in range(n)],
                         "cage": [f"c{i // cage_size:02d}" for i in range(n)]})


def _preps(n_patient: int, n_control: int, n_vehicle: int = 0) -> pd.DataFrame:
    ids = ([f"P{i}" for i in range(n_patient)] + [f"C{i}" for i in range(n_control)]
           + [f"V{i}" for i in range(n_vehicle)])
    arms = ["patient"] * n_patient + ["control"] * n_control + ["vehicle"] * n_vehicle
    return pd.DataFrame({"preparation": ids, "arm": arms})


def _z_imbalance(frame: pd.DataFrame, baseline: pd.DataFrame) -> float:
    """Largest standardised arm difference, computed independently with pandas."""
    z = (baseline - baseline.mean()) / baseline.std(ddof=1)
    merged = frame.set_index("animal").join(z)
    means = merged.groupby("arm")[list(baseline.columns)].mean()
    return float((means.max() - means.min()).max())


# ----------------------------------------------------------------------------- numbers

@pytest.mark.parametrize(("n", "p", "c", "v"), [(45, 8, 6, 0), (24, 4, 3, 1), (14, 8, 6, 0),
                                                (31, 2, 2, 1)])
def test_every_preparation_gets_n_over_k_animals_give_or_take_one(n, p, c, v):
    preps = _preps(p, c, v)
    k = len(preps)
    for seed in range(20):
        counts = allocate_animals(_animals(n, n_female=n // 2), preps, seed=seed).counts()
        assert set(counts.index) == set(preps["preparation"])
        assert counts.sum() == n
        assert counts.min() == n // k and counts.max() == -(-n // k)


def test_per_preparation_is_exact_with_two_sexes():
    for seed in range(20):
        a = allocate_animals(_animals(28, n_female=13), _preps(4, 3), seed=seed,
                             per_preparation=4)
        assert (a.counts() == 4).all()


def test_within_each_sex_preparations_differ_by_at_most_one():
    preps = _preps(5, 4)
    for seed in range(30):
        frame = allocate_animals(_animals(40, cage_size=5, n_female=23), preps,
                                 seed=seed).to_frame()
        table = pd.crosstab(frame["preparation"], frame["sex"])
        assert (table.max() - table.min() <= 1).all(), table


def test_cages_are_split_evenly_between_two_arms():
    # One preparation per arm: blocks of two, so every cage of four animals (which starts
    # on a block boundary) holds two animals of each arm, whatever the seed.
    preps = _preps(1, 1)
    for seed in range(50):
        frame = allocate_animals(_animals(24, cage_size=4), preps, seed=seed).to_frame()
        per_cage = pd.crosstab(frame["cage"], frame["arm"])
        assert (per_cage == 2).all().all(), per_cage


def test_arms_are_mixed_within_cages_more_than_by_chance():
    # 4 patient and 3 control preparations, cages of 4: the interleaved blocks make
    # cages holding one arm only rarer than under simple randomisation to preparations.
    animals, preps = _animals(56, cage_size=4), _preps(4, 3)
    rng = np.random.default_rng(0)
    single_blocked = single_simple = 0
    for seed in range(100):
        frame = allocate_animals(animals, preps, seed=seed).to_frame()
        single_blocked += int((frame.groupby("cage")["arm"].nunique() == 1).sum())
        simple = rng.permutation(np.repeat(preps["arm"].to_numpy(), 8))
        single_simple += int((pd.Series(simple).groupby(np.arange(56) // 4).nunique() == 1).sum())
    assert single_blocked < 0.5 * single_simple


# ------------------------------------------------------------------------- constraints

def test_seven_mice_for_eight_donors_names_the_constraint():
    with pytest.raises(DesignError, match=r"7 animals cannot be balanced over 8 preparations"):
        allocate_animals(_animals(7), _preps(4, 4), seed=1)


def test_an_arm_without_preparation_is_named():
    with pytest.raises(DesignError, match=r"arm\(s\) vehicle have no preparation"):
        allocate_animals(_animals(8), _preps(2, 2), seed=1,
                         arms=("patient", "control", "vehicle"))


def test_per_preparation_that_does_not_fit_is_named():
    with pytest.raises(DesignError, match=r"3 animals per preparation for 7 preparations "
                                          r"needs 21 animals; the study has 20"):
        allocate_animals(_animals(20), _preps(4, 3), seed=1, per_preparation=3)


@pytest.mark.parametrize("seed", [-1, 1.5, True, "7"])
def test_seed_must_be_a_non_negative_whole_number(seed):
    with pytest.raises(DesignError, match="seed"):
        allocate_animals(_animals(8), _preps(2, 2), seed=seed)


def test_duplicate_animal_ids_are_refused():
    animals = _animals(8)
    animals.loc[3, "animal"] = "m000"
    with pytest.raises(DesignError, match="repeated: m000"):
        allocate_animals(animals, _preps(2, 2), seed=1)


# ----------------------------------------------------------------------- reproducibility

def test_same_seed_and_inputs_give_the_same_allocation():
    animals, preps = _animals(30, n_female=14), _preps(4, 3, 1)
    base = pd.DataFrame({"pp": np.linspace(80, 160, 30)}, index=animals["animal"])
    first = allocate_animals(animals, preps, seed=2024, baseline=base, n_candidates=200)
    again = allocate_animals(animals, preps, seed=2024, baseline=base, n_candidates=200)
    assert first == again
    others = {allocate_animals(animals, preps, seed=s).preparations for s in range(5)}
    assert len(others) == 5  # different seeds, different allocations


def test_large_seeds_are_accepted():
    seed = 2**127 + 12345
    a = allocate_animals(_animals(8), _preps(2, 2), seed=seed)
    assert a.seed == seed and a == allocate_animals(_animals(8), _preps(2, 2), seed=seed)


# ---------------------------------------------------------------------------- imbalance

def test_arm_imbalance_by_hand_with_three_arms():
    # z of 6 animals, arms 0,0,1,1,2,2: means -1.5, 0.5, 1.0 -> largest difference 2.5
    z = np.array([[-2.0, 1.0], [-1.0, 1.0], [0.0, -1.0], [1.0, -1.0], [1.0, 0.0], [1.0, 0.0]])
    worst, sumsq = arm_imbalance(np.array([[0, 0, 1, 1, 2, 2]]), z, 3)
    # covariate 2: means 1.0, -1.0, 0.0 -> 2.0
    assert worst.tolist() == [2.5] and sumsq.tolist() == [2.5**2 + 2.0**2]


def test_candidate_zero_is_the_plain_randomisation_and_its_imbalance_is_before():
    animals, preps = _animals(32, n_female=16), _preps(4, 3, 1)
    rng = np.random.default_rng(5)
    base = pd.DataFrame({"pp": rng.normal(120, 25, 32), "vf": rng.normal(1, .3, 32)},
                        index=animals["animal"])
    chosen = allocate_animals(animals, preps, seed=77, baseline=base, n_candidates=500)
    plain = allocate_animals(animals, preps, seed=77, baseline=base, n_candidates=1)
    assert plain.candidate == 0 and plain.imbalance_before == plain.imbalance_after
    assert chosen.imbalance_before == pytest.approx(plain.imbalance_after, abs=1e-12)
    assert chosen.imbalance_before == pytest.approx(_z_imbalance(plain.to_frame(), base))
    assert chosen.imbalance_after == pytest.approx(_z_imbalance(chosen.to_frame(), base))
    assert chosen.covariates == ("pp", "vf") and "best of 500" in chosen.method
    assert (chosen.counts() == 4).all()  # balance of numbers kept


def test_rerandomisation_reduces_the_baseline_difference():
    animals, preps = _animals(40, cage_size=5, n_female=20), _preps(4, 3, 1)
    before, after = [], []
    for seed in range(15):
        rng = np.random.default_rng(seed + 100)
        base = pd.DataFrame({"pp": rng.normal(120, 25, 40)}, index=animals["animal"])
        a = allocate_animals(animals, preps, seed=seed, baseline=base, n_candidates=300)
        assert a.imbalance_after <= a.imbalance_before
        before.append(a.imbalance_before)
        after.append(a.imbalance_after)
    # plain randomisation: SMD of order 0.5; the best of 300 is far smaller
    assert np.mean(after) < 0.25 * np.mean(before)


def test_without_baseline_there_is_one_candidate_and_no_imbalance():
    a = allocate_animals(_animals(8), _preps(2, 2), seed=3, n_candidates=1000)
    assert (a.n_candidates, a.candidate, a.covariates) == (1, 0, ())
    assert a.imbalance_before is None and a.imbalance_after is None


def test_constant_or_missing_covariates_are_left_out():
    animals = _animals(8)
    base = pd.DataFrame({"same": 5.0, "one": [1.0] + [np.nan] * 7,
                         "ok": np.arange(8.0)}, index=animals["animal"])
    a = allocate_animals(animals, _preps(2, 2), seed=3, baseline=base, n_candidates=10)
    assert a.covariates == ("ok",)


# -------------------------------------------------------------------- study and store

def test_study_inputs_list_every_preparation_with_arm_and_donor_unit(tmp_path):
    study = write_study(tmp_path / "s")
    animals, preps = study_allocation_inputs(study)
    assert len(animals) == 24 and list(animals.columns) == ["animal", "sex", "cage"]
    assert tuple(preps["preparation"]) == PREPARATIONS
    assert preps.set_index("preparation").loc["prpVEH", "donor"] == "prpVEH"
    assert preps.set_index("preparation").loc["prpP1", "donor"] == "dnrP1"


def test_study_with_some_animals_assigned_is_refused(tmp_path):
    data = study_data(8)
    data["animals"][2]["preparation"] = "prpP1"
    study = write_study(tmp_path / "s", data)
    with pytest.raises(DesignError, match=r"1 animal\(s\) already have a preparation .*M03"):
        study_allocation_inputs(study)


def test_study_with_every_animal_assigned_has_nothing_to_allocate(tmp_path):
    data = study_data(8)
    for a, p in zip(data["animals"], itertools.cycle(PREPARATIONS), strict=False):
        a["preparation"] = p
    study = write_study(tmp_path / "s", data)
    with pytest.raises(DesignError, match="nothing to allocate"):
        study_allocation_inputs(study)


def test_baseline_covariates_are_mean_baseline_thresholds(tmp_path):
    study = write_study(tmp_path / "s")
    animals = list(study.animal_ids)
    rows = baseline_rows(animals, seed=3)
    with Store.open(study.database_url()) as store:
        import_baseline(store, animals, seed=3)
        # a reading on a treatment day must not count
        store.add_observation("M01", 1, "paw_pressure", 1, "force_g", value_num=10.0, actor="t")
        cov = baseline_covariates(study, store.observations())
    assert list(cov.columns) == ["paw_pressure:threshold_g"]
    by_hand = rows.groupby(["animal", "study_day"])["value_num"].mean().groupby("animal").mean()
    np.testing.assert_allclose(cov["paw_pressure:threshold_g"].loc[animals],
                               by_hand.loc[animals], rtol=1e-12)


def test_no_baseline_readings_give_no_covariates(tmp_path):
    study = write_study(tmp_path / "s")
    with Store.open(study.database_url()) as store:
        store.add_observation("M01", 1, "paw_pressure", 1, "force_g", value_num=10.0, actor="t")
        assert baseline_covariates(study, store.observations()).shape[1] == 0
