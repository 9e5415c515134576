"""Power grids: the frame, the smallest design, per-cell seeds, and Dask schedulers."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from nocilab.design._power_sim import result_from_counts
from nocilab.design.power import (
    Effect,
    GridCell,
    PowerDesign,
    PowerGrid,
    VarianceComponents,
    cell_seed,
    power_grid,
    simulate_power,
)
from nocilab.errors import DesignError

BASE = PowerDesign(
    arms=("control", "patient"),
    donors_per_arm=4,
    mice_per_donor=2,
    baseline_days=(-1,),
    days=(1, 2, 4, 7),
    effect=Effect(size=5.0),
    variance=VarianceComponents(sd_donor=3.0, sd_animal=2.0, sd_residual=3.0, rho=0.3),
)


def test_frame_has_fixed_columns_and_one_row_per_design():
    g = power_grid(BASE, donors=[6, 4, 5], mice=range(1, 4), n_sims=500, seed=1)
    f = g.to_frame()
    assert list(f.columns) == ["donors_per_arm", "mice_per_donor", "n_animals", "power",
                               "ci_low", "ci_high"]
    assert len(f) == 9
    assert list(f.donors_per_arm) == [4, 4, 4, 5, 5, 5, 6, 6, 6]
    assert list(f.n_animals) == list(2 * f.donors_per_arm * f.mice_per_donor)
    assert ((f.ci_low <= f.power) & (f.power <= f.ci_high)).all()


def test_each_cell_is_simulate_power_with_its_own_seed():
    g = power_grid(BASE, donors=[4, 7], mice=[1, 3], n_sims=800, seed=9)
    for c in g.cells:
        d = dataclasses.replace(BASE, donors_per_arm=c.donors_per_arm,
                                mice_per_donor=c.mice_per_donor)
        assert c.result == simulate_power(d, n_sims=800, seed=cell_seed(9, c.donors_per_arm,
                                                                        c.mice_per_donor))
    # a cell's result does not depend on the other cells of the grid
    alone = power_grid(BASE, donors=[7], mice=[3], n_sims=800, seed=9).cells[0]
    assert alone.result == next(c.result for c in g.cells
                                if (c.donors_per_arm, c.mice_per_donor) == (7, 3))
    seeds = {cell_seed(9, d, m).generate_state(2).tobytes() for d in (4, 7) for m in (1, 3)}
    assert len(seeds) == 4


def test_cell_seed_is_a_spawned_child():
    root = np.random.SeedSequence(123)
    child = cell_seed(123, 5, 2)
    assert child.entropy == root.entropy and child.spawn_key == (5, 2)
    r = power_grid(BASE, donors=[5], mice=[2], n_sims=10, seed=123).cells[0].result
    assert (r.seed, r.spawn_key) == (123, (5, 2))
    nested = cell_seed(root.spawn(1)[0], 5, 2)
    assert nested.spawn_key == (0, 5, 2)


def hand_grid(powers: dict[tuple[int, int], float], target: float = 0.8) -> PowerGrid:
    n = 10_000
    cells = []
    for (d, m), p in powers.items():
        design = dataclasses.replace(BASE, donors_per_arm=d, mice_per_donor=m)
        r = result_from_counts(design, np.array([round(p * n)]), n, seed=0,
                               method="sufficient")
        cells.append(GridCell(donors_per_arm=d, mice_per_donor=m, n_animals=design.n_animals,
                              result=r))
    return PowerGrid(base_design=BASE, cells=tuple(cells), target=target, n_sims=n, seed=0,
                     method="sufficient")


def test_fewest_donors_rule_then_fewest_animals():
    g = hand_grid({(4, 6): 0.79, (5, 2): 0.70, (5, 4): 0.83, (5, 6): 0.86, (6, 1): 0.81,
                   (6, 2): 0.9})
    best = g.choose(rule="fewest-donors")
    assert best.reached and best.rule == "fewest-donors"
    assert (best.donors_per_arm, best.mice_per_donor, best.n_animals) == (5, 4, 40)
    assert best.power == pytest.approx(0.83)
    assert "5 donors per arm x 4 mice" in best.message
    # demanding the lower interval bound reach the target moves to a safer design
    safe = g.choose(0.825, rule="fewest-donors", conservative=True)
    assert (safe.donors_per_arm, safe.mice_per_donor) == (5, 6)


def test_the_default_rule_is_the_fewest_animals():
    # the designs of the issue: 6 x 5 (60 mice), 7 x 3 (42) and 8 x 2 (32) all reach 0.8
    g = hand_grid({(6, 4): 0.79, (6, 5): 0.81, (7, 2): 0.77, (7, 3): 0.82, (8, 1): 0.70,
                   (8, 2): 0.83})
    best = g.choose()
    assert best.rule == "fewest-animals" and best.rule_text == "fewest animals"
    assert (best.donors_per_arm, best.mice_per_donor, best.n_animals) == (8, 2, 32)
    fewest_donors = g.choose(rule="fewest-donors")
    assert (fewest_donors.donors_per_arm, fewest_donors.n_animals) == (6, 60)


def test_a_donor_cost_weighs_donors_against_animals():
    g = hand_grid({(6, 5): 0.81, (7, 3): 0.82, (8, 2): 0.83})
    # cost of a design: mice + cost x donors, over both arms
    # cost 3: 8 x 2 -> 16*5 = 80, 7 x 3 -> 14*6 = 84, 6 x 5 -> 12*8 = 96
    assert g.choose(donor_cost=3).donors_per_arm == 8
    # cost 10: 8 x 2 -> 192, 7 x 3 -> 182, 6 x 5 -> 180
    heavy = g.choose(donor_cost=10)
    assert heavy.donors_per_arm == 6
    assert heavy.rule_text == "fewest animals (each donor counted as 10 animals)"
    # equal cost: the fewer donors win, then the higher power
    tie = hand_grid({(4, 3): 0.81, (6, 2): 0.85, (12, 1): 0.9})
    assert tie.choose().donors_per_arm == 4


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"rule": "cheapest"}, "rule"),
    ({"donor_cost": -1}, "donor_cost"),
    ({"donor_cost": float("nan")}, "donor_cost"),
])
def test_choose_arguments_are_checked(kwargs, field):
    g = hand_grid({(4, 1): 0.9})
    with pytest.raises(DesignError, match=field):
        g.choose(**kwargs)


def test_no_design_reaching_the_target_is_said():
    g = hand_grid({(4, 1): 0.3, (4, 2): 0.5, (5, 2): 0.6})
    for rule in ("fewest-animals", "fewest-donors"):
        none = g.choose(0.9, rule=rule)
        assert not none.reached
        assert none.donors_per_arm is None and none.power is None
        assert "no design in the grid reaches power 0.9;" in none.message
        assert "5 donors per arm x 2 mice" in none.message


def test_real_grid_choices_reach_the_target():
    g = power_grid(BASE, donors=range(3, 9), mice=range(1, 5), n_sims=2000, seed=3,
                   target=0.5)
    f = g.to_frame()
    ok = f[f.power >= 0.5]
    donors = g.choose(rule="fewest-donors")
    assert donors.reached and donors.power >= 0.5
    assert donors.donors_per_arm == ok.donors_per_arm.min()
    assert donors.n_animals == ok[ok.donors_per_arm == donors.donors_per_arm].n_animals.min()
    animals = g.choose()
    assert animals.n_animals == ok.n_animals.min()


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"donors": [1]}, "PowerDesign.donors_per_arm"),
    ({"donors": []}, "donors"),
    ({"mice": [0, 1]}, "mice"),
    ({"target": 1.2}, "target"),
    ({"n_sims": 0}, "n_sims"),
    ({"method": "magic"}, "method"),
    ({"scheduler": 42}, "scheduler"),
])
def test_grid_arguments_are_checked(kwargs, field):
    args = {"donors": [4], "mice": [1], "n_sims": 10, "seed": 1} | kwargs
    with pytest.raises(DesignError, match=field):
        power_grid(BASE, **args)


def test_local_cluster_gives_the_in_process_result():
    kwargs = {"donors": [3, 5], "mice": [1, 2], "n_sims": 1000, "seed": 17}
    here = power_grid(BASE, **kwargs)
    there = power_grid(BASE, scheduler="local", **kwargs)
    assert there.cells == here.cells
    assert there.to_frame().equals(here.to_frame())


def test_scheduler_address_and_client():
    distributed = pytest.importorskip("dask.distributed")
    kwargs = {"donors": [4], "mice": [1, 3], "n_sims": 500, "seed": 5, "method": "full"}
    here = power_grid(BASE, **kwargs)
    with distributed.LocalCluster(processes=False, n_workers=1, threads_per_worker=1,
                                  protocol="tcp", dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://")
        by_address = power_grid(BASE, scheduler=cluster.scheduler_address, **kwargs)
        with distributed.Client(cluster) as client:
            by_client = power_grid(BASE, scheduler=client, **kwargs)
    assert by_address.cells == here.cells == by_client.cells


def test_grid_can_refit_each_cell():
    g = power_grid(BASE, donors=[3], mice=[1, 2], n_sims=4, seed=2, method="refit")
    assert g.method == "refit"
    assert [c.result.method for c in g.cells] == ["refit", "refit"]
    assert all(c.result.n_sims + c.result.n_failed == 4 for c in g.cells)
