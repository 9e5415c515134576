"""The :class:`Store`: opening a study database, writing through the audit chain, reading."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from nocilab.errors import StoreError
from nocilab.store import _labdata, _migrate, _observations, _read, _verify
from nocilab.store import _tables as t
from nocilab.store._audit import AuditReport, canonical_json
from nocilab.store._engine import (WRITE_OPTION, make_engine, one_writer, parse_url, shown,
                                   sqlite_file)
from nocilab.store._labdata import LabImportResult
from nocilab.store._observations import ImportResult
from nocilab.store._transaction import Transaction, require_text

_PG_MIGRATION_LOCK = 0x6E6F6369  # advisory lock key: one migrating opener at a time


class Store:
    """The study database: the single source of truth of raw readings and their history.

    Open with :meth:`open`; use as a context manager or call :meth:`close`. Every
    write is one transaction that appends to the audit chain (see
    ``nocilab.store._audit`` for the exact hashing). Several writes can share one
    transaction through :meth:`transaction` and the ``tx`` argument of the write
    methods.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"animal": ["m1"], "study_day": [0], "assay": ["paw_pressure"],
    ...                      "trial": [1], "quantity": ["force_g"], "value_num": [112.5],
    ...                      "value_text": [None]})
    >>> with Store.open("sqlite://") as store:
    ...     result = store.import_observations(rows, file_name="day0.csv",
    ...                                        file_sha256="ab" * 32, actor="jk")
    ...     store.observations()["value_num"].tolist(), store.verify_audit().ok
    ([112.5], True)
    """

    def __init__(self, engine: Engine, url: URL):
        """Use :meth:`Store.open`."""
        self._engine = engine
        self._url = url
        self._closed = False

    # -- opening and closing --------------------------------------------------------

    @classmethod
    def open(cls, url: str | os.PathLike[str], *, create: bool = True) -> Store:
        """Open the store at ``url``, creating and migrating its schema as needed.

        Parameters
        ----------
        url : str or path
            A SQLAlchemy URL (``sqlite:///study/store.sqlite``,
            ``postgresql+psycopg://user@host/db``); a path object means a SQLite file.
        create : bool
            When False, a missing SQLite file or an empty database is an error instead
            of becoming a new store.

        Raises
        ------
        StoreError
            The file does not exist (``create=False``), the database cannot be reached,
            it is not a nocilab store, or it was written by a newer nocilab.
        """
        parsed = parse_url(url)
        path = sqlite_file(parsed)
        if path is not None:
            if path.is_dir():
                raise StoreError(f"{path} is a folder, not a store file")
            if not path.exists():
                if not create:
                    raise StoreError(f"no store at {path}: the file does not exist (nothing "
                                     "has been imported yet: start with `nocilab import`)")
                if not path.parent.is_dir():
                    raise StoreError(f"cannot create the store {path}: the folder "
                                     f"{path.parent} does not exist")
        engine = make_engine(parsed)
        try:
            _prepare(engine, parsed, create=create)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, parsed)

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return shown(self._url)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for layers that read their own tables."""
        return self._engine

    def schema_revision(self) -> str | None:
        """The schema revision of the database (e.g. ``"0001_initial"``)."""
        with self._reading() as conn:
            return _migrate.current_revision(conn)

    def close(self) -> None:
        """Release the database connections; the store cannot be used afterwards."""
        if not self._closed:
            self._engine.dispose()
            self._closed = True

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r}{', closed' if self._closed else ''})"

    # -- transactions ---------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A write transaction shared by several writes; commits when the block ends.

        Holds the store's write lock (other writers wait). If the block raises, nothing
        written in it is kept, audit events included.

        Examples
        --------
        >>> with Store.open("sqlite://") as store:
        ...     with store.transaction() as tx:
        ...         store.set_meta("study_id", "FMS-01", actor="jk", tx=tx)
        ...         _ = tx.append_event("allocate", "allocation", 1, actor="jk",
        ...                             after={"animal": "m1", "arm": "A"})
        ...     store.get_meta("study_id"), len(store.audit_events())
        ('FMS-01', 2)
        """
        self._check_open()
        try:
            with one_writer(self._engine, self.url), self._engine.connect() as conn:
                conn.execution_options(**{WRITE_OPTION: True})
                with conn.begin():
                    tx = Transaction(conn, self)
                    try:
                        yield tx
                        tx._finish()
                    finally:
                        tx._close()
        except IntegrityError as exc:
            raise StoreError(f"the store {self.url} refused a write ({exc.orig}); its tables "
                             "may have been changed behind its back: run verify_audit") from exc
        except OperationalError as exc:
            raise StoreError(f"cannot write to the store {self.url}: {exc.orig}") from exc

    @contextmanager
    def _writing(self, tx: Transaction | None) -> Iterator[Transaction]:
        if tx is None:
            with self.transaction() as new:
                yield new
            return
        if not isinstance(tx, Transaction) or not tx.belongs_to(self):
            raise StoreError("the transaction given belongs to another store")
        tx._check_open()
        yield tx

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        self._check_open()
        try:
            with self._engine.connect() as conn:
                if conn.dialect.name == "postgresql":  # one snapshot for all statements
                    conn.execution_options(isolation_level="REPEATABLE READ")
                yield conn
        except OperationalError as exc:
            raise StoreError(f"cannot read the store {self.url}: {exc.orig}") from exc

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"the store {self.url} is closed")

    # -- observations ---------------------------------------------------------------

    def import_observations(self, rows: pd.DataFrame, *, file_name: str, file_sha256: str,
                            actor: str, detail: str = "",
                            tx: Transaction | None = None) -> ImportResult:
        """Import one file's readings, all or nothing; a file already imported is skipped.

        Parameters
        ----------
        rows : DataFrame
            Columns ``animal``, ``study_day``, ``assay``, ``trial``, ``quantity``,
            ``value_num``, ``value_text``; optionally ``entered_by`` and ``entered_at``
            (who took each reading and when; default ``actor`` and the import time).
            Each row needs ``value_num`` or ``value_text``.
        file_name, file_sha256 : str
            The source file and the SHA-256 of its bytes (64 hex digits).
        actor : str
            Who imports.
        detail : str
            Sheet and layout information, kept with the import.
        tx : Transaction, optional
            Run inside this transaction instead of a new one.

        Returns
        -------
        ImportResult
            ``already_imported`` is True (and nothing is written) when a file with the
            same SHA-256 was imported before.

        Notes
        -----
        One transaction writes the ``imports`` row, every observation, one ``import``
        audit event and one ``insert`` event per observation. Raises SchemaError naming
        the column and rows when ``rows`` is malformed.
        """
        with self._writing(tx) as w:
            return _observations.import_observations(
                w, rows, file_name=file_name, file_sha256=file_sha256, actor=actor,
                detail=detail)

    def add_observation(self, animal: str, study_day: int, assay: str, trial: int,
                        quantity: str, *, value_num: float | None = None,
                        value_text: str | None = None, actor: str,
                        entered_by: str | None = None, entered_at: str | None = None,
                        reason: str | None = None, tx: Transaction | None = None) -> int:
        """Add one reading typed in by hand; returns its observation id."""
        with self._writing(tx) as w:
            return _observations.add_observation(
                w, animal=animal, study_day=study_day, assay=assay, trial=trial,
                quantity=quantity, value_num=value_num, value_text=value_text, actor=actor,
                entered_by=entered_by, entered_at=entered_at, reason=reason)

    def correct_observation(self, observation_id: int, *, value_num: float | None = None,
                            value_text: str | None = None, actor: str, reason: str,
                            tx: Transaction | None = None) -> int:
        """Correct a current reading: a new row supersedes it; returns the new id.

        The corrected reading has exactly the ``value_num`` and ``value_text`` given.
        The old row keeps its value (see :meth:`history`). ``reason`` is required.
        The store knows no study: the checks a value must pass (type, range, cut-off,
        X/O series ...) are applied by :func:`nocilab.ingest.correct_reading`, which
        front ends call instead of this method.
        Correcting a reading that was already corrected or deleted raises StoreError
        naming its current version.
        """
        with self._writing(tx) as w:
            return _observations.correct_observation(
                w, observation_id, value_num=value_num, value_text=value_text, actor=actor,
                reason=reason)

    def delete_observation(self, observation_id: int, *, actor: str, reason: str,
                           tx: Transaction | None = None) -> int:
        """Delete a current reading: a tombstone row supersedes it; returns the tombstone id."""
        with self._writing(tx) as w:
            return _observations.delete_observation(w, observation_id, actor=actor,
                                                    reason=reason)

    def observations(self, *, current_only: bool = True, assay: str | None = None,
                     animal: str | None = None, study_day: int | None = None,
                     tx: Transaction | None = None) -> pd.DataFrame:
        """The readings, one row each, ordered by observation id.

        Columns: those of ``nocilab.schema.OBSERVATIONS`` then ``observation_id``; with
        ``current_only=False`` every version (superseded rows and tombstones too) and
        also ``import_id``, ``superseded_by``, ``deleted``. ``assay``, ``animal`` and
        ``study_day`` keep only that assay's, animal's or day's readings. Given ``tx``, they are read
        inside that write transaction (under its lock: what a check reads there cannot
        change before the transaction writes).
        """
        if tx is not None:
            with self._writing(tx) as w:
                return _read.observations(w.connection, current_only=current_only,
                                          assay=assay, animal=animal, study_day=study_day)
        with self._reading() as conn:
            return _read.observations(conn, current_only=current_only, assay=assay,
                                      animal=animal, study_day=study_day)

    def history(self, observation_id: int) -> pd.DataFrame:
        """Every version of one reading, oldest first, given the id of any of them.

        Columns: those of ``observations(current_only=False)`` plus ``action``
        (insert / correct / delete) and ``reason`` of the audit event that wrote each.
        """
        with self._reading() as conn:
            return _read.history(conn, observation_id)

    def imports(self) -> pd.DataFrame:
        """The imported files: import_id, file_name, file_sha256, detail, n_rows,
        imported_by, imported_at."""
        with self._reading() as conn:
            return _read.imports(conn)

    # -- the audit chain ------------------------------------------------------------

    def audit_events(self, *, entity: str | None = None,
                     entity_id: int | str | None = None) -> pd.DataFrame:
        """The audit events in chain order (columns event_id, at, actor, action, entity,
        entity_id, before, after, reason, prev_hash, hash), optionally of one entity."""
        with self._reading() as conn:
            return _read.audit_events(conn, entity=entity, entity_id=entity_id)

    def append_event(self, action: str, entity: str, entity_id: int | str, *, actor: str,
                     before: Any = None, after: Any = None, reason: str | None = None,
                     tx: Transaction | None = None) -> int:
        """Append an event for another layer (allocation, unblinding ...); returns its id.

        See :meth:`Transaction.append_event`. Give ``tx`` to record the event in the
        same transaction as that layer's own writes.
        """
        with self._writing(tx) as w:
            return w.append_event(action, entity, entity_id, actor=actor, before=before,
                                  after=after, reason=reason)

    def verify_audit(self) -> AuditReport:
        """Recompute the chain and check the store's tables against it.

        Returns an :class:`AuditReport`; ``first_broken_id`` names the first event at
        which verification fails. What is and is not detected is listed in
        ``nocilab.store._verify``.
        """
        with self._reading() as conn:
            return _verify.verify(conn)

    # -- study metadata -------------------------------------------------------------

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        """The value of a study_meta key, or ``default`` when it is not set."""
        with self._reading() as conn:
            value = conn.execute(
                sa.select(t.study_meta.c.value).where(t.study_meta.c.key == key)
            ).scalar()
        return default if value is None else str(value)

    def set_meta(self, key: str, value: str, *, actor: str, reason: str | None = None,
                 tx: Transaction | None = None) -> None:
        """Set a study_meta key (audited: action ``set``, entity ``meta``).

        Setting the value a key already has writes nothing.
        """
        key = require_text(key, "the study_meta key")
        if not isinstance(value, str):
            raise StoreError(f"the value of study_meta {key!r} must be a text, got {value!r}")
        actor = require_text(actor, "actor")
        m = t.study_meta
        with self._writing(tx) as w:
            old = w.connection.execute(sa.select(m.c.value).where(m.c.key == key)).scalar()
            if old == value:
                return
            if old is None:
                w.connection.execute(m.insert(), [{"key": key, "value": value}])
            else:
                w.connection.execute(m.update().where(m.c.key == key).values(value=value))
            before = None if old is None else {"key": key, "value": old}
            w._append_many([("set", "meta", key, actor,
                             None if before is None else canonical_json(before),
                             canonical_json({"key": key, "value": value}), reason)])

    # -- laboratory raw data: plate wells and binding cells -------------------------

    def import_plates(self, plates: Sequence[tuple[str, str, str, pd.DataFrame]], *,
                      file_name: str, file_sha256: str, layout_name: str,
                      layout_sha256: str, actor: str, detail: str = "",
                      tx: Transaction | None = None) -> LabImportResult:
        """Import one reader export's plates with their layout, all or nothing.

        Parameters
        ----------
        plates : sequence of (name, assay, reader label, wells)
            One entry per plate: its name (unique in the study), ``serum_igg`` or
            ``cytokines``, the reader's label of the grid, and its wells with the
            columns ``nocilab.store._labdata.WELL_FIELDS`` (analyte, well, kind, sample,
            animal, study_day, dilution, concentration, unit, od, saturated).
        file_name, file_sha256 : str
            The export and the SHA-256 of its bytes; an export imported before is
            skipped (``already_imported``).
        layout_name, layout_sha256 : str
            The layout file and the SHA-256 of its bytes, kept with each plate.

        Raises StoreError naming the plate and well for a malformed well and for a
        plate name already stored.
        """
        with self._writing(tx) as w:
            return _labdata.import_plates(w, plates, file_name=file_name,
                                          file_sha256=file_sha256, layout_name=layout_name,
                                          layout_sha256=layout_sha256, actor=actor,
                                          detail=detail)

    def plate_wells(self, *, assay: str | None = None,
                    include_excluded: bool = False) -> pd.DataFrame:
        """The stored wells (columns ``PLATE_WELL_COLUMNS``), in import order.

        Wells of excluded plates are left out unless ``include_excluded``; their
        ``excluded`` and ``exclusion_reason`` say so.
        """
        with self._reading() as conn:
            return _labdata.read_plate_wells(conn, assay=assay,
                                             include_excluded=include_excluded)

    def plates(self) -> pd.DataFrame:
        """One row per stored plate: name, assay, analytes, wells, samples, study days,
        file, reader label, layout, import, who and when, excluded and why."""
        with self._reading() as conn:
            return _labdata.read_plates(conn)

    def exclude_plate(self, plate: str, *, actor: str, reason: str,
                      tx: Transaction | None = None) -> int:
        """Leave a plate out of the analysis (audited, reason required); its wells stay
        stored. Returns the event id."""
        with self._writing(tx) as w:
            return _labdata.set_plate_status(w, plate, excluded=True, actor=actor,
                                             reason=reason)

    def include_plate(self, plate: str, *, actor: str, reason: str,
                      tx: Transaction | None = None) -> int:
        """Take an excluded plate back into the analysis (audited, reason required)."""
        with self._writing(tx) as w:
            return _labdata.set_plate_status(w, plate, excluded=False, actor=actor,
                                             reason=reason)

    def import_binding(self, cells: pd.DataFrame, images: pd.DataFrame, *, file_name: str,
                       file_sha256: str, actor: str, detail: str = "",
                       tx: Transaction | None = None) -> LabImportResult:
        """Import a per-cell binding table and the vial of each image, all or nothing.

        ``cells`` has the columns of ``nocilab.ingest.cells.CELL_COLUMNS``, ``images``
        the columns ``image`` and ``vial`` (the vial code, or the preparation id in an
        open study); only images with cells are stored.
        """
        with self._writing(tx) as w:
            return _labdata.import_binding(w, cells, images, file_name=file_name,
                                           file_sha256=file_sha256, actor=actor,
                                           detail=detail)

    def binding_cells(self) -> pd.DataFrame:
        """The stored cells: image, cell, cell_class, intensity, area_um2, source."""
        with self._reading() as conn:
            return _labdata.read_binding_cells(conn)

    def binding_images(self) -> pd.DataFrame:
        """The stored images: image, vial, import_id."""
        with self._reading() as conn:
            return _labdata.read_binding_images(conn)


def _prepare(engine: Engine, url: URL, *, create: bool) -> None:
    """Check the schema version; create or upgrade the schema when needed."""
    where = shown(url)
    head = _migrate.head_revision()
    try:
        with engine.connect() as conn:
            rev = _migrate.current_revision(conn)
            tables = set(sa.inspect(conn).get_table_names())
        _migrate.check_not_newer(rev, where)
        if rev == head:
            return
        if rev is None:
            foreign = sorted(tables - {"alembic_version"})
            if foreign:
                raise StoreError(f"{where} is not a nocilab store: it holds the table(s) "
                                 f"{', '.join(foreign)} but no nocilab schema version")
            if not create:
                raise StoreError(f"{where} holds no nocilab store (the database is empty); "
                                 "open it with create=True to make one")
        with engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"),
                                 {"k": _PG_MIGRATION_LOCK})
                rev = _migrate.current_revision(conn)
                _migrate.check_not_newer(rev, where)
                if rev != head:
                    _migrate.upgrade(conn, "head")
    except DBAPIError as exc:
        raise StoreError(f"cannot open the store {where}: {exc.orig}") from exc
