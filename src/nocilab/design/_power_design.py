"""The design a power calculation is made for: arms, sizes, days, effect, variance.

Everything here is a frozen dataclass checked on construction; a bad value raises
:class:`~nocilab.errors.DesignError` naming the field (``PowerDesign.mice_per_donor``)
and what was expected. The helpers at the end turn a design into the two numbers the
fast simulation needs: the expected window contrast per arm and the variance of one
donor's mean contrast.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from nocilab.errors import DesignError, Problem, one_of

Scale = Literal["absolute", "percent"]
Direction = Literal["decrease", "increase"]
Sidedness = Literal["two-sided", "one-sided"]
Adjust = Literal["none", "bonferroni", "sidak", "holm", "dunnett"]


def _fail(where: str, why: str, value: object = None) -> DesignError:
    return DesignError(str(Problem(where, why, value)))


def _finite(where: str, value: object, *, low: float | None = None, strict: bool = False,
            allow_inf: bool = False) -> float:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise _fail(where, "must be a number", value) from None
    if math.isnan(x) or (math.isinf(x) and not allow_inf):
        raise _fail(where, "must be a finite number", value)
    if low is not None and (x < low or (strict and x == low)):
        raise _fail(where, f"must be {'>' if strict else '>='} {low:g}", value)
    return x


def _integer(where: str, value: object, *, low: int) -> int:
    if isinstance(value, bool):
        raise _fail(where, f"must be an integer >= {low}", value)
    try:
        n = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise _fail(where, f"must be an integer >= {low}", value) from None
    if n < low:
        raise _fail(where, f"must be an integer >= {low}", value)
    return int(n)


def _choice(where: str, value: object, options: tuple[str, ...]) -> str:
    if value not in options:
        raise _fail(where, f"must be {one_of(options)}", value)
    return str(value)


@dataclass(frozen=True, kw_only=True)
class Effect:
    """The effect of a treatment arm over study days, relative to the control arm.

    The shape, in study days (day 0 = first injection), with ``t = day - onset_day``::

        g(day) = 0                                   t <= 0   (always 0 before day 0)
               = t / onset_days                      0 < t < onset_days        (ramp)
               = 1                                   onset_days <= t < onset_days + plateau_days
               = 0.5 ** ((t - onset_days - plateau_days) / half_life_days)      (decay)

        effect(day) = sign * magnitude * g(day)

    with ``sign`` = -1 for ``direction='decrease'`` (lower thresholds: hypersensitivity)
    and ``magnitude`` = ``size`` (``scale='absolute'``, reading units) or
    ``size / 100 * baseline_mean`` (``scale='percent'``, % of the baseline reading).

    The defaults follow the reference passive-transfer study (Goebel et al. 2021): the
    effect appears 24-48 h after the first injection (full at day 2), holds through the
    dosing days, lasts more than a week and fades over weeks as the human IgG is cleared
    (half-life 10 days: 71 % left one week after the peak, 14 % four weeks after).
    These are a shape to start from, not estimates; set them from pilot data.

    Parameters
    ----------
    size : float
        Magnitude of the peak effect, >= 0 (the sign comes from ``direction``).
    scale : {'absolute', 'percent'}
        Reading units, or % of ``baseline_mean``.
    baseline_mean : float, optional
        Mean baseline reading (e.g. grams); needed for ``scale='percent'``.
    onset_day : float
        Study day the ramp starts from (>= 0).
    onset_days : float
        Length of the ramp in days (0 = a step).
    plateau_days : float
        Days at the peak before decay starts.
    half_life_days : float
        Half-life of the decay in days (``math.inf`` = no decay).
    direction : {'decrease', 'increase'}
        Whether the treatment lowers or raises the reading.
    """

    size: float
    scale: Scale = "absolute"
    baseline_mean: float | None = None
    onset_day: float = 0.0
    onset_days: float = 2.0
    plateau_days: float = 2.0
    half_life_days: float = 10.0
    direction: Direction = "decrease"

    def __post_init__(self) -> None:
        s = object.__setattr__
        s(self, "size", _finite("Effect.size", self.size, low=0.0))
        s(self, "scale", _choice("Effect.scale", self.scale, ("absolute", "percent")))
        if self.baseline_mean is not None:
            s(self, "baseline_mean",
              _finite("Effect.baseline_mean", self.baseline_mean, low=0.0, strict=True))
        elif self.scale == "percent":
            raise _fail("Effect.baseline_mean", "is needed when scale='percent'", None)
        s(self, "onset_day", _finite("Effect.onset_day", self.onset_day, low=0.0))
        s(self, "onset_days", _finite("Effect.onset_days", self.onset_days, low=0.0))
        s(self, "plateau_days", _finite("Effect.plateau_days", self.plateau_days, low=0.0,
                                        allow_inf=True))
        s(self, "half_life_days", _finite("Effect.half_life_days", self.half_life_days,
                                          low=0.0, strict=True, allow_inf=True))
        s(self, "direction", _choice("Effect.direction", self.direction,
                                     ("decrease", "increase")))

    @property
    def sign(self) -> int:
        """-1 for a decrease, +1 for an increase."""
        return -1 if self.direction == "decrease" else 1

    @property
    def magnitude(self) -> float:
        """The peak effect in reading units (>= 0)."""
        if self.scale == "percent" and self.baseline_mean is not None:
            return self.size / 100.0 * self.baseline_mean
        return self.size

    def shape(self, days: Sequence[float] | np.ndarray) -> np.ndarray:
        """The unit shape ``g(day)`` in [0, 1] at the given study days."""
        d = np.asarray(days, dtype=float)
        t = d - self.onset_day
        g = np.zeros_like(t)
        ramp_end = self.onset_days
        decay_start = self.onset_days + self.plateau_days
        on = t > 0
        if ramp_end > 0:
            g = np.where(on & (t < ramp_end), t / ramp_end, g)
        g = np.where(on & (t >= ramp_end) & (t < decay_start), 1.0, g)
        if math.isfinite(decay_start):
            late = on & (t >= decay_start) & (t >= ramp_end)
            g = np.where(late, 0.5 ** ((t - decay_start) / self.half_life_days), g)
        return np.where(d < 0, 0.0, g)

    def at(self, days: Sequence[float] | np.ndarray) -> np.ndarray:
        """The signed effect in reading units at the given study days."""
        return self.sign * self.magnitude * self.shape(days)


@dataclass(frozen=True, kw_only=True)
class VarianceComponents:
    """Sources of variation of one reading, in reading units.

    The reading of animal ``k`` (donor ``j``) on its ``i``-th test day is::

        y = level + effect_arm(day) + [day > 0] * (u_j + v_k) + e_k,i

    - ``sd_donor``: sd of ``u_j``, how much one donor's IgG shifts the response of all
      its mice after injection (donor-to-donor variation of the response). It is what
      makes the donor, not the mouse, the unit of replication.
    - ``sd_animal``: sd of ``v_k``, animal-to-animal variation of the response among
      mice given the same donor's IgG.
    - ``sd_residual``: sd of ``e``, day-to-day measurement noise around an animal's own
      course (baseline days included).
    - ``rho``: AR(1) correlation of ``e`` between consecutive test days of one animal
      (lag-``h`` correlation ``rho ** h`` counted in test days, not calendar days).
    - ``sd_level``: sd of an animal's constant level (its own baseline sensitivity). It
      cancels exactly in the change from baseline, so it plays no part in power unless
      readings are censored at bounds (:attr:`PowerDesign.bounds`), where how close an
      animal sits to a cut-off matters.
    """

    sd_donor: float
    sd_animal: float
    sd_residual: float
    rho: float = 0.0
    sd_level: float = 0.0

    def __post_init__(self) -> None:
        for name in ("sd_donor", "sd_animal", "sd_residual", "sd_level"):
            object.__setattr__(self, name, _finite(f"VarianceComponents.{name}",
                                                   getattr(self, name), low=0.0))
        r = _finite("VarianceComponents.rho", self.rho)
        if not -1.0 < r < 1.0:
            raise _fail("VarianceComponents.rho", "must lie strictly between -1 and 1", self.rho)
        object.__setattr__(self, "rho", r)
        if self.sd_donor == self.sd_animal == self.sd_residual == 0.0:
            raise _fail("VarianceComponents", "at least one standard deviation must be > 0",
                        (0.0, 0.0, 0.0))


@dataclass(frozen=True, kw_only=True)
class PowerDesign:
    """A passive-transfer design to compute power for.

    Parameters
    ----------
    arms : sequence of str
        Arm names; the first is the control arm, every other arm is compared with it.
    donors_per_arm : int or sequence of int
        Donors per arm (one number for all arms, or one per arm in ``arms`` order).
    mice_per_donor : int
        Mice given each donor's IgG (the same for every donor).
    days : sequence of int
        Post-injection test days (> 0).
    baseline_days : sequence of int
        Baseline test days (<= 0, before the first injection).
    effect : Effect or mapping of arm name to Effect
        One Effect for every treatment arm, or one per arm (arms left out: no effect).
    variance : VarianceComponents
    alpha : float
        Significance level of each comparison, in (0, 1).
    sidedness : {'two-sided', 'one-sided'}
        One-sided tests look in the arm's ``Effect.direction`` (a decrease for an arm
        without an effect).
    window : (first_day, last_day), optional
        Post-injection days averaged into the contrast (inclusive); default all ``days``.
    adjust : {'none', 'bonferroni'}
        Multiplicity adjustment over the treatment-vs-control comparisons, as the
        report's donor-level test applies it: ``bonferroni``, ``sidak``, ``holm``
        (step-down) or ``dunnett`` (single-step, exact for a shared control with pooled
        variance; two-sided, complete studies only).
    bounds : (lower, upper), optional
        Readings are censored at these limits (``None`` for an open side): a cut-off
        (paw pressure, cold plate) or the ends of a filament set. A reading beyond a
        bound is recorded at the bound, as the analysis enters it. Needs
        ``baseline_mean`` (or an Effect on the percent scale, which has one); the
        readings are then simulated in full (no sufficient statistics).
    baseline_mean : float, optional
        Mean baseline reading, in reading units; with ``bounds`` it places the readings
        relative to the limits (default: the Effect's ``baseline_mean``).
    dropout : float
        Probability, in [0, 1), that a mouse is lost before its post-injection readings
        (found dead, humane end point, excluded), independently of the others. A lost
        mouse gives no contrast; a donor whose mice are all lost drops out of the test,
        and the df shrink with it. ``mice_per_donor`` counts mice allocated.
    """

    arms: tuple[str, ...]
    donors_per_arm: int | tuple[int, ...]
    mice_per_donor: int
    days: tuple[int, ...]
    baseline_days: tuple[int, ...] = (-2, -1)
    effect: Effect | Mapping[str, Effect]
    variance: VarianceComponents
    alpha: float = 0.05
    sidedness: Sidedness = "two-sided"
    window: tuple[float, float] | None = None
    adjust: Adjust = "none"
    dropout: float = 0.0
    bounds: tuple[float | None, float | None] | None = None
    baseline_mean: float | None = None
    _effects: tuple[Effect | None, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        s = object.__setattr__
        arms = self.arms
        if isinstance(arms, str) or not isinstance(arms, Sequence):
            raise _fail("PowerDesign.arms", "must be a sequence of arm names", arms)
        arms = tuple(arms)
        if len(arms) < 2 or any(not isinstance(a, str) or not a.strip() for a in arms):
            raise _fail("PowerDesign.arms",
                        "must name a control arm and at least one treatment arm", arms)
        if len(set(arms)) != len(arms):
            raise _fail("PowerDesign.arms", "arm names must be unique", arms)
        s(self, "arms", arms)

        dpa = self.donors_per_arm
        if isinstance(dpa, Sequence) and not isinstance(dpa, str):
            if len(dpa) != len(arms):
                raise _fail("PowerDesign.donors_per_arm",
                            f"must give one number per arm ({len(arms)})", dpa)
            dpa = tuple(_integer("PowerDesign.donors_per_arm", d, low=1) for d in dpa)
        else:
            dpa = _integer("PowerDesign.donors_per_arm", dpa, low=1)
        s(self, "donors_per_arm", dpa)
        if sum(self.donors_by_arm) - len(arms) < 1:
            raise _fail("PowerDesign.donors_per_arm",
                        "needs at least 2 donors in some arm (no donor-level variance "
                        "can be estimated otherwise)", dpa)
        s(self, "mice_per_donor", _integer("PowerDesign.mice_per_donor",
                                           self.mice_per_donor, low=1))

        s(self, "days", self._day_tuple("days", self.days, post=True))
        s(self, "baseline_days", self._day_tuple("baseline_days", self.baseline_days,
                                                 post=False))

        effects = self._normalise_effects(self.effect, arms)
        s(self, "_effects", effects)
        if isinstance(self.effect, Mapping):
            s(self, "effect", dict(self.effect))

        alpha = _finite("PowerDesign.alpha", self.alpha)
        if not 0.0 < alpha < 1.0:
            raise _fail("PowerDesign.alpha", "must lie strictly between 0 and 1", self.alpha)
        s(self, "alpha", alpha)
        s(self, "sidedness", _choice("PowerDesign.sidedness", self.sidedness,
                                     ("two-sided", "one-sided")))
        s(self, "adjust", _choice("PowerDesign.adjust", self.adjust,
                                  ("none", "bonferroni", "sidak", "holm", "dunnett")))
        dropout = _finite("PowerDesign.dropout", self.dropout, low=0.0)
        if dropout >= 1.0:
            raise _fail("PowerDesign.dropout", "must be at least 0 and below 1", self.dropout)
        s(self, "dropout", dropout)
        self._check_bounds(effects)
        if self.adjust == "dunnett" and len(arms) > 2:
            if self.sidedness != "two-sided":
                raise _fail("PowerDesign.adjust", "dunnett is available for two-sided tests; "
                            "use sidak, holm or bonferroni with one-sided tests", self.adjust)
            if dropout > 0:
                raise _fail("PowerDesign.adjust", "dunnett needs complete studies (its "
                            "critical value depends on the donors kept); use sidak or holm "
                            "with dropout", self.adjust)
        if not isinstance(self.variance, VarianceComponents):
            raise _fail("PowerDesign.variance", "must be a VarianceComponents", self.variance)

        if self.window is not None:
            w = self.window
            if isinstance(w, str) or not isinstance(w, Sequence) or len(w) != 2:
                raise _fail("PowerDesign.window", "must be (first_day, last_day)", w)
            lo = _finite("PowerDesign.window", w[0])
            hi = _finite("PowerDesign.window", w[1])
            if lo > hi:
                raise _fail("PowerDesign.window", "first day must not be after last day", w)
            s(self, "window", (lo, hi))
        if not self.window_days:
            raise _fail("PowerDesign.window", f"contains none of the post-injection days "
                        f"{list(self.days)}", self.window)

    def _check_bounds(self, effects: tuple[Effect | None, ...]) -> None:
        s = object.__setattr__
        if self.bounds is None:
            if self.baseline_mean is not None:
                s(self, "baseline_mean", _finite("PowerDesign.baseline_mean", self.baseline_mean))
            return
        b = self.bounds
        if isinstance(b, str) or not isinstance(b, Sequence) or len(b) != 2:
            raise _fail("PowerDesign.bounds", "must be (lower, upper), None for an open side", b)
        lo = None if b[0] is None else _finite("PowerDesign.bounds", b[0])
        hi = None if b[1] is None else _finite("PowerDesign.bounds", b[1])
        if lo is None and hi is None:
            raise _fail("PowerDesign.bounds", "needs a lower or an upper limit", b)
        if lo is not None and hi is not None and lo >= hi:
            raise _fail("PowerDesign.bounds", "the lower limit must be below the upper", b)
        s(self, "bounds", (lo, hi))
        level = self.baseline_mean
        if level is None:
            level = next((e.baseline_mean for e in effects
                          if e is not None and e.baseline_mean is not None), None)
        if level is None:
            raise _fail("PowerDesign.baseline_mean", "is needed with bounds (where the "
                        "readings lie relative to the limits)", None)
        s(self, "baseline_mean", _finite("PowerDesign.baseline_mean", level))

    @staticmethod
    def _day_tuple(name: str, values: object, *, post: bool) -> tuple[int, ...]:
        where = f"PowerDesign.{name}"
        if isinstance(values, str) or not isinstance(values, Sequence | np.ndarray):
            raise _fail(where, "must be a sequence of study days", values)
        days = tuple(_integer(where, d, low=-(10**6)) for d in values)
        if not days:
            what = "post-injection test day (> 0)" if post else "baseline test day (<= 0)"
            raise _fail(where, f"needs at least one {what}", values)
        if len(set(days)) != len(days):
            raise _fail(where, "days must be unique", values)
        bad = [d for d in days if (d <= 0 if post else d > 0)]
        if bad:
            rule = "post-injection days must be > 0" if post else "baseline days must be <= 0"
            raise _fail(where, rule, bad)
        return tuple(sorted(days))

    @staticmethod
    def _normalise_effects(effect: object, arms: tuple[str, ...]) -> tuple[Effect | None, ...]:
        if isinstance(effect, Effect):
            return (None,) + (effect,) * (len(arms) - 1)
        if isinstance(effect, Mapping):
            unknown = [k for k in effect if k not in arms[1:]]
            if unknown:
                raise _fail("PowerDesign.effect", f"names no treatment arm of "
                            f"{list(arms[1:])}", unknown)
            for k, v in effect.items():
                if not isinstance(v, Effect):
                    raise _fail(f"PowerDesign.effect[{k!r}]", "must be an Effect", v)
            return (None,) + tuple(effect.get(a) for a in arms[1:])
        raise _fail("PowerDesign.effect", "must be an Effect or a mapping arm -> Effect",
                    effect)

    # -- derived quantities ---------------------------------------------------------

    @property
    def donors_by_arm(self) -> tuple[int, ...]:
        """Donors in each arm, in ``arms`` order."""
        d = self.donors_per_arm
        return d if isinstance(d, tuple) else (d,) * len(self.arms)

    @property
    def n_donors(self) -> int:
        """Donors in all arms together."""
        return sum(self.donors_by_arm)

    @property
    def n_animals(self) -> int:
        """Mice in all arms together."""
        return self.n_donors * self.mice_per_donor

    @property
    def df(self) -> int:
        """Degrees of freedom of the donor-level test: donors - arms."""
        return self.n_donors - len(self.arms)

    @property
    def test_days(self) -> tuple[int, ...]:
        """Every test day of an animal, in order (baseline, then post-injection)."""
        return self.baseline_days + self.days

    @property
    def window_days(self) -> tuple[int, ...]:
        """The post-injection days averaged into the contrast."""
        if self.window is None:
            return self.days
        lo, hi = self.window
        return tuple(d for d in self.days if lo <= d <= hi)

    def effect_for(self, arm: str) -> Effect | None:
        """The Effect of ``arm`` against control (None for control or no effect)."""
        return self._effects[self.arms.index(arm)]


def contrast_weights(design: PowerDesign) -> np.ndarray:
    """Weights over ``design.test_days`` giving one animal's window contrast.

    ``-1/n_baseline`` on each baseline day, ``+1/n_window`` on each window day and 0 on
    post-injection days outside the window: the mean change from baseline over the
    window.
    """
    w = np.zeros(len(design.test_days))
    nb = len(design.baseline_days)
    w[:nb] = -1.0 / nb
    window = set(design.window_days)
    idx = [nb + i for i, d in enumerate(design.days) if d in window]
    w[idx] = 1.0 / len(idx)
    return w


def ar1_correlation(n: int, rho: float) -> np.ndarray:
    """The ``n`` x ``n`` AR(1) correlation matrix ``rho ** |i - j|``."""
    lag = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
    return np.power(rho, lag) if rho != 0 else np.eye(n)


def residual_contrast_variance(design: PowerDesign) -> float:
    """Variance of the residual part of one animal's window contrast, ``w' S w``."""
    v = design.variance
    w = contrast_weights(design)
    return float(v.sd_residual**2 * w @ ar1_correlation(len(w), v.rho) @ w)


def donor_mean_variance(design: PowerDesign, mice: int | np.ndarray | None = None
                        ) -> float | np.ndarray:
    """Variance of one donor's mean window contrast (closed form).

    ``sd_donor**2 + (sd_animal**2 + w' S w) / mice``, where ``S`` is the AR(1)
    covariance of an animal's residuals over its test days, ``w`` the contrast weights
    (:func:`contrast_weights`) and ``mice`` the donor's mice that gave readings
    (default ``mice_per_donor``; an array gives one variance per element).
    """
    v = design.variance
    m = design.mice_per_donor if mice is None else mice
    return v.sd_donor**2 + (v.sd_animal**2 + residual_contrast_variance(design)) / m


def arm_contrast_means(design: PowerDesign) -> np.ndarray:
    """Expected window contrast of each arm (0 for control), in reading units."""
    days = np.asarray(design.window_days, dtype=float)
    out = np.zeros(len(design.arms))
    for i, arm in enumerate(design.arms):
        eff = design.effect_for(arm)
        if eff is not None:
            # baseline days are <= 0 where every effect is 0, so only the window counts
            out[i] = float(eff.at(days).mean())
    return out


def variance_from_fit(*, sd_donor: float, sd_animal: float, sd_residual: float,
                      rho: float = 0.0, n_baseline_days: int | None = None
                      ) -> VarianceComponents:
    """Variance components for a new design from a fitted mixed model of a past study.

    The fit to use is that of the change from baseline on post-injection days::

        change ~ arm * day + (1 | donor) + (1 | animal)      (change = value - baseline mean)

    - its donor sd is ``sd_donor`` (donor variation of the response);
    - its residual sd is ``sd_residual``; ``rho`` is the AR(1) correlation of the
      residuals over consecutive test days if the fit estimated one (``nlme`` /
      ``glmmTMB``; ``lme4`` does not: leave 0);

    For a pilot study kept in nocilab, :func:`nocilab.design.planning.pilot_variance`
    fits the simulation's own model instead and needs none of this.
    - its animal sd also contains the noise of the animal's own baseline mean, which
      the simulation adds back by itself. Give ``n_baseline_days`` (baseline days in
      the past study) to remove it: ``sd_animal**2 - sd_residual**2 * c / n_b**2``
      with ``c`` the sum of the AR(1) correlations among the baseline days (``n_b`` for
      ``rho = 0``), clipped at 0. Without it the animal sd is taken as it is, which
      slightly overstates the variance (a conservative power).

    A fit of ``value ~ arm * day + (1 | donor) + (1 | animal)`` to raw readings with the
    baseline days included describes differences of *level* between donors and animals,
    which cancel in the change from baseline; its donor sd is not the one wanted here.
    """
    if n_baseline_days is not None:
        nb = _integer("variance_from_fit.n_baseline_days", n_baseline_days, low=1)
        r = _finite("variance_from_fit.rho", rho)
        sda = _finite("variance_from_fit.sd_animal", sd_animal, low=0.0)
        sdr = _finite("variance_from_fit.sd_residual", sd_residual, low=0.0)
        c = float(ar1_correlation(nb, r).sum()) if -1 < r < 1 else float(nb)
        sd_animal = math.sqrt(max(0.0, sda**2 - sdr**2 * c / nb**2))
    return VarianceComponents(sd_donor=sd_donor, sd_animal=sd_animal,
                              sd_residual=sd_residual, rho=rho)


def reference_design() -> PowerDesign:
    """An illustrative design modelled on the reference passive-transfer study.

    2 arms (control IgG, patient IgG) x 8 donors x 3 mice per donor, 8 test days (2
    baseline, 6 after the first injection), paw-pressure thresholds with a 100 g
    baseline and a 25 % drop in the patient-IgG arm (:class:`Effect` default shape).
    The variance components are plausible round numbers, not estimates.
    """
    return PowerDesign(
        arms=("control IgG", "patient IgG"),
        donors_per_arm=8,
        mice_per_donor=3,
        baseline_days=(-3, -1),
        days=(1, 2, 3, 5, 7, 10),
        effect=Effect(size=25.0, scale="percent", baseline_mean=100.0),
        variance=VarianceComponents(sd_donor=10.0, sd_animal=8.0, sd_residual=12.0, rho=0.4),
    )
