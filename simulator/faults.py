"""Request accounting and fault injection: stats per endpoint template, auth, token-bucket 429s,
429 storms, random 5xx, dropped connections, truncated bodies and latency.

Implemented as a plain ASGI middleware so that faults happen before (429/5xx) or around (latency, drops)
the real handler, and every request on a Jira path is counted under its route template.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import random
import threading
import time
from collections import defaultdict
from typing import Any

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from simulator.site import Site
from simulator.timefmt import reset_header


class Stats:
    """Calls per ``"METHOD /template"`` and status, plus Retry-After violations."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget all counts."""
        with self.lock:
            self.by_endpoint: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
            self.total = 0
            self.retry_after_violations = 0

    def count(self, endpoint: str, status: int | str) -> None:
        """Record one answered request."""
        with self.lock:
            self.by_endpoint[endpoint][str(status)] += 1
            self.total += 1

    def as_dict(self) -> dict[str, Any]:
        """The ``GET /__sim/stats`` body."""
        with self.lock:
            return {
                "total": self.total,
                "by_endpoint": {k: dict(v) for k, v in sorted(self.by_endpoint.items())},
                "retry_after_violations": self.retry_after_violations,
            }


class Bucket:
    """Token bucket of one credential plus the Retry-After it was last given."""

    def __init__(self, burst: float, now: float) -> None:
        self.tokens = burst
        self.stamp = now
        self.not_before = 0.0
        self.last_retry_after = 0


class Faults:
    """Run-time fault settings and state (seeded RNG, buckets, storm counter)."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.rng = random.Random(f"{site.config.seed}:faults")
        self.buckets: dict[str, Bucket] = {}
        self.storm = 0
        self.lock = threading.Lock()

    def rate_check(self, credential: str) -> tuple[int, dict[str, str]] | None:
        """None when the request may pass; else (status 429, headers)."""
        cfg = self.site.config
        now = time.monotonic()
        with self.lock:
            bucket = self.buckets.get(credential)
            burst = cfg.burst if cfg.burst is not None else max(cfg.rate or 1.0, 1.0)
            if bucket is None:
                bucket = self.buckets[credential] = Bucket(burst, now)
            if now < bucket.not_before:
                # Retrying before Retry-After elapsed earns an equal or longer wait (and is counted).
                self.site_stats.retry_after_violations += 1
                wait = max(bucket.last_retry_after, math.ceil(bucket.not_before - now))
                return self._limited(bucket, wait, now, burst, "jira-burst-based")
            if self.storm > 0:
                self.storm -= 1
                return self._limited(bucket, 1, now, burst, "jira-quota-tenant-based")
            if cfg.rate is None:
                return None
            bucket.tokens = min(burst, bucket.tokens + (now - bucket.stamp) * cfg.rate)
            bucket.stamp = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            wait = max(1, math.ceil((1.0 - bucket.tokens) / cfg.rate))
            return self._limited(bucket, wait, now, burst, "jira-burst-based")

    def _limited(
        self, bucket: Bucket, wait: int, now: float, burst: float, reason: str
    ) -> tuple[int, dict[str, str]]:
        bucket.not_before = now + wait
        bucket.last_retry_after = wait
        reset_ms = self.site.clock.now_ms() + wait * 1000
        headers = {
            "Retry-After": str(wait),
            "X-RateLimit-Limit": str(int(burst)),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": reset_header(reset_ms),
            "RateLimit-Reason": reason,
            "X-RateLimit-NearLimit": "true",
        }
        if self.site.server:
            headers["X-RateLimit-FillRate"] = str(self.site.config.rate or 1)
            headers["X-RateLimit-Interval-Seconds"] = "1"
        return 429, headers

    site_stats: Stats

    def budget_headers(self, credential: str) -> list[tuple[bytes, bytes]]:
        """``X-RateLimit-Limit/-Remaining`` (and ``NearLimit`` under 20%) for an admitted request."""
        bucket = self.buckets.get(credential)
        cfg = self.site.config
        if bucket is None or cfg.rate is None:
            return []
        burst = cfg.burst if cfg.burst is not None else max(cfg.rate, 1.0)
        out = [
            (b"x-ratelimit-limit", str(int(burst)).encode()),
            (b"x-ratelimit-remaining", str(int(bucket.tokens)).encode()),
        ]
        if bucket.tokens < 0.2 * burst:
            out.append((b"x-ratelimit-nearlimit", b"true"))
        if self.site.server:
            # Data Center describes its bucket instead: refill per interval.
            out += [
                (b"x-ratelimit-fillrate", str(cfg.rate).encode()),
                (b"x-ratelimit-interval-seconds", b"1"),
            ]
        return out

    def draw_error(self) -> int | None:
        """A random 5xx status at ``error_rate`` (None most of the time)."""
        rate = self.site.config.error_rate
        if rate <= 0:
            return None
        with self.lock:
            if self.rng.random() >= rate:
                return None
            return self.rng.choice([500, 502, 503, 504])

    def draw_drop(self) -> str | None:
        """``"close"`` or ``"truncate"`` at ``drop_rate``."""
        rate = self.site.config.drop_rate
        if rate <= 0:
            return None
        with self.lock:
            if self.rng.random() >= rate:
                return None
            return self.rng.choice(["close", "truncate"])

    def per_issue_s(self, issues: int) -> float:
        """The page-size dependent part of the latency: ``per_issue_ms`` per returned issue."""
        return self.site.config.per_issue_ms * issues / 1000.0

    def latency_s(self, issues: int = 0) -> float:
        """Base latency (log-normal jitter around ``latency_ms``) plus ``per_issue_ms`` per issue."""
        cfg = self.site.config
        base = cfg.latency_ms / 1000.0
        if base > 0:
            with self.lock:
                base *= self.rng.lognormvariate(0.0, 0.25)
        return base + cfg.per_issue_ms * issues / 1000.0


def error_body(messages: list[str], errors: dict[str, str] | None = None) -> bytes:
    """Jira's standard error body."""
    return json.dumps({"errorMessages": messages, "errors": errors or {}}).encode()


class SimMiddleware:
    """Auth, accounting and faults for every Jira path; ``/__sim/*`` passes untouched."""

    def __init__(self, app: ASGIApp, site: Site, stats: Stats, faults: Faults) -> None:
        self.app, self.site, self.stats, self.faults = app, site, stats, faults
        faults.site_stats = stats
        self.routes: list[Any] = []  # the APIRoutes of every included router (full paths)

    def template(self, scope: Scope) -> str:
        """``"GET /rest/api/3/search/jql"``: the matched route's path with the API version filled in."""
        path = scope["path"]
        for route in self.routes:
            match, child = route.matches(scope)
            if match == Match.FULL:
                tmpl: str = route.path
                # API versions are part of the template: "GET /rest/api/3/search/jql".
                for name in ("ver", "dver"):
                    value = child.get("path_params", {}).get(name)
                    if value is not None:
                        tmpl = tmpl.replace("{" + name + "}", str(value))
                return f"{scope['method']} {tmpl}"
        return f"{scope['method']} {path} (unknown)"

    def authorized(self, scope: Scope) -> str | None:
        """The credential string when the Authorization header is valid, else None."""
        cfg = self.site.config
        header = ""
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                header = value.decode("latin-1")
                break
        scheme, _, cred = header.partition(" ")
        if scheme.lower() == "bearer" and cred == cfg.token:
            return header
        if scheme.lower() == "basic":
            try:
                user, _, secret = base64.b64decode(cred).decode().partition(":")
            except ValueError:
                return None
            if user == cfg.email and secret == cfg.token:
                return header
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/__sim"):
            await self.app(scope, receive, send)
            return
        endpoint = self.template(scope)
        credential = self.authorized(scope)
        if credential is None:
            self.stats.count(endpoint, 401)
            await _send(
                send,
                401,
                error_body(["You are not authorized to access this resource. Check your credentials."]),
                {"WWW-Authenticate": "Basic"},
            )
            return
        limited = self.faults.rate_check(credential)
        if limited is not None:
            status, headers = limited
            self.stats.count(endpoint, status)
            await _send(send, status, error_body(["Rate limit exceeded."]), headers)
            return
        budget = self.faults.budget_headers(credential)
        err = self.faults.draw_error()
        if err == 504 and endpoint.endswith("/users/search"):
            err = 409  # users/search reports its slow-query timeout (over 10 s) as 409 Conflict
        if err is not None:
            self.stats.count(endpoint, err)
            headers = {"Retry-After": "1"} if err == 503 else {}
            await _send(send, err, error_body([f"Simulated server error {err}."]), headers)
            return
        delay = self.faults.latency_s()
        if delay > 0:
            await asyncio.sleep(delay)
        drop = self.faults.draw_drop()
        status_box = [200]

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_box[0] = message["status"]
                if budget:
                    message = dict(message, headers=[*message.get("headers", []), *budget])
            await send(message)

        if drop is None:
            await self.app(scope, receive, counting_send)
            self.stats.count(endpoint, status_box[0])
            return
        self.stats.count(endpoint, "dropped" if drop == "close" else "truncated")
        await self._faulty(scope, receive, send, drop)

    async def _faulty(self, scope: Scope, receive: Receive, send: Send, drop: str) -> None:
        """Run the handler, then close the socket without an answer or cut the body short."""
        messages: list[Message] = []

        async def capture(message: Message) -> None:
            messages.append(message)

        await self.app(scope, receive, capture)
        # Under uvicorn the request cycle's transport is reachable from `receive`: aborting it makes the
        # client see a reset. Elsewhere (ASGI transport) the raise reaches the client directly.
        transport = getattr(getattr(receive, "__self__", None), "transport", None)
        if drop == "close":
            if transport is not None:
                transport.abort()
                return
            raise ConnectionAbortedError("simulated dropped connection")
        start = messages[0]
        body = b"".join(m.get("body", b"") for m in messages[1:])
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": start["status"], "headers": headers})
        # Declared length stays the full size; the connection ends early, so the client sees an error.
        await send({"type": "http.response.body", "body": body[: max(1, len(body) // 2)], "more_body": True})
        if transport is not None:
            transport.close()  # flushes the half body, then EOF before the declared length
            return
        raise ConnectionAbortedError("simulated truncated body")


async def _send(send: Send, status: int, body: bytes, headers: dict[str, str]) -> None:
    raw = [(b"content-type", b"application/json;charset=UTF-8"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
