"""Storage: SQLAlchemy engine and session, models, CRUD modules and Alembic migrations."""
