"""nocilab.model: the study definition, loaded from study.toml into validated models.

:func:`load_study` returns a :class:`Study` or raises
:class:`~nocilab.errors.StudyFileError` listing every problem in the file.
:class:`ImportMapping` describes the columns of a raw-data sheet;
:func:`render_study_toml` writes plain data as a study file. Per-assay settings models
are in :mod:`nocilab.model.settings`; the ``[analysis]`` table is
:class:`AnalysisSettings`.
"""

from nocilab.model._analysis import AnalysisSettings
from nocilab.model._errors import problems_from_validation_error
from nocilab.model._lab import LabSettings
from nocilab.model._records import (
    Animal,
    Arm,
    Donor,
    Dosing,
    Preparation,
    Reporting,
    StudyInfo,
)
from nocilab.model._toml import render_study_toml
from nocilab.model._validate import BUILTIN_FILAMENT_SETS
from nocilab.model.mapping import ImportMapping, pattern_regex
from nocilab.model.settings import ASSAY_SETTINGS
from nocilab.model.study import ANIMAL_COLUMNS, STUDY_FILE, Study, load_study

__all__ = [
    "ANIMAL_COLUMNS",
    "ASSAY_SETTINGS",
    "AnalysisSettings",
    "Animal",
    "Arm",
    "BUILTIN_FILAMENT_SETS",
    "Donor",
    "Dosing",
    "ImportMapping",
    "LabSettings",
    "Preparation",
    "Reporting",
    "STUDY_FILE",
    "Study",
    "StudyInfo",
    "load_study",
    "pattern_regex",
    "problems_from_validation_error",
    "render_study_toml",
]
