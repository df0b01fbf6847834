"""Fixtures of the jobs tests: a migrated metadata database (SQLite or PostgreSQL) and an integration."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from sqlalchemy.engine import Engine

from app.core.config import Settings
from app.core.database import create_db_engine, session_scope
from app.core.migrate import upgrade_head
from app.core.security import encrypt_secret
from app.models.unified_models import Integration


def make_settings(db_url: str, tmp_path, **overrides) -> Settings:
    """Settings for a test: explicit secrets, the given metadata DB and a tmp DuckDB file."""
    values = {
        "_env_file": None,
        "debug": False,
        "secret_key": "s" * 48,
        "encryption_key": Fernet.generate_key().decode(),
        "admin_password": "admin-password-123",
        "database_url": db_url,
        "duckdb_path": tmp_path / "warehouse.duckdb",
        "heartbeat_stale_seconds": 10,
        "scheduler_enabled": False,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def meta_engine(db_url: str) -> Iterator[Engine]:
    """A migrated metadata database on SQLite or PostgreSQL (parametrised by ``db_url``)."""
    upgrade_head(db_url)
    engine = create_db_engine(db_url)
    yield engine
    engine.dispose()


def add_integration(
    engine: Engine, key: str, *, name: str = "site", base_url: str = "http://127.0.0.1:9", **kw
) -> int:
    """Insert an integration whose token is encrypted with ``key``; returns its id."""
    with session_scope(engine) as session:
        integration = Integration(
            name=name,
            base_url=base_url,
            deployment_type=kw.pop("deployment_type", "cloud"),
            auth_type="basic",
            username=kw.pop("username", "demo@example.com"),
            token_encrypted=encrypt_secret(kw.pop("token", "demo-token"), key),
            projects=kw.pop("projects", []),
            enabled=kw.pop("enabled", True),
            **kw,
        )
        session.add(integration)
        session.flush()
        return integration.id
