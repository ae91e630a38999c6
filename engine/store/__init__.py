"""The database: typed SQLAlchemy models, sessions (SQLite or PostgreSQL) and the Alembic migrations.

May use: ``engine.statutory``, ``engine.errors``."""

from __future__ import annotations

from engine.store import requests  # noqa: F401 - its tables belong to the one metadata the migrations are checked against
