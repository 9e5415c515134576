"""Per-assay settings: the ``[assays.NAME]`` tables of study.toml.

Every number a lab may change (cut-offs, temperatures, trial counts, filament sets)
lives here with a documented default, never in a calculator.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VonFreySettings(_Settings):
    """von Frey filaments: up-down (Dixon/Chaplan), SUDO (Bonin) or electronic."""

    method: Literal["up_down", "sudo", "electronic"] = "up_down"
    filaments: str = Field("mouse", description="'mouse', 'rat' or a CSV file (number,log[,grams])")
    delta: PositiveFloat | None = Field(None, description="log step; default: the set's mean step")
    start_filament: str | None = Field(None, description="handle number of the first filament")
    stimuli_after_change: PositiveInt = Field(4, description="stimuli after the first change (Chaplan: 4)")
    trials: PositiveInt = 1
    cutoff_g: PositiveFloat | None = Field(None, description="electronic von Frey: maximum force")


class PawPressureSettings(_Settings):
    """Randall-Selitto paw pressure: mean of trials, right-censored at the cut-off."""

    cutoff_g: PositiveFloat = 250.0
    trials: PositiveInt = 3


class ColdPlateSettings(_Settings):
    """Cold plate: latency to the first nocifensive response, or a count in a window."""

    mode: Literal["latency", "count"] = "latency"
    temperature_c: float | None = None
    cutoff_s: PositiveFloat = 60.0
    window_s: PositiveFloat | None = None
    trials: PositiveInt = 1


class HeatSettings(_Settings):
    """Hargreaves or hot plate: latency with a cut-off."""

    method: Literal["hargreaves", "hot_plate"] = "hargreaves"
    mode: Literal["latency", "count"] = "latency"
    temperature_c: float | None = None
    cutoff_s: PositiveFloat = 20.0
    window_s: PositiveFloat | None = None
    trials: PositiveInt = 3


class GripSettings(_Settings):
    """Grip strength: mean or max of trials, optionally per gram of body weight."""

    aggregate: Literal["mean", "max"] = "mean"
    per_body_weight: bool = False
    trials: PositiveInt = 3


class ActivitySettings(_Settings):
    """Locomotor activity: per-session totals of distance or counts."""

    quantity: Literal["distance_m", "counts"] = "distance_m"
    session_min: PositiveFloat | None = None
    apparatus: str | None = None


class BodyWeightSettings(_Settings):
    """Body weight in grams."""


class IenfdSettings(_Settings):
    """Intraepidermal nerve-fibre density: fibres crossing per mm, mean over sections."""

    marker: str = "PGP9.5"
    sections: PositiveInt | None = Field(None, description="expected sections per animal")


ASSAY_SETTINGS: dict[str, type[_Settings]] = {
    "von_frey": VonFreySettings,
    "paw_pressure": PawPressureSettings,
    "cold_plate": ColdPlateSettings,
    "heat": HeatSettings,
    "grip": GripSettings,
    "activity": ActivitySettings,
    "body_weight": BodyWeightSettings,
    "ienfd": IenfdSettings,
}
"""Assay name in study.toml -> its settings model."""

ASSAY_OUTCOMES: dict[str, tuple[str, ...]] = {
    "von_frey": ("threshold_g",),
    "paw_pressure": ("threshold_g",),
    "cold_plate": ("latency_s", "count"),
    "heat": ("latency_s", "count"),
    "grip": ("force_g", "force_g_per_g"),
    "activity": ("distance_m", "counts"),
    "body_weight": ("weight_g",),
    "ienfd": ("fibres_per_mm",),
}
"""Assay name -> the outcomes it can derive (``[analysis]`` names them ``ASSAY.OUTCOME``);
the same as each calculator's ``outcomes`` (a test pins it)."""
