"""Cold plate: latency to the first nocifensive response, or a count in a fixed window.

The animal stands on a plate held at a set temperature (``temperature_c``).

- **latency mode** (quantity ``latency_s`` per trial): the value is the mean latency of
  the day's trials, outcome ``latency_s`` in s. An animal that has not responded by the
  cut-off (``cutoff_s``) is taken off the plate and its latency recorded as the cut-off;
  such a trial is right-censored, and so is the day's mean (see
  :func:`mean_latency_s`). A latency above the cut-off cannot be recorded and is a cell
  problem.
- **count mode** (quantity ``count`` per trial): paw lifts, flinches or jumps counted in
  a fixed window of ``window_s`` seconds; the value is the mean count of the day's
  trials, outcome ``count``. The window is recorded in the settings; counts are only
  comparable between animals tested with the same window.

Both quantities are declared ``required=False``; :data:`ASSAY`'s ``check`` requires the
one of the configured mode.

Examples
--------
>>> from nocilab.assays.cold_plate import mean_latency_s
>>> r = mean_latency_s([12.0, 30.0, 60.0], cutoff_s=60.0)
>>> r.value, bool(r.censored), r.bound
(34.0, True, 34.0)
"""

from __future__ import annotations

from nocilab.assays._common import CensoredMean, mean_count, mean_latency_s, thermal_assay
from nocilab.model.settings import ColdPlateSettings

__all__ = ["ASSAY", "CensoredMean", "check", "derive", "mean_count", "mean_latency_s"]

NAME = "cold_plate"

ASSAY = thermal_assay(NAME, "Cold plate", ColdPlateSettings)
check = ASSAY.check
derive = ASSAY.derive
