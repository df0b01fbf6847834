"""One paginator per Jira API style, each ending on the response's own signal.

A paginator has a two-method contract: :meth:`first` gives the paging parameters of the first request and
:meth:`next` reads a response (and the records taken from it) and gives the next request's parameters, or
``None`` when the response says it was the last. Page sizes are caps, not promises, so no paginator ever
ends on ``len(records) < maxResults``. Each one refuses to go round in circles: a repeated ``startAt``,
token or ``since`` raises :class:`~app.core.errors.PayloadError`.

==========  ================================================  ===================================
style       request                                           end signal
==========  ================================================  ===================================
A PageBean  ``startAt``, ``maxResults``                       ``isLast`` (else ``startAt+n>=total``)
B Legacy    ``startAt``, ``maxResults``                       ``startAt + n >= total``
C Cursor    ``nextPageToken``, ``maxResults``                 no ``nextPageToken`` (or ``isLast``)
D Time      ``since`` (epoch ms)                              ``lastPage``
E Array     ``startAt``, ``maxResults`` (or nothing)          an empty array (or a single call)
==========  ================================================  ===================================
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

from app.core.errors import PayloadError

Params = dict[str, Any]


class Paginator(Protocol):
    """The two-method contract every paging style implements."""

    def first(self) -> Params:
        """Paging parameters of the first request."""
        ...

    def next(self, response: Any, records: list[Any]) -> Params | None:
        """Paging parameters of the following request, or None when ``response`` was the last page."""
        ...


class _LoopGuard:
    def __init__(self, what: str) -> None:
        self.what = what
        self.seen: set[Any] = set()

    def check(self, value: Any) -> None:
        if value in self.seen:
            raise PayloadError(f"Jira pagination went round in circles: {self.what} {value!r} was repeated")
        self.seen.add(value)


class PageBean:
    """Style A: ``{startAt, maxResults, total, isLast, values}`` (project/search, board, sprint...)."""

    def __init__(self, max_results: int = 50, start_at: int = 0) -> None:
        self.max_results = max_results
        self.start_at = start_at
        self._guard = _LoopGuard("startAt")

    def first(self) -> Params:
        self._guard.check(self.start_at)
        return {"startAt": self.start_at, "maxResults": self.max_results}

    def next(self, response: Any, records: list[Any]) -> Params | None:
        start = int(response.get("startAt", 0))
        is_last = response.get("isLast")
        total = response.get("total")
        if is_last is True or not records:
            return None
        if is_last is None and total is not None and start + len(records) >= int(total):
            return None
        nxt = start + len(records)
        self._guard.check(nxt)
        return {"startAt": nxt, "maxResults": self.max_results}


class LegacyList:
    """Style B: ``{startAt, maxResults, total, <items>}`` (comments, worklogs, Server search)."""

    def __init__(self, max_results: int = 100, start_at: int = 0) -> None:
        self.max_results = max_results
        self.start_at = start_at
        self._guard = _LoopGuard("startAt")

    def first(self) -> Params:
        self._guard.check(self.start_at)
        return {"startAt": self.start_at, "maxResults": self.max_results}

    def next(self, response: Any, records: list[Any]) -> Params | None:
        start = int(response.get("startAt", 0))
        total = response.get("total")
        if not records or total is None or start + len(records) >= int(total):
            return None
        nxt = start + len(records)
        self._guard.check(nxt)
        return {"startAt": nxt, "maxResults": self.max_results}


class TokenCursor:
    """Style C: ``{<items>, nextPageToken?, isLast?}`` (search/jql, changelog/bulkfetch).

    The last page leaves ``nextPageToken`` out entirely; that ends the scan even when ``isLast`` is missing.
    """

    def __init__(self, max_results: int = 100) -> None:
        self.max_results = max_results
        self._guard = _LoopGuard("nextPageToken")

    def first(self) -> Params:
        return {"maxResults": self.max_results}

    def next(self, response: Any, records: list[Any]) -> Params | None:
        token = response.get("nextPageToken")
        if not token or response.get("isLast") is True:
            return None
        self._guard.check(token)
        return {"maxResults": self.max_results, "nextPageToken": token}


class TimeCursor:
    """Style D: ``{since, until, lastPage, nextPage, values}`` (worklog/updated, worklog/deleted)."""

    def __init__(self, since: int) -> None:
        self.since = since
        self.until: int | None = None
        self._guard = _LoopGuard("since")

    def first(self) -> Params:
        self._guard.check(self.since)
        return {"since": self.since}

    def next(self, response: Any, records: list[Any]) -> Params | None:
        until = response.get("until")
        if until is not None:
            self.until = int(until)
        if response.get("lastPage", True) is True or until is None:
            return None
        self._guard.check(int(until))
        return {"since": int(until)}


class BareArray:
    """Style E: a bare JSON array; with a page size, page until an empty array, else one call."""

    def __init__(self, max_results: int | None = None, start_at: int = 0) -> None:
        self.max_results = max_results
        self.start_at = start_at
        self._guard = _LoopGuard("startAt")

    def first(self) -> Params:
        if self.max_results is None:
            return {}
        self._guard.check(self.start_at)
        return {"startAt": self.start_at, "maxResults": self.max_results}

    def next(self, response: Any, records: list[Any]) -> Params | None:
        if self.max_results is None or not records:
            return None
        self.start_at += len(records)
        self._guard.check(self.start_at)
        return {"startAt": self.start_at, "maxResults": self.max_results}


def records_at(response: Any, record_path: str | None) -> list[Any]:
    """The list of records in ``response`` at ``record_path`` (None: the response is the list)."""
    value = response
    if record_path:
        for part in record_path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        return []
    if not isinstance(value, list):
        raise PayloadError(f"Expected a list at {record_path or 'the top level'}, got {type(value).__name__}")
    return value


async def paginate(
    fetch: Callable[[Params], Awaitable[Any]], paginator: Paginator, record_path: str | None
) -> AsyncIterator[tuple[Any, list[Any]]]:
    """Yield ``(response, records)`` per page: ``fetch(params)`` sends one request with the paging params."""
    params: Params | None = paginator.first()
    while params is not None:
        response = await fetch(params)
        if record_path is not None and not isinstance(response, dict):
            raise PayloadError(f"Expected a JSON object with {record_path!r}, got {type(response).__name__}")
        records = records_at(response, record_path)
        yield response, records
        params = paginator.next(response, records)
