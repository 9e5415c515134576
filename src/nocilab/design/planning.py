"""Planning a study's size: a power grid from the command line's design, optionally
with variance components taken from a pilot study's store, written to a folder.

The computation is :mod:`nocilab.design.power`; this module only gathers the inputs
(:func:`pilot_variance`) and writes the outputs (:func:`write_power_outputs`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from nocilab.design.power import PowerDesign, PowerGrid, VarianceComponents, variance_from_fit
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


def pilot_variance(study: Study, derived: pd.DataFrame, *, outcome: str,
                   window: tuple[int, int] | None = None, rho: float = 0.0) -> PilotVariance:
    """Variance components of the change from baseline of one outcome of a past study.

    Fits ``change ~ arm * day + (1 | donor) + (1 | animal)`` by REML on the
    post-injection days of the window (change = value - the animal's mean over the
    baseline days), as :func:`nocilab.design.power.variance_from_fit` asks, and removes
    the baseline-mean noise from the animal variance.

    Parameters
    ----------
    study
        The pilot study (for its control arm).
    derived
        Its derived table.
    outcome
        ``ASSAY.OUTCOME`` (e.g. ``paw_pressure.threshold_g``) or an outcome name that is
        unique in the table.
    window
        First and last post-injection day to use (default: every day > 0).
    rho
        AR(1) correlation of the residuals over test days, if known (the fit does not
        estimate it).
    """
    from nocilab.stats.mixed import variance_components

    sub = _outcome_rows(derived, outcome)
    base_days = tuple(sorted(d for d in sub["study_day"].unique() if d < 0))
    if not base_days:
        raise DesignError(f"outcome {outcome!r} has no baseline (negative) days in the pilot study")
    lo, hi = window if window is not None else (1, int(sub["study_day"].max()))
    post_days = tuple(sorted(d for d in sub["study_day"].unique() if lo <= d <= hi and d > 0))
    if len(post_days) < 1:
        raise DesignError(f"no post-injection days of {outcome!r} between days {lo} and {hi}")
    sub = sub[sub["arm"] != ""]
    base = sub[sub["study_day"].isin(base_days)].groupby("animal")["value"].mean()
    post = sub[sub["study_day"].isin(post_days)].copy()
    post["change"] = post["value"] - post["animal"].map(base)
    post = post.dropna(subset=["change"])
    if post.empty:
        raise DesignError(f"no animal of {outcome!r} has both baseline and post-injection values")
    vc = variance_components(post, value="change", arm="arm", day="study_day", animal="animal",
                             donor="donor", control=study.control_arm)
    # with one mouse per donor only one term is fitted: take it as donor variation
    donor_var = vc.donor if vc.donor is not None else (vc.animal or 0.0)
    animal_var = vc.animal if vc.donor is not None else 0.0
    variance = variance_from_fit(sd_donor=float(np.sqrt(donor_var)),
                                 sd_animal=float(np.sqrt(animal_var or 0.0)),
                                 sd_residual=float(np.sqrt(vc.residual)), rho=rho,
                                 n_baseline_days=len(base_days) if vc.donor is not None else None)
    note = (f"REML fit of change ~ arm * day + (1|donor) + (1|animal) on days "
            f"{', '.join(map(str, post_days))} of {outcome}; baseline days "
            f"{', '.join(map(str, base_days))}")
    return PilotVariance(variance, outcome, int(post["animal"].nunique()),
                         int(post["donor"].nunique()), base_days, post_days,
                         float(sub[sub["study_day"].isin(base_days)]["value"].mean()), note)


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


def write_power_outputs(grid: PowerGrid, design: PowerDesign, out: Path, *, target: float,
                        pilot: PilotVariance | None = None) -> dict:
    """Write ``power_grid.csv``, the curves (PNG, PDF, SVG) and ``power_summary.json``."""
    from nocilab.report.figures import power_curves, save_figure

    out.mkdir(parents=True, exist_ok=True)
    frame = grid.to_frame()
    frame.to_csv(out / "power_grid.csv", index=False)
    choice = grid.smallest(target)
    fig = power_curves(frame, target=target, title="Power of the donor-level test")
    save_figure(fig, out / "power_curves")
    summary = {
        "target": target,
        "reached": choice.reached,
        "smallest": {"donors_per_arm": choice.donors_per_arm, "mice_per_donor": choice.mice_per_donor,
                     "n_animals": choice.n_animals, "power": choice.power,
                     "ci_low": choice.ci_low, "ci_high": choice.ci_high},
        "message": choice.message,
        "design": _jsonable(asdict(design)),
        "seed": _jsonable(getattr(grid, "seed", None)),
        "test": ("Student t test of donor means of the mean change from baseline over the "
                 "window, variance pooled over arms, df = donors - arms"),
    }
    ok = frame[frame["power"] >= target].sort_values(["n_animals", "donors_per_arm"])
    if len(ok):
        best = ok.iloc[0]
        summary["fewest_animals"] = {k: _jsonable(best[k]) for k in
                                     ("donors_per_arm", "mice_per_donor", "n_animals", "power")}
        summary["message"] += (f"; fewest animals: {int(best['donors_per_arm'])} donors per arm x "
                               f"{int(best['mice_per_donor'])} mice ({int(best['n_animals'])} animals, "
                               f"power {best['power']:.3f})")
    if pilot is not None:
        summary["variance_from"] = _jsonable(asdict(pilot))
    (out / "power_summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary


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
