"""Power over a grid of donors per arm x mice per donor, in-process or on Dask."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from nocilab.design._power_design import PowerDesign, _fail, _finite, _integer
from nocilab.design._power_refit import refit_power
from nocilab.design._power_sim import PowerResult, Seed, _seed_sequence, simulate_power
from nocilab.errors import DesignError

GRID_COLUMNS = ("donors_per_arm", "mice_per_donor", "n_animals", "power", "ci_low", "ci_high")


@dataclass(frozen=True)
class GridCell:
    """One design of a grid and its estimated power."""

    donors_per_arm: int
    mice_per_donor: int
    n_animals: int
    result: PowerResult


RULES = ("fewest-animals", "fewest-donors")


@dataclass(frozen=True)
class GridChoice:
    """The design of a grid that a rule picks among those reaching a target power.

    ``rule`` is ``'fewest-animals'`` (the fewest mice in all arms, each donor counted as
    ``donor_cost`` mice besides; ties to the fewest donors) or ``'fewest-donors'`` (the
    fewest donors per arm; ties to the fewest mice). ``reached`` says whether any design
    reaches the target; when none does, the size fields are None and ``message`` names
    the most powerful design of the grid.
    """

    reached: bool
    target: float
    conservative: bool
    donors_per_arm: int | None
    mice_per_donor: int | None
    n_animals: int | None
    power: float | None
    ci_low: float | None
    ci_high: float | None
    message: str
    rule: str = "fewest-animals"
    donor_cost: float = 0.0

    @property
    def rule_text(self) -> str:
        """The rule in words: 'fewest animals', 'fewest animals (each donor counted as
        3 animals)' or 'fewest donors'."""
        return rule_text(self.rule, self.donor_cost)


def rule_text(rule: str, donor_cost: float = 0.0) -> str:
    """A choice rule in words (see :class:`GridChoice`)."""
    if rule == "fewest-donors":
        return "fewest donors"
    if donor_cost > 0:
        return f"fewest animals (each donor counted as {donor_cost:g} animals)"
    return "fewest animals"


@dataclass(frozen=True)
class PowerGrid:
    """Power of every design in a donors x mice grid (see :func:`power_grid`).

    ``seed`` and ``spawn_key`` record the root seed as in :class:`PowerResult`.
    """

    base_design: PowerDesign
    cells: tuple[GridCell, ...]
    target: float
    n_sims: int
    seed: int | tuple[int, ...]
    method: str
    spawn_key: tuple[int, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One row per design: donors_per_arm, mice_per_donor, n_animals (all arms
        together), power, ci_low, ci_high (Wilson 95 % Monte-Carlo interval); sorted by
        donors then mice. The frame the power curves are drawn from."""
        rows = [(c.donors_per_arm, c.mice_per_donor, c.n_animals, c.result.power,
                 c.result.ci_low, c.result.ci_high) for c in self.cells]
        frame = pd.DataFrame(rows, columns=list(GRID_COLUMNS))
        return frame.sort_values(["donors_per_arm", "mice_per_donor"], ignore_index=True)

    @property
    def root_seed(self) -> np.random.SeedSequence:
        """The root seed the cells' seeds are spawned from (:func:`cell_seed`)."""
        return np.random.SeedSequence(self.seed, spawn_key=self.spawn_key)

    def choose(self, target: float | None = None, *, rule: str = "fewest-animals",
               donor_cost: float = 0.0, conservative: bool = False) -> GridChoice:
        """The design a rule picks among those reaching ``target``.

        Parameters
        ----------
        target : float, optional
            Power to reach (default: the grid's target).
        rule : {'fewest-animals', 'fewest-donors'}
            ``'fewest-animals'`` (the reduction principle): the fewest mice in all arms,
            ``donor_cost`` mice added per donor, ties to fewer donors, then higher power.
            ``'fewest-donors'``: the fewest donors per arm, ties to fewer mice.
        donor_cost : float
            What a donor costs in animals (>= 0), for ``'fewest-animals'`` only: a
            design of ``D`` donors and ``N`` mice counts ``N + donor_cost * D``.
        conservative : bool
            Ask the lower end of the Monte-Carlo interval, not the estimate, to reach
            the target.
        """
        target = self.target if target is None else _target(target)
        rule = _rule(rule)
        cost = _finite("donor_cost", donor_cost, low=0.0)
        key = "ci_low" if conservative else "power"
        frame = self.to_frame()
        ok = frame[frame[key] >= target].copy()
        what = "lower 95 % bound of power" if conservative else "power"
        if ok.empty:
            best = frame.sort_values(["power", "n_animals"], ascending=[False, True]).iloc[0]
            msg = (f"no design in the grid reaches {what} {target:g}; the highest is "
                   f"{best.power:.3f} at {int(best.donors_per_arm)} donors per arm x "
                   f"{mice_text(best.mice_per_donor)} per donor")
            return GridChoice(reached=False, target=target, conservative=conservative,
                              donors_per_arm=None, mice_per_donor=None, n_animals=None,
                              power=None, ci_low=None, ci_high=None, message=msg,
                              rule=rule, donor_cost=cost)
        arms = len(self.base_design.arms)
        ok["cost"] = ok["n_animals"] + cost * arms * ok["donors_per_arm"]
        order = (["cost", "donors_per_arm", "power"] if rule == "fewest-animals"
                 else ["donors_per_arm", "n_animals", "power"])
        row = ok.sort_values(order, ascending=[True, True, False], kind="stable").iloc[0]
        lost = self.base_design.dropout
        animals = (f"{int(row.n_animals)} animals allocated, {lost:.0%} expected lost"
                   if lost > 0 else f"{int(row.n_animals)} animals")
        msg = (f"{int(row.donors_per_arm)} donors per arm x {mice_text(row.mice_per_donor)} "
               f"per donor ({animals}) reaches {what} {target:g} "
               f"(power {row.power:.3f}, 95 % MC interval {row.ci_low:.3f}-{row.ci_high:.3f})")
        return GridChoice(reached=True, target=target, conservative=conservative,
                          donors_per_arm=int(row.donors_per_arm),
                          mice_per_donor=int(row.mice_per_donor),
                          n_animals=int(row.n_animals), power=float(row.power),
                          ci_low=float(row.ci_low), ci_high=float(row.ci_high), message=msg,
                          rule=rule, donor_cost=cost)


def _rule(rule: object) -> str:
    if rule not in RULES:
        raise _fail("rule", "must be one of fewest-animals, fewest-donors", rule)
    return str(rule)


def mice_text(n: object) -> str:
    """'1 mouse', '3 mice'."""
    k = int(n)  # type: ignore[call-overload]
    return f"{k} mouse" if k == 1 else f"{k} mice"


def _target(target: object) -> float:
    t = _finite("target", target)
    if not 0.0 < t < 1.0:
        raise _fail("target", "must lie strictly between 0 and 1", target)
    return t


def cell_seed(seed: Seed, donors_per_arm: int, mice_per_donor: int) -> np.random.SeedSequence:
    """The seed of one grid cell: the child of ``seed`` with spawn key (donors, mice).

    This is what ``SeedSequence.spawn`` does with the cell's coordinates as the key
    instead of a running count, so a cell gets the same stream whichever other cells
    the grid holds and wherever it is computed.
    """
    root = _seed_sequence(seed)
    return np.random.SeedSequence(root.entropy,
                                  spawn_key=tuple(root.spawn_key) + (donors_per_arm,
                                                                     mice_per_donor))


def _run_cell(design: PowerDesign, seed: np.random.SeedSequence, *, n_sims: int,
              method: str) -> PowerResult:
    if method == "refit":
        return refit_power(design, n_sims=n_sims, seed=seed)
    return simulate_power(design, n_sims=n_sims, seed=seed, method=method)  # type: ignore[arg-type]


def _sizes(where: str, values: Iterable[Any]) -> list[int]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise _fail(where, "must be a sequence of integers", values)
    out = [_integer(where, v, low=1) for v in values]
    if not out:
        raise _fail(where, "must hold at least one value", values)
    return sorted(set(out))


def power_grid(base_design: PowerDesign, *, donors: Iterable[int] = range(4, 17),
               mice: Iterable[int] = range(1, 7), n_sims: int = 10_000, seed: Seed,
               target: float = 0.8, scheduler: Any = None, method: str = "sufficient"
               ) -> PowerGrid:
    """Power of ``base_design`` over donors per arm x mice per donor.

    Parameters
    ----------
    base_design : PowerDesign
        Everything but the two sizes; each cell replaces ``donors_per_arm`` (the same
        number in every arm) and ``mice_per_donor``.
    donors, mice : iterables of int
        The sizes to try.
    n_sims : int
        Simulated studies per cell.
    seed : int or numpy.random.SeedSequence
        Root seed; each cell's seed is derived from it (:func:`cell_seed`), so a cell's
        result does not depend on the grid around it or on the scheduler.
    target : float
        Target power, the default of :meth:`PowerGrid.choose`.
    scheduler : None, 'local', 'tcp://host:port' or dask.distributed.Client
        None computes in this process. 'local' starts a ``dask.distributed.LocalCluster``
        (threads in this process) and maps the cells over it; an address connects a
        ``Client`` to a running scheduler; a Client is used as it is. Results are the
        same whichever is used.
    method : {'sufficient', 'full', 'refit'}
        How each cell is computed (:func:`simulate_power`, :func:`refit_power`).

    Returns
    -------
    PowerGrid

    Examples
    --------
    >>> from nocilab.design.power import power_grid, reference_design
    >>> g = power_grid(reference_design(), donors=[4, 8], mice=[1, 3], n_sims=500, seed=7)
    >>> list(g.to_frame().columns)
    ['donors_per_arm', 'mice_per_donor', 'n_animals', 'power', 'ci_low', 'ci_high']
    """
    if not isinstance(base_design, PowerDesign):
        raise _fail("base_design", "must be a PowerDesign", type(base_design).__name__)
    if method not in ("sufficient", "full", "refit"):
        raise _fail("method", "must be 'sufficient', 'full' or 'refit'", method)
    n_sims = _integer("n_sims", n_sims, low=1)
    target = _target(target)
    root = _seed_sequence(seed)
    d_values, m_values = _sizes("donors", donors), _sizes("mice", mice)
    sizes = [(d, m) for d in d_values for m in m_values]
    designs = [dataclasses.replace(base_design, donors_per_arm=d, mice_per_donor=m)
               for d, m in sizes]
    seeds = [cell_seed(root, d, m) for d, m in sizes]

    if scheduler is None:
        results = [_run_cell(x, s, n_sims=n_sims, method=method)
                   for x, s in zip(designs, seeds, strict=True)]
    else:
        results = _run_on_dask(scheduler, designs, seeds, n_sims, method)
    cells = tuple(GridCell(donors_per_arm=d, mice_per_donor=m, n_animals=x.n_animals, result=r)
                  for (d, m), x, r in zip(sizes, designs, results, strict=True))
    entropy = root.entropy if isinstance(root.entropy, int) else tuple(root.entropy)
    return PowerGrid(base_design=base_design, cells=cells, target=target, n_sims=n_sims,
                     seed=entropy, method=method, spawn_key=tuple(root.spawn_key))


def _run_on_dask(scheduler: Any, designs: list[PowerDesign],
                 seeds: list[np.random.SeedSequence], n_sims: int, method: str
                 ) -> list[PowerResult]:
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - the dask extra is installed for tests
        raise DesignError("scheduler: a Dask scheduler needs dask.distributed; install "
                          "nocilab with the 'dask' extra (pip install 'nocilab[dask]')"
                          ) from None

    def run(client: Any) -> list[PowerResult]:
        futures = client.map(_run_cell, designs, seeds, n_sims=n_sims, method=method,
                             pure=False)
        return list(client.gather(futures))

    if isinstance(scheduler, Client):
        return run(scheduler)
    if scheduler == "local":
        with LocalCluster(processes=False, n_workers=1, threads_per_worker=2,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            return run(client)
    if isinstance(scheduler, str) and "://" in scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except OSError as exc:
            raise DesignError(f"scheduler: cannot connect to the Dask scheduler at "
                              f"{scheduler!r} ({exc})") from None
        with client:
            return run(client)
    raise _fail("scheduler", "must be None, 'local', an address such as "
                "'tcp://host:8786' or a dask.distributed.Client", scheduler)
