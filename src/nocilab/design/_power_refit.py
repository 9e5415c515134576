"""Power by refitting the mixed model to every simulated study (slow; for validation)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from statsmodels.regression.mixed_linear_model import MixedLM, VCSpec

from nocilab.design._power_design import PowerDesign, _fail, _integer
from nocilab.design._power_sim import (
    _CHUNK_VALUES,
    PowerResult,
    Seed,
    _rng,
    _simulate_readings,
    reject,
    result_from_counts,
)
from nocilab.errors import AnalysisError


@dataclass(frozen=True)
class ChangeModel:
    """Design matrices of ``change ~ arm * day + (1 | donor) + (1 | animal)``.

    Rows are animal x window day (animal-major); ``change`` is the reading minus the
    animal's mean over the baseline days. ``arm`` is coded against the control arm and
    ``day`` with sum-to-zero contrasts, so the coefficient of treatment arm ``i``
    (column ``i``, 1-based) is that arm's difference from control averaged over the
    window days: the window contrast.
    """

    exog: np.ndarray
    groups: np.ndarray
    exog_re: np.ndarray
    exog_vc: VCSpec
    window_index: np.ndarray
    n_baseline: int


def change_model(design: PowerDesign) -> ChangeModel:
    """The fixed and random design matrices of the change model for ``design``."""
    nb = len(design.baseline_days)
    window = set(design.window_days)
    win = np.array([nb + i for i, d in enumerate(design.days) if d in window])
    n_w = len(win)
    m = design.mice_per_donor
    n_arms = len(design.arms)
    n_animals = design.n_animals
    arm_of_animal = np.repeat(np.arange(n_arms), np.asarray(design.donors_by_arm) * m)
    arm_r = np.repeat(arm_of_animal, n_w)
    day_r = np.tile(np.arange(n_w), n_animals)
    donor_r = np.repeat(np.repeat(np.arange(design.n_donors), m), n_w)
    animal_r = np.repeat(np.arange(n_animals), n_w)

    arm_x = (arm_r[:, None] == np.arange(1, n_arms)[None, :]).astype(float)
    day_x = np.zeros((len(day_r), n_w - 1))
    for j in range(n_w - 1):
        day_x[:, j] = (day_r == j).astype(float) - (day_r == n_w - 1)
    inter = [arm_x[:, [i]] * day_x for i in range(n_arms - 1)]
    exog = np.column_stack([np.ones(len(day_r)), arm_x, day_x, *inter])

    vc = None
    if m > 1:
        mats, names = [], []
        for g in range(design.n_donors):
            an = animal_r[donor_r == g]
            labels = np.unique(an)
            mats.append((an[:, None] == labels[None, :]).astype(float))
            names.append([f"animal{a}" for a in labels])
        vc = VCSpec(["animal"], [names], [mats])
    return ChangeModel(exog=exog, groups=donor_r, exog_re=np.ones((len(day_r), 1)),
                       exog_vc=vc, window_index=win, n_baseline=nb)


def change_from_readings(readings: np.ndarray, model: ChangeModel) -> np.ndarray:
    """The response of the change model for one simulated study (n_animals x n_days)."""
    base = readings[:, : model.n_baseline].mean(axis=1, keepdims=True)
    return (readings[:, model.window_index] - base).ravel()


def fit_window_t(change: np.ndarray, model: ChangeModel, n_treatments: int
                 ) -> tuple[np.ndarray, list[str]]:
    """REML fit of the change model; Wald t of each treatment arm's window contrast.

    Returns the t statistics and the optimiser's warnings (boundary, convergence).
    Raises numpy.linalg.LinAlgError or ValueError when the fit fails.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = MixedLM(change, model.exog, groups=model.groups, exog_re=model.exog_re,
                      exog_vc=model.exog_vc).fit(reml=True)
    fe = np.asarray(fit.fe_params)[1 : 1 + n_treatments]
    se = np.asarray(fit.bse_fe)[1 : 1 + n_treatments]
    if not np.all(np.isfinite(se)) or np.any(se <= 0):
        raise ValueError("standard error of the arm contrast is not positive and finite")
    return fe / se, [str(w.message) for w in caught]


def refit_power(design: PowerDesign, *, n_sims: int = 200, seed: Seed,
                progress: bool = False) -> PowerResult:
    """Power by simulating full data and refitting the mixed model to each study.

    Each simulated study (all readings, as :func:`simulate_readings`) is analysed with
    statsmodels ``MixedLM`` (REML) fitted to the change from baseline on the window
    days, ``change ~ arm * day + (1 | donor) + (1 | animal)``, and each treatment arm's
    window contrast (its arm coefficient, days sum-coded) is tested with the Wald t on
    ``donors - arms`` df. This is the simr-style loop; it is slow (tens of ms per
    study) and exists to validate :func:`simulate_power`.

    Fits that raise are left out of the estimate (``n_failed``, reasons in ``notes``);
    fits that end on the boundary (a variance estimated as 0) or whose optimiser warns
    are kept and counted in ``notes``. On the boundary the mixed model pools the donor
    and animal strata and its t differs from the donor-mean t.

    Returns
    -------
    PowerResult
        With ``method='refit'``.
    """
    if not isinstance(design, PowerDesign):
        raise _fail("design", "must be a PowerDesign", type(design).__name__)
    if design.dropout > 0:
        raise _fail("design.dropout", "the refit route simulates complete studies only; "
                    "use simulate_power for designs with lost mice", design.dropout)
    if design.bounds is not None:
        raise _fail("design.bounds", "the refit route simulates uncensored readings only; "
                    "use simulate_power for designs with bounds", design.bounds)
    n_sims = _integer("n_sims", n_sims, low=1)
    rng = _rng(seed)
    model = change_model(design)
    k = len(design.arms) - 1
    counts = np.zeros(k, dtype=np.int64)
    n_ok = 0
    failures: dict[str, int] = {}
    n_boundary = n_warned = 0
    chunk = max(1, _CHUNK_VALUES // (design.n_animals * len(design.test_days)))
    todo = range(n_sims)
    if progress:
        from rich.progress import track

        todo = track(todo, description="refitting mixed models")
    readings = np.empty((0, design.n_animals, len(design.test_days)))
    for s in todo:
        i = s % chunk
        if i == 0:
            readings = _simulate_readings(design, min(chunk, n_sims - s), rng)
        try:
            t, msgs = fit_window_t(change_from_readings(readings[i], model), model, k)
        except (np.linalg.LinAlgError, ValueError) as exc:
            why = f"{type(exc).__name__}: {exc}"
            failures[why] = failures.get(why, 0) + 1
            continue
        n_ok += 1
        n_boundary += any("boundary" in m for m in msgs)
        n_warned += any("boundary" not in m for m in msgs)
        counts += reject(t[None, :], design)[0]
    if n_ok == 0:
        raise AnalysisError(f"refit_power: none of {n_sims} mixed-model fits succeeded: "
                            + "; ".join(failures))
    notes = [f"{n} of {n_sims} fits failed ({why})" for why, n in failures.items()]
    if n_boundary:
        notes.append(f"{n_boundary} of {n_ok} fits ended on the boundary "
                     "(a variance estimated as 0)")
    if n_warned:
        notes.append(f"{n_warned} of {n_ok} fits raised another optimiser warning")
    return result_from_counts(design, counts, n_ok, seed=seed, method="refit",
                              n_failed=n_sims - n_ok, notes=tuple(notes))
