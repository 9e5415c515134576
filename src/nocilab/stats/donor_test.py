"""The donor-level test of the arm effect: the test power is planned for.

Per animal, the **mean change from baseline over the window** (mean of its values on the
window days minus the mean of its baseline values); per donor, the mean over its
animals; then each arm against the control arm by **Student's t test on donor means,
variance pooled over all arms**, df = donors - arms. Animals without a donor (a vehicle
arm) are units of their own. An outcome without baseline days (an endpoint such as
IENFD, measured once) uses the mean value over the window instead of the change.

This is the statistic :mod:`nocilab.design.power` simulates, so the power of a planned
study is the power of this row of its report. How it relates to the mixed model: fitted
to the changes from baseline on the window days, ``change ~ arm * day + (1 | donor) +
(1 | animal)`` has an arm contrast (averaged over the window days) that lies in the
donor stratum alone; with every donor having the same number of animals and days, and
the variance estimates inside the parameter space, its Wald t equals this t and its
Satterthwaite df are donors - arms (the tests check the identity). The report's mixed
model of the readings with their baseline days judges the arm x day interaction, a
different question; this test answers "did patient IgG change the response, counting
donors".

In R, for the same numbers: ``summary(lm(unit_mean ~ arm))`` with the control arm as
reference (tests/stats/r/donor_test.R).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from nocilab.errors import AnalysisError
from nocilab.stats.multiplicity import adjust_pvalues

DONOR_TEST_COLUMNS = (
    "arm", "control", "quantity", "window", "n_units", "n_units_control", "n_animals",
    "mean", "mean_control", "difference", "se", "df", "t", "p", "p_adj", "adjust", "ci_low",
    "ci_high", "unit", "note",
)
UNIT_COLUMNS = ("unit", "arm", "n_animals", "value")


def unit_means(frame: pd.DataFrame, *, value: str, arm: str, day: str, animal: str,
               donor: str | None, baseline_days: Sequence[float],
               window: tuple[float | None, float | None]) -> tuple[pd.DataFrame, str, str, list[str]]:
    """Each unit's (donor's, or donor-less animal's) mean window quantity.

    Returns ``(units, quantity, window_text, notes)``; ``units`` has the columns of
    :data:`UNIT_COLUMNS`.
    """
    notes: list[str] = []
    d = frame[[c for c in (value, arm, day, animal, donor) if c is not None]].copy()
    d[value] = pd.to_numeric(d[value], errors="coerce")
    d = d.dropna(subset=[value])
    days = np.sort(d[day].astype(float).unique())
    lo = 1.0 if window[0] is None else float(window[0])
    hi = days.max() if window[1] is None else float(window[1])
    wdays = [x for x in days if lo <= x <= hi and x > 0]
    if not wdays and len(days) == 1 and days[0] > 0:
        wdays = list(days)
    if not wdays:
        raise AnalysisError(f"no post-injection day between days {lo:g} and {hi:g}")
    window_text = f"days {wdays[0]:g}-{wdays[-1]:g}" if len(wdays) > 1 else f"day {wdays[0]:g}"
    base = [x for x in baseline_days if x in set(days)]
    post = d[d[day].astype(float).isin(wdays)].groupby(animal)[value].mean()
    if base:
        b = d[d[day].astype(float).isin(base)].groupby(animal)[value].mean()
        per_animal = (post - b).dropna()
        lost = sorted(set(post.index) - set(per_animal.index))
        if lost:
            notes.append(f"{len(lost)} animal(s) without a baseline value left out: "
                         + ", ".join(map(str, lost[:5])) + (" ..." if len(lost) > 5 else ""))
        quantity = "mean change from baseline"
    else:
        per_animal = post
        quantity = "mean value"
    first = d.drop_duplicates(animal).set_index(animal)
    a = pd.DataFrame({"value": per_animal})
    a["arm"] = first.loc[a.index, arm].astype(str).to_numpy()
    if donor is not None:
        don = first.loc[a.index, donor]
        has = don.notna() & (don.astype(str).str.strip() != "")
        a["unit"] = np.where(has, "donor " + don.astype(str), "animal " + a.index.astype(str))
        if (~has).any():
            notes.append("animals without a donor are units of their own")
    else:
        a["unit"] = "animal " + a.index.astype(str)
    units = (a.groupby(["unit", "arm"], sort=True)
             .agg(n_animals=("value", "size"), value=("value", "mean")).reset_index())
    twice = units["unit"].duplicated(keep=False)
    if twice.any():
        raise AnalysisError(f"{units.loc[twice, 'unit'].iloc[0]} has animals in more than one arm")
    return units[list(UNIT_COLUMNS)], quantity, window_text, notes


def donor_level_test(frame: pd.DataFrame, *, value: str = "value", arm: str = "arm",
                     day: str = "study_day", animal: str = "animal", donor: str | None = "donor",
                     control: str, baseline_days: Sequence[float] = (),
                     window: tuple[float | None, float | None] = (1, None),
                     level: float = 0.95, adjust: str = "dunnett") -> pd.DataFrame:
    """Each arm against control by Student's t on unit (donor) means; see the module.

    Returns one row per non-control arm with the columns of :data:`DONOR_TEST_COLUMNS`.
    With several treatment arms ``p_adj`` adjusts over them (``adjust``: ``dunnett``,
    the default, exact for comparisons with a shared control and pooled variance;
    ``sidak``, ``holm``, ``bonferroni`` or ``none``); with one, ``p_adj`` is ``p``.

    Raises
    ------
    AnalysisError
        No control units, an arm without units, or no df left (fewer units than arms + 1).
    """
    units, quantity, window_text, notes = unit_means(
        frame, value=value, arm=arm, day=day, animal=animal, donor=donor,
        baseline_days=baseline_days, window=window)
    groups = {a: g["value"].to_numpy(float) for a, g in units.groupby("arm")}
    if control not in groups:
        raise AnalysisError(f"the control arm {control!r} has no units with a value")
    df = len(units) - len(groups)
    if df < 1:
        raise AnalysisError(f"{len(units)} units in {len(groups)} arms leave no degrees of "
                            "freedom for the donor-level test")
    ss = sum(float(((v - v.mean()) ** 2).sum()) for v in groups.values())
    s2 = ss / df
    c = groups[control]
    q = stats.t.ppf(0.5 + level / 2, df)
    unit_kind = "donor" if donor is not None and units["unit"].str.startswith("donor ").any() \
        else "animal"
    animals = units.groupby("arm")["n_animals"].sum()
    rows = []
    for a in sorted(x for x in groups if x != control):
        v = groups[a]
        diff = float(v.mean() - c.mean())
        se = float(np.sqrt(s2 * (1 / len(v) + 1 / len(c))))
        t = diff / se if se > 0 else np.nan
        p = float(2 * stats.t.sf(abs(t), df)) if se > 0 else np.nan
        rows.append({"arm": a, "control": control, "quantity": quantity, "window": window_text,
                     "n_units": len(v), "n_units_control": len(c),
                     "n_animals": int(animals[a]), "mean": float(v.mean()),
                     "mean_control": float(c.mean()), "difference": diff, "se": se, "df": df,
                     "t": t, "p": p, "ci_low": diff - q * se, "ci_high": diff + q * se,
                     "unit": unit_kind, "note": "; ".join(notes)})
    out = pd.DataFrame(rows, columns=list(DONOR_TEST_COLUMNS))
    if len(out):
        n = out["n_units"].to_numpy(float)
        n0 = float(len(c))
        lam = np.sqrt(n / (n + n0))  # corr of comparisons i, j = lam_i * lam_j
        corr = np.outer(lam, lam)
        np.fill_diagonal(corr, 1.0)
        method = adjust if len(out) > 1 else "none"
        out["p_adj"] = adjust_pvalues(out["p"].to_numpy(float), method=method,
                                      t=out["t"].to_numpy(float),
                                      df=np.full(len(out), float(df)), corr=corr)
        out["adjust"] = method
    return out
