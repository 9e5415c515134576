"""Planning a study's size: a power grid from the command line's design, optionally
with variance components taken from a pilot study's store, written to a folder.

The computation is :mod:`nocilab.design.power`; this module only gathers the inputs
(:func:`pilot_variance`) and writes the outputs (:func:`write_power_outputs`).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from nocilab.design.power import PowerDesign, PowerPlan, VarianceComponents
from nocilab.errors import DesignError
from nocilab.model import Study


@dataclass(frozen=True)
class PilotVariance:
    """Variance components estimated from a pilot study, and where they came from."""

    variance: VarianceComponents
    outcome: str
    n_animals: int
    n_donors: int
    baseline_days: tuple[int, ...]
    window_days: tuple[int, ...]
    baseline_mean: float
    note: str
    sd_level: float = float("nan")
    loglik: float = float("nan")
    bounds: tuple[float | None, float | None] | None = None
    censored_fraction: float = 0.0


def pilot_variance(study: Study, derived: pd.DataFrame, *, outcome: str,
                   window: tuple[int, int | None] | None = None,
                   rho: float | None = None) -> PilotVariance:
    """Variance components of one outcome of a past study, for planning the next one.

    Fits the model the power simulation draws from (:mod:`nocilab.stats.response_model`)
    by REML to the pilot's readings on its baseline days and the post-injection days of
    the window: an animal level on every day, donor and animal variation of the response
    after injection, and AR(1) residuals over test days. Every component the simulation
    needs comes out of the one fit, the day-to-day correlation included.

    Parameters
    ----------
    study
        The pilot study.
    derived
        Its derived table.
    outcome
        ``ASSAY.OUTCOME`` (e.g. ``paw_pressure.threshold_g``) or an outcome name that is
        unique in the table.
    window
        First and last post-injection day to use (``last`` None: the last day); default:
        the pilot study file's analysis window (:meth:`Study.analysis_window`), else
        every day > 0, as the pilot's own report uses.
    rho
        Fix the AR(1) correlation at this value instead of estimating it.
    """
    from nocilab.errors import AnalysisError
    from nocilab.stats.response_model import fit_response_model

    sub = _outcome_rows(derived, outcome)
    sub = sub[sub["arm"].astype(str) != ""]
    base_days = tuple(sorted(int(d) for d in sub["study_day"].unique() if d < 0))
    if not base_days:
        raise DesignError(f"outcome {outcome!r} has no baseline (negative) days in the pilot study")
    if window is None:
        stated = study.analysis_window()
        window = stated[0] if stated is not None else (1, None)
    lo, hi = window[0], window[1] if window[1] is not None else int(sub["study_day"].max())
    post_days = tuple(sorted(int(d) for d in sub["study_day"].unique() if lo <= d <= hi and d > 0))
    if len(post_days) < 1:
        raise DesignError(f"no post-injection days of {outcome!r} between days {lo} and {hi}")
    used = sub[sub["study_day"].isin(base_days + post_days)].dropna(subset=["value"])
    try:
        fit = fit_response_model(used, value="value", arm="arm", day="study_day",
                                 animal="animal", donor="donor", rho=rho)
    except AnalysisError as exc:
        raise DesignError(f"variance components of {outcome!r} from the pilot study: {exc}") from None
    variance = VarianceComponents(sd_donor=fit.sd_donor, sd_animal=fit.sd_animal,
                                  sd_residual=fit.sd_residual,
                                  rho=float(np.clip(fit.rho, -0.99, 0.99)),
                                  sd_level=fit.sd_level)
    bounds, frac = _pilot_bounds(used)
    note = (f"REML fit of the response-course model to {outcome} on baseline days "
            f"{', '.join(map(str, base_days))} and days {', '.join(map(str, post_days))} "
            f"({fit.n_animals} animals, {fit.n_donors} donors): sd donor {fit.sd_donor:.3g}, "
            f"sd animal {fit.sd_animal:.3g}, sd residual {fit.sd_residual:.3g}, "
            f"rho {fit.rho:.2f}{' (fixed)' if fit.rho_fixed else ''}")
    if fit.notes:
        note += "; " + "; ".join(fit.notes)
    if bounds is not None:
        note += (f"; {frac:.0%} of the pilot's values are censored (at "
                 + " and ".join(f"{w} {b:g}" for w, b in zip(("lower", "upper"), bounds)
                                if b is not None) + "); the fit took them at their bound")
    return PilotVariance(variance, outcome, fit.n_animals, fit.n_donors, base_days, post_days,
                         float(used[used["study_day"].isin(base_days)]["value"].mean()), note,
                         sd_level=fit.sd_level, loglik=fit.loglik, bounds=bounds,
                         censored_fraction=frac)


def _pilot_bounds(rows: pd.DataFrame) -> tuple[tuple[float | None, float | None] | None, float]:
    """The limits at which the pilot's values were censored, and the censored fraction."""
    if "censored" not in rows.columns or "bound" not in rows.columns or rows.empty:
        return None, 0.0
    cens = rows["censored"].astype(str)
    lo = rows.loc[cens == "left", "bound"].dropna()
    hi = rows.loc[cens == "right", "bound"].dropna()
    frac = float(cens.isin(["left", "right"]).mean())
    if lo.empty and hi.empty:
        return None, 0.0
    return (float(lo.max()) if len(lo) else None, float(hi.min()) if len(hi) else None), frac


def pilot_table(study: Study, store) -> tuple[pd.DataFrame, str]:
    """The derived table a pilot study's variance components are estimated from.

    A blinded pilot is read with its coded groups as arms (``group K`` ..., drawn at
    allocation, one per arm) and vial codes as donors: the variance components need to
    know which animals share an arm and a donor, never which arm it is, so planning does
    not unblind anything. One difference from the unblinded reading: animals of an arm
    without donors (vehicle) share their vial code, so they count as one donor. Returns
    the table and a note saying how it was read.
    """
    from nocilab.derive import derive_observations, derive_table
    from nocilab.design.blinding import assignments, blinding_state, group_codes

    if blinding_state(study, store) != "blinded":
        return derive_table(study, store), ""
    groups = group_codes(store)
    if not groups:
        raise DesignError(f"{study.info.id} is blinded and its allocation has no coded groups: "
                          "the pilot's arms cannot be told apart; unblind it to plan from it")
    assign = assignments(study, store, reveal=False).copy()
    assign["arm"] = assign["vial_code"].map(groups).fillna("")
    derived = derive_observations(store.observations(), study, assignments=assign)
    return derived, "pilot read blinded: coded groups as arms, vial codes as donors"


def _outcome_rows(derived: pd.DataFrame, outcome: str) -> pd.DataFrame:
    if "." in outcome:
        assay, name = outcome.split(".", 1)
        sub = derived[(derived["assay"] == assay) & (derived["outcome"] == name)]
    else:
        sub = derived[derived["outcome"] == outcome]
        if sub["assay"].nunique() > 1:
            raise DesignError(f"outcome {outcome!r} is measured by several assays "
                              f"({', '.join(sorted(sub['assay'].unique()))}); write ASSAY.OUTCOME")
    if sub.empty:
        known = sorted({f"{a}.{o}" for a, o in zip(derived["assay"], derived["outcome"])})
        raise DesignError(f"no outcome {outcome!r} in the study; outcomes: {', '.join(known)}")
    return sub


def write_power_outputs(plan: PowerPlan, design: PowerDesign, out: Path, *,
                        pilot: PilotVariance | None = None, unit: str = "") -> dict:
    """Write ``power_grid.csv``, the curves (PNG, PDF, SVG), ``power_summary.json`` and
    ``sample_size.txt``; return the summary.

    ``unit`` is the reading's unit (e.g. ``g``), used to state the effect's scale.
    """
    from nocilab.design._power_text import effect_scale_text, summary_lines
    from nocilab.report.figures import power_curves, save_figure

    out.mkdir(parents=True, exist_ok=True)
    grid, target = plan.grid, plan.target
    frame = grid.to_frame()
    frame.to_csv(out / "power_grid.csv", index=False)
    eff = design.effect_for(design.arms[1])
    scale = effect_scale_text(eff, unit) if eff is not None else "no effect"
    short = effect_scale_text(eff, unit, short=True) if eff is not None else "no effect"
    fig = power_curves(frame, target=target, title=f"Power of the donor-level test\n{short}")
    save_figure(fig, out / "power_curves")

    def pick(c) -> dict | None:
        if not c.reached:
            return None
        return {"donors_per_arm": c.donors_per_arm, "mice_per_donor": c.mice_per_donor,
                "n_animals": c.n_animals, "power": c.power, "ci_low": c.ci_low,
                "ci_high": c.ci_high}

    lines = summary_lines(plan)
    summary = {
        "target": target,
        "reached": plan.chosen.reached,
        "rule": plan.rule,
        "donor_cost": plan.donor_cost,
        "chosen": pick(plan.chosen),
        "fewest_animals": pick(plan.fewest_animals),
        "fewest_donors": pick(plan.fewest_donors),
        "next_smaller": [_jsonable(asdict(x)) for x in plan.next_smaller],
        "grid_extended": list(plan.extended),
        "notes": list(plan.notes),
        "effect": {"size": eff.size if eff else 0.0, "scale": eff.scale if eff else "absolute",
                   "magnitude": eff.magnitude if eff else 0.0, "unit": unit,
                   "baseline_mean": eff.baseline_mean if eff else None, "text": scale},
        "message": "; ".join([scale, *lines]),
        "lines": [scale, *lines],
        "requested": {"donors_per_arm": list(plan.requested_donors),
                      "mice_per_donor": list(plan.requested_mice)},
        "design": _jsonable(asdict(design)),
        "seed": _jsonable(getattr(grid, "seed", None)),
        "test": ("Student t test of donor means of the mean change from baseline over the "
                 "window, variance pooled over arms, df = donors - arms: the report's "
                 "donor-level test of the arm effect (results/donor_test.csv)"),
    }
    if pilot is not None:
        summary["variance_from"] = _jsonable(asdict(pilot))
    statement = sample_size_statement(plan, design, pilot=pilot, unit=unit)
    summary["statement"] = statement
    (out / "power_summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    (out / "sample_size.txt").write_text(statement + "\n", encoding="utf-8")
    return summary


def reading_unit(derived: pd.DataFrame, outcome: str) -> str:
    """The unit of an outcome's readings in a derived table ('' when it has none)."""
    sub = _outcome_rows(derived, outcome)
    if "unit" not in sub.columns:
        return ""
    units = sorted({str(u) for u in sub["unit"].dropna() if str(u).strip()})
    return units[0] if len(units) == 1 else ""


def sample_size_statement(plan: PowerPlan, design: PowerDesign, *,
                          pilot: PilotVariance | None = None, unit: str = "") -> str:
    """A paragraph justifying the sample size, for a protocol or an ethics application.

    It states the test, the effect assumed (shape, size and its scale), the variance
    components and where they came from, the allowance for lost mice, the rule that
    chose the design (fewest animals or fewest donors) and the design it chose with its
    power and Monte-Carlo interval, the power of the next smaller designs, the other
    rule's design, how the grid was extended past its edges, and how to reproduce the
    numbers.
    """
    from nocilab import __version__
    from nocilab.design._power_text import choice_sentences, effect_scale_text
    from nocilab.design.power import arm_contrast_means

    grid = plan.grid
    eff = design.effect_for(design.arms[1])
    v = design.variance
    side = "two-sided" if design.sidedness == "two-sided" else "one-sided"
    win = design.window_days
    window = f"days {win[0]}-{win[-1]}" if len(win) > 1 else f"day {win[0]}"
    base = ", ".join(map(str, design.baseline_days))
    parts = [
        f"Sample size. Power was estimated by simulation (nocilab {__version__}, "
        f"{grid.n_sims:,} simulated studies per design, seed {grid.seed}) for the donor-level "
        f"test of the arm effect: each mouse's mean change from its baseline (days {base}) "
        f"over {window}, averaged per donor, compared between the treatment and control arms "
        f"by a {side} Student's t test on donor means (alpha = {design.alpha:g}, df = donors "
        f"- {len(design.arms)}). The donor, not the mouse, is the unit of replication."]
    if len(design.arms) > 2:
        method = {"none": "without adjustment", "bonferroni": "Bonferroni", "sidak": "Sidak",
                  "holm": "Holm's step-down", "dunnett": "Dunnett's single-step"}[design.adjust]
        parts.append(f"Each of the {len(design.arms) - 1} treatment arms, all given the same "
                     f"effect, is compared with the control arm, with {method} adjustment over "
                     "the comparisons; the power stated is that of one comparison.")
    if eff is not None:
        decay = ("without decay" if not math.isfinite(eff.half_life_days)
                 else f"then fading with a half-life of {eff.half_life_days:g} days")
        mean_eff = abs(float(arm_contrast_means(design)[1]))
        parts.append(
            f"The effect assumed is a {eff.direction} of "
            f"{effect_scale_text(eff, unit, prefix='')} at its peak, reached {eff.onset_days:g} days after the first injection and held for "
            f"{eff.plateau_days:g} days, {decay}; averaged over the window it is "
            f"{mean_eff:.3g}{' ' + unit if unit else ''}.")
    source = ("assumed" if pilot is None else
              f"estimated by REML from the pilot study's {pilot.outcome}, {pilot.n_animals} "
              f"animals and {pilot.n_donors} donors")

    def sd(x: float) -> str:
        return f"{x:.3g}" if x >= 1e-3 * max(v.sd_donor, v.sd_animal, v.sd_residual) else "0"

    parts.append(
        f"Variance components ({source}): SD between donors {sd(v.sd_donor)}, between mice "
        f"given one donor's IgG {sd(v.sd_animal)}, of repeated readings {sd(v.sd_residual)}, "
        f"with a correlation of {v.rho:.2f} between consecutive test days.")
    if design.bounds is not None:
        limits = " and ".join(f"{w} limit {b:g}" for w, b in zip(("a lower", "an upper"),
                                                                  design.bounds) if b is not None)
        parts.append(f"Readings are censored at {limits} and enter the test at the limit, as in "
                     f"the analysis; each mouse's baseline level varies with SD "
                     f"{sd(v.sd_level)} around a mean of {design.baseline_mean:.4g}.")
    if design.dropout > 0:
        parts.append(f"The design allows for {design.dropout:.0%} of mice lost before their "
                     "post-injection readings (each independently; a donor whose mice are all "
                     "lost leaves the test); the numbers of mice below are mice allocated.")
    parts += choice_sentences(plan, arms=len(design.arms))
    parts.append("The grid of designs and its curves are in power_grid.csv and "
                 "power_curves.pdf; the same command with the same seed reproduces them.")
    return " ".join(parts)


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float | int | str | bool) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    return str(value)
