"""Request accounting: endpoint templates, per-job statistics and the Prometheus families.

Every HTTP attempt the client makes (including retried ones) is counted once here, both in the process-wide
Prometheus metrics (``JIRA_*`` in :mod:`app.core.metrics`) and in the job's own :class:`RequestStats`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from app.core.metrics import JIRA_LATENCY, JIRA_RATE_LIMITED, JIRA_REQUESTS, JIRA_RETRIES

# A path segment that identifies one object: numeric ids ("10002"), issue keys ("PAY-42").
_ID_SEGMENT = re.compile(r"^(\d+|[A-Za-z][A-Za-z0-9_]*-\d+)$")
_API_NAMES = frozenset({"api", "agile", "dev-status", "greenhopper", "auth"})


def endpoint_template(method: str, path: str) -> str:
    """Return ``"GET /rest/api/3/issue/{id}/comment"`` for ``GET /rest/api/3/issue/10002/comment``.

    Labels stay low-cardinality: ids and keys in the path become ``{id}``; the query string is dropped.
    """
    segments = path.split("?", 1)[0].split("/")
    parts = [
        # "/rest/api/3": the segment after an API name is its version, not an id.
        "{id}" if _ID_SEGMENT.match(seg) and (i == 0 or segments[i - 1] not in _API_NAMES) else seg
        for i, seg in enumerate(segments)
    ]
    return f"{method.upper()} {'/'.join(parts)}"


@dataclass
class RequestStats:
    """What one job asked of Jira: attempts by endpoint and status, 429s, retries and time spent."""

    requests: int = 0
    responses_429: int = 0
    retries: int = 0
    seconds: float = 0.0
    by_endpoint: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))

    def record(self, endpoint: str, status: str, seconds: float) -> None:
        """Count one attempt (``status`` is the HTTP status, or ``"timeout"``/``"error"``)."""
        self.requests += 1
        self.seconds += seconds
        per_status = self.by_endpoint[endpoint]
        per_status[status] = per_status.get(status, 0) + 1
        if status == "429":
            self.responses_429 += 1
            JIRA_RATE_LIMITED.labels(endpoint=endpoint).inc()
        JIRA_REQUESTS.labels(endpoint=endpoint, status=status).inc()
        JIRA_LATENCY.labels(endpoint=endpoint).observe(seconds)

    def record_retry(self, endpoint: str, reason: str) -> None:
        """Count one retry decision (the retried attempt itself is counted by :meth:`record`)."""
        self.retries += 1
        JIRA_RETRIES.labels(endpoint=endpoint, reason=reason).inc()

    def as_dict(self) -> dict[str, Any]:
        """The JSON-able form stored in ``Job.stats``."""
        return {
            "requests": self.requests,
            "by_endpoint": {ep: dict(statuses) for ep, statuses in sorted(self.by_endpoint.items())},
            "responses_429": self.responses_429,
            "retries": self.retries,
            "seconds": round(self.seconds, 3),
        }


class Notices:
    """Job-level warnings reported once each (e.g. "dev-status forbidden"), not once per issue."""

    def __init__(self) -> None:
        self._seen: dict[str, str] = {}

    def add(self, key: str, message: str) -> bool:
        """Record ``message`` under ``key``; return True only the first time the key is seen."""
        if key in self._seen:
            return False
        self._seen[key] = message
        return True

    def as_list(self) -> list[str]:
        """All distinct notices, in the order they were first raised."""
        return list(self._seen.values())

    def __contains__(self, key: object) -> bool:
        return key in self._seen
