"""The database: typed SQLAlchemy models, sessions (SQLite or PostgreSQL) and the Alembic migrations.

May use: ``engine.statutory``, ``engine.errors``."""

from __future__ import annotations

# Their tables belong to the one metadata the migrations are checked against.
from engine.store import api_tokens, case_notes, jobs, local_offer, outbox, requests, sen_budget, sign_in, sso  # noqa: F401
