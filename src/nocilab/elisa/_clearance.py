"""Clearance of the injected human IgG: elimination half-life per animal and per group."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from nocilab.errors import AnalysisError

ANIMAL_COLUMNS = (
    "animal", "n_points", "first_day", "last_day", "n_censored_left_out", "slope_per_day",
    "slope_se", "df", "elimination_rate_per_day", "half_life_days", "ci_low_days",
    "ci_high_days", "r_squared", "note",
)
GROUP_COLUMNS = (
    "n_animals", "n_without_half_life", "geometric_mean_half_life_days", "ci_low_days",
    "ci_high_days", "df", "note",
)


@dataclass(frozen=True, eq=False)
class Clearance:
    """Half-lives per animal and their summary per group.

    Attributes
    ----------
    animals
        One row per animal (:data:`ANIMAL_COLUMNS`, then the ``by`` columns).
    groups
        One row per group of ``by`` (the ``by`` columns, then :data:`GROUP_COLUMNS`);
        one row for all animals when ``by`` is empty.
    after_day
        Only readings on days after this one (the last dose) were fitted.
    level
        Confidence level of the intervals.
    """

    animals: pd.DataFrame
    groups: pd.DataFrame
    after_day: float | None
    level: float


def half_lives(frame: pd.DataFrame, *, animal: str = "animal", day: str = "study_day",
               concentration: str = "concentration", censored: str | None = "censored",
               after_day: float | None = None, by: Sequence[str] = (),
               level: float = 0.95) -> Clearance:
    """Elimination half-life of each animal by a log-linear fit of its post-dosing readings.

    One-compartment, first-order elimination: ``ln C(t) = ln C0 - k t``. Per animal,
    ordinary least squares of ``ln concentration`` on the study day over the readings
    after ``after_day``; ``half-life = ln 2 / k`` and its confidence interval is
    ``ln 2`` over the t-interval of ``k`` (df = readings - 2).

    Parameters
    ----------
    frame
        One row per animal x study day: the serum concentration (any unit: the half-life
        does not depend on it) and, if ``censored`` names a column, ``none``/``left``/
        ``right`` as :func:`analyse_plate` writes it.
    animal, day, concentration, censored
        Column names.
    after_day
        The last dosing day (from the study's regimen): only later readings are the
        elimination phase. None: every reading.
    by
        Columns (such as ``preparation`` or ``arm``) to summarise the animals by.
    level
        Confidence level.

    Returns
    -------
    Clearance

    Notes
    -----
    Censored readings (below the LLOQ, above the ULOQ) are left out of the fit and
    counted in ``n_censored_left_out``; they carry no concentration to put on a log
    scale. An animal with fewer than 2 usable readings has no half-life; with 2 it has one
    without an interval. When the interval of ``k`` reaches 0 (no decline established)
    the half-life's upper bound is infinite, and a rising course (``k <= 0``) gives no
    half-life: each says so in ``note``. Per group, the geometric mean of the half-lives
    with a t-interval on their logs (animals as the units), over animals with a half-life.

    In R: ``lm(log(concentration) ~ study_day)`` per animal; ``t.test(log(half_life))``
    per group (tests/elisa/r/clearance.R).
    """
    if not 0 < level < 1:
        raise AnalysisError(f"the confidence level must be between 0 and 1; got {level:g}")
    need = [animal, day, concentration, *by] + ([censored] if censored else [])
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise AnalysisError(f"the table lacks column(s) {', '.join(missing)}")
    d = frame[need].copy()
    d[day] = pd.to_numeric(d[day], errors="coerce")
    d[concentration] = pd.to_numeric(d[concentration], errors="coerce")
    if after_day is not None:
        d = d[d[day] > after_day]
    if d.empty:
        raise AnalysisError("no readings after the last dosing day" if after_day is not None
                            else "no readings")
    rows = []
    for a, g in d.groupby(animal, sort=True):
        cens = g[censored].astype(str).ne("none") if censored else pd.Series(False, g.index)
        use = g[~cens & g[concentration].gt(0) & g[day].notna()].sort_values(day)
        row = {"animal": a, **{b: g[b].iloc[0] for b in by}}
        row.update(_one_animal(use[day].to_numpy(float), use[concentration].to_numpy(float),
                               int(cens.sum()), level))
        rows.append(row)
    animals = pd.DataFrame(rows, columns=list(ANIMAL_COLUMNS) + list(by))
    groups = _groups(animals, list(by), level)
    return Clearance(animals=animals, groups=groups, after_day=after_day, level=level)


def _one_animal(t: np.ndarray, c: np.ndarray, n_cens: int, level: float) -> dict[str, object]:
    out: dict[str, object] = {
        "n_points": len(t), "first_day": float(t[0]) if len(t) else np.nan,
        "last_day": float(t[-1]) if len(t) else np.nan, "n_censored_left_out": n_cens,
        "slope_per_day": np.nan, "slope_se": np.nan, "df": len(t) - 2,
        "elimination_rate_per_day": np.nan, "half_life_days": np.nan, "ci_low_days": np.nan,
        "ci_high_days": np.nan, "r_squared": np.nan, "note": "",
    }
    notes = [f"{n_cens} censored reading(s) left out"] if n_cens else []
    if len(np.unique(t)) < 2:
        notes.append("fewer than 2 days with a concentration: no half-life")
        out["df"] = max(len(t) - 2, 0)
        out["note"] = "; ".join(notes)
        return out
    fit = stats.linregress(t, np.log(c))
    k = -float(fit.slope)
    out.update(slope_per_day=float(fit.slope), elimination_rate_per_day=k)
    if len(t) > 2:
        out.update(slope_se=float(fit.stderr), r_squared=float(fit.rvalue**2))
    if k <= 0:
        notes.append("concentrations do not fall: no half-life")
        out["note"] = "; ".join(notes)
        return out
    out["half_life_days"] = np.log(2.0) / k
    if len(t) == 2:
        notes.append("2 readings: no interval")
    else:
        q = stats.t.ppf(0.5 + level / 2, len(t) - 2)
        k_lo, k_hi = k - q * fit.stderr, k + q * fit.stderr
        out["ci_low_days"] = np.log(2.0) / k_hi
        out["ci_high_days"] = np.log(2.0) / k_lo if k_lo > 0 else np.inf
        if k_lo <= 0:
            notes.append("the decline is not established: no upper bound")
    out["df"] = max(len(t) - 2, 0)
    out["note"] = "; ".join(notes)
    return out


def _groups(animals: pd.DataFrame, by: list[str], level: float) -> pd.DataFrame:
    keys = animals.groupby(by, sort=True) if by else [((), animals)]
    rows = []
    for key, g in keys:
        key = key if isinstance(key, tuple) else (key,)
        hl = g["half_life_days"].to_numpy(float)
        ok = hl[np.isfinite(hl)]
        row = dict(zip(by, key, strict=True))
        row.update(n_animals=len(g), n_without_half_life=int(len(g) - len(ok)),
                   geometric_mean_half_life_days=np.nan, ci_low_days=np.nan,
                   ci_high_days=np.nan, df=max(len(ok) - 1, 0), note="")
        if len(ok):
            logs = np.log(ok)
            row["geometric_mean_half_life_days"] = float(np.exp(logs.mean()))
            if len(ok) > 1:
                q = stats.t.ppf(0.5 + level / 2, len(ok) - 1)
                half = q * logs.std(ddof=1) / np.sqrt(len(ok))
                row["ci_low_days"] = float(np.exp(logs.mean() - half))
                row["ci_high_days"] = float(np.exp(logs.mean() + half))
            else:
                row["note"] = "1 animal with a half-life: no interval"
        else:
            row["note"] = "no animal with a half-life"
        rows.append(row)
    return pd.DataFrame(rows, columns=by + list(GROUP_COLUMNS))
