"""Donor-aware linear mixed model ``value ~ arm * day + (1 | donor) + (1 | animal)``.

Fitted by REML (:mod:`nocilab.stats._reml`), with day as a factor, sum-to-zero coding
and Satterthwaite degrees of freedom (:mod:`nocilab.stats.satterthwaite`). The numbers
are those of R's ``lmerTest::lmer`` with ``options(contrasts = c("contr.sum",
"contr.poly"))``: fixed effects, Type III F tests (``anova(m, type = 3)``), variance
components; :mod:`nocilab.stats.contrasts` adds emmeans-style per-day contrasts.

Random terms, chosen from the data and recorded in ``MixedModelFit.notes``:

- ``(1 | animal)`` when some animal has more than one observation;
- ``(1 | donor)`` when a donor column is given and some donor has more than one animal
  (animal nested in donor). With one animal per donor the two terms coincide and only
  ``(1 | animal)`` is fitted; its variance is then the donor-plus-animal variance;
- animals without a donor (a vehicle arm, say) are each given a donor level of their
  own, as if the donor column held the animal id.

Missing values of the response are dropped (the model uses every observed value).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nocilab.errors import AnalysisError, SchemaError, shown
from nocilab.stats._design import Design, arm_levels, check_cells, codes, day_values
from nocilab.stats._reml import RemlProblem
from nocilab.stats.satterthwaite import (
    SatterthwaiteState,
    contest1d,
    contest_md,
    satterthwaite_state,
)

FIXED_EFFECTS_COLUMNS = ("term", "estimate", "se", "df", "t", "p")
ANOVA_COLUMNS = ("term", "sum_sq", "mean_sq", "df_num", "df_den", "F", "p")
EMMEANS_COLUMNS = ("arm", "day", "estimate", "se", "df")
VARIANCE_COLUMNS = ("component", "variance", "sd", "fitted")


@dataclass(frozen=True)
class VarianceComponents:
    """REML variance components; ``None`` for a term that was not fitted.

    With one animal per donor only one of the two terms is fitted and it holds both
    (``note`` says so); the power module may then treat it as donor variance.
    """

    donor: float | None
    animal: float | None
    residual: float
    note: str = ""

    @property
    def total(self) -> float:
        """Sum of the fitted variances: the variance of one observation."""
        return self.residual + (self.donor or 0.0) + (self.animal or 0.0)

    def to_frame(self) -> pd.DataFrame:
        """Columns ``component`` (donor, animal, residual), ``variance``, ``sd``, ``fitted``."""
        rows = []
        parts = (("donor", self.donor), ("animal", self.animal), ("residual", self.residual))
        for name, v in parts:
            fitted = v is not None
            var = float(v) if fitted else 0.0
            rows.append((name, var, float(np.sqrt(var)), fitted))
        return pd.DataFrame(rows, columns=list(VARIANCE_COLUMNS))


@dataclass(frozen=True, eq=False)
class MixedModelFit:
    """A fitted mixed model; tables via :meth:`fixed_effects`, :meth:`anova`, :meth:`emmeans`."""

    design: Design
    beta: np.ndarray
    vcov: np.ndarray
    theta: np.ndarray
    sigma: float
    random_terms: tuple[str, ...]
    variance_components: VarianceComponents
    reml_criterion: float
    n_obs: int
    n_animals: int
    n_donors: int | None
    converged: bool
    notes: tuple[str, ...]
    satterthwaite: SatterthwaiteState
    covariate_mean: float | None = None

    def contrast(self, L: np.ndarray) -> tuple[float, float, float, float, float]:
        """Estimate, SE, Satterthwaite df, t and p of ``L @ beta``."""
        return contest1d(np.asarray(L, dtype=float), self.beta, self.vcov, self.satterthwaite)

    def ftest(self, L: np.ndarray) -> tuple[float, int, float, float]:
        """F, numerator df, Satterthwaite denominator df and p of ``L beta = 0``."""
        return contest_md(np.asarray(L, dtype=float), self.beta, self.vcov, self.satterthwaite)

    def fixed_effects(self) -> pd.DataFrame:
        """Coefficients (sum-to-zero coding) with Satterthwaite t tests.

        Columns: term, estimate, se, df, t, p. ``arm[x]`` is the deviation of arm ``x``
        from the mean over arms; the last level of each factor has no column.
        """
        rows = []
        for j, name in enumerate(self.design.names):
            L = np.zeros(self.beta.size)
            L[j] = 1.0
            rows.append((name, *self.contrast(L)))
        return pd.DataFrame(rows, columns=list(FIXED_EFFECTS_COLUMNS))

    def anova(self) -> pd.DataFrame:
        """Type III F tests with Satterthwaite denominator df (lmerTest's ``anova(m, type=3)``).

        Columns: term, sum_sq, mean_sq, df_num, df_den, F, p (``sum_sq = F sigma^2 df_num``
        as lmerTest reports it).
        """
        rows = []
        for term, cols in self.design.terms.items():
            if not cols:
                continue
            L = np.zeros((len(cols), self.beta.size))
            L[np.arange(len(cols)), list(cols)] = 1.0
            F, q, ddf, p = self.ftest(L)
            ms = F * self.sigma**2
            rows.append((term, ms * q, ms, q, ddf, F, p))
        return pd.DataFrame(rows, columns=list(ANOVA_COLUMNS))

    def cell_row(self, arm_index: int, day_index: int) -> np.ndarray:
        """Design row of an arm x day cell, the covariate at its mean (as emmeans does)."""
        return self.design.cell_row(arm_index, day_index, self.covariate_mean or 0.0)

    def emmeans(self) -> pd.DataFrame:
        """Model-based mean of each arm x day cell. Columns: arm, day, estimate, se, df."""
        rows = []
        for j, d in enumerate(self.design.days):
            for i, a in enumerate(self.design.arms):
                est, se, df, _, _ = self.contrast(self.cell_row(i, j))
                rows.append((a, d, est, se, df))
        out = pd.DataFrame(rows, columns=list(EMMEANS_COLUMNS))
        out["day"] = day_values(out["day"])
        return out

    def to_frame(self) -> pd.DataFrame:
        """The fixed-effects table (see :meth:`fixed_effects`)."""
        return self.fixed_effects()


def _require(frame: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"table lacks column(s) {', '.join(map(repr, missing))}; has {list(frame.columns)}"
        )


def _one_per(frame: pd.DataFrame, key: str, col: str) -> None:
    n = frame.groupby(key)[col].nunique()
    bad = n[n > 1]
    if len(bad):
        raise AnalysisError(
            f"each {key} must have one {col}; {', '.join(map(str, bad.index[:5]))} "
            f"{'has' if len(bad) == 1 else 'have'} several"
        )


def fit_mixed_model(
    frame: pd.DataFrame,
    *,
    value: str,
    arm: str,
    day: str,
    animal: str,
    control: str,
    donor: str | None = None,
    covariate: str | None = None,
) -> MixedModelFit:
    """Fit ``value ~ arm * day [+ covariate] + (1 | donor) + (1 | animal)`` by REML.

    Parameters
    ----------
    frame : long table, one row per animal x day.
    value, arm, day, animal : column names.
    control : the control arm (first level; contrasts are against it).
    donor : donor column, or None for the animal term alone.
    covariate : a numeric column entering as a main effect (baseline as covariate).

    Returns
    -------
    MixedModelFit

    Notes
    -----
    Rows with a missing ``value`` (or covariate) are dropped and counted in ``notes``.
    Every arm needs at least one value on every day, otherwise :class:`AnalysisError`.
    """
    cols = [value, arm, day, animal] + [c for c in (donor, covariate) if c]
    _require(frame, cols)
    notes: list[str] = []
    df = frame[cols].copy()
    bad = df[value].isna() | (df[covariate].isna() if covariate else False)
    if bad.any():
        notes.append(f"{int(bad.sum())} row(s) with a missing value left out")
        df = df[~bad]
    if df.empty:
        raise AnalysisError(f"no observed values in column {value!r}")
    if not np.isfinite(df[value].to_numpy(float)).all():
        raise AnalysisError(f"column {value!r} holds values that are not finite numbers")
    if df[value].nunique() == 1:
        raise AnalysisError(f"every value in column {value!r} is {shown(df[value].iloc[0])}: "
                            "with no variation there is nothing to model")
    df[animal] = df[animal].astype(str)
    df[arm] = df[arm].astype(str)
    _one_per(df, animal, arm)
    arms = arm_levels(df[arm], control, column=arm)
    days = tuple(sorted(float(d) for d in df[day].unique()))
    design = Design(arms=arms, days=days, covariate=covariate)
    a_codes = codes(df[arm], arms)
    d_codes = codes(df[day].astype(float), days)
    check_cells(a_codes, d_codes, design, where=f"column {value!r}")
    cov_values = df[covariate].to_numpy(float) if covariate else None
    X = design.matrix(a_codes, d_codes, cov_values)
    y = df[value].to_numpy(float)

    animal_ids = df[animal].to_numpy()
    a_levels, a_index = np.unique(animal_ids, return_inverse=True)
    per_animal = np.bincount(a_index)
    animal_term = bool(per_animal.max() > 1)
    donor_term = False
    n_donors = None
    if donor:
        dn = df[donor].astype(object)
        empty = dn.isna() | (dn.astype(str).str.strip() == "")
        if empty.any():
            lonely = sorted(set(animal_ids[empty.to_numpy()]))
            notes.append(
                f"{len(lonely)} animal(s) without a donor each given a donor level of their own"
            )
            dn = dn.where(~empty, "(animal " + df[animal] + ")")
        df[donor] = dn.astype(str)
        _one_per(df, animal, donor)
        donor_of_animal = df.groupby(animal)[donor].first().reindex(a_levels).to_numpy()
        d_levels, d_index = np.unique(donor_of_animal, return_inverse=True)
        n_donors = int(d_levels.size)
        animals_per_donor = np.bincount(d_index)
        donor_term = bool(animals_per_donor.max() > 1 and n_donors > 1)
        if not donor_term and n_donors > 1:
            notes.append(
                "one animal per donor: the donor and animal terms coincide; one term fitted, "
                "its variance is the donor-plus-animal variance"
            )
        elif n_donors == 1:
            notes.append("one donor only: no donor term")
    inner = outer = None
    terms: tuple[str, ...] = ()
    if animal_term:
        inner = a_index
        terms = ("animal",)
        if donor_term:
            outer = d_index
            terms = ("animal", "donor")
    elif donor_term:
        inner = d_index[a_index]
        terms = ("donor",)
        notes.append("one observation per animal: no animal term (the residual is per animal)")

    problem = RemlProblem(X, y, inner, outer)
    res = problem.fit()
    if not res["converged"]:
        notes.append(res["message"])
    state = satterthwaite_state(problem, res["theta"], res["sigma_scaled"])
    notes.extend(state.warnings)
    s2 = res["sigma"] ** 2
    var = dict(zip(terms, (res["rho"] * s2).tolist(), strict=True))
    vc_note = ""
    donor_var, animal_var = var.get("donor"), var.get("animal")
    if donor and not donor_term and n_donors and n_donors > 1 and animal_var is not None:
        donor_var, animal_var = animal_var, None
        vc_note = "one animal per donor: the donor variance includes the animal variance"
    vc = VarianceComponents(donor=donor_var, animal=animal_var, residual=s2, note=vc_note)
    for term, th in zip(terms, res["theta"], strict=True):
        if th == 0.0:
            notes.append(f"{term} variance estimated at zero (boundary fit)")
    return MixedModelFit(
        design=design, beta=res["beta"], vcov=res["vcov"], theta=res["theta"],
        sigma=res["sigma"], random_terms=terms, variance_components=vc,
        reml_criterion=res["reml_criterion"], n_obs=int(y.size), n_animals=int(a_levels.size),
        n_donors=n_donors, converged=bool(res["converged"]), notes=tuple(notes),
        satterthwaite=state,
        covariate_mean=float(np.mean(cov_values)) if cov_values is not None else None,
    )


def variance_components(
    frame: pd.DataFrame,
    *,
    value: str,
    arm: str,
    day: str,
    animal: str,
    donor: str | None = None,
    control: str | None = None,
) -> VarianceComponents:
    """Donor, animal and residual variances of ``value`` from the REML fit of the model.

    A convenience for power calculations from a pilot study; see :func:`fit_mixed_model`.
    The variances do not depend on which arm is the control (default: the first arm in
    sorted order).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> rows = [(f"m{a}{d}{k}", f"d{a}{d}", arm, day, 10 + rng.normal())
    ...         for a, arm in enumerate(["ctrl", "pat"]) for d in range(4)
    ...         for k in range(3) for day in (1, 2, 3)]
    >>> f = pd.DataFrame(rows, columns=["animal", "donor", "arm", "day", "value"])
    >>> vc = variance_components(f, value="value", arm="arm", day="day",
    ...                          animal="animal", donor="donor")
    >>> round(vc.residual, 1) > 0
    True
    """
    if control is None:
        _require(frame, [arm])
        arms = sorted({str(a) for a in frame[arm].dropna().unique()})
        control = arms[0] if arms else ""
    return fit_mixed_model(
        frame, value=value, arm=arm, day=day, animal=animal, donor=donor, control=control
    ).variance_components
