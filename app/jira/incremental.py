"""Incremental sync: the JQL of a partition's scan and the watermark it advances.

JQL date literals are read in the Jira *user's* time zone at minute precision, so the scan uses epoch
milliseconds instead (``updated >= 1732877091000``), which mean the same instant everywhere. The lower bound
is the partition's watermark minus an overlap window (eventual consistency, and re-reading is harmless
downstream); the upper bound is the run's closed ``until``. The watermark is the largest ``updated`` actually
delivered, never the time the run started.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from app.core.errors import PayloadError

DEFAULT_OVERLAP = timedelta(minutes=2)
ORDER = "ORDER BY updated ASC, id ASC"
# A trailing ORDER BY outside quotes (a JQL string literal never spans a quote character unescaped).
_ORDER_BY = re.compile(r'\border\s+by\b(?=(?:[^"]*"[^"]*")*[^"]*$)', re.IGNORECASE)


def epoch_ms(instant: datetime) -> int:
    """Milliseconds since the epoch of a timezone-aware ``instant``."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime: watermarks and bounds must be timezone-aware")
    return int(instant.timestamp() * 1000)


def parse_jira_datetime(value: Any) -> datetime:
    """Parse Jira's ``2025-03-01T16:40:12.345+0000`` (or ISO with colon / ``Z``, or epoch ms) into UTC."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    if not isinstance(value, str):
        raise PayloadError(f"Expected a Jira timestamp, got {value!r}")
    text = value.strip().replace("Z", "+00:00")
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(text, fmt).astimezone(UTC)
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise PayloadError(f"Unreadable Jira timestamp {value!r}") from exc
    if parsed.tzinfo is None:
        raise PayloadError(f"Jira timestamp without a zone: {value!r}")
    return parsed.astimezone(UTC)


def quote_jql(value: str) -> str:
    """A JQL string literal: quoted, with quotes and backslashes escaped (project keys are user input)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def strip_order_by(jql: str) -> str:
    """The filter part of a user's JQL: its own ``ORDER BY`` would be a 400 inside our parentheses."""
    match = _ORDER_BY.search(jql)
    return (jql[: match.start()] if match else jql).strip()


def and_jql(*filters: str | None) -> str | None:
    """The conjunction of the non-empty ``filters`` (each parenthesised, ORDER BY dropped), or None."""
    parts = [strip_order_by(f) for f in filters if f and f.strip()]
    parts = [p for p in parts if p]
    # Each part parenthesised: an OR inside one filter must not escape into the conjunction.
    return " AND ".join(f"({p})" for p in parts) if parts else None


def partition_jql(
    project: str,
    *,
    since: datetime | None,
    until: datetime,
    overlap: timedelta = DEFAULT_OVERLAP,
    extra_jql: str | None = None,
) -> str:
    """The bounded JQL for one project partition, ordered so a crashed scan can resume from its watermark.

    ``since`` None means a full scan (still bounded above by ``until``). ``extra_jql`` (the integration's own
    filter) is ANDed in parentheses, without any ORDER BY of its own (Jira answers 400 to one in there).
    """
    clauses = [f"project = {quote_jql(project)}"]
    extra = strip_order_by(extra_jql or "")
    if extra:
        clauses.append(f"({extra})")
    if since is not None:
        clauses.append(f"updated >= {epoch_ms(since - overlap)}")
    clauses.append(f"updated <= {epoch_ms(until)}")
    return " AND ".join(clauses) + f" {ORDER}"


def max_updated(issues: Iterable[dict[str, Any]], current: datetime | None = None) -> datetime | None:
    """The largest ``fields.updated`` among ``issues`` (and ``current``): the watermark they justify."""
    best = current
    for issue in issues:
        raw = (issue.get("fields") or {}).get("updated")
        if raw is None:
            continue
        value = parse_jira_datetime(raw)
        if best is None or value > best:
            best = value
    return best
