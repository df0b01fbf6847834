"""The simulator's outermost ASGI layer: auth, accounting per route template, and fault injection.

Faults happen before the handler (401, 429, 5xx) or around it (latency, dropped connections, truncated
bodies); ``/__sim/*`` passes untouched.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from simulator.faults import Faults, error_body
from simulator.site import Site
from simulator.stats import Stats


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
