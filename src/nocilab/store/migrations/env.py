"""Alembic environment of the nocilab store.

Two ways in:

- ``Store.open`` (and ``nocilab.store._migrate``) pass an open connection in
  ``config.attributes["connection"]``, already inside the caller's transaction: the
  migrations then run in that transaction and commit or roll back with it.
- Otherwise the URL comes from ``config.get_main_option("sqlalchemy.url")`` and this
  module opens its own engine (with the store's SQLite transaction handling) and runs
  every migration in one transaction.

No logging configuration is read: there is no ``alembic.ini``.
"""

from __future__ import annotations

from alembic import context
from alembic.config import Config
from sqlalchemy.engine import Connection

from nocilab.errors import StoreError
from nocilab.store._engine import WRITE_OPTION, make_engine, parse_url
from nocilab.store._tables import metadata

config: Config | None
try:
    config = context.config
except AttributeError:  # imported outside an Alembic run (e.g. by doctest collection)
    config = None


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _offline(config: Config) -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _online(config: Config) -> None:
    given = config.attributes.get("connection")
    if given is not None:
        _run(given)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise StoreError("no connection and no sqlalchemy.url given to the store migrations")
    engine = make_engine(parse_url(url))
    try:
        with engine.connect() as connection:
            connection.execution_options(**{WRITE_OPTION: True})
            with connection.begin():
                _run(connection)
    finally:
        engine.dispose()


if config is None:
    pass
elif context.is_offline_mode():
    _offline(config)
else:
    _online(config)
