"""Auth, token-bucket 429s with Retry-After, storms, random 5xx, dropped connections, truncated bodies."""

from __future__ import annotations

import time

import httpx
import pytest

from simulator import SimConfig, Site
from simulator.faults import Faults
from simulator.stats import Stats

LIMIT_HEADERS = {
    "retry-after",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "ratelimit-reason",
    "x-ratelimit-nearlimit",
}


def test_auth_accepts_basic_and_bearer_and_answers_401_otherwise(sim_factory) -> None:
    sim = sim_factory(issues=30, seed=1, email="bot@acme.io", token="s3cret")
    with httpx.Client(base_url=sim.base_url) as c:
        assert c.get("/rest/api/3/myself", auth=("bot@acme.io", "s3cret")).status_code == 200
        assert c.get("/rest/api/3/myself", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic !!"}):
            resp = c.get("/rest/api/3/myself", headers=headers)
            assert resp.status_code == 401 and resp.json()["errorMessages"]
        assert c.get("/__sim/stats").status_code == 200  # control endpoints need no auth


def test_token_bucket_answers_429_and_early_retries_get_longer_waits(sim_factory) -> None:
    sim = sim_factory(issues=30, seed=1, rate=0.05, burst=2)  # slow refill: timing-proof
    with httpx.Client(base_url=sim.base_url, auth=sim.auth) as c:
        codes = [c.get("/rest/api/3/serverInfo").status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        first = c.get("/rest/api/3/serverInfo")
    assert first.status_code == 429
    assert set(first.headers) >= LIMIT_HEADERS
    assert first.json()["errorMessages"]
    stats = sim.stats()
    assert stats["by_endpoint"]["GET /rest/api/3/serverInfo"] == {"200": 2, "429": 2}
    assert stats["retry_after_violations"] == 1  # the fourth request ignored the third's Retry-After


def test_retry_after_never_shrinks_for_early_retries() -> None:
    site = Site(SimConfig(issues=30, seed=1, rate=0.2, burst=1))
    faults = Faults(site)
    faults.site_stats = Stats()
    assert faults.rate_check("cred") is None
    waits = []
    for _ in range(4):
        limited = faults.rate_check("cred")
        assert limited is not None and limited[0] == 429
        waits.append(int(limited[1]["Retry-After"]))
    assert waits[0] >= 1 and waits == sorted(waits)
    assert faults.site_stats.retry_after_violations == 3
    assert faults.rate_check("other-credential") is None  # buckets are per credential


def test_storm_answers_429_for_the_next_k_requests(sim_factory) -> None:
    sim = sim_factory(issues=30, seed=1)
    sim.faults(storm_429=2)
    with httpx.Client(base_url=sim.base_url, auth=sim.auth) as c:
        statuses = []
        for _ in range(3):
            resp = c.get("/rest/api/3/field")
            statuses.append(resp.status_code)
            if resp.status_code == 429:
                time.sleep(float(resp.headers["Retry-After"]))  # a well-behaved client waits
        assert statuses == [429, 429, 200]
    assert sim.stats()["retry_after_violations"] == 0


def test_error_rate_injects_5xx_and_503_carries_retry_after(sim_factory) -> None:
    sim = sim_factory(issues=30, seed=1, error_rate=1.0)
    with httpx.Client(base_url=sim.base_url, auth=sim.auth) as c:
        responses = [c.get("/rest/api/3/status") for _ in range(40)]
        assert {r.status_code for r in responses} == {500, 502, 503, 504}
        assert all("retry-after" in r.headers for r in responses if r.status_code == 503)
        slow_users = {c.get("/rest/api/3/users/search").status_code for _ in range(40)}
        assert 409 in slow_users and 504 not in slow_users
        sim.faults(error_rate=0.0)
        assert c.get("/rest/api/3/status").status_code == 200


def test_dropped_connections_and_truncated_bodies_are_real_client_errors(sim_factory) -> None:
    sim = sim_factory(issues=30, seed=1, drop_rate=1.0)
    errors = []
    with httpx.Client(base_url=sim.base_url, auth=sim.auth) as c:
        for _ in range(12):
            with pytest.raises(httpx.TransportError) as exc:
                c.get("/rest/api/3/search/jql", params={"jql": "project = PAY", "fields": "*all"}).json()
            errors.append(type(exc.value).__name__)
    counts = sim.stats()["by_endpoint"]["GET /rest/api/3/search/jql"]
    assert counts.get("dropped", 0) > 0 and counts.get("truncated", 0) > 0
    assert sum(counts.values()) == 12


def test_latency_model_adds_per_issue_time() -> None:
    site = Site(SimConfig(issues=30, seed=1, latency_ms=0, per_issue_ms=2.0))
    faults = Faults(site)
    assert faults.latency_s(100) == pytest.approx(0.2)
    assert faults.latency_s(0) == 0


def test_faults_endpoint_rejects_unknown_fields(sim_factory) -> None:
    sim = sim_factory(issues=30, seed=1)
    resp = httpx.post(f"{sim.base_url}/__sim/faults", json={"nonsense": 1})
    assert resp.status_code == 400
    assert sim.faults(latency_ms=5, rate=10, burst=20)["rate"] == 10


def test_admitted_requests_carry_the_remaining_budget_and_near_limit(sim_factory) -> None:
    sim = sim_factory(issues=30, seed=1, rate=0.01, burst=5)
    with httpx.Client(base_url=sim.base_url, auth=sim.auth) as c:
        heads = [c.get("/rest/api/3/priority").headers for _ in range(5)]
    assert [h["x-ratelimit-remaining"] for h in heads] == ["4", "3", "2", "1", "0"]
    assert all(h["x-ratelimit-limit"] == "5" for h in heads)
    assert "x-ratelimit-nearlimit" not in heads[0] and heads[-1]["x-ratelimit-nearlimit"] == "true"


async def test_drops_surface_as_errors_through_the_asgi_transport_too() -> None:
    from simulator import create_app

    app = create_app(SimConfig(issues=30, seed=1, drop_rate=1.0))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://sim", auth=("demo@example.com", "demo-token")
    ) as c:
        for _ in range(6):
            with pytest.raises(ConnectionAbortedError):
                await c.get("/rest/api/3/field")
