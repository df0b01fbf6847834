"""Fault settings and state: token-bucket 429s with Retry-After, 429 storms, random 5xx, dropped
connections and truncated bodies (drawn from a seeded RNG), and latency. ``middleware.py`` applies them."""

from __future__ import annotations

import json
import math
import random
import threading
import time

from simulator.site import Site
from simulator.stats import Stats
from simulator.timefmt import reset_header


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
