"""nocilab.store: the database, the single source of truth of a study.

SQLite file by default, any SQLAlchemy URL (PostgreSQL) for a lab server. The schema is
under Alembic migrations (``migrations/``), applied by :meth:`Store.open`. Every change
to the data is an audit event in a SHA-256 hash chain; corrections and deletions add
rows, they never overwrite.

Modules:

- ``_store``         :class:`Store`: open, write, read, verify.
- ``_transaction``   :class:`Transaction`: the write lock, id allocation, appending events.
- ``_observations``  import, add, correct and delete readings.
- ``_read``          the tables as DataFrames.
- ``_audit``         the exact serialisation and hashing of events; chain checks.
- ``_verify``        what :meth:`Store.verify_audit` detects, and what it cannot.
- ``_tables``        the schema as SQLAlchemy Core tables.
- ``_allocation``    the design layer's tables: allocation runs, encrypted keys, codes.
- ``_labdata``       plate wells, plate exclusions, binding cells and their events.
- ``_users``         accounts (username, role, password hash, disabled) and their events.
- ``_migrate``       Alembic from code; ``_engine`` engines and SQLite transactions.
"""

from nocilab.store import _allocation  # noqa: F401  (registers the allocation tables)
from nocilab.store import _labdata  # noqa: F401  (registers the plate and binding tables)
from nocilab.store import _users  # noqa: F401  (registers the users table)
from nocilab.store._audit import GENESIS_HASH, AuditReport, event_hash
from nocilab.store._labdata import PLATE_WELL_COLUMNS, LabImportResult
from nocilab.store._migrate import head_revision, migrate_url
from nocilab.store._observations import ImportResult
from nocilab.store._store import Store
from nocilab.store._transaction import Transaction

__all__ = [
    "GENESIS_HASH",
    "AuditReport",
    "ImportResult",
    "LabImportResult",
    "PLATE_WELL_COLUMNS",
    "Store",
    "Transaction",
    "event_hash",
    "head_revision",
    "migrate_url",
]
