"""Pure-ASGI middleware: request ids, access log, HTTP metrics and security headers.

Pure ASGI (not ``BaseHTTPMiddleware``) so streaming responses and background tasks are untouched and the
contextvars bound here are visible in the route's own log lines.
"""

from __future__ import annotations

import re
import secrets
import time
import uuid
from typing import Any

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.metrics import HTTP_LATENCY, HTTP_REQUESTS

log = structlog.get_logger("app.http")

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,128}$")
# FastAPI's /docs and /redoc pages load their bundles from these CDNs.
_DOCS_PATHS = ("/docs", "/redoc")
_DOCS_SOURCES = "https://cdn.jsdelivr.net https://unpkg.com"
_UNLOGGED_PATHS = frozenset({"/health", "/metrics"})


def content_security_policy(path: str, nonce: str) -> str:
    """The CSP for a page: scripts only from us or carrying this response's nonce (never inline)."""
    scripts = f"'self' 'nonce-{nonce}'"
    styles = "'self' 'unsafe-inline'"  # inline *styles* cannot run code; Swagger/ReDoc need them
    images = "'self' data:"
    fonts = "'self'"
    extra = ""
    if path.startswith(_DOCS_PATHS):
        scripts += f" {_DOCS_SOURCES}"
        styles += f" {_DOCS_SOURCES} https://fonts.googleapis.com"
        images += " https://fastapi.tiangolo.com https://cdn.redoc.ly"
        fonts += " https://fonts.gstatic.com"
        extra = "; worker-src 'self' blob:"
    return (
        f"default-src 'self'; script-src {scripts}; style-src {styles}; img-src {images}; "
        f"font-src {fonts}; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; "
        f"form-action 'self'{extra}"
    )


def _is_https(scope: Scope) -> bool:
    if scope.get("scheme") == "https":
        return True
    for name, value in scope.get("headers", []):
        if name == b"x-forwarded-proto":
            return bool(value.decode("latin-1").split(",")[0].strip().lower() == "https")
    return False


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            candidate = value.decode("latin-1").strip()
            # Echo only sane ids: a header is attacker-controlled and ends up in our logs.
            return candidate if _VALID_REQUEST_ID.match(candidate) else None
    return None


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    # Unmatched paths are grouped so scanners cannot blow up the metric's cardinality.
    return str(path) if path else "<unmatched>"


class RequestContextMiddleware:
    """Binds a request id, logs one line per request, records metrics and adds security headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        nonce = secrets.token_urlsafe(16)
        # Routes and templates read the nonce (request.state.csp_nonce) to mark their own <script> tags.
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["csp_nonce"] = nonce
        path: str = scope.get("path", "")
        https = _is_https(scope)
        status_holder = {"status": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = request_id
                headers.setdefault("Content-Security-Policy", content_security_policy(path, nonce))
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
                headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
                if https:
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
            await send(message)

        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            log.exception("request failed", method=scope.get("method"), path=path)
            raise
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            method = str(scope.get("method", ""))
            status = status_holder["status"]
            HTTP_REQUESTS.labels(method=method, route=route, status=str(status)).inc()
            HTTP_LATENCY.labels(method=method, route=route).observe(elapsed)
            if path not in _UNLOGGED_PATHS:
                log.info(
                    "request",
                    method=method,
                    path=path,
                    route=route,
                    status=status,
                    ms=round(elapsed * 1000, 1),
                )
            structlog.contextvars.clear_contextvars()
