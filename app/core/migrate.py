"""Run the Alembic migrations from code (``python -m app init-db``, ``scripts/init_db.py``, start-up)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from app.core.database import create_db_engine

ROOT = Path(__file__).resolve().parents[2]
ALEMBIC_INI = ROOT / "alembic.ini"
MIGRATIONS_DIR = ROOT / "migrations"


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at this repository's migrations and the given database."""
    config = Config(str(ALEMBIC_INI)) if ALEMBIC_INI.exists() else Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = database_url
    # Keep the application's logging set-up: alembic's fileConfig would replace it.
    config.attributes["configure_logger"] = False
    return config


def upgrade_head(database_url: str) -> str | None:
    """Upgrade the database to the newest revision; returns the revision now applied."""
    command.upgrade(alembic_config(database_url), "head")
    return current_revision(database_url)


def head_revision() -> str | None:
    """The newest revision in migrations/."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return script.get_current_head()


def current_revision(database_url: str, engine: Engine | None = None) -> str | None:
    """The revision the database is at (None when never migrated)."""
    owned = engine is None
    engine = engine or create_db_engine(database_url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        if owned:
            engine.dispose()
