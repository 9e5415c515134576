"""Exposure-response: each animal's behavioural change against its serum human IgG.

Does the pain-like behaviour fade as the injected IgG is cleared? For every behavioural
outcome, each animal's change from its baseline on the days its serum IgG was measured
is set against ``log10`` of that concentration. Between animals, a mouse with more IgG
may differ in many ways; within an animal, the days with more IgG against the days with
less are the animal's own comparison. :func:`within_between_model` separates the two
(Mundlak's within-between decomposition):

    change ~ 1 + within + between + (1 | donor) + (1 | animal)

``within`` is the animal's log10 IgG on the day minus its mean over its days, ``between``
that mean; the random terms are chosen from the data as for
:func:`nocilab.stats.fit_mixed_model`. REML, Satterthwaite degrees of freedom (as R's
``lmerTest``; tests/lab/r/exposure_response.R).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from nocilab.errors import AnalysisError, SchemaError
from nocilab.lab._frames import LAB_ASSAYS, join_notes, listed
from nocilab.stats._reml import RemlProblem
from nocilab.stats.satterthwaite import contest1d, satterthwaite_state

TERMS = ("intercept", "within", "between")
"""The fixed effects: ``within`` is the within-animal association (change per tenfold
more serum IgG on the same animal's days), ``between`` the association of the animals'
mean levels."""
MODEL_COLUMNS = ("term", "estimate", "se", "df", "t", "p", "ci_low", "ci_high")
POINT_COLUMNS = (
    "outcome", "animal", "donor", "preparation", "arm", "study_day", "value", "censored",
    "baseline", "change", "scale", "unit", "igg", "log10_igg", "log10_igg_within",
    "log10_igg_animal_mean",
)
"""One row per outcome x animal x day with a behavioural value and a quantified serum
concentration: the value (censored values at their bound), the animal's baseline (mean
of its negative-day values), the change (on the log10 scale for log outcomes), the serum
IgG and its within/between parts."""
FIT_COLUMNS = (
    "outcome", "arm", "term", "estimate", "se", "df", "t", "p", "ci_low", "ci_high",
    "n_obs", "n_animals", "n_donors", "random_terms", "scale", "note",
)
"""One row per outcome x arm x term (:data:`TERMS`); an outcome x arm that could not be
fitted has one row with term ``""`` and the reason in ``note``."""


@dataclass(frozen=True, eq=False)
class WithinBetweenFit:
    """A fitted within-between model.

    ``table`` has :data:`MODEL_COLUMNS`, one row per term of :data:`TERMS`.
    ``random_terms`` the random intercepts fitted (``("animal", "donor")``,
    ``("animal",)``, ``("donor",)`` or none), ``variances`` their REML variances and the
    residual's, ``notes`` what was decided from the data.
    """

    table: pd.DataFrame
    random_terms: tuple[str, ...]
    variances: dict[str, float]
    n_obs: int
    n_animals: int
    n_donors: int | None
    converged: bool
    notes: tuple[str, ...]


def within_between_model(frame: pd.DataFrame, *, value: str = "change",
                         exposure: str = "log10_igg", animal: str = "animal",
                         donor: str | None = "donor", level: float = 0.95) -> WithinBetweenFit:
    """Fit ``value ~ within + between + (1 | donor) + (1 | animal)`` by REML.

    Parameters
    ----------
    frame
        One row per animal x day: ``value``, ``exposure`` (log10 serum IgG), ``animal``
        and, optionally, ``donor``.
    value, exposure, animal, donor
        Column names (``donor`` None: no donor term).
    level
        Coverage of the intervals (t with Satterthwaite df).

    Returns
    -------
    WithinBetweenFit

    Raises
    ------
    AnalysisError
        Fewer than 3 animals, no animal with two days (no within-animal variation), the
        animals' mean levels all equal, or no variation in ``value``.

    Notes
    -----
    ``(1 | animal)`` is fitted when an animal has more than one row (it always has, for
    a within-animal term); ``(1 | donor)``, animals nested in donors, when some donor has
    more than one animal and there are at least two donors. Animals without a donor are
    donors of their own. In R: ``lmerTest::lmer(value ~ within + between + (1 | donor) +
    (1 | animal), REML = TRUE)`` with ``within`` and ``between`` computed as here.
    """
    cols = [value, exposure, animal] + ([donor] if donor else [])
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise SchemaError(f"the exposure-response table lacks column(s) {', '.join(missing)}")
    d = frame[cols].copy()
    d[value] = pd.to_numeric(d[value], errors="coerce").astype(float)
    d[exposure] = pd.to_numeric(d[exposure], errors="coerce").astype(float)
    d = d[np.isfinite(d[value]) & np.isfinite(d[exposure])]
    d[animal] = d[animal].astype(str)
    notes: list[str] = []
    a_levels, a_index = np.unique(d[animal].to_numpy(), return_inverse=True)
    if len(a_levels) < 3:
        raise AnalysisError(f"{len(a_levels)} animal(s) with a value and a serum level: the "
                            "model needs at least 3")
    mean_x = d.groupby(animal)[exposure].transform("mean").to_numpy(float)
    within = d[exposure].to_numpy(float) - mean_x
    if not np.any(np.abs(within) > 1e-12):
        raise AnalysisError("no animal has two days with different serum levels: no "
                            "within-animal association can be estimated")
    if np.ptp(mean_x) <= 1e-12:
        raise AnalysisError("every animal has the same mean serum level: no between-animal "
                            "term")
    y = d[value].to_numpy(float)
    if np.ptp(y) == 0:
        raise AnalysisError("every value is the same: nothing to model")
    per_animal = np.bincount(a_index)
    animal_term = bool(per_animal.max() > 1)
    donor_term, n_donors, d_index = False, None, None
    if donor:
        dn = d[donor].astype(object)
        empty = dn.isna() | (dn.astype(str).str.strip() == "")
        if empty.any():
            notes.append(f"{int(empty.sum())} row(s) without a donor: each animal is a "
                         "donor of its own")
            dn = dn.where(~empty, "(animal " + d[animal] + ")")
        d[donor] = dn.astype(str)
        twice = d.groupby(animal)[donor].nunique()
        if (twice > 1).any():
            raise AnalysisError(f"animal {twice[twice > 1].index[0]} has more than one donor")
        donor_of = d.groupby(animal)[donor].first().reindex(a_levels).to_numpy()
        d_levels, d_index = np.unique(donor_of, return_inverse=True)
        n_donors = int(d_levels.size)
        donor_term = bool(np.bincount(d_index).max() > 1 and n_donors > 1)
        if not donor_term:
            notes.append("one animal per donor (or one donor): no donor term; the animal "
                         "term holds the donor-plus-animal variance" if n_donors > 1 else
                         "one donor only: no donor term")
    X = np.column_stack([np.ones(len(y)), within, mean_x])
    inner = outer = None
    terms: tuple[str, ...] = ()
    if animal_term:
        inner, terms = a_index, ("animal",)
        if donor_term:
            outer, terms = d_index, ("animal", "donor")
    problem = RemlProblem(X, y, inner, outer)
    res = problem.fit()
    if not res["converged"]:
        notes.append(res["message"])
    state = satterthwaite_state(problem, res["theta"], res["sigma_scaled"])
    notes.extend(state.warnings)
    s2 = float(res["sigma"]) ** 2
    variances = {t: float(r) * s2 for t, r in zip(terms, res["rho"], strict=True)}
    variances["residual"] = s2
    for t, th in zip(terms, res["theta"], strict=True):
        if th == 0.0:
            notes.append(f"{t} variance estimated at zero (boundary fit)")
    rows = []
    for j, term in enumerate(TERMS):
        L = np.zeros(len(TERMS))
        L[j] = 1.0
        est, se, df, t, p = contest1d(L, res["beta"], res["vcov"], state)
        q = float(stats.t.ppf(0.5 + level / 2, df)) if np.isfinite(df) else \
            float(stats.norm.ppf(0.5 + level / 2))
        rows.append((term, est, se, df, t, p, est - q * se, est + q * se))
    return WithinBetweenFit(
        table=pd.DataFrame(rows, columns=list(MODEL_COLUMNS)), random_terms=terms,
        variances=variances, n_obs=len(y), n_animals=len(a_levels), n_donors=n_donors,
        converged=bool(res["converged"]), notes=tuple(notes))


@dataclass(frozen=True, eq=False)
class ExposureResponse:
    """Points and within-between fits of every behavioural outcome, per arm.

    ``points`` (:data:`POINT_COLUMNS`), ``fits`` (:data:`FIT_COLUMNS`), ``skipped``:
    outcome -> why it has no points (no baseline days, no day with a serum level).
    """

    points: pd.DataFrame
    fits: pd.DataFrame
    skipped: dict[str, str]
    unit: str
    notes: tuple[str, ...]


def exposure_response(derived: pd.DataFrame, serum: pd.DataFrame, *,
                      log_outcomes: Sequence[str] = (), unit: str = "ug/mL",
                      level: float = 0.95) -> ExposureResponse:
    """Behavioural change against log10 serum IgG, per outcome and arm.

    Parameters
    ----------
    derived
        The behavioural derived table (laboratory assays in it are ignored).
    serum
        One row per animal x study day: ``animal``, ``study_day``, ``concentration``,
        ``censored`` (the serum human IgG).
    log_outcomes
        ``ASSAY.OUTCOME`` names analysed on the log10 scale (``[analysis]
        log_outcomes``): their change is ``log10(value) - mean log10(baseline)``.
    unit
        Unit of the serum concentrations (for the labels).

    Returns
    -------
    ExposureResponse

    Raises
    ------
    AnalysisError
        No behavioural outcome has a baseline and a day with a serum level (the caller
        turns this into the section's reason).

    Notes
    -----
    An animal's baseline is the mean of its values on negative study days; the changes
    are taken on days 0 and later on which the animal also has a quantified serum
    concentration. Censored behavioural values enter at their bound (counted in
    ``note``); censored serum readings have no level to log and are left out (counted).
    The within-animal association is confounded with time since dosing (serum IgG falls
    steadily as behaviour recovers); it says whether the two move together within
    animals, not that one causes the other.
    """
    beh = derived[~derived["assay"].astype(str).isin(LAB_ASSAYS)].copy()
    s = serum[["animal", "study_day", "concentration", "censored"]].copy()
    s["animal"] = s["animal"].astype(str)
    n_cens = int((s["censored"].astype(str) != "none").sum())
    s = s[(s["censored"].astype(str) == "none") & (s["concentration"] > 0)]
    s = s.rename(columns={"concentration": "igg"}).drop(columns="censored")
    notes = []
    if n_cens:
        notes.append(f"{n_cens} censored serum reading(s) (outside the quantifiable range) "
                     "have no level and are left out")
    if s.empty:
        raise AnalysisError("no quantified serum IgG concentration to relate behaviour to")
    if beh.empty:
        raise AnalysisError("no behavioural values to relate serum IgG to")
    points, skipped = [], {}
    logs = set(log_outcomes)
    for (assay, outcome), g in beh.groupby(["assay", "outcome"], sort=True):
        name = f"{assay}.{outcome}"
        g = g.copy()
        g["animal"] = g["animal"].astype(str)
        v = g["value"].to_numpy(float)
        b = g["bound"].to_numpy(float) if "bound" in g.columns else np.full(len(g), np.nan)
        cens = g["censored"].astype(str).to_numpy() if "censored" in g.columns else \
            np.full(len(g), "none")
        v = np.where(np.isfinite(v), v, np.where(cens != "none", b, np.nan))
        scale = "log10" if name in logs else "linear"
        if scale == "log10":
            with np.errstate(divide="ignore", invalid="ignore"):
                v = np.where(v > 0, np.log10(v), np.nan)
        g["v"] = v
        base = g[g["study_day"] < 0].groupby("animal")["v"].mean().dropna()
        if base.empty:
            skipped[name] = "no baseline (negative-day) values: no change from baseline"
            continue
        post = g[g["study_day"] >= 0].merge(s, on=["animal", "study_day"], how="inner")
        post = post[post["animal"].isin(base.index) & np.isfinite(post["v"])]
        if post.empty:
            skipped[name] = "no post-dosing day with both a value and a serum level"
            continue
        post["baseline"] = post["animal"].map(base)
        post["change"] = post["v"] - post["baseline"]
        post["log10_igg"] = np.log10(post["igg"].to_numpy(float))
        post["log10_igg_animal_mean"] = post.groupby("animal")["log10_igg"].transform("mean")
        post["log10_igg_within"] = post["log10_igg"] - post["log10_igg_animal_mean"]
        post["outcome"] = name
        post["scale"] = scale
        post["value"] = post["v"] if scale == "linear" else 10.0 ** post["v"]
        if "censored" not in post.columns:
            post["censored"] = "none"
        for c in ("donor", "preparation", "arm", "unit"):
            if c not in post.columns:
                post[c] = ""
        points.append(post[list(POINT_COLUMNS)])
    if not points:
        raise AnalysisError("no behavioural outcome has a baseline and a day with a serum "
                            "level: " + "; ".join(f"{k}: {v}" for k, v in skipped.items()))
    pts = pd.concat(points, ignore_index=True)
    pts = pts.sort_values(["outcome", "arm", "animal", "study_day"], kind="stable")
    fits = []
    for (outcome, arm), g in pts.groupby(["outcome", "arm"], sort=True):
        fits.extend(_fit_rows(g, outcome, arm, level))
    return ExposureResponse(points=pts.reset_index(drop=True),
                            fits=pd.DataFrame(fits, columns=list(FIT_COLUMNS)),
                            skipped=skipped, unit=unit, notes=tuple(notes))


def _fit_rows(g: pd.DataFrame, outcome: str, arm: str, level: float) -> list[dict]:
    n_cens = int((g["censored"].astype(str) != "none").sum())
    base = {"outcome": outcome, "arm": arm, "n_obs": len(g),
            "n_animals": g["animal"].nunique(), "n_donors": g["donor"].nunique(),
            "scale": g["scale"].iloc[0]}
    cnote = f"{n_cens} censored behavioural value(s) at their bound" if n_cens else ""
    try:
        fit = within_between_model(g, value="change", exposure="log10_igg", animal="animal",
                                   donor="donor", level=level)
    except AnalysisError as exc:
        row = dict.fromkeys(FIT_COLUMNS, np.nan)
        row.update(base, term="", random_terms="", note=join_notes(f"not fitted: {exc}", cnote))
        return [row]
    rows = []
    note = join_notes(cnote, *fit.notes)
    for r in fit.table.itertuples(index=False):
        row = dict(base, **r._asdict())
        row.update(n_obs=fit.n_obs, n_animals=fit.n_animals,
                   n_donors=fit.n_donors if fit.n_donors is not None else np.nan,
                   random_terms=" + ".join(f"(1 | {t})" for t in fit.random_terms),
                   note=note)
        rows.append(row)
    return rows


def skipped_text(skipped: dict[str, str]) -> str:
    """The outcomes left out and why, in one line."""
    return listed([f"{k} ({v})" for k, v in skipped.items()])
