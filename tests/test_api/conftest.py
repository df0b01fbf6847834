"""Fixtures of the API tests: a real app on a temporary database, started through its lifespan."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings, reset_settings
from app.core.security import create_access_token
from app.main import create_app
from tests.test_api.support import build_settings


@pytest.fixture
def make_client(tmp_path) -> Iterator[Callable[..., TestClient]]:
    """``make(**settings_overrides) -> TestClient`` with the app started (migrations ran)."""
    opened: list[TestClient] = []

    def make(
        *,
        base_url: str = "http://testserver",
        client_addr: tuple[str, int] = ("testclient", 50000),
        **overrides: Any,
    ) -> TestClient:
        settings: Settings = build_settings(tmp_path, **overrides)
        client = TestClient(create_app(settings), base_url=base_url, client=client_addr)
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)
    reset_settings()


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    """A started app with default test settings."""
    return make_client()


def login(client: TestClient, username: str, password: str) -> str:
    """A bearer token from the real token endpoint."""
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def bearer_for(client: TestClient, subject: str, role: str) -> dict[str, str]:
    """Authorization header with a token minted for the app's settings (the login flow has its own tests)."""
    token = create_access_token(subject, role, settings=client.app.state.settings)  # type: ignore[attr-defined]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def admin_headers(client: TestClient) -> dict[str, str]:
    """Authorization header of an admin."""
    return bearer_for(client, "admin", "admin")


@pytest.fixture
def viewer_headers(client: TestClient) -> dict[str, str]:
    """Authorization header of a viewer."""
    return bearer_for(client, "viewer", "viewer")
