"""Jira's timestamp formats: ``2025-03-01T16:40:12.345-0800`` (milliseconds, offset without colon)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo


@lru_cache(maxsize=16)
def zone(name: str) -> tzinfo:
    """A cached ``ZoneInfo`` (UTC for "UTC")."""
    return UTC if name.upper() == "UTC" else ZoneInfo(name)


_OFFSETS: dict[tuple[int, int], tuple[int, str]] = {}


def _offset(hour: int, tz: tzinfo) -> tuple[int, str]:
    # Zone offsets only change on whole hours here, so one lookup per (zone, hour) is enough.
    key = (id(tz), hour)
    hit = _OFFSETS.get(key)
    if hit is None:
        dt = datetime.fromtimestamp(hour * 3600, tz)
        off = dt.utcoffset()
        secs = int(off.total_seconds()) if off is not None else 0
        hit = _OFFSETS[key] = (secs * 1000, dt.strftime("%z"))
        if len(_OFFSETS) > 200_000:
            _OFFSETS.clear()
    return hit


def jira_ts(ms: int, tz: tzinfo) -> str:
    """Format epoch ms the way Jira Cloud writes timestamps, in the given zone (``...T16:40:12.345-0800``)."""
    off_ms, off_s = _offset(ms // 3_600_000, tz)
    y, mo, d, h, mi, s = time.gmtime((ms + off_ms) // 1000)[:6]
    return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}.{ms % 1000:03d}{off_s}"


def jira_date(ms: int, tz: tzinfo) -> str:
    """A date-only field (``duedate``): ``2025-03-14``."""
    return datetime.fromtimestamp(ms / 1000, tz).strftime("%Y-%m-%d")


def agile_ts(ms: int, tz: tzinfo) -> str:
    """Agile API dates carry a colon in the offset: ``2015-04-11T15:22:00.000+10:00``."""
    dt = datetime.fromtimestamp(ms / 1000, tz)
    return dt.isoformat(timespec="milliseconds")


def utc_z(ms: int) -> str:
    """``2025-02-24T09:00:00.000Z`` as in the Cloud Sprint field."""
    dt = datetime.fromtimestamp(ms / 1000, UTC)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


def reset_header(ms: int) -> str:
    """``X-RateLimit-Reset``: ISO ``yyyy-MM-ddTHH:mmZ``."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%MZ")


def parse_iso_ms(text: str) -> int:
    """Epoch ms of an ISO 8601 string (naive means UTC)."""
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


DAY_MS = int(timedelta(days=1).total_seconds() * 1000)
