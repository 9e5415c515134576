"""ELISA and other plate assays: standard curves and concentrations read back from them.

Pure calculators (arrays and tidy frames in, frozen dataclasses out, no I/O):

- :func:`fit_curve` fits a four- or five-parameter logistic standard curve (4PL, 5PL)
  by nonlinear least squares, unweighted or weighted by ``1/y`` or ``1/y^2``, with
  parameter standard errors; the 4PL is R's ``SSfpl`` in the log concentration.
- :func:`analyse_plate` takes a plate's tidy wells table (standards, blanks, samples),
  subtracts the blanks, fits the curve, reports the recovery and replicate %CV of each
  standard, sets the LLOQ and ULOQ (lowest and highest standards recovering within
  limits) and reads the samples back, multiplied by their dilution; a sample outside
  the range is censored with its bound, never extrapolated.
- :func:`analyse_panel` does the same for every analyte of a multiplex panel, each with
  its own curve (a failed curve is listed with its reason); :func:`panel_values` gives
  one value (or censored bound) per analyte and animal.
- :func:`equivalence_forest` draws a panel's equivalence tests (forest plot with the
  margins), :func:`donor_scatter` one value per donor against another, labelled.
- :func:`fit_curves` fits the standard curves of many plates and analytes at once (a
  vectorised solver over all curves, :func:`fit_curve` for any it does not settle) and
  returns one row per curve with the same parameters, SEs and failure reasons.
- :func:`subtract_blank` and :func:`replicate_cv` are the pieces it uses.
- :func:`half_lives` estimates the clearance of the injected human IgG: each animal's
  elimination half-life by a log-linear fit of its post-dosing serum concentrations,
  with a confidence interval, and the geometric mean per group.

Reading plate-reader exports and layouts is :mod:`nocilab.ingest.plates`, multiplex
exports :mod:`nocilab.ingest.multiplex`.
"""

from nocilab.elisa._batch import FIT_COLUMNS, fit_curves
from nocilab.elisa._clearance import Clearance, half_lives
from nocilab.elisa._figures import donor_scatter, equivalence_forest
from nocilab.elisa._fit import WEIGHTS, CurveFit, CurveFitError, Parameter, fit_curve
from nocilab.elisa._logistic import MODELS, PARAMETERS
from nocilab.elisa._panel import (
    CURVE_COLUMNS,
    VALUE_COLUMNS,
    PanelResult,
    analyse_panel,
    panel_values,
)
from nocilab.elisa._plate import (
    BLANKS,
    KINDS,
    SAMPLE_COLUMNS,
    STANDARD_COLUMNS,
    WELL_COLUMNS,
    PlateResult,
    analyse_plate,
    replicate_cv,
    subtract_blank,
)

__all__ = [
    "BLANKS",
    "CURVE_COLUMNS",
    "FIT_COLUMNS",
    "KINDS",
    "MODELS",
    "PARAMETERS",
    "SAMPLE_COLUMNS",
    "STANDARD_COLUMNS",
    "VALUE_COLUMNS",
    "WEIGHTS",
    "WELL_COLUMNS",
    "Clearance",
    "CurveFit",
    "CurveFitError",
    "PanelResult",
    "Parameter",
    "PlateResult",
    "analyse_panel",
    "analyse_plate",
    "donor_scatter",
    "equivalence_forest",
    "fit_curve",
    "fit_curves",
    "half_lives",
    "panel_values",
    "replicate_cv",
    "subtract_blank",
]
