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
- :func:`fit_curves` fits the standard curves of many plates and analytes at once (a
  vectorised solver over all curves, :func:`fit_curve` for any it does not settle) and
  returns one row per curve with the same parameters, SEs and failure reasons.
- :func:`subtract_blank` and :func:`replicate_cv` are the pieces it uses.
- :func:`half_lives` estimates the clearance of the injected human IgG: each animal's
  elimination half-life by a log-linear fit of its post-dosing serum concentrations,
  with a confidence interval, and the geometric mean per group.

Reading plate-reader exports and layouts is :mod:`nocilab.ingest.plates`.
"""

from nocilab.elisa._batch import CURVE_COLUMNS, fit_curves
from nocilab.elisa._clearance import Clearance, half_lives
from nocilab.elisa._fit import WEIGHTS, CurveFit, CurveFitError, Parameter, fit_curve
from nocilab.elisa._logistic import MODELS, PARAMETERS
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
    "KINDS",
    "MODELS",
    "PARAMETERS",
    "SAMPLE_COLUMNS",
    "STANDARD_COLUMNS",
    "WEIGHTS",
    "WELL_COLUMNS",
    "Clearance",
    "CurveFit",
    "CurveFitError",
    "Parameter",
    "PlateResult",
    "analyse_plate",
    "fit_curve",
    "fit_curves",
    "half_lives",
    "replicate_cv",
    "subtract_blank",
]
