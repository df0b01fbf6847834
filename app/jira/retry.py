"""How Jira's answers map onto the shared exception tree, and how long to wait before retrying.

Transient (retried): 429, 5xx, 409 from ``users/search`` (slow query), timeouts, resets, truncated bodies.
Terminal (raised at once): 400, 401, 403, 404, 410 and any other 4xx, each with a message saying what to fix.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from app.core.errors import (
    JiraAuthError,
    JiraBadRequestError,
    JiraError,
    JiraNotFoundError,
    JiraPermissionError,
    JiraTransientError,
)

RETRYABLE_STATUSES = frozenset({409, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter; ``Retry-After`` / ``X-RateLimit-Reset`` override the computed wait."""

    max_attempts: int = 8
    base_delay: float = 1.0
    max_delay: float = 30.0
    jitter: float = 0.3  # +-30% on computed waits, +0..30% on server-given waits

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
        if retry_after is not None:
            # Never earlier than the server asked; a little later spreads the herd.
            return retry_after * (1.0 + random.uniform(0.0, self.jitter)) + 0.01
        delay = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return delay * random.uniform(1.0 - self.jitter, 1.0 + self.jitter)


def retry_after_seconds(headers: httpx.Headers, now: datetime | None = None) -> float | None:
    """Read ``Retry-After`` (seconds or HTTP date) or, failing that, ``X-RateLimit-Reset`` (ISO instant)."""
    value = headers.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            parsed = _parse_instant(value)
            if parsed is not None:
                return max(0.0, (parsed - (now or datetime.now(UTC))).total_seconds())
    reset = headers.get("x-ratelimit-reset")
    if reset:
        parsed = _parse_instant(reset)
        if parsed is not None:
            return max(0.0, (parsed - (now or datetime.now(UTC))).total_seconds())
    return None


def _parse_instant(value: str) -> datetime | None:
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _jira_messages(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    parts = [str(m) for m in body.get("errorMessages") or []]
    errors = body.get("errors")
    if isinstance(errors, dict):
        parts.extend(f"{k}: {v}" for k, v in errors.items())
    return "; ".join(parts)


def error_for_status(
    response: httpx.Response, *, site: str, endpoint: str, auth: str
) -> JiraError | JiraTransientError:
    """Build the typed error for a non-2xx ``response`` of ``endpoint`` on site ``site``."""
    status = response.status_code
    try:
        detail = _jira_messages(response.json())
    except ValueError:
        detail = response.text[:200]
    said = f" Jira said: {detail}" if detail else ""
    where = f"{endpoint} on integration '{site}'"
    if status in RETRYABLE_STATUSES:
        return JiraTransientError(
            f"{status} from {where}.{said}",
            status=status,
            endpoint=endpoint,
            retry_after=retry_after_seconds(response.headers),
        )
    cred = "e-mail and API token" if auth == "basic" else "personal access token"
    hints = {
        400: (JiraBadRequestError, "Jira rejected the request; check the integration's JQL and projects."),
        401: (JiraAuthError, f"Jira rejected the credentials; check the integration's {cred} and base URL."),
        403: (
            JiraPermissionError,
            "the Jira account lacks a permission; grant it Browse Projects (and "
            "View Development Tools for dev-status) or use another account.",
        ),
        404: (
            JiraNotFoundError,
            "not found or not visible to this account; check the base URL (including "
            "any path prefix), the deployment type (cloud/server) and the project keys.",
        ),
        410: (
            JiraError,
            "this Jira endpoint was removed; set the integration's deployment type correctly "
            "(Cloud uses /rest/api/3/search/jql).",
        ),
    }
    cls, hint = hints.get(status, (JiraError, "unexpected answer from Jira."))
    return cls(f"{status} from {where}: {hint}{said}", status=status, endpoint=endpoint)
