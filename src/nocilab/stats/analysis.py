"""One outcome, or every outcome of a derived table, through all of nocilab.stats.

:func:`analyze_outcome` runs, on one outcome: baseline handling, the donor-aware mixed
model (Type III tests, per-day contrasts against control), the Prism-style
repeated-measures ANOVA with post-tests (or the reason it was refused), each donor
classified as clearly, possibly or not affected, Hedges' g per day, and, when values are censored, their counts
and a sensitivity analysis. :func:`analyze_table` does so for every (assay, outcome) of
a derived table and adds Holm's correction across outcomes. The donor-level test, the
per-donor AUC and the planning components use one window of post-injection days
(:class:`~nocilab.stats.window.AnalysisWindow`), stated in the summary with where it
came from. An outcome may be analysed on the log10 scale (:mod:`nocilab.stats.scale`):
the summary, contrast and donor-test tables say so in ``scale``, and the last two give
differences as ratios (``ratio``, ``ratio_ci_low``, ``ratio_ci_high``; NaN on the
linear scale).

Every table starts with ``assay`` and ``outcome``; the column sets are fixed and listed
in the ``*_COLUMNS`` constants of this module and of the modules it draws on.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nocilab import schema
from nocilab.errors import AnalysisError
from nocilab.stats.baseline import apply_baseline
from nocilab.stats.censoring import (
    CENSORING_COLUMNS,
    SENSITIVITY_COLUMNS,
    CensoringSummary,
    censoring_sensitivity,
    censoring_summary,
)
from nocilab.stats.contrasts import (
    CONTRAST_COLUMNS,
    ContrastTable,
    check_adjust,
    day_contrasts,
    pre_injection_days,
)
from nocilab.stats.donor_test import DONOR_TEST_COLUMNS, donor_level_test
from nocilab.stats.donors import AFFECTED_COLUMNS, DONOR_COLUMNS, DonorEffects, donor_effects
from nocilab.stats.effect_sizes import EFFECT_SIZE_COLUMNS, hedges_g
from nocilab.stats.mixed import VARIANCE_COLUMNS, MixedModelFit, fit_mixed_model
from nocilab.stats.multiplicity import holm_across_outcomes
from nocilab.stats.response_model import PLANNING_COLUMNS, ResponseModelFit, fit_response_model
from nocilab.stats.rm_anova import RmAnovaResult, refused, rm_anova
from nocilab.stats.scale import RATIO_COLUMNS, add_ratios, check_scale, log10_values
from nocilab.stats.window import DEFAULT_WINDOW, AnalysisWindow, as_window

KEY = ("assay", "outcome")
ANOVA_TABLE_COLUMNS = (*KEY, "model", "term", "sum_sq", "mean_sq", "df_num", "df_den", "F",
                       "p", "gg_epsilon", "p_gg")
CONTRAST_TABLE_COLUMNS = (*KEY, "model", *CONTRAST_COLUMNS, "scale", *RATIO_COLUMNS)
DONOR_TEST_TABLE_COLUMNS = (*KEY, *DONOR_TEST_COLUMNS, "scale", *RATIO_COLUMNS)
SUMMARY_COLUMNS = (
    *KEY, "status", "baseline", "window", "scale", "n_animals", "n_donors", "random_terms", "p_arm", "p_arm_day",
    "p_arm_holm", "p_arm_day_holm", "donor_test", "p_donor_test", "p_donor_test_holm", "rm_anova", "donors_affected", "censored_fraction",
    "censoring_flag", "notes",
)


@dataclass(frozen=True, eq=False)
class OutcomeResult:
    """Everything computed for one outcome. Parts that could not be computed are None
    and ``notes`` says why (``mixed_error`` for the mixed model)."""

    assay: str
    outcome: str
    baseline: str
    baseline_days: tuple[float, ...]
    control: str
    mixed: MixedModelFit | None
    mixed_error: str
    contrasts: ContrastTable | None
    rm_anova: RmAnovaResult
    donors: DonorEffects | None
    effect_sizes: pd.DataFrame
    censoring: CensoringSummary | None
    sensitivity: pd.DataFrame | None
    notes: tuple[str, ...] = field(default=())
    donor_test: pd.DataFrame | None = None
    planning: ResponseModelFit | None = None
    window: AnalysisWindow = field(default_factory=AnalysisWindow)
    scale: str = "linear"
    level: float = 0.95

    def _keyed(self, frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        out.insert(0, "outcome", self.outcome)
        out.insert(0, "assay", self.assay)
        return out

    def anova_table(self) -> pd.DataFrame:
        """Mixed-model Type III tests and RM ANOVA rows: :data:`ANOVA_TABLE_COLUMNS`."""
        parts = []
        if self.mixed is not None:
            a = self.mixed.anova().assign(model="mixed", gg_epsilon=np.nan, p_gg=np.nan)
            parts.append(a)
        if self.rm_anova.available:
            t = self.rm_anova.table
            err_df = np.where(t["term"] == "arm", t.loc[t["term"] == "subject", "df"].iloc[0],
                              t.loc[t["term"] == "residual", "df"].iloc[0])
            parts.append(pd.DataFrame({
                "model": "rm_anova", "term": t["term"], "sum_sq": t["sum_sq"],
                "mean_sq": t["mean_sq"], "df_num": t["df"].astype(float),
                "df_den": np.where(t["term"] == "residual", np.nan, err_df).astype(float),
                "F": t["F"], "p": t["p"], "gg_epsilon": t["gg_epsilon"], "p_gg": t["p_gg"],
            }))
        out = _concat(parts, ANOVA_TABLE_COLUMNS[2:])
        return self._keyed(out)[list(ANOVA_TABLE_COLUMNS)]

    def contrast_table(self) -> pd.DataFrame:
        """Per-day contrasts of the mixed model and RM post-tests: CONTRAST_TABLE_COLUMNS."""
        parts = []
        if self.contrasts is not None:
            parts.append(self.contrasts.to_frame().assign(model="mixed"))
        if self.rm_anova.posttests is not None:
            parts.append(self.rm_anova.posttests.to_frame().assign(model="rm_anova"))
        out = _concat(parts, ("model", *CONTRAST_COLUMNS))
        # ratios with unadjusted limits at `level`, whatever adjustment p_adj carries
        out = add_ratios(out.assign(scale=self.scale), scale=self.scale, level=self.level)
        return self._keyed(out)[list(CONTRAST_TABLE_COLUMNS)]

    def _part(self, frame: pd.DataFrame | None, columns: Sequence[str]) -> pd.DataFrame:
        base = frame if frame is not None else pd.DataFrame(columns=list(columns))
        return self._keyed(base)

    def donor_table(self) -> pd.DataFrame:
        return self._part(self.donors.to_frame() if self.donors else None, DONOR_COLUMNS)

    def donor_test_table(self) -> pd.DataFrame:
        """The donor-level test: :data:`DONOR_TEST_TABLE_COLUMNS`."""
        base = self._part(self.donor_test, DONOR_TEST_COLUMNS).assign(scale=self.scale)
        out = add_ratios(base, scale=self.scale, estimate="difference", ci=("ci_low", "ci_high"))
        return out[list(DONOR_TEST_TABLE_COLUMNS)]

    def planning_table(self) -> pd.DataFrame:
        """Planning components, fitted to the values as measured whatever the scale."""
        frame = self.planning.to_frame() if self.planning is not None else None
        return self._part(frame, PLANNING_COLUMNS)

    def affected_table(self) -> pd.DataFrame:
        return self._part(self.donors.affected() if self.donors else None, AFFECTED_COLUMNS)

    def censoring_table(self) -> pd.DataFrame:
        return self._part(self.censoring.to_frame() if self.censoring else None,
                          CENSORING_COLUMNS)

    def sensitivity_table(self) -> pd.DataFrame:
        return self._part(self.sensitivity, SENSITIVITY_COLUMNS)

    def effect_size_table(self) -> pd.DataFrame:
        return self._keyed(self.effect_sizes)

    def variance_table(self) -> pd.DataFrame:
        vc = self.mixed.variance_components.to_frame() if self.mixed else None
        return self._part(vc, VARIANCE_COLUMNS)

    def summary(self) -> dict[str, object]:
        """One row of :data:`SUMMARY_COLUMNS` (Holm columns filled by analyze_table)."""
        p_arm = p_int = np.nan
        if self.mixed is not None:
            a = self.mixed.anova().set_index("term")["p"]
            p_arm = float(a.get("arm", np.nan))
            p_int = float(a.get("arm:day", np.nan))
        dt_text, p_dt = "", np.nan
        if self.donor_test is not None and len(self.donor_test):
            d = self.donor_test
            ratio = ((lambda r: f" (ratio {10 ** r.difference:.3g})") if self.scale == "log10"
                     else (lambda r: ""))
            dt_text = "; ".join(
                f"{r.arm}: {r.difference:+.3g}{ratio(r)} (95% CI {r.ci_low:.3g} to "
                f"{r.ci_high:.3g}), "
                f"t({r.df:g}) = {r.t:.2f}, p = {r.p:.2g}, {r.n_units} vs {r.n_units_control} "
                f"{r.unit}s" for r in d.itertuples())
            # one treatment arm: its p; several: the smallest, adjusted over the arms
            p_dt = float(d["p_adj"].min())
        resp = ""
        if self.donors is not None:
            r = self.donors.affected()
            resp = "; ".join(f"{a}: {s}" for a, s in zip(r["arm"], r["summary"], strict=True))
        fit = self.mixed
        return {
            "assay": self.assay, "outcome": self.outcome,
            "status": "ok" if fit is not None else f"mixed model failed: {self.mixed_error}",
            "baseline": self.baseline, "window": self.window.describe(), "scale": self.scale,
            "n_animals": fit.n_animals if fit else np.nan,
            "n_donors": fit.n_donors if fit and fit.n_donors is not None else np.nan,
            "random_terms": " + ".join(f"(1|{t})" for t in fit.random_terms) if fit else "",
            "p_arm": p_arm, "p_arm_day": p_int, "p_arm_holm": np.nan, "p_arm_day_holm": np.nan,
            "donor_test": dt_text, "p_donor_test": p_dt, "p_donor_test_holm": np.nan,
            "rm_anova": "available" if self.rm_anova.available else self.rm_anova.reason,
            "donors_affected": resp,
            "censored_fraction": self.censoring.fraction if self.censoring else 0.0,
            "censoring_flag": bool(self.censoring.flagged) if self.censoring else False,
            "notes": " | ".join(self.notes),
        }


def _concat(parts: list[pd.DataFrame], columns: Sequence[str]) -> pd.DataFrame:
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=list(columns))
    return pd.concat(parts, ignore_index=True)


def _attempt(notes: list[str], what: str, fn: Callable[[], object]) -> object | None:
    try:
        return fn()
    except AnalysisError as exc:
        notes.append(f"{what}: {exc}")
        return None


def analyze_outcome(
    frame: pd.DataFrame,
    *,
    value: str = "value",
    arm: str = "arm",
    day: str = "study_day",
    animal: str = "animal",
    donor: str | None = None,
    control: str,
    baseline_days: Sequence[float] = (),
    baseline: str = "raw",
    posttest: str = "sidak",
    family: str = "all",
    censored: str | None = None,
    bound: str | None = None,
    auc_window: AnalysisWindow | tuple[float | None, float | None] | None = DEFAULT_WINDOW,
    scale: str = "linear",
    direction: str = "decrease",
    censor_threshold: float = 0.10,
    level: float = 0.95,
    outcome: str = "",
    assay: str = "",
) -> OutcomeResult:
    """Analyse one outcome (a long frame, one row per animal x day).

    Parameters
    ----------
    frame : the outcome's rows.
    value, arm, day, animal, donor : column names (``donor=None``: no donor term, no
        per-donor effects).
    control : the control arm.
    baseline_days, baseline : see :mod:`nocilab.stats.baseline`; the mode is recorded.
    posttest, family : multiplicity adjustment of the per-day contrasts (mixed model and
        RM post-tests): ``sidak`` (default), ``holm``, ``bonferroni``, ``dunnett``,
        ``none``; over ``all`` post-injection days (default) or each ``day``. Days before
        day 0 and ``baseline_days`` are not in a family: their contrasts are an
        unadjusted baseline imbalance check.
    censored, bound : censoring columns; when given and a value is censored, counts and a
        sensitivity analysis are added.
    auc_window : the window of post-injection days of the donor-level test, the
        per-donor classification and the planning components: an :class:`AnalysisWindow` (which
        says where it came from) or ``(first, last)``; default day 1 to the last day.
    scale : ``linear`` (default) or ``log10``: every model is fitted to log10(value)
        (censored values at log10 of their bound) and differences are also given as
        ratios; the planning components stay on the values as measured (what
        ``nocilab power`` simulates). ``percent`` of baseline is refused on log10.
    direction : expected direction of a patient effect, for the per-donor classification.
    censor_threshold : censored fraction above which a cell is flagged.
    level : confidence level of intervals.
    outcome, assay : labels carried into every table.

    Returns
    -------
    OutcomeResult
    """
    posttest, family = check_adjust(posttest, family)
    window = as_window(auc_window)
    measured = frame
    if check_scale(scale) == "log10":
        if baseline == "percent":
            raise AnalysisError("percent of baseline is not defined on the log10 scale; use "
                                "change (a difference of log10 values is a ratio to baseline)")
        frame = log10_values(frame, value=value, bound=bound, day=day, animal=animal,
                             what=f"{assay}.{outcome}" if assay else (outcome or value))
    notes: list[str] = []
    cens = None
    if censored is not None and censored in frame.columns:
        cens = censoring_summary(frame, arm=arm, day=day, censored=censored, value=value,
                                 threshold=censor_threshold)
        if cens.flagged:
            notes.append(f"censored values above {censor_threshold:.0%} in some arm x day cell")
    b = apply_baseline(frame, value=value, day=day, animal=animal, baseline_days=baseline_days,
                       mode=baseline)
    notes.extend(b.notes)
    data = b.frame
    # baseline days: in the figures and a labelled imbalance check, never in a family
    pre = pre_injection_days(pd.to_numeric(data[day], errors="coerce").dropna().unique(),
                             baseline_days)
    mixed, mixed_error, contrasts = None, "", None
    try:
        mixed = fit_mixed_model(data, value=value, arm=arm, day=day, animal=animal,
                                donor=donor, control=control, covariate=b.covariate)
        contrasts = day_contrasts(mixed, adjust=posttest, family=family, baseline_days=pre)
        notes.extend(f"mixed model: {n}" for n in mixed.notes)
    except AnalysisError as exc:
        mixed_error = str(exc)
        notes.append(f"mixed model: {exc}")
    if b.covariate is None:
        rm = rm_anova(data, value=value, arm=arm, day=day, animal=animal, control=control,
                      posttest=posttest, family=family, baseline_days=pre)
    else:
        rm = refused("baseline as covariate is not available in repeated-measures ANOVA: "
                     "see the mixed model")
    donors = None
    if donor is not None:
        donors = _attempt(notes, "per-donor effects", lambda: donor_effects(
            frame, value=value, arm=arm, day=day, animal=animal, donor=donor, control=control,
            baseline_days=baseline_days, window=window.bounds, direction=direction,
            level=level))
    dtest = _attempt(notes, "donor-level test", lambda: donor_level_test(
        frame, value=value, arm=arm, day=day, animal=animal, donor=donor, control=control,
        baseline_days=baseline_days, window=window.bounds, level=level,
        adjust="none" if posttest == "none" else posttest))
    planning = None
    days = pd.to_numeric(measured[day], errors="coerce")
    in_window = (days > 0) & (days >= window.first)
    if window.last is not None:
        in_window &= days <= window.last
    if len(baseline_days) and in_window.any():
        planning = _attempt(notes, "variance components for planning", lambda: fit_response_model(
            measured[days.isin(baseline_days) | in_window], value=value, arm=arm, day=day,
            animal=animal, donor=donor if donor is not None else "\x00no donor"))
    es = _attempt(notes, "effect sizes", lambda: hedges_g(
        data, value=value, arm=arm, day=day, animal=animal, control=control, level=level))
    if es is None:
        es = pd.DataFrame(columns=list(EFFECT_SIZE_COLUMNS))
    sens = None
    if cens is not None and cens.n_censored > 0:
        sens = _attempt(notes, "censoring sensitivity", lambda: censoring_sensitivity(
            frame, value=value, arm=arm, day=day, animal=animal, control=control, donor=donor,
            censored=censored, bound=bound, baseline_days=baseline_days, baseline=baseline))
    return OutcomeResult(
        assay=assay, outcome=outcome or value, baseline=b.mode, baseline_days=b.baseline_days,
        control=control, mixed=mixed, mixed_error=mixed_error, contrasts=contrasts,
        rm_anova=rm, donors=donors, effect_sizes=es, censoring=cens, sensitivity=sens,
        notes=tuple(notes), donor_test=dtest, planning=planning, window=window,
        scale=scale, level=level,
    )


def _log_text(results: Mapping[tuple[str, str], OutcomeResult], source: str) -> str:
    names = [f"{a}.{o}" for (a, o), r in results.items() if r.scale == "log10"]
    if not names:
        return "none"
    return ", ".join(names) + (f" ({source})" if source else "")


@dataclass(frozen=True, eq=False)
class StudyAnalysis:
    """Results of every outcome of a derived table; tables concatenate the outcomes'.

    ``results`` maps ``(assay, outcome)`` to its :class:`OutcomeResult`; ``failures``
    maps an outcome that could not be analysed at all to the reason.
    """

    results: dict[tuple[str, str], OutcomeResult]
    failures: dict[tuple[str, str], str]
    settings: dict[str, object]

    def _cat(self, method: str) -> pd.DataFrame:
        frames = [getattr(r, method)() for r in self.results.values()]
        frames = [f for f in frames if not f.empty]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def anova(self) -> pd.DataFrame:
        return self._cat("anova_table")

    def contrasts(self) -> pd.DataFrame:
        return self._cat("contrast_table")

    def donors(self) -> pd.DataFrame:
        return self._cat("donor_table")

    def affected_donors(self) -> pd.DataFrame:
        return self._cat("affected_table")

    def donor_test(self) -> pd.DataFrame:
        return self._cat("donor_test_table")

    def planning(self) -> pd.DataFrame:
        return self._cat("planning_table")

    def censoring(self) -> pd.DataFrame:
        return self._cat("censoring_table")

    def sensitivity(self) -> pd.DataFrame:
        return self._cat("sensitivity_table")

    def effect_sizes(self) -> pd.DataFrame:
        return self._cat("effect_size_table")

    def variance_components(self) -> pd.DataFrame:
        return self._cat("variance_table")

    def summary(self) -> pd.DataFrame:
        """One row per outcome (:data:`SUMMARY_COLUMNS`), Holm across outcomes filled in."""
        rows = [r.summary() for r in self.results.values()]
        for (a, o), why in self.failures.items():
            rows.append({"assay": a, "outcome": o, "status": f"not analysed: {why}"})
        out = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
        if len(out):
            out = holm_across_outcomes(out, p="p_arm", out="_h1")
            out = holm_across_outcomes(out, p="p_arm_day", out="_h2")
            out = holm_across_outcomes(out, p="p_donor_test", out="_h3")
            out["p_arm_holm"], out["p_arm_day_holm"] = out.pop("_h1"), out.pop("_h2")
            out["p_donor_test_holm"] = out.pop("_h3")
        return out[list(SUMMARY_COLUMNS)]

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by name, as the report and the CLI write them."""
        return {name: getattr(self, name)() for name in (
            "summary", "anova", "contrasts", "donor_test", "donors", "affected_donors", "censoring",
            "sensitivity", "effect_sizes", "variance_components", "planning")}


def analyze_table(
    derived: pd.DataFrame,
    *,
    control: str,
    baseline_days: Sequence[float] = (),
    baseline: str = "raw",
    posttest: str = "sidak",
    family: str = "all",
    directions: Mapping[str, str] | str = "decrease",
    auc_window: AnalysisWindow | tuple[float | None, float | None] | None = DEFAULT_WINDOW,
    log_outcomes: Collection[str] = (),
    log_source: str = "",
    censor_threshold: float = 0.10,
    level: float = 0.95,
) -> StudyAnalysis:
    """Analyse every (assay, outcome) of a derived table (:data:`nocilab.schema.DERIVED`).

    ``directions`` is one direction for all outcomes or a mapping from outcome name to
    direction (missing outcomes: ``decrease``). An outcome that cannot be analysed
    (e.g. measured in one arm only) is listed in ``failures`` and in the summary.
    Holm's correction across outcomes is applied to the mixed model's ``arm`` and
    ``arm:day`` p-values. Each outcome uses those of ``baseline_days`` on which it was
    measured (an endpoint measured once has none, and is analysed on its raw value).
    Every outcome uses the one window ``auc_window`` (see :func:`analyze_outcome`);
    ``settings["window"]`` says which it was and why. The outcomes named in
    ``log_outcomes`` (``ASSAY.OUTCOME``) are analysed on the log10 scale;
    ``settings["log10"]`` lists them with ``log_source`` (where the choice came from).
    """
    check_adjust(posttest, family)
    window = as_window(auc_window)
    derived = schema.validate(derived, schema.DERIVED, table="derived")
    results: dict[tuple[str, str], OutcomeResult] = {}
    failures: dict[tuple[str, str], str] = {}
    for (assay, outcome), g in derived.groupby(["assay", "outcome"], sort=True):
        key = (str(assay), str(outcome))
        has_donor = g["donor"].notna().any() and (g["donor"].astype(str).str.strip() != "").any()
        direction = (directions if isinstance(directions, str)
                     else directions.get(str(outcome), "decrease"))
        arms_here = sorted(set(g["arm"].astype(str)))
        if control not in arms_here or len(arms_here) < 2:
            failures[key] = (f"readings so far only from {', '.join(arms_here)}; "
                             + (f"none yet from the control arm ({control})"
                                if control not in arms_here else "no other arm to compare")
                             + ": nothing to compare until both are measured")
            continue
        present = set(g["study_day"])
        days_here = tuple(d for d in baseline_days if d in present)  # this outcome's baselines
        try:
            results[key] = analyze_outcome(
                g, value="value", arm="arm", day="study_day", animal="animal",
                donor="donor" if has_donor else None, control=control,
                baseline_days=days_here, baseline=baseline, posttest=posttest,
                family=family, censored="censored", bound="bound", auc_window=window,
                scale="log10" if f"{key[0]}.{key[1]}" in set(log_outcomes) else "linear",
                direction=direction, censor_threshold=censor_threshold, level=level,
                outcome=key[1], assay=key[0],
            )
        except AnalysisError as exc:
            failures[key] = str(exc)
    settings = dict(control=control, baseline_days=tuple(baseline_days), baseline=baseline,
                    posttest=posttest, family=family, window=window.describe(),
                    log10=_log_text(results, log_source),
                    censor_threshold=censor_threshold, level=level,
                    directions=directions if isinstance(directions, str) else dict(directions))
    return StudyAnalysis(results=results, failures=failures, settings=settings)
