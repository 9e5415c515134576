"""What the report says about individual donors: clearly, possibly or not affected.

The words are written from :class:`nocilab.stats.donors.DonorEffects` and its tables;
nothing is computed here but the wording. The rule of the wording: a donor within the
control donors' range is "not affected" *as far as this study can tell*, and the report
says so, so that low power is never read as donor heterogeneity.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from nocilab.stats.donors import CLEARLY, DEMO_CALIBRATION, Calibration

DONOR_SHOW = ["donor", "arm", "n_animals", "value", "reference", "n_reference",
              "reference_mean", "difference", "df", "t", "p", "clearly_below", "clearly_above",
              "possibly_below", "possibly_above", "classification", "note"]
_BOUNDS = ("clearly_below", "clearly_above", "possibly_below", "possibly_above")

DIRECTION_WORDS = {"decrease": "below", "increase": "above", "either": "outside"}


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _arm_counts(row: Any, labels: dict[str, str], control: str) -> str:
    who = labels.get(row.arm, row.arm)
    if row.arm == control:
        who += " (each against the other control donors)"
    text = (f"{who}: {row.n_clearly} clearly, {row.n_possibly} possibly, {row.n_not} not "
            f"affected of {row.n_donors} donors")
    if row.n_evaluable < row.n_donors:
        text += f" ({row.n_donors - row.n_evaluable} not evaluable)"
    return text


def key_sentence(res: Any, labels: dict[str, str]) -> str:
    """The sentence of an outcome's key result about its donors ('' without donors)."""
    eff = res.donors
    if eff is None:
        return ""
    aff = eff.affected()
    arms = [r for r in aff.itertuples() if r.arm != res.control]
    ctrl = [r for r in aff.itertuples() if r.arm == res.control]
    parts = [_arm_counts(r, labels, res.control) for r in arms + ctrl]
    side = DIRECTION_WORDS[eff.direction]
    limit = ("two-sided {} prediction interval" if eff.direction == "either"
             else "one-sided {} prediction bound")
    text = (f"Donors ({eff.quantity}, {eff.window}, each {side} the control donors' "
            f"{limit.format(_pct(eff.level))}: clearly affected; {side} the "
            f"{_pct(eff.possible_level)} {limit.split()[-1]} only: possibly): "
            + "; ".join(parts) + ".")
    if ctrl:
        text += (f" By chance alone {ctrl[0].expected_clearly_by_chance:.1f} of the "
                 f"{ctrl[0].n_evaluable} control donors would be clearly affected.")
    return text + (" Not affected means within the range of control donors; with this many "
                   "donors it does not show that a donor has no effect.")


def summary_cell(res: Any, labels: dict[str, str]) -> str:
    """The first screen's cell: clearly / possibly / not affected per arm."""
    if res.donors is None:
        return ""
    aff = res.donors.affected()
    order = [r for r in aff.itertuples() if r.arm != res.control] + \
            [r for r in aff.itertuples() if r.arm == res.control]
    return "<br>".join(f"{labels.get(r.arm, r.arm)}: {r.n_clearly} / {r.n_possibly} / "
                       f"{r.n_not} of {r.n_donors}" for r in order)


def forest_frame(donors: pd.DataFrame) -> pd.DataFrame:
    """The donor table as the forest plot draws it: the difference from the control
    donors' mean, with a bar of the clearly-affected margin on either side (the bar
    clears zero on the expected side exactly when the donor is clearly affected)."""
    margin = np.where(donors["clearly_below"].notna(),
                      donors["reference_mean"] - donors["clearly_below"],
                      donors["clearly_above"] - donors["reference_mean"])
    return pd.DataFrame({
        "donor": donors["donor"], "arm": donors["arm"], "estimate": donors["difference"],
        "ci_low": donors["difference"] - margin, "ci_high": donors["difference"] + margin,
        "responder": donors["classification"] == CLEARLY,
        "classification": donors["classification"], "note": donors["note"].fillna(""),
    })


def table_columns(donors: pd.DataFrame) -> list[str]:
    """The donor table's columns worth showing (bounds that apply to the direction)."""
    return [c for c in DONOR_SHOW if c in donors.columns
            and (c not in _BOUNDS or donors[c].notna().any())]


def methods_paragraph(*, window: str, posttest: str, level: float = 0.95,
                      possible_level: float = 0.80) -> str:
    """The methods text on donors: the donor-level test and the per-donor classification."""
    return (
        "Donors. The donor, not the mouse, is the unit for claims about patients. Each "
        "animal's mean change from its baseline (the mean of its baseline days) over the "
        f"post-injection window ({window}; the mean value for outcomes without a baseline) was "
        "averaged per donor. The donor-level test compares each arm with control by Student's "
        "t on these donor means (variance pooled over arms, df = donors - arms; with several "
        f"treatment arms adjusted over them by the {posttest} method), Holm-adjusted across "
        "outcomes; it is the test nocilab power simulates, and in balanced designs it equals "
        "the mixed model's arm test on the changes from baseline. Whether one donor's IgG had "
        "an effect was judged against the control donors, whose means vary by the "
        "donor-to-donor and mouse-to-mouse variation alone: each donor's mean was compared "
        "with the t-based prediction interval for one more control donor (the control donors' "
        "mean ± t × SD × √(1 + 1/n), on n - 1 df for n control donors; widened, with "
        "Satterthwaite df, for a donor with fewer mice than the control donors). A donor is "
        f"clearly affected when it lies beyond the one-sided {_pct(level)} prediction bound in "
        "the outcome's expected direction (fixed in advance: lower thresholds, latencies, "
        "grip, activity and nerve-fibre density; either direction, two-sided, for body "
        f"weight), possibly affected when it lies beyond the {_pct(possible_level)} bound only, "
        "and otherwise not affected, meaning not distinguishable from a control donor, which "
        "with few donors does not exclude an effect. A donor without an effect is called "
        f"clearly affected with probability {_pct(1 - level)} (clearly or possibly: "
        f"{_pct(1 - possible_level)}), exactly under normality; each control donor, "
        "classified in the same way against the other control donors, shows this rate in the "
        "study. This comparison replaces a test of each donor's few mice against the control "
        "mice (about 2 df for 3 mice: most affected donors were missed) and was preferred to "
        "empirical-Bayes (shrunken) donor effects from the mixed model: with 6-8 donors per arm "
        "the between-donor variance is poorly estimated, often at zero, which shrinks every "
        "donor to its arm's mean and turns the per-donor call into a restatement of the arm "
        "effect, with no known false-call rate. " + calibration_sentence(DEMO_CALIBRATION))


ASSAY_NAMES = {"paw_pressure": "paw pressure", "cold_plate": "cold plate", "von_frey": "von Frey",
               "ienfd": "IENFD"}


def calibration_sentence(cal: Calibration) -> str:
    """The calibration by simulation, in words (numbers from ``cal``)."""
    per = ", ".join(f"{_pct(r)} {ASSAY_NAMES.get(a, a)}" for a, r in cal.by_assay)
    lo, hi = cal.control_clearly_ci
    slo, shi = cal.sensitivity_clearly_ci
    return (
        f"Calibrated by simulation on {cal.design} ({cal.studies} simulated studies, known "
        f"truth): control donors were called clearly affected in {100 * cal.control_clearly:.1f}% "
        f"of classifications (95% CI {100 * lo:.1f}-{100 * hi:.1f}%; clearly or possibly "
        f"{100 * cal.control_either:.1f}%), and patient donors with a simulated effect in "
        f"{100 * cal.sensitivity_clearly:.1f}% (95% CI {100 * slo:.1f}-{100 * shi:.1f}%; "
        f"clearly or possibly {100 * cal.sensitivity_either:.1f}%): {per}. The sensitivity "
        "depends on the effect relative to the spread between donors and on the number of "
        "donors, so for another design it differs.")


def lead_sentence(results: Any, control: str) -> str:
    """The first screen's words on donors: the classes, what "not affected" means, and
    how many control-donor calls chance explains in this study."""
    ctrl = [r for res in results if res.donors is not None
            for r in res.donors.affected().itertuples() if r.arm == control]
    text = ("Each donor is also compared with the spread of the control donors and counted as "
            "clearly, possibly or not affected; a donor within the control donors' range may "
            "still have a smaller effect than this many donors can show, so the counts are not "
            "a measure of how patients differ.")
    if not ctrl:
        return text
    n = sum(r.n_evaluable for r in ctrl)
    k = sum(r.n_clearly for r in ctrl)
    expected = sum(r.expected_clearly_by_chance for r in ctrl)
    return text + (f" Control donors, each against the others, were called clearly affected "
                   f"{k} times in {n} classifications, where chance alone gives about "
                   f"{expected:.1f}.")
