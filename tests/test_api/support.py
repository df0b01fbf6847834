"""Helpers for the foundation tests: settings built for a test (never the developer's .env)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from app.core.config import Settings

ADMIN_PASSWORD = "correct-horse-battery-staple"
VIEWER_PASSWORD = "viewer-password-123"
SECRET_KEY = "test-secret-key-" + "x" * 40


def build_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Production-like settings (DEBUG off) on a temporary SQLite file, with no background jobs."""
    values: dict[str, Any] = {
        "_env_file": None,
        "debug": False,
        "secret_key": SECRET_KEY,
        "encryption_key": Fernet.generate_key().decode(),
        "admin_username": "admin",
        "admin_password": ADMIN_PASSWORD,
        "viewer_username": "viewer",
        "viewer_password": VIEWER_PASSWORD,
        "database_url": f"sqlite:///{tmp_path / 'meta.db'}",
        "duckdb_path": tmp_path / "warehouse.duckdb",
        "scheduler_enabled": False,
        "worker_enabled": False,
        "rate_limit": "1000/minute",
    }
    values.update(overrides)
    return Settings(**values)
