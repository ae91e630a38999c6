"""The database: typed SQLAlchemy models, sessions (SQLite or PostgreSQL) and the Alembic migrations.

May use: ``engine.statutory``, ``engine.errors``."""
