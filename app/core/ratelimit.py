"""Per-client API rate limiting with the ``limits`` library (the engine behind slowapi).

Storage is Redis when ``REDIS_URL`` is set (so several replicas share one budget), memory otherwise.
Over the limit the API answers ``429 {"detail": ...}`` with ``Retry-After`` (seconds). Liveness and
metrics probes and the admin's static files are exempt. If Redis is unreachable the request is let through
and a warning logged: an outage of the limiter must not become an outage of the API.

The admin pages poll while a job runs (the jobs list's JSON and a job page's live part, ~30 requests a
minute per open page). Those polls, from a *signed-in* admin session (a valid JWT in its cookie), draw on
a separate, larger budget (``poll_limit``) instead of the API's; without a valid session they count like
any API request, so a forged cookie buys nothing.
"""

from __future__ import annotations

import json
import math
import re
import time
from typing import Any

import structlog
from limits import RateLimitItem, parse_many
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.security import decode_access_token

log = structlog.get_logger("app.ratelimit")

EXEMPT_PATHS = frozenset({"/health", "/metrics"})
# Password endpoints get a second, stricter budget: it is what slows down password guessing.
LOGIN_PATHS = frozenset({"/api/v1/auth/token", "/admin/login"})
EXEMPT_PREFIXES = ("/static/", "/admin/static/")
# What the admin pages poll (GET only), and the cookie holding the admin session's JWT.
POLL_PATHS = re.compile(r"/admin/jobs\.json|/admin/jobs/[^/]+/live")
ADMIN_SESSION_COOKIE = "kairus_admin"
DEFAULT_POLL_LIMIT = "600/minute"


def make_storage(redis_url: str | None) -> Storage:
    """Redis-backed storage for ``redis_url``, or in-process memory when it is None."""
    if redis_url:
        storage = storage_from_string(f"async+{redis_url}", implementation="redispy", key_prefix="kairus_rl")
    else:
        storage = storage_from_string("async+memory://")
    assert isinstance(storage, Storage)
    return storage


def signed_in_poll(scope: Scope) -> bool:
    """Whether the request is an admin page's poll from a signed-in session (a JWT that verifies)."""
    if scope.get("method") != "GET" or not POLL_PATHS.fullmatch(scope.get("path", "")):
        return False
    cookies: dict[str, str] = {}
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            cookies.update(cookie_parser(value.decode("latin-1")))
    token = cookies.get(ADMIN_SESSION_COOKIE)
    if not token:
        return False
    # The app's own settings (the secret that signed the cookie); None falls back to the active ones.
    app: Any = scope.get("app")
    settings = getattr(getattr(app, "state", None), "settings", None)
    try:
        decode_access_token(token, settings)
    except Exception:  # forged, expired or unverifiable: an ordinary request
        return False
    return True


def client_key(scope: Scope) -> str:
    """The client's address (uvicorn's ``--proxy-headers`` puts the real one here behind a proxy)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class RateLimitMiddleware:
    """ASGI middleware applying ``RATE_LIMIT`` (e.g. ``120/minute``) to every client."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: str,
        storage: Storage,
        login_limit: str | None = None,
        poll_limit: str = DEFAULT_POLL_LIMIT,
    ) -> None:
        self.app = app
        self.limits: list[RateLimitItem] = parse_many(limit)
        self.login_limits: list[RateLimitItem] = parse_many(login_limit) if login_limit else []
        self.poll_limits: list[RateLimitItem] = parse_many(poll_limit)
        self.storage = storage
        self.limiter = MovingWindowRateLimiter(storage)

    async def _retry_after(self, items: list[RateLimitItem], key: str) -> int | None:
        """Seconds to wait when any limit is exhausted for ``key``; None when the request may pass."""
        for item in items:
            if not await self.limiter.hit(item, key):
                stats = await self.limiter.get_window_stats(item, key)
                return max(1, math.ceil(stats.reset_time - time.time()))
        return None

    async def _check(self, scope: Scope) -> int | None:
        client = client_key(scope)
        if signed_in_poll(scope):
            return await self._retry_after(self.poll_limits, f"poll:{client}")
        retry_after = await self._retry_after(self.limits, client)
        if retry_after is None and scope.get("method") == "POST" and scope.get("path") in LOGIN_PATHS:
            retry_after = await self._retry_after(self.login_limits, f"login:{client}")
        return retry_after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path in EXEMPT_PATHS or path.startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        try:
            retry_after = await self._check(scope)
        except Exception as exc:
            log.warning("rate limiter unavailable; request allowed", error=str(exc))
            retry_after = None
        if retry_after is None:
            await self.app(scope, receive, send)
            return
        body = json.dumps({"detail": f"Rate limit exceeded; retry in {retry_after} s"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(retry_after).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
