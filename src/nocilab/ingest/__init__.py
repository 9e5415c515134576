"""Reading raw-data files (CSV, XLSX; tidy long and wide lab sheets), checking every
cell against the study, and loading them into the store all or nothing; correcting and
deleting stored readings through the same checks (:func:`validate_readings`; for one
reading typed in, :func:`nocilab.ingest.one_reading.check_reading`)."""

from nocilab.ingest.edit import correct_reading, delete_readings, write_changes
from nocilab.ingest.files import MISSING_MARKERS, file_sha256, read_sheets, write_table
from nocilab.ingest.load import ImportReport, import_file, read_observations
from nocilab.ingest.mapping import build_mapping, study_mapping
from nocilab.ingest.validate import check_readings, validate_readings

__all__ = [
    "MISSING_MARKERS",
    "ImportReport",
    "build_mapping",
    "check_readings",
    "correct_reading",
    "delete_readings",
    "file_sha256",
    "import_file",
    "read_observations",
    "read_sheets",
    "study_mapping",
    "validate_readings",
    "write_changes",
    "write_table",
]
