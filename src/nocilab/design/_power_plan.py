"""Choosing the design to run from a power grid, and what the grid's edges leave open.

A grid of donors per arm x mice per donor answers "which designs reach the target?"
only inside the grid. :func:`plan_power` computes the grid, picks the design with a rule
(:meth:`PowerGrid.choose`: the fewest animals by default, the reduction principle, or
the fewest donors), and then looks past the grid's edges so that the choice is not an
artefact of where the grid happened to stop:

- **Lower edge.** When a chosen design (either rule) has the grid's fewest donors per
  arm or fewest mice per donor, smaller designs might reach the target too. A size given
  as a range (``--donors 4-16``) is extended down one value at a time, to 2 donors per
  arm (the test needs ``donors - arms >= 1``) and 1 mouse per donor, until no chosen
  design sits on it. A size given as one value (``--mice 3``) is taken as fixed and is
  not extended.
- **More donors, fewer mice.** The design with the fewest animals may lie beyond the
  grid's largest number of donors, at fewer mice per donor: for each smaller number of
  mice whose largest design fails, the next number of donors is computed as long as it
  would still use fewer animals than the choice (a bounded search).
- **Upper edge.** When no design reaches the target, or when the fewest-donors design
  uses the grid's largest number of mice per donor and more mice could still save a
  donor, :attr:`PowerPlan.notes` says so plainly, with the numbers.

The designs just below the chosen one (one donor fewer, one mouse fewer) are always
given with their power (:attr:`PowerPlan.next_smaller`), computed if the grid lacks them.
Every cell keeps the seed of its coordinates (:func:`cell_seed`), so extending a grid
does not change the cells it already had.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from nocilab.design._power_design import PowerDesign, _finite
from nocilab.design._power_grid import (
    RULES,
    GridChoice,
    PowerGrid,
    _rule,
    _sizes,
    _target,
    mice_text,
    power_grid,
)
from nocilab.design._power_sim import Seed, exact_power
from nocilab.errors import DesignError

MIN_DONORS_PER_ARM = 2
"""The fewest donors per arm the donor-level test allows (df = donors - arms >= 1)."""


@dataclass(frozen=True)
class NearbyDesign:
    """A design next to the chosen one and its power; ``in_grid`` False when it was
    computed only to be reported (outside the grid's fixed sizes or in a gap)."""

    donors_per_arm: int
    mice_per_donor: int
    n_animals: int
    power: float
    ci_low: float
    ci_high: float
    in_grid: bool

    @property
    def text(self) -> str:
        """'5 donors per arm x 3 mice per donor (30 animals)'."""
        return (f"{self.donors_per_arm} donors per arm x {mice_text(self.mice_per_donor)} "
                f"per donor ({self.n_animals} animals)")


@dataclass(frozen=True)
class PowerPlan:
    """A power grid, the design chosen from it, and what lies past its edges.

    Attributes
    ----------
    grid : PowerGrid
        The grid as computed, extended cells included.
    requested_donors, requested_mice : tuple of int
        The sizes asked for.
    rule, donor_cost : str, float
        The rule that chose :attr:`chosen` (see :meth:`PowerGrid.choose`).
    chosen, fewest_animals, fewest_donors : GridChoice
        The design the rule picked, and what each rule picks (one of them is
        ``chosen``).
    next_smaller : tuple of NearbyDesign
        One donor per arm fewer and one mouse per donor fewer than ``chosen`` (those
        that exist), with their power.
    extended : tuple of str
        Sentences saying how the grid was extended and why (empty if it was not).
    notes : tuple of str
        What the grid's edges leave open: no design reaching the target, a chosen
        design on an edge that could not be extended.
    """

    grid: PowerGrid
    requested_donors: tuple[int, ...]
    requested_mice: tuple[int, ...]
    rule: str
    donor_cost: float
    target: float
    conservative: bool
    chosen: GridChoice
    fewest_animals: GridChoice
    fewest_donors: GridChoice
    next_smaller: tuple[NearbyDesign, ...]
    extended: tuple[str, ...]
    notes: tuple[str, ...]


def plan_power(base_design: PowerDesign, *, donors: Iterable[int] = range(4, 17),
               mice: Iterable[int] = range(1, 7), n_sims: int = 10_000, seed: Seed,
               target: float = 0.8, rule: str = "fewest-animals", donor_cost: float = 0.0,
               conservative: bool = False, scheduler: Any = None,
               method: str = "sufficient") -> PowerPlan:
    """Power over a grid, the design a rule picks, and the grid's edges looked past.

    Parameters are those of :func:`power_grid` and :meth:`PowerGrid.choose`. A size
    given as one value is fixed (never extended); a size given as several values is a
    range the search may extend (see the module docstring).

    Examples
    --------
    >>> from nocilab.design.power import plan_power, reference_design
    >>> plan = plan_power(reference_design(), donors=[6, 8, 10], mice=[2, 3], n_sims=500,
    ...                   seed=7)
    >>> plan.chosen.rule
    'fewest-animals'
    """
    rule = _rule(rule)
    cost = _finite("donor_cost", donor_cost, low=0.0)
    target = _target(target)
    d_req, m_req = tuple(_sizes("donors", donors)), tuple(_sizes("mice", mice))
    grid = power_grid(base_design, donors=d_req, mice=m_req, n_sims=n_sims, seed=seed,
                      target=target, scheduler=scheduler, method=method)
    run = _Runner(grid, scheduler=scheduler, method=method)
    free_d, free_m = len(d_req) > 1, len(m_req) > 1
    while True:
        picks = [grid.choose(target, rule=r, donor_cost=cost, conservative=conservative)
                 for r in RULES]
        new = _cells_to_add(grid, picks, target=target, donor_cost=cost,
                            conservative=conservative, free_donors=free_d, free_mice=free_m)
        if not new:
            break
        grid = run.add(grid, new)
    fewest_animals, fewest_donors = picks
    chosen = fewest_animals if rule == "fewest-animals" else fewest_donors
    nearby = _next_smaller(grid, chosen, run)
    return PowerPlan(
        grid=grid, requested_donors=d_req, requested_mice=m_req, rule=rule,
        donor_cost=cost, target=target, conservative=conservative, chosen=chosen,
        fewest_animals=fewest_animals, fewest_donors=fewest_donors, next_smaller=nearby,
        extended=_extension_text(grid, d_req, m_req, picks),
        notes=_edge_notes(grid, chosen, fewest_donors, target, free_d, free_m))


class _Runner:
    """Computes extra cells with the grid's own seeds, design and settings."""

    def __init__(self, grid: PowerGrid, *, scheduler: Any, method: str) -> None:
        self.grid0, self.scheduler, self.method = grid, scheduler, method

    def cells(self, sizes: Iterable[tuple[int, int]]) -> list:
        g = self.grid0
        out = []
        by_mice: dict[int, list[int]] = {}
        for d, m in sizes:
            by_mice.setdefault(m, []).append(d)
        for m, ds in sorted(by_mice.items()):
            part = power_grid(g.base_design, donors=ds, mice=[m], n_sims=g.n_sims,
                              seed=g.root_seed, target=g.target, scheduler=self.scheduler,
                              method=self.method)
            out.extend(part.cells)
        return out

    def add(self, grid: PowerGrid, sizes: set[tuple[int, int]]) -> PowerGrid:
        return dataclasses.replace(grid, cells=grid.cells + tuple(self.cells(sorted(sizes))))


def _sizes_of(grid: PowerGrid) -> set[tuple[int, int]]:
    return {(c.donors_per_arm, c.mice_per_donor) for c in grid.cells}


def _cells_to_add(grid: PowerGrid, picks: list[GridChoice], *, target: float,
                  donor_cost: float, conservative: bool, free_donors: bool,
                  free_mice: bool) -> set[tuple[int, int]]:
    have = _sizes_of(grid)
    d_all = sorted({d for d, _ in have})
    m_all = sorted({m for _, m in have})
    new: set[tuple[int, int]] = set()
    reached = [p for p in picks if p.reached]
    # lower edges: a chosen design with the grid's fewest donors or mice
    if free_donors and d_all[0] > MIN_DONORS_PER_ARM and any(
            p.donors_per_arm == d_all[0] for p in reached):
        new |= {(d_all[0] - 1, m) for m in m_all}
    if free_mice and m_all[0] > 1 and any(p.mice_per_donor == m_all[0] for p in reached):
        new |= {(d, m_all[0] - 1) for d in d_all}
    # more donors with fewer mice may need fewer animals than the fewest-animals choice
    fa = picks[0]
    if free_donors and fa.reached:
        arms = len(grid.base_design.arms)
        frame = grid.to_frame()
        key = "ci_low" if conservative else "power"
        fa_d, fa_m = int(fa.donors_per_arm or 0), int(fa.mice_per_donor or 0)
        best = int(fa.n_animals or 0) + donor_cost * arms * fa_d
        for m in m_all:
            if m >= fa_m:
                break
            col = frame[frame["mice_per_donor"] == m]
            top = col.sort_values("donors_per_arm").iloc[-1]
            d = int(top.donors_per_arm) + 1
            if top[key] < target and arms * d * (m + donor_cost) < best:
                new.add((d, m))
    return new - have


def _next_smaller(grid: PowerGrid, chosen: GridChoice, run: _Runner
                  ) -> tuple[NearbyDesign, ...]:
    if not chosen.reached:
        return ()
    d, m = int(chosen.donors_per_arm or 0), int(chosen.mice_per_donor or 0)
    wanted = [(d - 1, m)] if d - 1 >= MIN_DONORS_PER_ARM else []
    if m > 1:
        wanted.append((d, m - 1))
    have = {(c.donors_per_arm, c.mice_per_donor): c for c in grid.cells}
    missing = [s for s in wanted if s not in have]
    extra = {(c.donors_per_arm, c.mice_per_donor): c for c in run.cells(missing)}
    out = []
    for s in wanted:
        c = have.get(s) or extra[s]
        out.append(NearbyDesign(donors_per_arm=c.donors_per_arm,
                                mice_per_donor=c.mice_per_donor, n_animals=c.n_animals,
                                power=c.result.power, ci_low=c.result.ci_low,
                                ci_high=c.result.ci_high, in_grid=s in have))
    return tuple(out)


def _extension_text(grid: PowerGrid, d_req: tuple[int, ...], m_req: tuple[int, ...],
                    picks: list[GridChoice]) -> tuple[str, ...]:
    have = _sizes_of(grid)
    out = []
    d_low = min(d for d, _ in have)
    m_low = min(m for _, m in have)
    if d_low < d_req[0]:
        out.append(f"the grid was extended down to {d_low} donors per arm (from "
                   f"{d_req[0]}): designs at its lower edge reached the target")
    if m_low < m_req[0]:
        out.append(f"the grid was extended down to {mice_text(m_low)} per donor (from "
                   f"{m_req[0]}): designs at its lower edge reached the target")
    beyond = sorted((d, m) for d, m in have if d > d_req[-1])
    if beyond:
        sizes = ", ".join(f"{d} x {m}" for d, m in beyond)
        out.append(f"designs with more than {d_req[-1]} donors per arm and fewer mice per "
                   f"donor were computed too ({sizes}), in case they needed fewer animals")
    return tuple(out)


def _edge_notes(grid: PowerGrid, chosen: GridChoice, fewest_donors: GridChoice,
                target: float, free_donors: bool, free_mice: bool) -> tuple[str, ...]:
    have = _sizes_of(grid)
    d_top = max(d for d, _ in have)
    m_top = max(m for _, m in have)
    notes = []
    if not chosen.reached:
        frame = grid.to_frame()
        big = frame.sort_values(["donors_per_arm", "mice_per_donor"]).iloc[-1]
        notes.append(
            f"the grid's upper edge was hit: no design in it reaches the target {target:g}; "
            f"its largest, {int(big.donors_per_arm)} donors per arm x "
            f"{mice_text(big.mice_per_donor)} per donor, has power {big.power:.3f}. More "
            f"donors are needed than the grid holds: widen it (e.g. --donors "
            f"{d_top}-{2 * d_top})")
        return tuple(notes)
    d, m = int(chosen.donors_per_arm or 0), int(chosen.mice_per_donor or 0)
    if d == min(x for x, _ in have) and d > MIN_DONORS_PER_ARM and not free_donors:
        notes.append(f"{d} donors per arm is the grid's only (fixed) number of donors, so "
                     "designs with fewer donors were not searched")
    if m == min(y for _, y in have) and m > 1 and not free_mice:
        notes.append(f"{mice_text(m)} per donor is the grid's only (fixed) number of mice, "
                     "so designs with fewer mice were not searched")
    fd_d, fd_m = int(fewest_donors.donors_per_arm or 0), int(fewest_donors.mice_per_donor or 0)
    if (fewest_donors.reached and free_mice and fd_m == m_top
            and fd_d > MIN_DONORS_PER_ARM):
        cap = _power_with_unlimited_mice(grid.base_design, fd_d - 1)
        fewer = f"{fd_d - 1} donors per arm"
        if cap is None:
            notes.append(f"the fewest-donors design uses the grid's largest number of mice "
                         f"per donor ({m_top}); with more mice per donor, {fewer} might "
                         "reach the target (widen --mice)")
        elif cap >= target:
            notes.append(f"the fewest-donors design uses the grid's largest number of mice "
                         f"per donor ({m_top}); with more mice per donor, {fewer} could "
                         f"reach the target (power up to {cap:.3f} with very many mice; "
                         "widen --mice)")
    return tuple(notes)


def _power_with_unlimited_mice(design: PowerDesign, donors: int) -> float | None:
    """Power of ``donors`` per arm as mice per donor grow without bound (the donor
    variance alone), or None when it has no closed form (censored readings, Holm)."""
    limit = dataclasses.replace(design, donors_per_arm=donors, mice_per_donor=10**9,
                                dropout=0.0)
    try:
        p = exact_power(limit)
    except DesignError:
        return None
    return p if math.isfinite(p) else None
