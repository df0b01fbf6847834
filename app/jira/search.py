"""Issue search per project partition, pages completed while the next page is being fetched.

Cloud scans ``POST /rest/api/3/search/jql`` (``nextPageToken`` cursor, ``fields=*all``,
``expand=changelog``); Server/Data Center scans ``POST /rest/api/2/search`` (``startAt``/``total``). Each
page is completed (children, dev-status) in a task of its own, so those requests overlap the search request
for the following page; pages still leave a partition in ``updated ASC, id ASC`` order.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.jira.children import completion_tasks
from app.jira.client import JiraClient
from app.jira.dev_status import DevStatusFetcher
from app.jira.incremental import DEFAULT_OVERLAP, and_jql, max_updated, partition_jql
from app.jira.streams import SEARCH_JQL, SEARCH_SERVER, read_stream


@dataclass
class IssuePage:
    """One page of complete issues of one partition (a project key), in ``updated ASC, id ASC`` order.

    ``max_updated`` is the largest ``fields.updated`` in the page: the partition's watermark once the
    page is loaded.
    """

    partition: str
    issues: list[dict[str, Any]]
    max_updated: datetime | None


async def run_all(awaitables: Iterable[Awaitable[Any]]) -> None:
    """Run ``awaitables`` concurrently; on the first failure cancel the rest and raise that error itself."""
    try:
        async with asyncio.TaskGroup() as group:
            for aw in awaitables:
                group.create_task(_as_coroutine(aw))
    except BaseExceptionGroup as group_error:
        raise group_error.exceptions[0] from None


async def _as_coroutine(aw: Awaitable[Any]) -> Any:
    return await aw


async def complete_page(
    client: JiraClient, issues: list[dict[str, Any]], dev: DevStatusFetcher
) -> list[dict[str, Any]]:
    """Complete every issue of a search page in place (children and ``devStatus``) and return the page."""

    async def dev_status(issue: dict[str, Any]) -> None:
        issue["devStatus"] = await dev.fetch(issue)

    await run_all([*completion_tasks(client, issues), *(dev_status(i) for i in issues)])
    return issues


def search_body(client: JiraClient, jql: str, fields: list[str]) -> dict[str, Any]:
    """The search request body for this deployment (``expand`` is a string in search/jql, a list in v2)."""
    if client.site.deployment == "cloud":
        return {"jql": jql, "fields": fields, "expand": "changelog"}
    return {"jql": jql, "fields": fields, "expand": ["changelog"]}


async def scan_partition(
    client: JiraClient,
    project: str,
    *,
    since: datetime | None,
    until: datetime,
    dev: DevStatusFetcher,
    fields: list[str],
    overlap: timedelta = DEFAULT_OVERLAP,
    extra_jql: str | None = None,
) -> AsyncGenerator[IssuePage, None]:
    """Yield the complete, non-empty pages of one project's issues updated in ``[since - overlap, until]``.

    ``extra_jql`` narrows the scan further (ANDed with the integration's own filter).
    """
    jql = partition_jql(
        project, since=since, until=until, overlap=overlap, extra_jql=and_jql(client.site.jql, extra_jql)
    )
    stream = SEARCH_JQL if client.site.deployment == "cloud" else SEARCH_SERVER
    pending: asyncio.Task[list[dict[str, Any]]] | None = None
    try:
        async for issues in read_stream(client, stream, params=search_body(client, jql, fields)):
            task = asyncio.create_task(complete_page(client, issues, dev)) if issues else None
            if pending is not None:
                done = await pending
                yield IssuePage(project, done, max_updated(done))
            pending = task
        if pending is not None:
            done = await pending
            pending = None
            yield IssuePage(project, done, max_updated(done))
    finally:
        if pending is not None and not pending.done():
            pending.cancel()
