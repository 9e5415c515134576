"""How well the per-donor classification works, measured on simulated demo studies.

Each replicate is one study of the demo simulator (:func:`nocilab.demo.simulate_study`,
8 patient and 6 control donors, 3 mice each) with its own seed: its raw files are
written, read back through the importers' readers and derived exactly as ``nocilab
demo`` does (without a database), and every outcome's donors are classified by
:func:`nocilab.stats.donors.donor_effects` with the report's settings (baseline days:
the outcome's negative days; the expected direction of each outcome as in
``nocilab analyze``; the demo study file's analysis window, and the log10 scale for
the outcomes it lists in ``[analysis] log_outcomes``). The simulator's truth says which donors have an effect on which
assay (every patient donor on every assay but body weight; one patient donor has none
on cold). :func:`calibration_summary` gives, per group of donors:

- control donors (each against the other control donors): the rate of false "clearly
  affected" calls, which should be about ``1 - level``, and of "clearly or possibly";
- patient donors without a simulated effect: the same rates;
- patient donors with an effect: the sensitivity (clearly; clearly or possibly).

Monte-Carlo 95% intervals treat the studies as the independent units (donors of one
study share their reference donors).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from nocilab.stats.donors import CLEARLY, POSSIBLY, donor_effects

CLASS_COLUMNS = ("seed", "assay", "outcome", "donor", "arm", "true_effect", "affected",
                 "classification", "p")
SUMMARY_COLUMNS = ("group", "assay", "n_studies", "n_donors", "rate_clearly",
                   "rate_clearly_low", "rate_clearly_high", "rate_clearly_or_possibly",
                   "rate_either_low", "rate_either_high")


@dataclass(frozen=True)
class ReportSettings:
    """What the demo study file sets for its report: the analysis window and the
    outcomes (``ASSAY.OUTCOME``) analysed on the log10 scale."""

    window: tuple[float | None, float | None]
    log_outcomes: tuple[str, ...]


GROUPS = ("control donors", "patient donors without an effect", "patient donors with an effect")


def simulated_derived(seed: int, *, mice_per_donor: int = 3,
                      ) -> tuple[pd.DataFrame, pd.DataFrame, ReportSettings]:
    """One simulated demo study, derived as ``nocilab demo`` derives it.

    Returns ``(derived, truth, settings)``: the derived table, the simulator's true
    relative effects (columns donor, arm, assay, relative_effect) and the demo study
    file's analysis window and log10 outcomes, which its report uses.
    """
    from nocilab.demo.run import DEMO_MAPPINGS, write_demo_files
    from nocilab.demo.simulate import simulate_study
    from nocilab.derive import derive_observations
    from nocilab.ingest.load import read_observations
    from nocilab.model import load_study

    sim = simulate_study(seed=seed, mice_per_donor=mice_per_donor)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        study = load_study(write_demo_files(sim, folder))
        obs = pd.concat([read_observations(folder / "raw" / name, study, study.mappings[m])
                         for name, (m, _) in DEMO_MAPPINGS.items()], ignore_index=True)
    given = study.analysis_window()
    settings = ReportSettings(window=given[0] if given else (1, None),
                              log_outcomes=tuple(study.analysis.log_outcomes))
    return derive_observations(obs, study), sim.donor_effects, settings


def classify_study(seed: int, *, window: tuple[float | None, float | None] | None = None,
                   level: float = 0.95, possible_level: float = 0.80,
                   mice_per_donor: int = 3) -> pd.DataFrame:
    """Every donor of every outcome of one simulated study, classified, with its truth
    (:data:`CLASS_COLUMNS`), with the report's settings: the demo study file's window
    (unless ``window`` is given) and its log10 outcomes on the log10 scale."""
    from nocilab.report.analyze import DEFAULT_DIRECTIONS
    from nocilab.stats.scale import log10_values

    derived, truth, settings = simulated_derived(seed, mice_per_donor=mice_per_donor)
    window = settings.window if window is None else window
    true = truth.set_index(["donor", "assay"])["relative_effect"]
    parts = []
    for (assay, outcome), g in derived.groupby(["assay", "outcome"], sort=True):
        base = tuple(sorted(d for d in g["study_day"].unique() if d < 0))
        if f"{assay}.{outcome}" in settings.log_outcomes:
            g = log10_values(g, value="value", day="study_day", animal="animal",
                             what=f"{assay}.{outcome}")
        eff = donor_effects(g, value="value", arm="arm", day="study_day", animal="animal",
                            donor="donor", control="control", baseline_days=base,
                            window=window, direction=DEFAULT_DIRECTIONS.get(outcome, "decrease"),
                            level=level, possible_level=possible_level).to_frame()
        e = np.array([true[(d, assay)] for d in eff["donor"]], dtype=float)
        parts.append(pd.DataFrame({
            "seed": seed, "assay": assay, "outcome": outcome, "donor": eff["donor"],
            "arm": eff["arm"], "true_effect": e, "affected": e != 0.0,
            "classification": eff["classification"], "p": eff["p"]}))
    return pd.concat(parts, ignore_index=True)[list(CLASS_COLUMNS)]


def classify_studies(seeds: Sequence[int], *, progress: Callable[[int], None] | None = None,
                     **options: object) -> pd.DataFrame:
    """:func:`classify_study` for every seed, concatenated; ``progress(seed)`` after each."""
    parts = []
    for s in seeds:
        parts.append(classify_study(int(s), **options))  # type: ignore[arg-type]
        if progress is not None:
            progress(int(s))
    return pd.concat(parts, ignore_index=True)


def _group(frame: pd.DataFrame) -> pd.Series:
    return pd.Series(np.where(frame["arm"] == "control", GROUPS[0],
                              np.where(frame["affected"], GROUPS[2], GROUPS[1])),
                     index=frame.index)


def _rate(sub: pd.DataFrame, hit: pd.Series) -> tuple[float, float, float]:
    """Rate over all donors, and a 95% interval with the studies as clusters."""
    per = hit.groupby(sub["seed"]).agg(["sum", "size"])
    rate = float(per["sum"].sum() / per["size"].sum())
    k = len(per)
    if k < 2:
        return rate, np.nan, np.nan
    # ratio estimator: residuals per study, variance over studies
    resid = per["sum"] - rate * per["size"]
    se = float(np.sqrt(k / (k - 1) * (resid ** 2).sum()) / per["size"].sum())
    return rate, max(0.0, rate - 1.96 * se), min(1.0, rate + 1.96 * se)


def calibration_summary(classes: pd.DataFrame) -> pd.DataFrame:
    """Rates per group of donors, over all assays (``assay`` = ``all``) and per assay
    (:data:`SUMMARY_COLUMNS`)."""
    c = classes.assign(group=_group(classes))
    rows = []
    for group in GROUPS:
        g = c[c["group"] == group]
        if g.empty:
            continue
        for assay, sub in [("all", g), *sorted(g.groupby("assay"))]:
            clearly = sub["classification"] == CLEARLY
            either = sub["classification"].isin([CLEARLY, POSSIBLY])
            r1 = _rate(sub, clearly)
            r2 = _rate(sub, either)
            rows.append((group, assay, int(sub["seed"].nunique()), len(sub), *r1, *r2))
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
