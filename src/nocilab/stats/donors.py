"""Per-donor effects: each donor's animals against the control arm, on the AUC scale.

For every animal, the area under its change-from-baseline curve over a post-injection
window (trapezoid rule over study days; units value x day) is computed by
:func:`animal_auc`. For every donor, :func:`donor_effects` compares its animals' AUCs
with a reference group:

- a donor of a non-control arm against all animals of the control arm;
- a donor of the control arm against the animals of the *other* control donors
  (leave-one-out), so that "k of n control donors" is computed the same way as for
  patients and the reference study's "0 of 6 controls" can be checked.

The estimate is the difference of means (donor minus reference), with a Welch t
confidence interval and two-sided p. A donor with a single animal has no variance of its
own: its animal is compared with the reference by the prediction t, ``(x - mean_ref) /
(sd_ref sqrt(1 + 1/n_ref))`` on ``n_ref - 1`` df (is this animal outside the spread of
reference animals?); ``method`` says which was used.

A donor is a *responder* when its CI excludes zero in the expected direction
(``decrease``: upper limit below zero; ``increase``: lower limit above zero; ``either``).
:meth:`DonorEffects.responders` gives "k of n donors" per arm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from nocilab.errors import AnalysisError, one_of
from nocilab.stats.baseline import animal_baselines

AUC_COLUMNS = ("animal", "auc", "first_day", "last_day", "n_days", "note")
DONOR_COLUMNS = (
    "donor", "arm", "n_animals", "reference", "n_reference", "estimate", "ci_low", "ci_high",
    "df", "t", "p", "method", "responder", "note",
)
RESPONDER_COLUMNS = ("arm", "n_donors", "n_evaluable", "n_responders", "summary")
DIRECTIONS = ("decrease", "increase", "either")


def animal_auc(
    frame: pd.DataFrame,
    *,
    value: str,
    day: str,
    animal: str,
    baseline_days: Sequence[float] = (),
    window: tuple[float | None, float | None] = (1, None),
) -> pd.DataFrame:
    """Area under each animal's (change-from-baseline) curve over ``window``.

    Parameters
    ----------
    frame : long table, one row per animal x day.
    value, day, animal : column names.
    baseline_days : days whose mean is subtracted first; empty: the raw values.
    window : ``(first, last)`` study days, inclusive; ``None`` for the first or last day
        in the data. The default is day 1 to the last day.

    Returns
    -------
    DataFrame with columns animal, auc, first_day, last_day, n_days, note. ``auc`` is
    missing, with ``note`` saying why, when the animal lacks a value on the first or
    last day of the window or lacks a baseline. Missing days inside the window are
    bridged by the trapezoid (linear interpolation) and noted. When the window holds a
    single study day (an endpoint outcome such as IENFD, measured once, after day 0),
    ``auc`` is the (change-from-baseline) value on that day, and ``note`` says so.
    """
    days_all = np.sort(frame[day].astype(float).unique())
    lo = days_all.min() if window[0] is None else float(window[0])
    hi = days_all.max() if window[1] is None else float(window[1])
    wdays = days_all[(days_all >= lo) & (days_all <= hi)]
    if wdays.size == 0 and days_all.size == 1 and days_all[0] > 0:
        wdays = days_all  # an endpoint outcome measured on one day after the window start
    if wdays.size == 0:
        raise AnalysisError(
            f"AUC window {window} holds no study day of {list(days_all)}"
        )
    base = None
    if baseline_days:
        base = animal_baselines(frame, value=value, day=day, animal=animal,
                                baseline_days=baseline_days)
    ok = frame[value].notna() & frame[day].astype(float).isin(set(wdays))
    sub = frame.loc[ok, [animal, day, value]].copy()
    sub[animal] = sub[animal].astype(str)
    sub[day] = sub[day].astype(float)
    rows = []
    for a in sorted(frame[animal].astype(str).unique()):
        s = sub[sub[animal] == a].groupby(day)[value].mean().sort_index()
        x, y = s.index.to_numpy(float), s.to_numpy(float)
        note = ""
        if base is not None and a not in base.index:
            rows.append((a, np.nan, wdays[0], wdays[-1], int(x.size), "no baseline value"))
            continue
        if x.size == 0 or x[0] != wdays[0] or x[-1] != wdays[-1]:
            edge = [d for d in (wdays[0], wdays[-1]) if d not in set(x)]
            rows.append((a, np.nan, wdays[0], wdays[-1], int(x.size),
                         f"no value on window day(s) {', '.join(f'{d:g}' for d in edge)}"))
            continue
        if x.size < wdays.size:
            gap = [f"{d:g}" for d in wdays if d not in set(x)]
            note = f"interpolated over missing day(s) {', '.join(gap)}"
        if base is not None:
            y = y - base[a]
        if x.size == 1:  # one day (an endpoint such as IENFD): the value itself
            auc = float(y[0])
            note = "one day in the window: the value, not an area"
        else:
            auc = float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2.0))
        rows.append((a, auc, wdays[0], wdays[-1], int(x.size), note))
    return pd.DataFrame(rows, columns=list(AUC_COLUMNS))


def _compare(x: np.ndarray, ref: np.ndarray, level: float) -> tuple:
    """(estimate, ci_low, ci_high, df, t, p, method, note) of mean(x) - mean(ref)."""
    n1, n0 = x.size, ref.size
    if n1 == 0:
        return (np.nan,) * 6 + ("", "no animal of this donor has an AUC")
    if n0 < 2:
        return (np.nan,) * 6 + ("", f"reference has {n0} animal(s) with an AUC; need two")
    est = float(x.mean() - ref.mean())
    v0 = float(ref.var(ddof=1))
    if n1 == 1:
        se, df = np.sqrt(v0 * (1.0 + 1.0 / n0)), float(n0 - 1)
        method = "single animal: prediction t"
    else:
        v1 = float(x.var(ddof=1))
        q1, q0 = v1 / n1, v0 / n0
        se = np.sqrt(q1 + q0)
        df = (q1 + q0) ** 2 / (q1**2 / (n1 - 1) + q0**2 / (n0 - 1)) if se > 0 else np.nan
        method = "welch t"
    if not se > 0:
        return (est, np.nan, np.nan, np.nan, np.nan, np.nan, method,
                "no spread in the AUCs: no interval")
    t = est / se
    q = stats.t.ppf(0.5 + level / 2.0, df)
    return (est, est - q * se, est + q * se, float(df), float(t),
            float(2.0 * stats.t.sf(abs(t), df)), method, "")


@dataclass(frozen=True)
class DonorEffects:
    """Per-donor differences in AUC; ``to_frame()`` has :data:`DONOR_COLUMNS`."""

    frame: pd.DataFrame
    auc: pd.DataFrame
    direction: str
    level: float
    window: tuple[float, float]

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    def responders(self) -> pd.DataFrame:
        """Per arm: donors, donors with an estimate, responders and "k of n donors"."""
        rows = []
        for arm, g in self.frame.groupby("arm", sort=False):
            n, k = len(g), int(g["responder"].sum())
            ev = int(g["estimate"].notna().sum())
            summary = f"{k} of {n} donors"
            if ev < n:
                summary += f" ({n - ev} without an estimate)"
            rows.append((arm, n, ev, k, summary))
        return pd.DataFrame(rows, columns=list(RESPONDER_COLUMNS))


def donor_effects(
    frame: pd.DataFrame,
    *,
    value: str,
    arm: str,
    day: str,
    animal: str,
    donor: str,
    control: str,
    baseline_days: Sequence[float] = (),
    window: tuple[float | None, float | None] = (1, None),
    direction: str = "decrease",
    level: float = 0.95,
) -> DonorEffects:
    """Each donor's AUC effect against the control arm, and whether it is a responder.

    Parameters
    ----------
    frame : long table, one row per animal x day.
    value, arm, day, animal, donor : column names.
    control : the control arm.
    baseline_days : days whose mean is subtracted before the AUC (change from baseline).
    window : AUC window, see :func:`animal_auc`.
    direction : ``decrease``, ``increase`` or ``either``: the expected direction of a
        patient effect (``decrease`` for withdrawal thresholds and latencies).
    level : confidence level of the intervals.

    Returns
    -------
    DonorEffects, one row per donor (:data:`DONOR_COLUMNS`): ``n_animals`` and
    ``n_reference`` count the animals with an AUC that entered the comparison; ``note``
    says when animals were left out or no estimate could be made. Animals without a
    donor are left out.
    """
    if direction not in DIRECTIONS:
        raise AnalysisError(f"unknown direction {direction!r}; expected {one_of(DIRECTIONS)}")
    for col in (value, arm, day, animal, donor):
        if col not in frame.columns:
            raise AnalysisError(f"table lacks column {col!r} needed for per-donor effects")
    auc = animal_auc(frame, value=value, day=day, animal=animal, baseline_days=baseline_days,
                     window=window)
    info = frame.assign(**{animal: frame[animal].astype(str)}).groupby(animal)[[arm, donor]].first()
    auc = auc.join(info, on="animal")
    valid = auc[auc["auc"].notna()]
    controls = valid[valid[arm].astype(str) == control]
    if controls.empty:
        raise AnalysisError(f"no animal of the control arm {control!r} has an AUC")
    rows = []
    donors = auc[auc[donor].notna() & (auc[donor].astype(str).str.strip() != "")]
    for (arm_v, d), g in donors.groupby([arm, donor], sort=True):
        x = g["auc"].dropna().to_numpy(float)
        if str(arm_v) == control:
            ref = controls[controls[donor] != d]["auc"].to_numpy(float)
            reference = "other control donors"
        else:
            ref = controls["auc"].to_numpy(float)
            reference = "control arm"
        est, lo, hi, df, t, p, method, note = _compare(x, ref, level)
        if x.size < len(g):
            lost = f"{len(g) - x.size} animal(s) without an AUC left out"
            note = f"{note}; {lost}" if note else lost
        if direction == "decrease":
            resp = bool(hi < 0)
        elif direction == "increase":
            resp = bool(lo > 0)
        else:
            resp = bool(hi < 0 or lo > 0)
        rows.append((str(d), str(arm_v), int(x.size), reference, int(ref.size), est, lo, hi,
                     df, t, p, method, resp, note))
    out = pd.DataFrame(rows, columns=list(DONOR_COLUMNS))
    arm_order = [control] + sorted(a for a in out["arm"].unique() if a != control)
    out["arm"] = pd.Categorical(out["arm"], categories=arm_order)
    out = out.sort_values(["arm", "donor"]).reset_index(drop=True)
    out["arm"] = out["arm"].astype(str)
    w = (float(auc["first_day"].iloc[0]), float(auc["last_day"].iloc[0]))
    return DonorEffects(frame=out, auc=auc[list(AUC_COLUMNS)], direction=direction,
                        level=level, window=w)
