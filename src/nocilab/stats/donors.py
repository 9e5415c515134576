"""Which donors' IgG had an effect: each donor against the spread of the control donors.

Every donor unit gets the quantity of the donor-level test
(:func:`nocilab.stats.donor_test.unit_means`): the mean over its animals of each
animal's mean change from baseline over the analysis window (the mean value for an
outcome without baseline days). The control donors' values are the reference: what a
donor looks like when its IgG has no effect, *including* the spread between donors and
between a donor's mice. A donor is compared with them by a t-based prediction interval:

``t = (x - mean_ref) / se``, ``se = sqrt(s_ref^2 (1 + 1/n_ref) + s_w^2 max(0, 1/n - h))``

with ``n_ref`` reference donors, ``s_ref`` the SD of their values, ``n`` the donor's
animals, ``h`` the mean of ``1/n_j`` over the reference donors and ``s_w`` the pooled SD
between the mice of one reference donor. When every donor has as many mice as the
reference donors (the design), the second term vanishes and this is the classical
prediction interval for one more control donor, exact under normality, on ``n_ref - 1``
df: a control donor lies beyond its one-sided ``level`` bound with probability exactly
``1 - level``. A donor with fewer mice is more variable and gets the second term (df by
Satterthwaite); one with more mice is compared as if it had as many (conservative).

Classification, in the outcome's expected ``direction`` (fixed before the data are seen:
``decrease`` for thresholds and latencies, ``increase`` or ``either``):

- **clearly affected**: beyond the one-sided ``level`` (default 95%) prediction bound in
  the expected direction (``either``: outside the two-sided ``level`` interval), i.e.
  ``p < 1 - level``;
- **possibly affected**: beyond the looser ``possible_level`` (default 80%) bound but not
  the first, ``p < 1 - possible_level``;
- **not affected**: within both, i.e. not distinguishable from a control donor; with few
  donors this does not exclude an effect.

``p`` is the prediction tail probability: how often a control donor would lie at least
this far in the expected direction. Each control donor is classified in the same way
against the *other* control donors (leave one out), so the false-affected rate of the
method shows in the study itself; :func:`nocilab.demo.calibrate` measures it, and the
sensitivity, by simulation.

In R, for the same numbers (balanced donors): ``predict(lm(x ~ 1, data = controls),
newdata, interval = "prediction", level = 1 - 2 * (1 - level))``
(tests/stats/r/donor_classes.R).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from nocilab.errors import AnalysisError, one_of
from nocilab.stats.donor_test import unit_means

DONOR_COLUMNS = (
    "donor", "arm", "n_animals", "quantity", "window", "value", "reference", "n_reference",
    "reference_mean", "reference_sd", "difference", "se", "df", "t", "p", "clearly_below",
    "clearly_above", "possibly_below", "possibly_above", "classification", "note",
)
AFFECTED_COLUMNS = (
    "arm", "reference", "n_donors", "n_evaluable", "n_clearly", "n_possibly", "n_not",
    "expected_clearly_by_chance", "summary",
)
DIRECTIONS = ("decrease", "increase", "either")
CLEARLY, POSSIBLY, NOT, NOT_EVALUABLE = (
    "clearly affected", "possibly affected", "not affected", "not evaluable")
CLASSES = (CLEARLY, POSSIBLY, NOT, NOT_EVALUABLE)


@dataclass(frozen=True)
class Reference:
    """The reference donors of one comparison: their values and animal counts, and the
    animals' values by donor (for the SD between the mice of one donor)."""

    values: np.ndarray
    n_animals: np.ndarray
    animal_values: tuple[np.ndarray, ...]

    def within_sd(self) -> tuple[float, float]:
        """Pooled SD between the mice of one reference donor, and its df."""
        df = float(sum(a.size - 1 for a in self.animal_values))
        if df < 1:
            return np.nan, 0.0
        ss = float(sum(((a - a.mean()) ** 2).sum() for a in self.animal_values))
        return float(np.sqrt(ss / df)), df


def prediction_se(n: int, ref: Reference) -> tuple[float, float, str]:
    """SE and df of ``x - mean(ref)`` for a donor with ``n`` animals drawn like ``ref``.

    Returns ``(se, df, note)``. See the module docstring for the formula.
    """
    k = ref.values.size
    s2 = float(ref.values.var(ddof=1))
    a = s2 * (1.0 + 1.0 / k)
    h = float(np.mean(1.0 / ref.n_animals))
    extra = 1.0 / n - h
    typical = f"{1.0 / h:.3g}"
    if extra <= 1e-12:
        note = ""
        if n > ref.n_animals.max():
            note = (f"{n} animals, more than any reference donor: compared as if it had "
                    f"{typical} (conservative)")
        return float(np.sqrt(a)), float(k - 1), note
    sw, dfw = ref.within_sd()
    if dfw < 1:
        return (float(np.sqrt(a)), float(k - 1),
                f"{n} animal(s), fewer than the reference donors ({typical}), whose spread "
                "between mice is unknown (one mouse each): the interval is too narrow")
    b = sw * sw * extra
    v = a + b
    df = v * v / (a * a / (k - 1) + b * b / dfw)
    return (float(np.sqrt(v)), float(df),
            f"{n} animal(s), fewer than the reference donors ({typical}): a wider interval")


def _tail(t: float, df: float, direction: str) -> float:
    if direction == "decrease":
        return float(stats.t.cdf(t, df))
    if direction == "increase":
        return float(stats.t.sf(t, df))
    return float(2.0 * stats.t.sf(abs(t), df))


def _bounds(mean: float, se: float, df: float, level: float, direction: str) -> tuple[float, float]:
    """(below, above): the value limits beyond which a donor is outside at ``level``."""
    if direction == "either":
        q = float(stats.t.ppf(0.5 + level / 2.0, df))
        return mean - q * se, mean + q * se
    q = float(stats.t.ppf(level, df))
    return (mean - q * se, np.nan) if direction == "decrease" else (np.nan, mean + q * se)


def classify(p: float, *, level: float, possible_level: float) -> str:
    """The class of a donor whose prediction tail probability is ``p``."""
    if not np.isfinite(p):
        return NOT_EVALUABLE
    if p < 1.0 - level:
        return CLEARLY
    if p < 1.0 - possible_level:
        return POSSIBLY
    return NOT


@dataclass(frozen=True)
class DonorEffects:
    """Each donor against the control donors; ``to_frame()`` has :data:`DONOR_COLUMNS`."""

    frame: pd.DataFrame
    direction: str
    level: float
    possible_level: float
    quantity: str
    window: str

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    def affected(self) -> pd.DataFrame:
        """Per arm: how many donors are clearly, possibly and not affected
        (:data:`AFFECTED_COLUMNS`). ``expected_clearly_by_chance`` is the number of
        clearly affected donors expected if none of the arm's donors were affected."""
        rows = []
        for arm, g in self.frame.groupby("arm", sort=False):
            c = g["classification"].value_counts()
            n, ev = len(g), int((g["classification"] != NOT_EVALUABLE).sum())
            k1, k2, k3 = (int(c.get(x, 0)) for x in (CLEARLY, POSSIBLY, NOT))
            summary = f"{k1} clearly, {k2} possibly, {k3} not affected of {n} donors"
            if ev < n:
                summary += f" ({n - ev} not evaluable)"
            rows.append((arm, str(g["reference"].iloc[0]), n, ev, k1, k2, k3,
                         round((1.0 - self.level) * ev, 10), summary))
        return pd.DataFrame(rows, columns=list(AFFECTED_COLUMNS))


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
    possible_level: float = 0.80,
) -> DonorEffects:
    """Classify every donor as clearly, possibly or not affected (see the module).

    Parameters
    ----------
    frame : long table, one row per animal x day.
    value, arm, day, animal, donor : column names.
    control : the control arm; its donors are the reference.
    baseline_days, window : the donor-level test's quantity
        (:func:`nocilab.stats.donor_test.unit_means`).
    direction : ``decrease``, ``increase`` or ``either``: the expected direction of a
        patient effect, fixed in advance.
    level, possible_level : one-sided prediction levels of "clearly" and "possibly"
        (two-sided with ``either``); ``possible_level < level``.

    Returns
    -------
    DonorEffects, one row per donor (:data:`DONOR_COLUMNS`). ``value`` is the donor's
    quantity, ``difference`` its distance from the reference donors' mean, ``se`` and
    ``df`` those of the prediction, ``clearly_below`` / ``clearly_above`` (and
    ``possibly_...``) the value limits of the classes. Animals without a donor are not
    classified; a donor whose animals have no value is ``not evaluable``, with a note.

    Raises
    ------
    AnalysisError
        A missing column, an unknown direction or levels out of order, or fewer than two
        control donors with a value.
    """
    if direction not in DIRECTIONS:
        raise AnalysisError(f"unknown direction {direction!r}; expected {one_of(DIRECTIONS)}")
    if not 0.0 < possible_level < level < 1.0:
        raise AnalysisError(f"prediction levels must satisfy 0 < possible_level < level < 1; "
                            f"got {possible_level:g} and {level:g}")
    for col in (value, arm, day, animal, donor):
        if col not in frame.columns:
            raise AnalysisError(f"table lacks column {col!r} needed for per-donor effects")
    units, quantity, window_text, _ = unit_means(
        frame, value=value, arm=arm, day=day, animal=animal, donor=None,
        baseline_days=baseline_days, window=window)
    per_animal = pd.Series(units["value"].to_numpy(float),
                           index=units["unit"].str.removeprefix("animal "))
    info = (frame.assign(**{animal: frame[animal].astype(str)})
            .drop_duplicates(animal).set_index(animal)[[arm, donor]])
    has = info[donor].notna() & (info[donor].astype(str).str.strip() != "")
    info = info[has].astype(str)
    donors = {}
    for (a, d), g in info.groupby([arm, donor], sort=True):
        vals = per_animal.reindex(g.index).dropna().to_numpy(float)
        donors[(a, d)] = (vals, len(g))
    ctrl = {d: v for (a, d), (v, _) in donors.items() if a == control and v.size}
    if len(ctrl) < 2:
        raise AnalysisError(f"per-donor effects need at least two donors of the control arm "
                            f"{control!r} with a value; found {len(ctrl)}")
    rows = []
    for (a, d), (vals, n_all) in donors.items():
        is_ctrl = a == control
        refs = {k: v for k, v in ctrl.items() if not (is_ctrl and k == d)}
        reference = "other control donors" if is_ctrl else "control donors"
        notes = []
        if vals.size < n_all:
            notes.append(f"{n_all - vals.size} animal(s) without a value left out")
        ref = Reference(values=np.array([v.mean() for v in refs.values()]),
                        n_animals=np.array([v.size for v in refs.values()], dtype=float),
                        animal_values=tuple(refs.values()))
        m, sd = float(ref.values.mean()), float(ref.values.std(ddof=1)) if len(refs) > 1 else np.nan
        base = dict(donor=d, arm=a, n_animals=int(vals.size), quantity=quantity,
                    window=window_text, reference=reference, n_reference=len(refs),
                    reference_mean=m, reference_sd=sd)
        if vals.size == 0 or len(refs) < 2 or not sd > 0:
            why = ("no animal of this donor has a value" if vals.size == 0 else
                   f"{len(refs)} reference donor(s): need two" if len(refs) < 2 else
                   "the reference donors do not vary: no interval")
            rows.append(base | dict(value=vals.mean() if vals.size else np.nan,
                                    difference=np.nan, se=np.nan, df=np.nan, t=np.nan,
                                    p=np.nan, clearly_below=np.nan, clearly_above=np.nan,
                                    possibly_below=np.nan, possibly_above=np.nan,
                                    classification=NOT_EVALUABLE,
                                    note="; ".join([why, *notes])))
            continue
        x = float(vals.mean())
        se, df, note = prediction_se(int(vals.size), ref)
        if note:
            notes.append(note)
        t = (x - m) / se
        p = _tail(t, df, direction)
        c_lo, c_hi = _bounds(m, se, df, level, direction)
        p_lo, p_hi = _bounds(m, se, df, possible_level, direction)
        rows.append(base | dict(value=x, difference=x - m, se=se, df=df, t=t, p=p,
                                clearly_below=c_lo, clearly_above=c_hi, possibly_below=p_lo,
                                possibly_above=p_hi,
                                classification=classify(p, level=level,
                                                        possible_level=possible_level),
                                note="; ".join(notes)))
    out = pd.DataFrame(rows, columns=list(DONOR_COLUMNS))
    arm_order = [control] + sorted(x for x in out["arm"].unique() if x != control)
    out["arm"] = pd.Categorical(out["arm"], categories=arm_order)
    out = out.sort_values(["arm", "donor"]).reset_index(drop=True)
    out["arm"] = out["arm"].astype(str)
    return DonorEffects(frame=out, direction=direction, level=level,
                        possible_level=possible_level, quantity=quantity, window=window_text)


@dataclass(frozen=True)
class Calibration:
    """How the classification performed on simulated studies of one design.

    Rates are over every donor x outcome classification; ``*_ci`` are Monte-Carlo 95%
    intervals with the studies as clusters. ``by_assay`` holds, per assay, the rate at
    which patient donors with a simulated effect were called clearly affected.
    """

    design: str
    studies: int
    control_clearly: float
    control_clearly_ci: tuple[float, float]
    control_either: float
    sensitivity_clearly: float
    sensitivity_clearly_ci: tuple[float, float]
    sensitivity_either: float
    by_assay: tuple[tuple[str, float], ...]


# Measured by benchmarks/bench_donor_classes.py --studies 200 (nocilab.demo.calibrate,
# seeds 1-200, level 0.95, possible level 0.80, the demo study file's window, days 1-14,
# and von Frey thresholds on the log10 scale); tests/demo/test_donor_calibration.py
# checks a 16-study run against these numbers.
DEMO_CALIBRATION = Calibration(
    design="the demo design: 8 patient and 6 control donors, 3 mice each",
    studies=200,
    control_clearly=0.052, control_clearly_ci=(0.048, 0.056), control_either=0.199,
    sensitivity_clearly=0.895, sensitivity_clearly_ci=(0.886, 0.904), sensitivity_either=0.974,
    by_assay=(("paw_pressure", 1.000), ("cold_plate", 0.989), ("activity", 0.949),
              ("grip", 0.949), ("ienfd", 0.801), ("von_frey", 0.695)),
)
