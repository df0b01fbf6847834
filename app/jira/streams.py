"""Jira endpoints, declared: a stream names its path, paginator, record path and key.

Paths use ``{api}`` (``/rest/api/3`` on Cloud, ``/rest/api/2`` on Server/DC) and ``{agile}``; other
placeholders (``{issue_id}``, ``{board_id}``) are filled by the caller. All shared behaviour (auth, retry,
rate limit, accounting) lives in the client; :func:`read_stream` only walks the pages.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.jira.client import JiraClient
from app.jira.paginators import (
    BareArray,
    LegacyList,
    PageBean,
    Paginator,
    Params,
    TimeCursor,
    TokenCursor,
    paginate,
)

AGILE = "/rest/agile/1.0"


@dataclass(frozen=True)
class Stream:
    """One Jira endpoint as data. ``paginator`` builds a fresh paginator per scan."""

    name: str
    path: str
    paginator: Callable[[], Paginator]
    record_path: str | None
    key: str = "id"
    method: str = "GET"
    params: Mapping[str, Any] = field(default_factory=dict)


# --- Reference data (Cloud) ---------------------------------------------------------------------------
PROJECTS = Stream(
    "projects",
    "{api}/project/search",
    lambda: PageBean(100),
    "values",
    params={"status": "live,archived", "expand": "description,lead"},
)
FIELDS = Stream("fields", "{api}/field", BareArray, None)
USERS = Stream("users", "{api}/users/search", lambda: BareArray(1000), None, key="accountId")
STATUSES = Stream("statuses", "{api}/status", BareArray, None)
STATUS_CATEGORIES = Stream("status_categories", "{api}/statuscategory", BareArray, None)
PRIORITIES = Stream("priorities", "{api}/priority", BareArray, None)
ISSUE_TYPES = Stream("issue_types", "{api}/issuetype", BareArray, None)
RESOLUTIONS = Stream("resolutions", "{api}/resolution", BareArray, None)
ISSUE_LINK_TYPES = Stream("issue_link_types", "{api}/issueLinkType", BareArray, "issueLinkTypes")
BOARDS = Stream("boards", "{agile}/board", lambda: PageBean(50), "values")
SPRINTS = Stream("sprints", "{agile}/board/{board_id}/sprint", lambda: PageBean(50), "values")

# --- Reference data (Server/Data Center differences) --------------------------------------------------
SERVER_PROJECTS = Stream(
    "projects", "{api}/project", BareArray, None, params={"includeArchived": "true", "expand": "lead"}
)
SERVER_USERS = Stream(
    "users", "{api}/user/search", lambda: BareArray(1000), None, key="key", params={"username": "."}
)

# --- Issues and their children ------------------------------------------------------------------------
SEARCH_JQL = Stream("issues", "{api}/search/jql", lambda: TokenCursor(100), "issues", method="POST")
SEARCH_SERVER = Stream("issues", "{api}/search", lambda: LegacyList(100), "issues", method="POST")
CENSUS_JQL = Stream("census", "{api}/search/jql", lambda: TokenCursor(5000), "issues", method="POST")
CENSUS_SERVER = Stream("census", "{api}/search", lambda: LegacyList(5000), "issues", method="POST")
COMMENTS = Stream("comments", "{api}/issue/{issue_id}/comment", lambda: LegacyList(100), "comments")
WORKLOGS = Stream("worklogs", "{api}/issue/{issue_id}/worklog", lambda: LegacyList(5000), "worklogs")
CHANGELOG = Stream("changelog", "{api}/issue/{issue_id}/changelog", lambda: PageBean(100), "values")
CHANGELOG_BULK = Stream(
    "changelog_bulk", "{api}/changelog/bulkfetch", lambda: TokenCursor(1000), "issueChangeLogs", method="POST"
)
WORKLOGS_DELETED = Stream("worklogs_deleted", "{api}/worklog/deleted", lambda: TimeCursor(0), "values")


def stream_path(client: JiraClient, stream: Stream, **path_args: Any) -> str:
    """The stream's path for this client's deployment, with ``path_args`` filled in."""
    return stream.path.format(api=client.api, agile=AGILE, **path_args)


async def read_stream(
    client: JiraClient,
    stream: Stream,
    *,
    paginator: Paginator | None = None,
    params: Mapping[str, Any] | None = None,
    **path_args: Any,
) -> AsyncIterator[list[Any]]:
    """Yield the records of ``stream`` page by page.

    ``params`` are merged over the stream's own (query string for GET, JSON body for POST); ``paginator``
    replaces the stream's default (e.g. a :class:`TimeCursor` with a real ``since``). Raises the client's
    typed errors, and :class:`~app.core.errors.PayloadError` on a malformed or looping response.
    """
    path = stream_path(client, stream, **path_args)
    base = {**stream.params, **(params or {})}

    async def fetch(paging: Params) -> Any:
        if stream.method == "POST":
            return await client.post_json(path, json={**base, **paging})
        return await client.get_json(path, params={**base, **paging})

    async for _response, records in paginate(fetch, paginator or stream.paginator(), stream.record_path):
        yield records


async def read_all(client: JiraClient, stream: Stream, **kwargs: Any) -> list[Any]:
    """Every record of ``stream`` in one list (for small reference lists only)."""
    out: list[Any] = []
    async for records in read_stream(client, stream, **kwargs):
        out.extend(records)
    return out
