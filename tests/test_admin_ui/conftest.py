"""Fixtures for the /admin pages: the real app (middleware, migrations, auth) on a temporary SQLite file.

Workers and the scheduler are off here so a started job stays queued and the tests can look at it; the
browser tests (test_browser.py) run the whole service with its workers against the simulator.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient

from app.core.config import Settings, reset_settings
from app.core.database import session_scope
from app.main import create_app
from app.models.unified_models import Integration

ADMIN = ("admin", "admin-password-123")
VIEWER = ("viewer", "viewer-password-123")


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for a throw-away service: its own metadata DB and DuckDB file, both users configured."""
    values: dict[str, Any] = {
        "_env_file": None,
        "secret_key": "test-secret-key-" + "x" * 40,
        "encryption_key": Fernet.generate_key().decode(),
        "admin_username": ADMIN[0],
        "admin_password": ADMIN[1],
        "viewer_username": VIEWER[0],
        "viewer_password": VIEWER[1],
        "database_url": f"sqlite:///{tmp_path / 'meta.db'}",
        "duckdb_path": tmp_path / "warehouse.duckdb",
        "rate_limit": "100000/minute",
        "worker_enabled": False,
        "scheduler_enabled": False,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def admin_settings(tmp_path: Path) -> Settings:
    """The settings of the app under test."""
    return make_settings(tmp_path)


@pytest.fixture
def pg_client(tmp_path: Path, pg_url: str) -> Iterator[TestClient]:
    """Like ``client``, with the metadata in a fresh PostgreSQL schema."""
    app = create_app(make_settings(tmp_path, database_url=pg_url))
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client
    reset_settings()


@pytest.fixture
def client(admin_settings: Settings) -> Iterator[TestClient]:
    """A TestClient on ``create_app(settings)``, lifespan included (migrations run on the SQLite file)."""
    app = create_app(admin_settings)
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client
    reset_settings()


def csrf_of(html: str) -> str:
    """The session's CSRF token, as the page publishes it."""
    found = re.search(r'<meta name="csrf-token" content="([^"]*)"', html)
    assert found is not None, "page has no csrf-token meta"
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str) -> str:
    """Sign in through the form and return the session's CSRF token."""
    form = client.get("/admin/login")
    login_token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert login_token is not None
    response = client.post(
        "/admin/login",
        data={"username": username, "password": password, "csrf_token": login_token.group(1), "next": ""},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/admin/jobs").text)


def add_integration(client: TestClient, name: str = "acme", base_url: str = "http://127.0.0.1:9") -> int:
    """An integration row written straight to the metadata DB (for tests about other pages)."""
    from app.core.security import encrypt_secret

    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    with session_scope(client.app.state.engine) as session:  # type: ignore[attr-defined]
        integ = Integration(
            name=name,
            base_url=base_url,
            deployment_type="cloud",
            auth_type="basic",
            username="demo@example.com",
            token_encrypted=encrypt_secret("demo-token", settings.encryption_key_value),
            projects=[],
            enabled=True,
        )
        session.add(integ)
        session.flush()
        return integ.id
