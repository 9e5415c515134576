"""Alembic migrations of the store (run by ``Store.open``; see ``env.py``)."""
