"""``nocilab power`` as a library call: the command's choices in, the plan and its files out.

The command line and the web app's power form take the same choices
(:class:`PowerRequest`, text where the command line takes text, e.g. ``donors="4-16"``)
and run them the same way:

1. :func:`check_power_request` refuses choices that are wrong whatever the data
   (:class:`~nocilab.errors.DesignError` naming the option, e.g. ``--donors``);
2. :func:`prepare_power` builds the :class:`~nocilab.design.power.PowerDesign`, with the
   variance components, baseline mean, days, unit and censoring limits of a pilot study
   when one is given (its store is read here, and only here);
3. :func:`compute_power` simulates the grid (:func:`~nocilab.design.power.plan_power`)
   and writes the folder (:func:`~nocilab.design.planning.write_power_outputs`).

Messages name the options of ``nocilab power`` (``--effect``, ``--choose`` ...); the web
form labels its fields with them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nocilab.errors import DesignError

if TYPE_CHECKING:  # light to import: the command line's help needs DEFAULT_DAYS only
    from nocilab.design.planning import PilotVariance
    from nocilab.design.power import PowerDesign, PowerPlan

DEFAULT_DAYS = "-3,-1,1,2,3,5,7,10"
"""Test days when none are given and no pilot says otherwise (negative: baseline)."""

EFFECT_SCALES = ("percent", "absolute")
DIRECTIONS = ("decrease", "increase")
ADJUSTMENTS = ("sidak", "holm", "dunnett", "bonferroni", "none")


@dataclass(frozen=True, kw_only=True)
class PowerRequest:
    """The choices of ``nocilab power``; each field is the option of the same name
    (``from_pilot`` is ``--from``: the pilot itself is given to :func:`prepare_power`)."""

    effect: float
    scale: str = "percent"
    direction: str = "decrease"
    donors: str = "4-16"
    mice: str = "1-6"
    days: str | None = None
    baseline_mean: float | None = None
    onset_days: float = 2.0
    plateau_days: float = 2.0
    half_life: float = 10.0
    sd_donor: float | None = None
    sd_animal: float | None = None
    sd_residual: float | None = None
    rho: float | None = None
    outcome: str | None = None
    window: str | None = None
    bounds: str | None = None
    sd_level: float | None = None
    dropout: float = 0.0
    treatment_arms: int = 1
    adjust: str = "sidak"
    alpha: float = 0.05
    one_sided: bool = False
    sims: int = 10_000
    seed: int = 1
    target: float = 0.8
    choose: str = "fewest-animals"
    donor_cost: float = 0.0
    unit: str | None = None
    scheduler: str | None = None


@dataclass(frozen=True)
class PreparedPower:
    """A design ready to simulate: the design, the grid's ranges, the pilot's estimates
    (None without a pilot), the reading unit, and what was taken from where (``notes``,
    in the order the command prints them)."""

    request: PowerRequest
    design: PowerDesign
    donors: tuple[int, ...]
    mice: tuple[int, ...]
    pilot: PilotVariance | None
    unit: str
    notes: tuple[str, ...]


@dataclass(frozen=True)
class PowerRun:
    """A computed plan and the folder it was written to; ``summary`` is the content of
    ``power_summary.json`` (its ``lines`` and ``statement`` are what the command prints
    and ``sample_size.txt``)."""

    prepared: PreparedPower
    plan: PowerPlan
    summary: dict[str, Any]
    out: Path


def parse_range(text: str, what: str) -> list[int]:
    """``'4-16'`` or ``'4,6,8'`` -> whole numbers; DesignError naming ``--what`` else.

    >>> parse_range("4-6", "donors"), parse_range("2,4", "mice")
    ([4, 5, 6], [2, 4])
    """
    try:
        if "-" in text.strip("-") and "," not in text:
            lo, hi = text.split("-", 1)
            out = list(range(int(lo), int(hi) + 1))
        else:
            out = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise DesignError(f"--{what} must look like 4-16 or 4,6,8; got {text}") from None
    if not out:
        raise DesignError(f"--{what} must look like 4-16 or 4,6,8; got {text or 'nothing'}")
    return out


def parse_days(text: str, what: str = "days") -> tuple[int, ...]:
    """``'-3,-1,1,3'`` -> study days; DesignError naming ``--what`` else."""
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise DesignError(f"--{what} must be study days separated by commas, e.g. "
                          f"-3,-1,1,3,5,7; got {text}") from None


def parse_bounds(text: str | None) -> tuple[float | None, float | None] | None:
    """``'LOW,HIGH'`` with either side empty, or ``'none'`` -> limits (None: no censoring)."""
    if text is None or text.strip().lower() == "none":
        return None
    lo, sep, hi = text.partition(",")
    try:
        if not sep:
            raise ValueError
        out = (float(lo) if lo.strip() else None, float(hi) if hi.strip() else None)
    except ValueError:
        raise DesignError(f"--bounds must be LOW,HIGH with either side empty (e.g. ,60 or "
                          f"0.008,2); got {text}") from None
    return out


def bounds_text(limits: tuple[float | None, float | None]) -> str:
    """``'upper 60'``, ``'lower 0.008 and upper 2'``."""
    return " and ".join(f"{w} {b:g}" for w, b in zip(("lower", "upper"), limits, strict=True)
                        if b is not None)


def arm_names(n: int) -> tuple[str, ...]:
    """Arm names of a design with ``n`` treatment arms (the first is control)."""
    if n < 1:
        raise DesignError(f"--treatment-arms must be at least 1; got {n}")
    if n == 1:
        return ("control", "treatment")
    return ("control",) + tuple(f"treatment {i}" for i in range(1, n + 1))


def check_power_request(request: PowerRequest, *, with_pilot: bool) -> None:
    """Refuse the choices that are wrong whatever the data (DesignError naming the option).

    ``with_pilot``: the variance components will come from a pilot study (``--from``).
    """
    from nocilab.design.power import RULES
    from nocilab.stats.window import parse_window

    r = request
    if r.choose not in RULES:
        raise DesignError(f"--choose must be one of {', '.join(RULES)}; got {r.choose}")
    if r.donor_cost != 0.0 and r.choose != "fewest-animals":
        raise DesignError("--donor-cost weighs donors against animals for --choose "
                          "fewest-animals; fewest-donors does not use it")
    if not (r.donor_cost >= 0.0 and r.donor_cost < float("inf")):
        raise DesignError(f"--donor-cost must be a number of animals >= 0; got {r.donor_cost:g}")
    if not (math.isfinite(r.effect) and r.effect >= 0):
        raise DesignError(f"--effect must be a size >= 0 (the peak effect to detect); "
                          f"got {r.effect:g}")
    if r.scale not in EFFECT_SCALES:
        raise DesignError(f"--scale must be percent (of baseline) or absolute; got {r.scale}")
    if r.direction not in DIRECTIONS:
        raise DesignError(f"--direction must be decrease or increase; got {r.direction}")
    if r.adjust not in ADJUSTMENTS:
        raise DesignError(f"--adjust must be one of {', '.join(ADJUSTMENTS)}; got {r.adjust}")
    parse_days(r.days if r.days is not None else DEFAULT_DAYS)
    parse_range(r.donors, "donors")
    parse_range(r.mice, "mice")
    arm_names(r.treatment_arms)
    if r.window is not None:
        parse_window(r.window, option="--window")
    limits = parse_bounds(r.bounds)
    if with_pilot:
        if r.outcome is None:
            raise DesignError("--from needs --outcome ASSAY.OUTCOME (e.g. "
                              "paw_pressure.threshold_g)")
        return
    missing = [n for n, v in (("--sd-donor", r.sd_donor), ("--sd-animal", r.sd_animal),
                              ("--sd-residual", r.sd_residual)) if v is None]
    if missing:
        raise DesignError(f"give {', '.join(missing)} or take them from a pilot study "
                          "with --from STUDY --outcome ASSAY.OUTCOME")
    if limits is not None and r.sd_level is None:
        raise DesignError("--bounds needs --sd-level (the SD of the animals' baseline levels: "
                          "how close each animal sits to a limit), or a pilot study (--from)")


def prepare_power(request: PowerRequest, *, pilot_study: Any = None, pilot_store: Any = None,
                  pilot_name: str = "") -> PreparedPower:
    """The design of ``request``, with a pilot study's estimates when one is given.

    Parameters
    ----------
    request
        The choices.
    pilot_study, pilot_store
        The pilot study (``--from``) and its open store, or None. A blinded pilot is read
        with its coded groups (:func:`~nocilab.design.planning.pilot_table`).
    pilot_name
        How to name the pilot in the notes (its path on the command line).

    Raises
    ------
    DesignError
        A choice is wrong (:func:`check_power_request`), or the pilot cannot give the
        outcome's variance components.
    """
    from nocilab.design.planning import pilot_table, pilot_variance, reading_unit
    from nocilab.design.power import Effect, PowerDesign, VarianceComponents
    from nocilab.stats.window import choose_window, parse_window

    r = request
    check_power_request(r, with_pilot=pilot_study is not None)
    notes: list[str] = []
    unit = r.unit
    baseline_mean = r.baseline_mean
    day_list = parse_days(r.days if r.days is not None else DEFAULT_DAYS)
    given = parse_window(r.window, option="--window") if r.window is not None else None
    win = choose_window(command_line=given, option=f"--window {r.window}")
    pilot = None
    if pilot_study is not None:
        assert r.outcome is not None  # checked above
        derived, how = pilot_table(pilot_study, pilot_store)
        if unit is None:
            unit = reading_unit(derived, r.outcome)
        if how:
            notes.append(how)
        win = choose_window(command_line=given, option=f"--window {r.window}",
                            study_window=pilot_study.analysis_window())
        notes.append(f"analysis window: {win.describe()}")
        pilot = pilot_variance(pilot_study, derived, outcome=r.outcome, window=win.bounds,
                               rho=r.rho)
        if r.days is None:
            day_list = pilot.baseline_days + pilot.window_days
        variance = pilot.variance
        overrides = {n: v for n, v in (("sd_donor", r.sd_donor), ("sd_animal", r.sd_animal),
                                       ("sd_residual", r.sd_residual), ("sd_level", r.sd_level))
                     if v is not None}
        if overrides:
            variance = replace(variance, **overrides)
            notes.append("given on the command line instead of the pilot's: "
                         + ", ".join(f"{n} {v:g}" for n, v in overrides.items()))
        if baseline_mean is None:
            baseline_mean = pilot.baseline_mean
        notes.append(f"variance components from {pilot_name or pilot_study.info.id}: "
                     f"{pilot.note}")
    else:
        assert r.sd_donor is not None and r.sd_animal is not None and r.sd_residual is not None
        variance = VarianceComponents(sd_donor=r.sd_donor, sd_animal=r.sd_animal,
                                      sd_residual=r.sd_residual,
                                      rho=0.0 if r.rho is None else r.rho,
                                      sd_level=r.sd_level or 0.0)
    limits = parse_bounds(r.bounds)
    if r.bounds is None and pilot is not None and pilot.bounds is not None:
        limits = pilot.bounds
        notes.append(f"readings censored as in the pilot ({pilot.censored_fraction:.0%} of its "
                     f"values): {bounds_text(limits)} (--bounds none to switch off)")
    eff = Effect(size=r.effect, scale=r.scale, baseline_mean=baseline_mean,
                 onset_days=r.onset_days, plateau_days=r.plateau_days,
                 half_life_days=r.half_life, direction=r.direction)
    donor_sizes, mice_sizes = parse_range(r.donors, "donors"), parse_range(r.mice, "mice")
    post = [d for d in day_list if d > 0]
    design_window = None
    if win.bounds != (1, None) and post:
        design_window = (win.first, win.last if win.last is not None else max(post))
    design = PowerDesign(
        arms=arm_names(r.treatment_arms), donors_per_arm=donor_sizes[0],
        mice_per_donor=mice_sizes[0], adjust=r.adjust, days=tuple(post),
        baseline_days=tuple(d for d in day_list if d < 0), effect=eff, variance=variance,
        alpha=r.alpha, sidedness="one-sided" if r.one_sided else "two-sided",
        window=design_window, dropout=r.dropout, bounds=limits, baseline_mean=baseline_mean)
    return PreparedPower(request=r, design=design, donors=tuple(donor_sizes),
                         mice=tuple(mice_sizes), pilot=pilot, unit=unit or "",
                         notes=tuple(notes))


def compute_power(prepared: PreparedPower, out: Path) -> PowerRun:
    """Simulate the grid of ``prepared`` and write ``out`` (power_grid.csv, the curves,
    power_summary.json, sample_size.txt)."""
    from nocilab.design.planning import write_power_outputs
    from nocilab.design.power import plan_power

    r = prepared.request
    plan = plan_power(prepared.design, donors=list(prepared.donors), mice=list(prepared.mice),
                      n_sims=r.sims, seed=r.seed, target=r.target, rule=r.choose,
                      donor_cost=r.donor_cost, scheduler=r.scheduler)
    summary = write_power_outputs(plan, prepared.design, Path(out), pilot=prepared.pilot,
                                  unit=prepared.unit)
    return PowerRun(prepared=prepared, plan=plan, summary=summary, out=Path(out))


def grid_rows(frame: Any) -> tuple[list[int], list[tuple[int, list[float | None]]]]:
    """The power grid as a table: the mice per donor (columns) and, per donors per arm,
    the power of each (None: a design the grid did not compute)."""
    mice = sorted(int(m) for m in frame["mice_per_donor"].unique())
    rows = []
    for d, sub in frame.groupby("donors_per_arm", sort=True):
        power = dict(zip(sub["mice_per_donor"].astype(int), sub["power"], strict=True))
        rows.append((int(d), [float(power[m]) if m in power else None for m in mice]))
    return mice, rows
