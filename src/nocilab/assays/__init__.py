"""nocilab.assays: pure calculators, one module per assay, and the registry.

Each module (``von_frey``, ``paw_pressure``, ``cold_plate``, ``heat``, ``grip``,
``activity``, ``body_weight``, ``ienfd``) defines vectorised calculator functions and an
``ASSAY`` entry (:class:`~nocilab.assays.base.Assay`). The registry maps the assay names
of study.toml to those entries.
"""

from nocilab.assays.registry import assay_names, derive_readings, get_assay

__all__ = ["assay_names", "derive_readings", "get_assay"]
