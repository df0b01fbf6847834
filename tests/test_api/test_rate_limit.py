"""Per-client rate limiting: 429 JSON with Retry-After, on memory and on Redis (shared by replicas)."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient


def _exhaust(client: TestClient, allowed: int) -> None:
    for _ in range(allowed):
        assert client.get("/api/v1/auth/me").status_code == 401  # counted, even when unauthenticated


def _assert_429(client: TestClient) -> None:
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 429
    assert response.headers["content-type"] == "application/json"
    assert "Rate limit exceeded" in response.json()["detail"]
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert "X-Request-ID" in response.headers  # the 429 still passes the outer middleware


def test_memory_limit_answers_429_with_retry_after(make_client) -> None:
    client = make_client(rate_limit="3/minute")
    _exhaust(client, 3)
    _assert_429(client)
    assert client.get("/health").status_code == 200  # probes are exempt
    assert client.get("/metrics").status_code == 200


def test_limit_is_per_client(make_client) -> None:
    first = make_client(rate_limit="2/minute", client_addr=("10.0.0.1", 1000))
    _exhaust(first, 2)
    _assert_429(first)
    # Same app, another address: its own budget.
    second = TestClient(first.app, client=("10.0.0.2", 1000))
    assert second.get("/api/v1/auth/me").status_code == 401


def test_sign_in_has_a_stricter_budget(make_client) -> None:
    client = make_client(rate_limit="100/minute", login_rate_limit="2/minute")
    for _ in range(2):
        response = client.post("/api/v1/auth/token", data={"username": "admin", "password": "wrong"})
        assert response.status_code == 401
    blocked = client.post("/api/v1/auth/token", data={"username": "admin", "password": "wrong"})
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) >= 1
    # Other API calls still have their own, larger budget.
    assert client.get("/api/v1/auth/me").status_code == 401


@pytest.mark.redis
def test_redis_limit_is_shared_between_replicas(make_client, redis_url: str) -> None:
    address = (f"10.9.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}", 1000)
    replica_a = make_client(rate_limit="4/minute", redis_url=redis_url, client_addr=address)
    replica_b = make_client(rate_limit="4/minute", redis_url=redis_url, client_addr=address)
    assert replica_a.app is not replica_b.app
    _exhaust(replica_a, 2)
    _exhaust(replica_b, 2)
    _assert_429(replica_a)
    _assert_429(replica_b)
