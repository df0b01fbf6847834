"""Worklog feeds (family D): ``worklog/updated``, ``worklog/deleted`` and ``worklog/list``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from simulator.data.children import CHILD_ID_FACTOR
from simulator.routes.common import JiraHTTPError, api_version, body_json, int_param, jresp, site_of
from simulator.site import Site

router = APIRouter()
FEED_PAGE = 1000
HIDE_RECENT_MS = 60_000  # Jira leaves out worklogs changed in the last minute


def updated_index(site: Site) -> list[tuple[int, int]]:
    """(updated ms, worklog id) of every current worklog, sorted; cached per site generation."""

    def build() -> list[tuple[int, int]]:
        rows = [
            (ms, int(rec["id"])) for core in list(site.issues.values()) for ms, rec in site.worklogs(core, 3)
        ]
        rows.sort()
        return rows

    return site.cached(("worklog-index", site.generation), build)


def feed_page(
    request: Request, rows: list[tuple[int, int]], since: int, now_ms: int, with_properties: bool
) -> dict[str, Any]:
    """One family-D page: items strictly after ``since``, at most 1000, never the last 60 s."""
    horizon = now_ms - HIDE_RECENT_MS
    values: list[dict[str, Any]] = []
    last = since
    for ms, wid in rows:
        if ms <= since:
            continue
        if ms > horizon:
            break
        # Never split equal timestamps across pages, or the next page's strict "since" would skip some.
        if len(values) >= FEED_PAGE and ms != last:
            break
        value: dict[str, Any] = {"worklogId": wid, "updatedTime": ms}
        if with_properties:
            value["properties"] = []
        values.append(value)
        last = ms
    remaining = any(since < ms <= horizon for ms, _ in rows if ms > last)
    until = last if values else since
    out: dict[str, Any] = {
        "values": values,
        "since": since,
        "until": until,
        "self": str(request.url),
        "lastPage": not remaining,
    }
    if remaining:
        out["nextPage"] = str(request.url.include_query_params(since=until))
    return out


@router.get("/rest/api/{ver}/worklog/updated")
async def worklogs_updated(request: Request, ver: str) -> Response:
    """Worklog ids updated after ``since`` (epoch ms), oldest first."""
    site = site_of(request)
    api_version(site, ver)
    since = int_param(request, "since", 0)
    return jresp(feed_page(request, updated_index(site), since, site.clock.now_ms(), True))


@router.get("/rest/api/{ver}/worklog/deleted")
async def worklogs_deleted(request: Request, ver: str) -> Response:
    """Tombstones of worklogs deleted after ``since`` (epoch ms)."""
    site = site_of(request)
    api_version(site, ver)
    since = int_param(request, "since", 0)
    rows = sorted((ms, int(wid)) for ms, wid in site.worklog_tombstones)
    return jresp(feed_page(request, rows, since, site.clock.now_ms(), True))


@router.post("/rest/api/{ver}/worklog/list")
async def worklog_list(request: Request, ver: str) -> Response:
    """Full worklogs for up to 1000 ids, as a bare array (unknown ids are skipped)."""
    site = site_of(request)
    api = api_version(site, ver)
    body = await body_json(request)
    ids = body.get("ids") or []
    if not isinstance(ids, list) or len(ids) > 1000:
        raise JiraHTTPError(400, "The number of worklog ids must be between 1 and 1000.")
    out = []
    for wid in ids:
        try:
            num = int(wid)
        except (TypeError, ValueError):
            continue
        core = site.issues.get(num // CHILD_ID_FACTOR)
        if core is None:
            continue
        out += [rec for _, rec in site.worklogs(core, api) if rec["id"] == str(num)]
    return jresp(out)
