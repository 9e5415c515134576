"""The optional ``[lab]`` table of study.toml: how the laboratory readouts are analysed.

::

    [lab.serum_igg]              # human IgG in the mice's serum (ELISA)
    model = "4pl"                # 4pl | 5pl
    weights = "none"             # none | 1/y | 1/y^2
    blank = "mean"               # mean | none: subtract the mean blank OD
    recovery = [80, 120]         # % of nominal a standard must read back within
    cv_limit = 20                # % replicate CV above which a standard is flagged
    unit = "ug/mL"               # the standards' concentration unit

    [lab.clearance]
    after_day = 0                # elimination phase: readings after this day
                                 # (default: the last dosing day of [dosing])
    level = 0.95

    [lab.cytokines]              # cytokine / multiplex panels
    unit = "pg/mL"
    margin = [0.67, 1.5]         # equivalence margin: ratio patient / control
    margins = { IL6 = [0.5, 2.0] }
    adjust = "holm"              # holm | bh
    alpha = 0.05
    # model, weights, blank, recovery, cv_limit as for serum_igg

    [lab.binding]                # IgG binding from per-cell tables
    quantile = 0.99              # threshold: this quantile of control donors' cells
    score = "sgc"                # sgc | neuron: the fraction that is a donor's score
    test = "welch"               # welch | mann-whitney

    [lab.correlations]
    fields = ["pain_nrs", "fiqr"]   # donors' clinical fields (default: every numeric one)
    adjust = "holm"

Every key is optional; the defaults are those shown (serum unit ``ug/mL``, cytokine unit
``pg/mL``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PositiveFloat, model_validator


def _pair(value: object) -> object:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValueError("expected [LOW, HIGH], two numbers")
    return tuple(value)


Pair = Annotated[tuple[PositiveFloat, PositiveFloat], BeforeValidator(_pair)]


def _ordered(pair: tuple[float, float], what: str) -> None:
    if not pair[0] < pair[1]:
        raise ValueError(f"{what}: the low value ({pair[0]:g}) must be below the high one "
                         f"({pair[1]:g})")


class _Lab(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CurveSettings(_Lab):
    """How a plate's standard curve is fitted and checked."""

    model: Literal["4pl", "5pl"] = "4pl"
    weights: Literal["none", "1/y", "1/y^2"] = "none"
    blank: Literal["mean", "none"] = "mean"
    recovery: Pair = (80.0, 120.0)
    cv_limit: PositiveFloat = 20.0
    unit: Annotated[str, Field(min_length=1)] = "ug/mL"

    @model_validator(mode="after")
    def _check(self) -> CurveSettings:
        _ordered(self.recovery, "recovery")
        if not self.recovery[0] <= 100 <= self.recovery[1]:
            raise ValueError(f"recovery {list(self.recovery)} must contain 100 (%)")
        return self


class ClearanceSettings(_Lab):
    """The elimination phase and the confidence level of the half-lives."""

    after_day: int | None = None
    level: float = Field(0.95, gt=0, lt=1)


class CytokineSettings(CurveSettings):
    """Panels: curves as above, then the arm difference and the equivalence test."""

    unit: Annotated[str, Field(min_length=1)] = "pg/mL"
    margin: Pair = (0.67, 1.5)
    margins: dict[str, Pair] = Field(default_factory=dict)
    adjust: Literal["holm", "bh"] = "holm"
    alpha: float = Field(0.05, gt=0, lt=0.5)

    @model_validator(mode="after")
    def _margins(self) -> CytokineSettings:
        _ordered(self.margin, "margin")
        for name, pair in self.margins.items():
            _ordered(pair, f"margins.{name}")
            if not pair[0] < 1 < pair[1]:
                raise ValueError(f"margins.{name}: a ratio margin must contain 1")
        if not self.margin[0] < 1 < self.margin[1]:
            raise ValueError("margin: a ratio margin must contain 1 (no difference)")
        return self


class BindingSettings(_Lab):
    """The binding threshold and the donor score."""

    quantile: float = Field(0.99, gt=0.5, lt=1)
    score: Literal["sgc", "neuron"] = "sgc"
    test: Literal["welch", "mann-whitney"] = "welch"


class CorrelationSettings(_Lab):
    """Which clinical fields are correlated and how the p-values are adjusted."""

    fields: tuple[str, ...] | None = None
    adjust: Literal["holm", "bh"] = "holm"


class LabSettings(_Lab):
    """The ``[lab]`` table (every sub-table optional)."""

    serum_igg: CurveSettings = Field(default_factory=CurveSettings)
    clearance: ClearanceSettings = Field(default_factory=ClearanceSettings)
    cytokines: CytokineSettings = Field(default_factory=CytokineSettings)
    binding: BindingSettings = Field(default_factory=BindingSettings)
    correlations: CorrelationSettings = Field(default_factory=CorrelationSettings)
