"""Choosing a design from a power grid and looking past the grid's edges."""

from __future__ import annotations

import dataclasses

import pytest

from nocilab.design._power_text import effect_scale_text, summary_lines
from nocilab.design.power import (
    Effect,
    PowerDesign,
    VarianceComponents,
    cell_seed,
    exact_power,
    plan_power,
    power_grid,
    simulate_power,
)

BASE = PowerDesign(
    arms=("control", "patient"),
    donors_per_arm=4,
    mice_per_donor=2,
    baseline_days=(-1,),
    days=(1, 2, 4, 7),
    effect=Effect(size=5.0),
    variance=VarianceComponents(sd_donor=3.0, sd_animal=2.0, sd_residual=3.0, rho=0.3),
)
# a large effect: every design of a 4-8 x 1-3 grid has power >= 0.8
STRONG = dataclasses.replace(BASE, effect=Effect(size=16.0))


def sizes(plan):
    return {(c.donors_per_arm, c.mice_per_donor) for c in plan.grid.cells}


def test_a_grid_whose_every_design_reaches_the_target_is_extended_down():
    grid = power_grid(STRONG, donors=range(4, 9), mice=range(1, 4), n_sims=2000, seed=5)
    assert (grid.to_frame()["power"] >= 0.8).all()  # the grid's lower edge is hit
    plan = plan_power(STRONG, donors=range(4, 9), mice=range(1, 4), n_sims=2000, seed=5)
    f = plan.grid.to_frame()
    assert f.donors_per_arm.min() < 4
    c = plan.chosen
    assert c.reached and c.rule == "fewest-animals"
    # the chosen design is not on an edge that could go lower: the design just below fails
    assert c.donors_per_arm == 2 or not (
        f[(f.donors_per_arm == c.donors_per_arm - 1) & (f.mice_per_donor == c.mice_per_donor)]
        .power >= 0.8).any()
    assert c.n_animals == f[f.power >= 0.8].n_animals.min()
    below = {(x.donors_per_arm, x.mice_per_donor): x for x in plan.next_smaller}
    assert (c.donors_per_arm - 1, c.mice_per_donor) in below
    assert all(x.power < 0.8 for x in below.values())
    assert any("extended down to" in e and "from 4" in e for e in plan.extended)
    # the cells the grid had keep their results (each cell's seed is its coordinates)
    old = {(x.donors_per_arm, x.mice_per_donor): x.result for x in grid.cells}
    new = {(x.donors_per_arm, x.mice_per_donor): x.result for x in plan.grid.cells}
    assert all(new[k] == v for k, v in old.items())
    d2 = dataclasses.replace(STRONG, donors_per_arm=3, mice_per_donor=1)
    assert new[(3, 1)] == simulate_power(d2, n_sims=2000, seed=cell_seed(5, 3, 1))


def test_a_size_given_as_one_value_is_fixed_and_the_next_smaller_is_computed():
    plan = plan_power(STRONG, donors=[6], mice=[3], n_sims=2000, seed=2)
    assert sizes(plan) == {(6, 3)}
    assert plan.chosen.reached and plan.extended == ()
    near = {(x.donors_per_arm, x.mice_per_donor): x for x in plan.next_smaller}
    assert set(near) == {(5, 3), (6, 2)}
    assert not any(x.in_grid for x in near.values())
    expected = simulate_power(dataclasses.replace(STRONG, donors_per_arm=5, mice_per_donor=3),
                              n_sims=2000, seed=cell_seed(2, 5, 3)).power
    assert near[(5, 3)].power == expected
    assert any("only (fixed) number of donors" in n for n in plan.notes)
    lines = summary_lines(plan)
    assert any("5 donors per arm x 3 mice" in x and "outside the grid" in x for x in lines)


def test_more_donors_with_fewer_mice_are_searched_for_fewer_animals():
    # 4-6 donors x 1-3 mice at target 0.5: only 6 x 3 (36 mice) reaches it in the grid,
    # but 12 x 1 (24 mice) does too (exact power 0.515)
    assert exact_power(dataclasses.replace(BASE, donors_per_arm=12, mice_per_donor=1)) > 0.5
    plan = plan_power(BASE, donors=range(4, 9), mice=range(1, 4), n_sims=4000, seed=3,
                      target=0.5)
    c = plan.chosen
    assert c.n_animals < plan.fewest_donors.n_animals
    assert c.mice_per_donor < 3 and c.donors_per_arm > 8
    f = plan.grid.to_frame()
    assert c.n_animals == f[f.power >= 0.5].n_animals.min()
    assert any("more than 8 donors per arm" in e for e in plan.extended)
    # the fewest-donors rule picks what the grid alone picks
    alone = power_grid(BASE, donors=range(4, 9), mice=range(1, 4), n_sims=4000, seed=3)
    fd = alone.choose(0.5, rule="fewest-donors")
    assert (plan.fewest_donors.donors_per_arm, plan.fewest_donors.mice_per_donor) == (
        fd.donors_per_arm, fd.mice_per_donor)


def test_the_fewest_donors_rule_and_a_donor_cost():
    plan = plan_power(BASE, donors=range(6, 14), mice=range(1, 5), n_sims=4000, seed=3,
                      target=0.6, rule="fewest-donors")
    assert plan.chosen is plan.fewest_donors and plan.rule == "fewest-donors"
    assert plan.chosen.donors_per_arm <= plan.fewest_animals.donors_per_arm
    costly = plan_power(BASE, donors=range(6, 14), mice=range(1, 5), n_sims=4000, seed=3,
                        target=0.6, donor_cost=20)
    # a donor worth 20 mice: fewer donors with more mice win
    assert costly.chosen.donors_per_arm < plan.fewest_animals.donors_per_arm


def test_no_design_reaching_the_target_says_the_upper_edge_was_hit():
    plan = plan_power(BASE, donors=range(4, 7), mice=range(1, 3), n_sims=1000, seed=1,
                      target=0.95)
    assert not plan.chosen.reached and plan.next_smaller == ()
    (note,) = plan.notes
    assert "upper edge" in note and "6 donors per arm x 2 mice per donor" in note
    assert "--donors 6-12" in note


def test_fewest_donors_at_the_largest_mice_says_more_mice_could_help():
    plan = plan_power(BASE, donors=range(4, 14), mice=range(1, 3), n_sims=2000, seed=1,
                      target=0.6, rule="fewest-donors")
    assert plan.chosen.mice_per_donor == 2
    assert any("largest number of mice per donor (2)" in n and "widen --mice" in n
               for n in plan.notes)


@pytest.mark.parametrize(("effect", "unit", "text"), [
    (Effect(size=25, scale="percent", baseline_mean=120), "g",
     "effect 25 % of baseline = 30 g (baseline 120 g)"),
    (Effect(size=25, scale="percent", baseline_mean=120), "",
     "effect 25 % of baseline = 30 (baseline 120, in reading units)"),
    (Effect(size=6), "s", "effect 6 s (absolute)"),
    (Effect(size=6, baseline_mean=24), "s",
     "effect 6 s (absolute) = 25 % of baseline (baseline 24 s)"),
])
def test_the_effect_is_stated_with_its_scale(effect, unit, text):
    assert effect_scale_text(effect, unit) == text


def test_the_short_effect_text_leaves_out_the_baseline():
    eff = Effect(size=25, scale="percent", baseline_mean=120)
    assert effect_scale_text(eff, "g", short=True) == "effect 25 % of baseline = 30 g"
    assert effect_scale_text(Effect(size=6), "s", short=True) == "effect 6 s (absolute)"
