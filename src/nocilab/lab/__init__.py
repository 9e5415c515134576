"""The laboratory readouts of a study: plates, clearance, exposure, cytokines, binding.

Study-level analysis on the frames the store gives (plate wells, per-cell tables and
their images), the animals' assignments and the behavioural derived table; DataFrames in,
frozen results out, no store, no command line, no HTML.

- :func:`lab_derived_rows`: the laboratory rows of the derived table (serum human IgG
  per animal-day, cytokines per analyte and animal-day, half-life per animal);
- :func:`lab_readouts`: every section of the report's laboratory part
  (:class:`LabReadouts`): curve QC per plate and analyte, serum concentrations,
  clearance per animal, preparation and arm, exposure-response by a within-between mixed
  model (:func:`within_between_model`), cytokine equivalence tests, IgG binding with the
  donor arm comparison, donor correlations with clinical fields (unblinded only); a
  section that cannot be computed carries its reason;
- :func:`read_plates`, :func:`combine_readings`: the plates read one by one, and one
  value per animal-day from replicate wells, dilutions and plates;
- figures (:func:`standard_curves_figure`, :func:`serum_time_course_figure`,
  :func:`exposure_response_figure`, :func:`cytokine_forest_figure`,
  :func:`binding_figure`, :func:`correlation_figure`, :func:`lab_figures`);
- :func:`lab_tables` (CSV/XLSX exports) and :func:`lab_methods` (methods paragraphs).

The calculators underneath are :mod:`nocilab.elisa` and :mod:`nocilab.stats`.
"""

from nocilab.lab._exposure import (
    FIT_COLUMNS,
    POINT_COLUMNS,
    ExposureResponse,
    WithinBetweenFit,
    exposure_response,
    within_between_model,
)
from nocilab.lab._figures import (
    binding_figure,
    correlation_figure,
    cytokine_forest_figure,
    exposure_response_figure,
    lab_figures,
    serum_time_course_figure,
    standard_curves_figure,
)
from nocilab.lab._frames import IMAGES_COLUMNS, LAB_ASSAYS, WELLS_COLUMNS, outcome_name
from nocilab.lab._plates import (
    CURVE_QC_COLUMNS,
    READING_COLUMNS,
    VALUE_COLUMNS,
    PlateReadings,
    combine_readings,
    read_plates,
)
from nocilab.lab._readouts import (
    BLINDED_CORRELATIONS,
    SECTIONS,
    SERUM_COLUMNS,
    LabReadouts,
    lab_derived_rows,
    lab_readouts,
)
from nocilab.lab._sections import (
    CLEARANCE_ANIMAL_COLUMNS,
    CLEARANCE_GROUP_COLUMNS,
    CYTOKINE_UNIT_COLUMNS,
    ClearanceResult,
    CorrelationResult,
    CytokineResult,
)
from nocilab.lab._tables import lab_methods, lab_tables

__all__ = [
    "BLINDED_CORRELATIONS",
    "CLEARANCE_ANIMAL_COLUMNS",
    "CLEARANCE_GROUP_COLUMNS",
    "CURVE_QC_COLUMNS",
    "CYTOKINE_UNIT_COLUMNS",
    "ClearanceResult",
    "CorrelationResult",
    "CytokineResult",
    "ExposureResponse",
    "FIT_COLUMNS",
    "IMAGES_COLUMNS",
    "LAB_ASSAYS",
    "LabReadouts",
    "POINT_COLUMNS",
    "PlateReadings",
    "READING_COLUMNS",
    "SECTIONS",
    "SERUM_COLUMNS",
    "VALUE_COLUMNS",
    "WELLS_COLUMNS",
    "WithinBetweenFit",
    "binding_figure",
    "combine_readings",
    "correlation_figure",
    "cytokine_forest_figure",
    "exposure_response",
    "exposure_response_figure",
    "lab_derived_rows",
    "lab_figures",
    "lab_methods",
    "lab_readouts",
    "lab_tables",
    "outcome_name",
    "read_plates",
    "serum_time_course_figure",
    "standard_curves_figure",
    "within_between_model",
]
