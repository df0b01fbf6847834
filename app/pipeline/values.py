"""Small value parsers shared by the transforms: timestamps, dates, users, ids.

Parsers are total: a value they cannot read comes back unchanged, so the row keeps the evidence and
``validate`` quarantines it with a reason (instead of one bad value failing the whole batch here).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

_fromiso: Final = datetime.fromisoformat
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


#: Jira's own timestamp layout, ``2025-03-14T16:40:12.345-0800``: 28 characters, the offset at 23.
_JIRA_TS_LEN: Final = 28
_OFFSET_AT: Final = 23
#: ``-0800`` -> the timedelta to subtract for UTC (None: not a valid offset), filled as offsets are met.
_offsets: Final[dict[str, timedelta | None]] = {}
_UNSEEN: Final = timedelta.max  # no offset is that long


def _jira_offset(text: str) -> timedelta | None:
    """The offset of ``+HHMM``/``-HHMM`` (ASCII digits, under 24 hours), else None."""
    digits = text[1:]
    if text[0] not in "+-" or not (digits.isascii() and digits.isdigit()):
        return None
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 23 or minutes > 59:
        return None
    offset = timedelta(hours=hours, minutes=minutes)
    return -offset if text[0] == "-" else offset


def to_utc(value: Any) -> Any:
    """A Jira instant as an aware UTC datetime.

    Accepts ISO strings with any offset (``+0000``, ``+05:30``, ``Z``; a missing offset means UTC), epoch
    milliseconds (int, float or a digit string, as ``changelog/bulkfetch`` sends), and datetimes.
    ``None``/``""`` give ``None``; anything unreadable is returned unchanged.
    """
    if type(value) is str and len(value) == _JIRA_TS_LEN and value[10] == "T":
        # Jira's own layout, the usual case: the local time is read as UTC and the offset subtracted,
        # half the cost of ``astimezone`` (a few hundred thousand timestamps per batch).
        tail = value[_OFFSET_AT:]
        offset = _offsets.get(tail, _UNSEEN)
        if offset is _UNSEEN:
            offset = _offsets[tail] = _jira_offset(tail)
        if offset is not None:
            try:
                dt = _fromiso(value[:_OFFSET_AT] + "+00:00")
                return dt - offset if offset else dt
            except (ValueError, OverflowError):
                pass  # the general path decides (and keeps what it cannot read)
    return _to_utc(value)


def _to_utc(value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            dt = _fromiso(value)
        except ValueError:
            if value.isdigit():
                return _from_ms(int(value), value)
            return value
    elif isinstance(value, datetime):
        dt = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        return _from_ms(value, value)
    else:
        return value
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    try:
        return dt if dt.tzinfo is UTC else dt.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00 has no UTC instant a datetime can hold
        return value


def _from_ms(ms: float, original: Any) -> Any:
    try:
        # Exact arithmetic: fromtimestamp(ms / 1000) can be off by a millisecond through float rounding.
        return _EPOCH + timedelta(milliseconds=ms)
    except (OverflowError, OSError, ValueError):
        return original


def to_date(value: Any) -> Any:
    """A Jira date (``2025-03-14``) as a ``date``; ``None`` stays ``None``, junk is returned unchanged."""
    if value is None or value == "":
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return value
    return value


def user_id(user: Any) -> str | None:
    """Identity of a user object: Cloud ``accountId``; Server/DC ``key``, then ``name``."""
    if not isinstance(user, dict):
        return None if user is None else str(user)
    for k in ("accountId", "key", "name"):
        v = user.get(k)
        if v:
            return str(v)
    return None


def sid(value: Any) -> str | None:
    """An id as a string (Jira sends numbers and numeric strings alike)."""
    return None if value is None else str(value)


def name_of(obj: Any, key: str = "name") -> Any:
    """``obj[key]`` when ``obj`` is a dict, else None."""
    return obj.get(key) if isinstance(obj, dict) else None


def to_int(value: Any) -> Any:
    """An integer from int/float/digit string; other values unchanged (validate reports them)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return value


def to_float(value: Any) -> Any:
    """A float from a number or numeric string; other values unchanged."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def obj(parent: dict[str, Any], key: str) -> dict[str, Any]:
    """``parent[key]`` when it is a dict (a JSON object), else an empty dict."""
    value = parent.get(key)
    return value if isinstance(value, dict) else {}
