"""Heat: Hargreaves (radiant heat to the paw) or hot plate; latency with a cut-off.

The same shape as the cold plate (:mod:`nocilab.assays.cold_plate`), the code shared:

- **latency mode** (quantity ``latency_s`` per trial): the value is the mean withdrawal
  (Hargreaves) or first-response (hot plate) latency of the day's trials, outcome
  ``latency_s`` in s. The heat source is switched off, or the animal taken off the
  plate, at the cut-off (``cutoff_s``) to protect tissue; a trial that reaches it is
  right-censored, and so is the day's mean (see :func:`mean_latency_s`). A latency
  above the cut-off cannot be recorded and is a cell problem.
- **count mode** (quantity ``count`` per trial): responses counted in a fixed window of
  ``window_s`` seconds; the value is the mean count of the day's trials, outcome
  ``count``.

Both quantities are declared ``required=False``; :data:`ASSAY`'s ``check`` requires the
one of the configured mode. ``method`` (hargreaves or hot_plate) and ``temperature_c``
describe the test and do not change the arithmetic.

Examples
--------
>>> from nocilab.assays.heat import mean_latency_s
>>> r = mean_latency_s([8.5, 20.0, 11.5], cutoff_s=20.0)
>>> r.value, bool(r.censored), r.bound
(13.333333333333334, True, 13.333333333333334)
"""

from __future__ import annotations

from nocilab.assays._common import CensoredMean, mean_count, mean_latency_s, thermal_assay
from nocilab.model.settings import HeatSettings

__all__ = ["ASSAY", "CensoredMean", "check", "derive", "mean_count", "mean_latency_s"]

NAME = "heat"

ASSAY = thermal_assay(NAME, "Heat (Hargreaves, hot plate)", HeatSettings)
check = ASSAY.check
derive = ASSAY.derive
