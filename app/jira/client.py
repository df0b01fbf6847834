"""The HTTP client for one Jira site: auth, timeouts, retries, adaptive flow control and accounting.

One :class:`JiraClient` (one ``httpx.AsyncClient``) per integration and job. Every request goes through
:meth:`JiraClient.request_json`, which waits for the :class:`~app.jira.limiter.AdaptiveLimiter`, counts
the attempt in :class:`~app.jira.stats.RequestStats`, retries transient failures with tenacity, and raises
terminal answers at once as the typed errors of :mod:`app.core.errors`.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from app.core.errors import ConfigError, JiraTransientError
from app.jira.limiter import AdaptiveLimiter
from app.jira.retry import RetryPolicy, error_for_status
from app.jira.stats import Notices, RequestStats, endpoint_template


@dataclass(frozen=True)
class JiraSite:
    """Where and how to reach one Jira site (an integration), and what to extract from it."""

    base_url: str
    deployment: Literal["cloud", "server"] = "cloud"
    auth: Literal["basic", "bearer"] = "basic"
    username: str = ""
    token: str = ""
    projects: tuple[str, ...] = ()
    jql: str | None = None
    name: str = "default"

    @property
    def api(self) -> str:
        """The platform REST prefix: ``/rest/api/3`` on Cloud, ``/rest/api/2`` on Server/Data Center."""
        return "/rest/api/3" if self.deployment == "cloud" else "/rest/api/2"


def _auth_for(site: JiraSite) -> httpx.Auth | None:
    if site.auth == "basic":
        if not site.username or not site.token:
            raise ConfigError(
                f"Integration '{site.name}': Basic auth needs a username (e-mail) and an API token."
            )
        return httpx.BasicAuth(site.username, site.token)
    if site.auth == "bearer":
        if not site.token:
            raise ConfigError(f"Integration '{site.name}': Bearer auth needs a personal access token.")
        return None  # the header is set directly
    raise ConfigError(f"Integration '{site.name}': auth must be 'basic' or 'bearer', not {site.auth!r}.")


def _credential_key(site: JiraSite) -> str:
    """Identifies a site and credential for the rate memo; the token itself is only hashed."""
    digest = hashlib.sha256(site.token.encode()).hexdigest()[:16]
    return f"{site.base_url.rstrip('/')}|{site.username}|{digest}"


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


class JiraClient:
    """Async JSON client for one site; use as ``async with JiraClient(site) as client``."""

    def __init__(
        self,
        site: JiraSite,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        max_in_flight: int = 8,
        timeout: float = 30.0,
        stats: RequestStats | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        if not site.base_url.startswith(("http://", "https://")):
            raise ConfigError(f"Integration '{site.name}': base URL must start with http:// or https://.")
        self.site = site
        self.stats = stats if stats is not None else RequestStats()
        self.retry = retry or RetryPolicy()
        self.limiter = AdaptiveLimiter(max_in_flight, name=site.name, key=_credential_key(site))
        self.notices = Notices()
        # Per-job memo of things learned once (the /field list, endpoints found missing, ...).
        self.cache: dict[str, Any] = {}
        headers = {"Accept": "application/json", "User-Agent": "kairus-etl/0.1"}
        auth = _auth_for(site)
        if site.auth == "bearer":
            headers["Authorization"] = f"Bearer {site.token}"
        self._http = httpx.AsyncClient(
            base_url=site.base_url.rstrip("/"),
            auth=auth,
            headers=headers,
            timeout=httpx.Timeout(timeout),
            transport=transport,
            limits=httpx.Limits(max_connections=max_in_flight * 2, max_keepalive_connections=max_in_flight),
        )

    @property
    def api(self) -> str:
        """The platform REST prefix for this site's deployment type."""
        return self.site.api

    async def __aenter__(self) -> JiraClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the underlying connection pool."""
        await self._http.aclose()

    async def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET ``path`` (relative to the base URL) and return the decoded JSON body."""
        return await self.request_json("GET", path, params=params)

    async def post_json(self, path: str, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        """POST ``json`` to ``path`` (a read: Jira's search and bulk-fetch endpoints) and return the JSON."""
        return await self.request_json("POST", path, params=params, json=json)

    async def request_json(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None
    ) -> Any:
        """Send one logical request, retrying transient failures; raise typed errors for terminal ones."""
        endpoint = endpoint_template(method, path)
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.retry.max_attempts),
            retry=retry_if_exception_type(JiraTransientError),
            wait=self._wait,
            before_sleep=lambda state: self._count_retry(endpoint, state),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._attempt(method, path, endpoint, params, json)
        raise AssertionError("unreachable: tenacity either returns or re-raises")  # pragma: no cover

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        return self.retry.backoff(state.attempt_number, retry_after)

    def _count_retry(self, endpoint: str, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        status = getattr(exc, "status", None)
        self.stats.record_retry(endpoint, str(status) if status else "network")

    async def _attempt(
        self, method: str, path: str, endpoint: str, params: dict[str, Any] | None, json: Any
    ) -> Any:
        ticket = await self.limiter.acquire()
        started = time.monotonic()
        status = "error"
        try:
            try:
                response = await self._http.request(method, path, params=params, json=json)
            except httpx.TimeoutException as exc:
                status = "timeout"
                raise JiraTransientError(
                    f"Timeout calling {endpoint} on integration '{self.site.name}'", endpoint=endpoint
                ) from exc
            except httpx.TransportError as exc:  # resets, refused connections, truncated bodies
                raise JiraTransientError(
                    f"Connection failed calling {endpoint} on integration '{self.site.name}': {exc!r}",
                    endpoint=endpoint,
                ) from exc
            status = str(response.status_code)
            throttled = response.status_code == 429
            self.limiter.on_response(ticket, throttled)
            if response.is_success:
                return self._decode(response, endpoint)
            error = error_for_status(response, site=self.site.name, endpoint=endpoint, auth=self.site.auth)
            if throttled:
                # Only 429 speaks for the whole credential; a 503's Retry-After delays just its own retry.
                limit = _number(response.headers.get("x-ratelimit-limit"))
                self.limiter.on_throttle(ticket, getattr(error, "retry_after", None), limit)
            raise error
        finally:
            self.stats.record(endpoint, status, time.monotonic() - started)
            await self.limiter.release(ticket)

    def _decode(self, response: httpx.Response, endpoint: str) -> Any:
        if response.status_code == 204 or not response.content:
            self.limiter.on_success()
            return None
        try:
            data = response.json()
        except ValueError as exc:
            # A 2xx whose body does not parse was cut off on the way: transient, retry it.
            raise JiraTransientError(
                f"Truncated or invalid JSON from {endpoint} on integration '{self.site.name}'",
                status=response.status_code,
                endpoint=endpoint,
            ) from exc
        self.limiter.on_success()
        return data
