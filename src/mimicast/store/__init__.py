"""Storage: the SQLAlchemy schema, the engine (SQLite by default, PostgreSQL by URL), migrations."""
