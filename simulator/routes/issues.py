"""Single issues and their children: issue GET/bulkfetch, changelog (per issue and bulk), comments,
worklogs (per issue, updated, deleted, list) and remote links."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from simulator.data.issues import IssueCore
from simulator.issue_view import issue_json, names_and_schema, parse_expand, parse_fields
from simulator.routes.common import JiraHTTPError, api_version, body_json, int_param, jresp, page_a, site_of
from simulator.site import Site

router = APIRouter()
NOT_FOUND = "Issue does not exist or you do not have permission to see it."


def _issue(site: Site, id_or_key: str) -> IssueCore:
    core = site.get(id_or_key)
    if core is None:
        raise JiraHTTPError(404, NOT_FOUND)
    return core


@router.get("/rest/api/{ver}/issue/{id_or_key}")
async def get_issue(request: Request, ver: str, id_or_key: str) -> Response:
    """One issue; ``fields`` default ``*all``; 404 when deleted or unknown."""
    site = site_of(request)
    api = api_version(site, ver)
    core = _issue(site, id_or_key)
    q = request.query_params
    fields = parse_fields(site, q.get("fields"), "*all")
    expand = parse_expand(q.get("expand"))
    return jresp(issue_json(site, core, api, fields, expand) | names_and_schema(site, fields, expand))


@router.post("/rest/api/{ver}/issue/bulkfetch")
async def bulkfetch(request: Request, ver: str) -> Response:
    """Up to 100 issues by id or key, ascending id.

    As the spec says, issues that do not exist (or are not visible) are simply left out; ``issueErrors``
    is reserved for retriable failures, which the simulator does not produce here.
    """
    site = site_of(request)
    api = api_version(site, ver)
    body = await body_json(request)
    wanted = body.get("issueIdsOrKeys") or []
    if not isinstance(wanted, list) or not wanted or len(wanted) > 100:
        raise JiraHTTPError(400, "issueIdsOrKeys must contain between 1 and 100 issue ids or keys.")
    fields = parse_fields(site, body.get("fields"), "*navigable")
    expand = parse_expand(body.get("expand"))
    found = {core.id: core for item in wanted if (core := site.get(str(item))) is not None}
    issues = [issue_json(site, found[i], api, fields, expand) for i in sorted(found)]
    return jresp({"issues": issues, "issueErrors": []})


@router.get("/rest/api/{ver}/issue/{id_or_key}/changelog")
async def issue_changelog(request: Request, ver: str, id_or_key: str) -> Response:
    """Family A, oldest first, at most 100 a page."""
    site = site_of(request)
    api_version(site, ver)
    core = _issue(site, id_or_key)
    start = int_param(request, "startAt", 0)
    max_results = min(int_param(request, "maxResults", 100, minimum=1), 100)
    values = [h for _, h in site.histories(core)]
    return jresp(page_a(request, values, start, max_results))


@router.post("/rest/api/{ver}/changelog/bulkfetch")
async def changelog_bulkfetch(request: Request, ver: str) -> Response:
    """Changelogs of up to 1000 issues; ``created`` as epoch ms; pages by ``nextPageToken``."""
    site = site_of(request)
    api_version(site, ver)
    body = await body_json(request)
    ids = body.get("issueIdsOrKeys") or []
    field_ids = body.get("fieldIds") or []
    if not isinstance(ids, list) or not ids or len(ids) > 1000:
        raise JiraHTTPError(400, "issueIdsOrKeys must contain between 1 and 1000 issue ids or keys.")
    if len(field_ids) > 10:
        raise JiraHTTPError(400, "fieldIds must contain at most 10 field ids.")
    max_results = max(1, min(int(body.get("maxResults") or 1000), 10000))
    offset = 0
    token = body.get("nextPageToken")
    if token:
        try:
            offset = int(str(token), 16)
        except ValueError as exc:
            raise JiraHTTPError(400, "The provided next page token is invalid.") from exc
    # Histories ordered by date then issue id, flattened, then cut into pages of maxResults histories.
    rows: list[tuple[int, int, dict[str, Any]]] = []
    for item in ids:
        core = site.get(str(item))
        if core is None:
            continue
        for ms, hist in site.histories(core):
            items = (
                hist["items"] if not field_ids else [i for i in hist["items"] if i["fieldId"] in field_ids]
            )
            if items:
                rows.append((ms, core.id, dict(hist, created=ms, items=items)))
    rows.sort(key=lambda r: (r[0], r[1]))
    page = rows[offset : offset + max_results]
    grouped: dict[int, list[dict[str, Any]]] = {}
    for _, iid, hist in page:
        grouped.setdefault(iid, []).append(hist)
    out: dict[str, Any] = {
        "issueChangeLogs": [{"issueId": str(i), "changeHistories": h} for i, h in grouped.items()]
    }
    if offset + len(page) < len(rows):
        out["nextPageToken"] = format(offset + len(page), "x")
    return jresp(out)


@router.get("/rest/api/{ver}/issue/{id_or_key}/comment")
async def comments(request: Request, ver: str, id_or_key: str) -> Response:
    """Family B (``comments``), default and max 100 a page, ``orderBy=created|-created``."""
    site = site_of(request)
    api = api_version(site, ver)
    core = _issue(site, id_or_key)
    start = int_param(request, "startAt", 0)
    max_results = min(int_param(request, "maxResults", 100, minimum=1), 100)
    values = site.comments(core, api)
    if request.query_params.get("orderBy", "").lstrip("+") == "-created":
        values = list(reversed(values))
    return jresp(
        {
            "startAt": start,
            "maxResults": max_results,
            "total": len(values),
            "comments": values[start : start + max_results],
        }
    )


@router.get("/rest/api/{ver}/issue/{id_or_key}/worklog")
async def worklogs(request: Request, ver: str, id_or_key: str) -> Response:
    """Family B (``worklogs``), default and max 5000, ``startedAfter``/``startedBefore`` in epoch ms."""
    site = site_of(request)
    api = api_version(site, ver)
    core = _issue(site, id_or_key)
    start = int_param(request, "startAt", 0)
    max_results = min(int_param(request, "maxResults", 5000, minimum=1), 5000)
    after = int_param(request, "startedAfter", -1, minimum=-1)
    before = int_param(request, "startedBefore", -1, minimum=-1)
    values = [rec for _, rec in site.worklogs(core, api)]
    if after >= 0 or before >= 0:
        from simulator.timefmt import parse_iso_ms

        def started(rec: dict[str, Any]) -> int:
            raw = rec["started"]
            return parse_iso_ms(raw[:-2] + ":" + raw[-2:])

        values = [
            r for r in values if (after < 0 or started(r) >= after) and (before < 0 or started(r) < before)
        ]
    return jresp(
        {
            "startAt": start,
            "maxResults": max_results,
            "total": len(values),
            "worklogs": values[start : start + max_results],
        }
    )


@router.get("/rest/api/{ver}/issue/{id_or_key}/remotelink")
async def remote_links(request: Request, ver: str, id_or_key: str) -> Response:
    """A bare array of remote links (some issues have one or two)."""
    site = site_of(request)
    api_version(site, ver)
    core = _issue(site, id_or_key)
    links = []
    for n in range(core.id % 3 if core.id % 4 == 0 else 0):
        rid = core.id * 10 + n
        links.append(
            {
                "id": rid,
                "self": f"{site.base_url}/rest/api/{ver}/issue/{core.id}/remotelink/{rid}",
                "globalId": f"system=https://support.example&id={rid}",
                "application": {"type": "com.acme.tracker", "name": "Acme Support"},
                "relationship": "causes",
                "object": {
                    "url": f"https://support.example/ticket/{rid}",
                    "title": f"TSTSUP-{rid % 1000}",
                    "summary": "Customer report",
                    "status": {"resolved": n == 0},
                },
            }
        )
    return jresp(links)
