"""Reading raw-data files (CSV, XLSX; tidy long and wide lab sheets), checking every
cell against the study, and loading them into the store all or nothing."""

from nocilab.ingest.files import file_sha256, read_sheets, write_table
from nocilab.ingest.load import ImportReport, import_file, read_observations
from nocilab.ingest.mapping import build_mapping

__all__ = [
    "ImportReport",
    "build_mapping",
    "file_sha256",
    "import_file",
    "read_observations",
    "read_sheets",
    "write_table",
]
