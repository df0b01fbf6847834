"""JiraClient against small request->response functions that behave like Jira (httpx.MockTransport)."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from app.core.errors import (
    ConfigError,
    JiraAuthError,
    JiraBadRequestError,
    JiraError,
    JiraNotFoundError,
    JiraPermissionError,
    JiraTransientError,
)
from app.jira.client import JiraClient, JiraSite
from app.jira.limiter import LEARNED
from app.jira.retry import RetryPolicy
from app.jira.stats import endpoint_template

FAST = RetryPolicy(max_attempts=5, base_delay=0.005, max_delay=0.02)
SITE = JiraSite("https://acme.example.net", username="me@example.com", token="t0k", name="acme")


@pytest.fixture(autouse=True)
def _forget_learned_rates() -> None:
    LEARNED.clear()  # every test meets its fake site for the first time


def client_for(handler: Callable[[httpx.Request], Any], site: JiraSite = SITE, **kw: Any) -> JiraClient:
    return JiraClient(site, transport=httpx.MockTransport(handler), retry=kw.pop("retry", FAST), **kw)


def failing_then_ok(failures: list[httpx.Response | Exception]) -> tuple[Callable, list[float]]:
    """A handler that answers the given failures in turn, then 200 {"ok": true}; records arrival times."""
    arrivals: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        arrivals.append(time.monotonic())
        if failures:
            item = failures.pop(0)
            if isinstance(item, Exception):
                raise item
            return item
        return httpx.Response(200, json={"ok": True})

    return handler, arrivals


async def test_basic_auth_and_path_prefix_are_sent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"accountId": "a1"})

    site = JiraSite("https://proxy.example.net/jira/", username="me@example.com", token="t0k")
    async with client_for(handler, site) as client:
        assert await client.get_json("/rest/api/3/myself", params={"expand": "groups"}) == {"accountId": "a1"}
    request = seen[0]
    assert request.url.path == "/jira/rest/api/3/myself"
    counted = REGISTRY.get_sample_value(
        "kairus_jira_requests_total", {"endpoint": "GET /rest/api/3/myself", "status": "200"}
    )
    assert counted is not None and counted >= 1
    assert request.url.params["expand"] == "groups"
    expected = base64.b64encode(b"me@example.com:t0k").decode()
    assert request.headers["authorization"] == f"Basic {expected}"


async def test_bearer_auth_for_server_pat() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return httpx.Response(200, json=[])

    site = JiraSite("http://jira.local:8080", deployment="server", auth="bearer", token="pat-123")
    async with client_for(handler, site) as client:
        assert client.api == "/rest/api/2"
        await client.get_json("/rest/api/2/field")
    assert seen == ["Bearer pat-123"]


def test_bad_site_definitions_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="http"):
        JiraClient(JiraSite("ftp://x", username="u", token="t"))
    with pytest.raises(ConfigError, match="API token"):
        JiraClient(JiraSite("https://x", username="u", token=""))


async def test_5xx_reset_timeout_and_truncated_body_are_retried_and_counted() -> None:
    handler, arrivals = failing_then_ok(
        [
            httpx.Response(500, json={"errorMessages": ["boom"]}),
            httpx.ReadError("connection reset by peer"),
            httpx.ReadTimeout("slow"),
            httpx.Response(200, content=b'{"issues": [{"id": "1"'),  # cut off mid-body
        ]
    )
    async with client_for(handler) as client:
        assert await client.post_json("/rest/api/3/search/jql", json={"jql": "x"}) == {"ok": True}
    stats = client.stats.as_dict()
    assert len(arrivals) == 5
    assert stats["requests"] == 5
    assert stats["retries"] == 4
    statuses = stats["by_endpoint"]["POST /rest/api/3/search/jql"]
    assert statuses == {"500": 1, "error": 1, "timeout": 1, "200": 2}


async def test_retry_after_is_obeyed_and_429_counted() -> None:
    handler, arrivals = failing_then_ok([httpx.Response(429, headers={"Retry-After": "0.3"})])
    async with client_for(handler) as client:
        await client.get_json("/rest/api/3/project/search")
    assert client.stats.responses_429 == 1
    # The retry left no earlier than the server asked (a lower bound, not a timing assertion).
    assert arrivals[1] - arrivals[0] >= 0.3


async def test_x_ratelimit_reset_is_obeyed_without_retry_after() -> None:
    reset = (datetime.now(UTC) + timedelta(seconds=0.4)).isoformat()
    handler, arrivals = failing_then_ok([httpx.Response(429, headers={"X-RateLimit-Reset": reset})])
    async with client_for(handler) as client:
        await client.get_json("/rest/api/3/field")
    assert arrivals[1] - arrivals[0] >= 0.3


async def test_429_with_retry_after_pauses_every_request_of_the_site() -> None:
    """A throttle answer holds back other requests too, not only the one retried."""
    arrivals: dict[str, list[float]] = {"a": [], "b": []}
    first = {"done": False}
    throttled = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        name = request.url.path.rsplit("/", 1)[-1]
        arrivals[name].append(time.monotonic())
        if name == "a" and not first["done"]:
            first["done"] = True
            throttled.set()
            return httpx.Response(429, headers={"Retry-After": "0.3"})
        return httpx.Response(200, json={})

    async def later_b(client: JiraClient) -> None:
        await throttled.wait()
        await client.get_json("/x/b")  # issued while "a" waits for its Retry-After

    async with client_for(handler) as client:
        await asyncio.gather(client.get_json("/x/a"), later_b(client))
    assert arrivals["b"][0] - arrivals["a"][0] >= 0.3


async def test_transient_failures_give_up_after_max_attempts() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502)

    async with client_for(handler) as client:
        with pytest.raises(JiraTransientError) as info:
            await client.get_json("/rest/api/3/issue/10001/comment")
    assert info.value.status == 502
    assert client.stats.requests == FAST.max_attempts
    assert client.stats.by_endpoint == {"GET /rest/api/3/issue/{id}/comment": {"502": FAST.max_attempts}}


@pytest.mark.parametrize(
    ("status", "error", "hint"),
    [
        (400, JiraBadRequestError, "JQL"),
        (401, JiraAuthError, "e-mail and API token"),
        (403, JiraPermissionError, "permission"),
        (404, JiraNotFoundError, "base URL"),
        (410, JiraError, "deployment type"),
    ],
)
async def test_terminal_statuses_fail_fast_with_a_clear_message(status: int, error: type, hint: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"errorMessages": ["Jira's own words"], "errors": {}})

    async with client_for(handler) as client:
        with pytest.raises(error) as info:
            await client.get_json("/rest/api/3/search")
    assert client.stats.requests == 1  # never retried
    assert client.stats.retries == 0
    message = str(info.value)
    assert hint in message
    assert "Jira's own words" in message
    assert "acme" in message  # names the integration
    assert not isinstance(info.value, JiraTransientError)


async def test_in_flight_never_exceeds_the_limit() -> None:
    state = {"now": 0, "peak": 0}

    async def handler(request: httpx.Request) -> httpx.Response:
        state["now"] += 1
        state["peak"] = max(state["peak"], state["now"])
        await asyncio.sleep(0.01)
        state["now"] -= 1
        return httpx.Response(200, json={})

    async with client_for(handler, max_in_flight=3) as client:
        await asyncio.gather(*(client.get_json(f"/rest/api/3/issue/{i}") for i in range(20)))
    assert state["peak"] == 3
    assert client.stats.requests == 20


async def test_429_storm_halves_the_limit_and_successes_restore_it() -> None:
    storm = {"left": 6}

    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.002)
        if storm["left"] > 0:
            storm["left"] -= 1
            return httpx.Response(429, headers={"Retry-After": "0"})
        return httpx.Response(200, json={})

    async with client_for(handler, max_in_flight=8, retry=RetryPolicy(max_attempts=10)) as client:
        await asyncio.gather(*(client.get_json(f"/rest/api/3/issue/{i}") for i in range(8)))
        lowered = client.limiter.limit
        assert 1 <= lowered < 8
        for _ in range(20):
            await asyncio.gather(*(client.get_json("/rest/api/3/field") for _ in range(8)))
        assert client.limiter.limit == 8  # recovered, and never above the maximum
    assert client.stats.responses_429 == 6


def test_endpoint_templates_hide_ids_and_keys() -> None:
    assert (
        endpoint_template("get", "/rest/api/3/issue/PAY-42/comment?x=1")
        == "GET /rest/api/3/issue/{id}/comment"
    )
    assert (
        endpoint_template("GET", "/rest/agile/1.0/board/17/sprint") == "GET /rest/agile/1.0/board/{id}/sprint"
    )
    assert endpoint_template("POST", "/rest/api/3/search/jql") == "POST /rest/api/3/search/jql"


class TokenBucketJira:
    """A Jira-like rate limiter: token bucket per credential, integer Retry-After, violations counted."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = burst, time.monotonic()
        self.not_before = 0.0
        self.ok = self.limited = self.violations = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        now = time.monotonic()
        if now < self.not_before:
            self.violations += 1
            self.limited += 1
            return httpx.Response(
                429, headers={"Retry-After": "1", "X-RateLimit-Limit": str(int(self.burst))}
            )
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            wait = max(1, int((1 - self.tokens) / self.rate + 0.999))
            self.not_before = now + wait
            self.limited += 1
            return httpx.Response(
                429, headers={"Retry-After": str(wait), "X-RateLimit-Limit": str(int(self.burst))}
            )
        self.tokens -= 1
        self.ok += 1
        await asyncio.sleep(0.005)  # latency after admission, like a real server
        return httpx.Response(200, json={})


async def test_pacer_learns_the_rate_and_never_violates_retry_after() -> None:
    server = TokenBucketJira(rate=40, burst=60)
    async with client_for(server, max_in_flight=8, retry=RetryPolicy(max_attempts=10)) as client:
        await asyncio.gather(*(client.get_json(f"/rest/api/3/issue/{i}") for i in range(300)))
        learned = client.limiter.rate
    assert server.ok == 300
    assert server.violations == 0
    # Paced at what two 429s measured: just under the server's 40/s, with only a handful of 429s.
    assert server.limited <= 8
    assert learned is not None and 30 <= learned <= 48

    # The next job of the same site starts at the learned pace instead of rediscovering it.
    limited_before = server.limited
    async with client_for(server, max_in_flight=8, retry=RetryPolicy(max_attempts=10)) as client:
        first_pace = client.limiter.rate
        assert first_pace is not None and 30 <= first_pace <= 48
        await asyncio.gather(*(client.get_json(f"/rest/api/3/issue/{i}") for i in range(120)))
    assert server.limited - limited_before <= 1
    assert server.violations == 0


async def test_pacer_with_a_small_burst_still_converges_without_violations() -> None:
    server = TokenBucketJira(rate=40, burst=10)  # the bucket overflows during each cool-down
    async with client_for(server, max_in_flight=8, retry=RetryPolicy(max_attempts=10)) as client:
        await asyncio.gather(*(client.get_json(f"/rest/api/3/issue/{i}") for i in range(80)))
    assert server.ok == 80
    assert server.violations == 0
    assert server.limited <= 4
