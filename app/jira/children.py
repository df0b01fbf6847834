"""Completing an issue's children where the embedded totals say more exist.

Search embeds a truncated changelog (about 40 histories), comments and worklogs (20). An issue is only
completed when its embedded ``total`` exceeds what came embedded:

* changelog: one ``POST /changelog/bulkfetch`` for all truncated issues of a page (at most 1,000 ids a call,
  token pages of up to 10,000 histories); if the site answers 404, the per-issue ``/issue/{id}/changelog``
  (page bean, 100 a page) for the rest of the run. Server/DC has no bulk endpoint and uses the per-issue one.
* comments: ``/issue/{id}/comment`` (100 a page); worklogs: ``/issue/{id}/worklog`` (5,000 a page).

Everything for one page runs concurrently; the client's adaptive limit bounds what is really in flight.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from app.core.errors import JiraNotFoundError
from app.jira.client import JiraClient
from app.jira.paginators import TokenCursor
from app.jira.streams import CHANGELOG, CHANGELOG_BULK, COMMENTS, WORKLOGS, read_all, read_stream

BULK_IDS_MAX = 1000
BULK_PAGE = 10000  # histories per bulkfetch page: the endpoint allows up to 10,000
_NO_BULK = "changelog_bulkfetch_missing"


def is_truncated(container: Any, items_key: str) -> bool:
    """True when an embedded ``{items_key: [...], "total": n}`` holds fewer than ``total`` items."""
    if not isinstance(container, dict):
        return False
    total = container.get("total")
    return total is not None and int(total) > len(container.get(items_key) or [])


def _set_all(issue: dict[str, Any], field: str, items_key: str, records: list[Any]) -> None:
    issue.setdefault("fields", {})[field] = {
        items_key: records,
        "total": len(records),
        "startAt": 0,
        "maxResults": len(records),
    }


async def complete_comments(client: JiraClient, issue: dict[str, Any]) -> None:
    """Replace the issue's embedded comments with all of them."""
    records = await read_all(client, COMMENTS, issue_id=issue["id"])
    _set_all(issue, "comment", "comments", records)


async def complete_worklogs(client: JiraClient, issue: dict[str, Any]) -> None:
    """Replace the issue's embedded worklogs with all of them."""
    records = await read_all(client, WORKLOGS, issue_id=issue["id"])
    _set_all(issue, "worklog", "worklogs", records)


def _merge_histories(issue: dict[str, Any], fetched: list[dict[str, Any]]) -> None:
    changelog = issue.setdefault("changelog", {})
    by_id: dict[str, dict[str, Any]] = {str(h.get("id")): h for h in changelog.get("histories") or []}
    # Fetched histories are the complete list; they win over the embedded copies of the same id.
    by_id.update({str(h.get("id")): h for h in fetched})
    histories = list(by_id.values())
    changelog.update(histories=histories, total=len(histories), startAt=0, maxResults=len(histories))


async def _changelog_one(client: JiraClient, issue: dict[str, Any]) -> None:
    _merge_histories(issue, await read_all(client, CHANGELOG, issue_id=issue["id"]))


async def _changelog_bulk(client: JiraClient, issues: list[dict[str, Any]]) -> None:
    fetched: dict[str, list[dict[str, Any]]] = {str(i["id"]): [] for i in issues}
    params = {"issueIdsOrKeys": list(fetched)}
    async for records in read_stream(client, CHANGELOG_BULK, paginator=TokenCursor(BULK_PAGE), params=params):
        for entry in records:
            issue_id = str(entry.get("issueId"))
            if issue_id in fetched:
                fetched[issue_id].extend(entry.get("changeHistories") or [])
    for issue in issues:
        _merge_histories(issue, fetched[str(issue["id"])])


async def complete_changelogs(client: JiraClient, issues: list[dict[str, Any]]) -> None:
    """Complete the changelog of every issue in ``issues`` (all are known to be truncated)."""
    if not issues:
        return
    if client.site.deployment == "cloud" and _NO_BULK not in client.cache:
        try:
            for start in range(0, len(issues), BULK_IDS_MAX):
                await _changelog_bulk(client, issues[start : start + BULK_IDS_MAX])
            return
        except JiraNotFoundError:
            # Some sites do not serve the bulk endpoint: remember it and go issue by issue.
            client.cache[_NO_BULK] = True
            client.notices.add(_NO_BULK, "changelog/bulkfetch answered 404; using /issue/{id}/changelog.")
    await asyncio.gather(*(_changelog_one(client, issue) for issue in issues))


def completion_tasks(client: JiraClient, issues: list[dict[str, Any]]) -> list[Awaitable[None]]:
    """The requests a page of search results still needs, as awaitables to run concurrently."""
    tasks: list[Awaitable[None]] = []
    truncated_changelog = [i for i in issues if is_truncated(i.get("changelog"), "histories")]
    if truncated_changelog:
        tasks.append(complete_changelogs(client, truncated_changelog))
    for issue in issues:
        fields = issue.get("fields") or {}
        if is_truncated(fields.get("comment"), "comments"):
            tasks.append(complete_comments(client, issue))
        if is_truncated(fields.get("worklog"), "worklogs"):
            tasks.append(complete_worklogs(client, issue))
    return tasks
