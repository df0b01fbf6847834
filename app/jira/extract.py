"""Public face of the extraction (contracts section 2): reference data, issue pages, tombstones, census.

Nothing here writes anywhere: callers receive plain records and decide what to load and when to advance
watermarks.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from app.core.errors import JiraBadRequestError, JiraNotFoundError, JiraPermissionError
from app.jira import streams as s
from app.jira.client import JiraClient
from app.jira.dev_status import DevStatusFetcher, find_dev_field
from app.jira.incremental import DEFAULT_OVERLAP, and_jql, quote_jql
from app.jira.paginators import TimeCursor
from app.jira.search import IssuePage, scan_partition
from app.jira.streams import Stream, read_all, read_stream

__all__ = [
    "IssuePage",
    "census",
    "deleted_worklogs",
    "dev_field_values",
    "issue_pages",
    "reference_streams",
]

_FIELDS_CACHE = "fields"


def _reference_plan(client: JiraClient) -> list[Stream | tuple[Stream, ...]]:
    cloud = client.site.deployment == "cloud"
    return [
        # Data Center lists projects and users on its own paths; some versions (and proxies) serve the
        # Cloud-style ones instead, so a 404 there falls back to them.
        s.PROJECTS if cloud else (s.SERVER_PROJECTS, s.PROJECTS),
        s.FIELDS,
        s.USERS if cloud else (s.SERVER_USERS, s.USERS),
        s.STATUSES,
        s.STATUS_CATEGORIES,
        s.PRIORITIES,
        s.ISSUE_TYPES,
        s.RESOLUTIONS,
        s.ISSUE_LINK_TYPES,
    ]


async def site_fields(client: JiraClient) -> list[dict[str, Any]]:
    """The ``/field`` list, fetched at most once per client (reference data and dev-status share it)."""
    if _FIELDS_CACHE not in client.cache:
        client.cache[_FIELDS_CACHE] = await read_all(client, s.FIELDS)
    fields: list[dict[str, Any]] = client.cache[_FIELDS_CACHE]
    return fields


async def _sprints(client: JiraClient, boards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sprints of every scrum board, each marked with ``_boardId``; kanban boards have none."""
    sprints: list[dict[str, Any]] = []
    for board in boards:
        if str(board.get("type", "")).lower() != "scrum":
            continue
        try:
            records = await read_all(client, s.SPRINTS, board_id=board["id"])
        except JiraBadRequestError as exc:
            # "The board does not support sprints": a board reconfigured since it was listed.
            client.notices.add(f"sprints:{board['id']}", f"board {board['id']} has no sprints: {exc}")
            continue
        sprints.extend({**sprint, "_boardId": board["id"]} for sprint in records)
    return sprints


async def _first_served(client: JiraClient, choices: tuple[Stream, ...]) -> list[dict[str, Any]]:
    """Records of the first of ``choices`` the site serves (404 moves on to the next)."""
    for stream in choices[:-1]:
        try:
            return await read_all(client, stream)
        except JiraNotFoundError:
            client.notices.add(f"missing:{stream.path}", f"{stream.path} answered 404; using an alternative.")
    return await read_all(client, choices[-1])


async def reference_streams(client: JiraClient) -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """Yield ``(stream name, all its records)`` once per reference stream, records as Jira returns them.

    Names: projects (all statuses, each with ``_archived``), fields, users, statuses, status_categories,
    priorities, issue_types, resolutions, issue_link_types, boards, sprints (each with ``_boardId``).
    """
    for planned in _reference_plan(client):
        stream = planned[0] if isinstance(planned, tuple) else planned
        if stream.name == "fields":
            records = await site_fields(client)
        elif isinstance(planned, tuple):
            records = await _first_served(client, planned)
        else:
            records = await read_all(client, stream)
        if stream.name == "projects":
            records = [{**p, "_archived": bool(p.get("archived", False))} for p in records]
            client.cache["projects"] = records
        yield stream.name, records
    boards = await read_all(client, s.BOARDS)
    yield "boards", boards
    yield "sprints", await _sprints(client, boards)


def _field_names(fields_list: list[Any] | None) -> list[str]:
    names = [f for f in fields_list or [] if isinstance(f, str)]
    return names or ["*all"]


async def issue_pages(
    client: JiraClient,
    *,
    fields_list: list[Any] | None,
    since: dict[str, datetime | None],
    until: datetime,
    projects: list[str],
    overlap: timedelta = DEFAULT_OVERLAP,
    partitions_at_once: int | None = None,
    extra_jql: str | None = None,
) -> AsyncIterator[IssuePage]:
    """Yield complete issue pages of every project partition, several partitions scanned concurrently.

    ``fields_list`` is either the ``/field`` records (used to find the Development field; ``*all`` is
    requested) or field names to request. ``since`` maps a partition (``"KEY"`` or ``"issues:KEY"``) to its
    watermark (None or absent: full scan). Pages of one partition come in ``updated ASC, id ASC`` order;
    partitions interleave. The first error of any partition stops the whole scan and is raised.
    ``extra_jql`` narrows every partition's scan (ANDed with the integration's filter).
    """
    records = [f for f in fields_list or [] if isinstance(f, dict)]
    dev = DevStatusFetcher(client, find_dev_field(records or await site_fields(client)))
    fields = _field_names(fields_list)
    width = partitions_at_once or max(2, client.limiter.max_in_flight // 2)
    gate = asyncio.Semaphore(width)
    queue: asyncio.Queue[IssuePage | Exception | None] = asyncio.Queue(maxsize=2 * width)

    async def produce(project: str) -> None:
        start = since.get(project, since.get(f"issues:{project}"))
        try:
            async with gate:
                pages = scan_partition(
                    client,
                    project,
                    since=start,
                    until=until,
                    dev=dev,
                    fields=fields,
                    overlap=overlap,
                    extra_jql=extra_jql,
                )
                async with contextlib.aclosing(pages) as scan:
                    async for page in scan:
                        await queue.put(page)
            await queue.put(None)
        except Exception as exc:  # handed to the consumer, which raises it and cancels the others
            await queue.put(exc)

    tasks = [asyncio.create_task(produce(p)) for p in dict.fromkeys(projects)]
    try:
        remaining = len(tasks)
        while remaining:
            item = await queue.get()
            if item is None:
                remaining -= 1
            elif isinstance(item, Exception):
                raise item
            else:
                yield item
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def deleted_worklogs(client: JiraClient, since_ms: int) -> tuple[list[str], int]:
    """Ids of worklogs deleted since ``since_ms`` (epoch ms) and the ``since`` to use next time."""
    cursor = TimeCursor(since_ms)
    ids: list[str] = []
    async for records in read_stream(client, s.WORKLOGS_DELETED, paginator=cursor):
        ids.extend(str(r["worklogId"]) for r in records)
    return ids, cursor.until if cursor.until is not None else since_ms


async def project_visible(client: JiraClient, project_key: str) -> bool:
    """True when the account can still see the project (GET project -> 404, or 403, means it cannot)."""
    try:
        await client.get_json(f"{client.api}/project/{quote(project_key, safe='')}")
    except (JiraNotFoundError, JiraPermissionError):
        return False
    return True


async def census(client: JiraClient, project_key: str) -> set[str] | None:
    """Every issue id of the project (``fields=id``, 5,000 a page), or None when it is not visible.

    None means "cannot tell": lost access must never be read as the deletion of every issue.
    """
    if not await project_visible(client, project_key):
        return None
    stream = s.CENSUS_JQL if client.site.deployment == "cloud" else s.CENSUS_SERVER
    body = {"jql": f"project = {quote_jql(project_key)}", "fields": ["id"]}
    ids: set[str] = set()
    async for records in read_stream(client, stream, params=body):
        ids.update(str(r["id"]) for r in records)
    if not await project_visible(client, project_key):
        return None  # access lost during the census: the list may be partial
    return ids


async def dev_field_values(
    client: JiraClient, project_key: str, *, field_id: str, extra_jql: str | None = None
) -> dict[str, Any]:
    """``{issue id: Development field value}`` of the project's issues matching ``extra_jql``.

    Asks for ``id`` and the Development field only, so a page is cheap (no changelog, no children, no
    dev-status calls): the caller compares the values with what it loaded before.
    """
    stream = s.CENSUS_JQL if client.site.deployment == "cloud" else s.CENSUS_SERVER
    jql = " AND ".join(
        part for part in (f"project = {quote_jql(project_key)}", and_jql(client.site.jql, extra_jql)) if part
    )
    values: dict[str, Any] = {}
    async for records in read_stream(client, stream, params={"jql": jql, "fields": ["id", field_id]}):
        for record in records:
            values[str(record["id"])] = (record.get("fields") or {}).get(field_id)
    return values
