"""Issue search: enhanced ``/rest/api/3/search/jql`` (cursor), legacy search (410 in Cloud, startAt/total
in Server mode) and approximate count."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from simulator.issue_view import (
    issues_page_bytes,
    names_and_schema,
    parse_expand,
    parse_fields,
    requested_only_ids,
)
from simulator.jql import JqlError
from simulator.routes.common import JiraHTTPError, api_version, body_json, jresp, site_of
from simulator.search_engine import make_token, read_token, search_ids
from simulator.site import Site

router = APIRouter()
GONE = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full "
    "migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)
ID_PAGE_CAP = 5000


async def _per_issue_delay(request: Request, n: int) -> None:
    delay = request.app.state.faults.per_issue_s(n)
    if delay > 0:
        await asyncio.sleep(delay)


def _max_results(raw: Any, cap: int, default: int = 50) -> int:
    if raw is None or raw == "":
        return min(default, cap)
    try:
        value = int(raw)
    except (TypeError, ValueError) as exc:
        raise JiraHTTPError(400, "The 'maxResults' parameter must be a number.") from exc
    return max(1, min(value, cap))


async def _enhanced(request: Request, params: dict[str, Any]) -> Response:
    site: Site = site_of(request)
    if site.server:
        raise JiraHTTPError(404, "null for uri: " + request.url.path)
    fields_spec = params.get("fields")
    if len(params.get("reconcileIssues") or []) > 50:
        raise JiraHTTPError(400, "reconcileIssues accepts at most 50 issue ids.")
    props = params.get("properties") or []
    if len(props if isinstance(props, list) else str(props).split(",")) > 5:
        raise JiraHTTPError(400, "At most 5 issue properties can be requested.")
    cap = ID_PAGE_CAP if requested_only_ids(fields_spec) else site.config.page_cap
    max_results = _max_results(params.get("maxResults"), cap)
    token = params.get("nextPageToken")
    try:
        if token:
            sid, offset = read_token(str(token))
            ids = site.snapshots.get(sid)
            if ids is None:
                raise JqlError("The provided next page token is invalid or expired.")
        else:
            jql = params.get("jql")
            reconcile = [int(x) for x in params.get("reconcileIssues") or [] if str(x).isdigit()]
            ids = search_ids(site, str(jql or ""), reconcile=reconcile)
            sid, offset = site.snapshots.add(ids), 0
    except JqlError as exc:
        raise JiraHTTPError(400, str(exc)) from exc
    fields = parse_fields(site, fields_spec, "id")
    expand = parse_expand(params.get("expand"))
    chunk = ids[offset : offset + max_results]
    cores = [core for i in chunk if (core := site.issues.get(i))]
    tail: dict[str, Any] = {}
    if offset + len(chunk) < len(ids):
        tail["nextPageToken"] = make_token(sid, offset + len(chunk))
        tail["isLast"] = False
    else:
        tail["isLast"] = True
    tail.update(names_and_schema(site, fields, expand))
    body = issues_page_bytes(site, cores, 3, fields, expand, {}, tail)
    await _per_issue_delay(request, len(cores))
    return Response(body, media_type="application/json;charset=UTF-8")


@router.get("/rest/api/3/search/jql")
async def search_jql_get(request: Request) -> Response:
    """Enhanced JQL search (GET): cursor pages, no total, token left out on the last page."""
    q = request.query_params
    params: dict[str, Any] = {
        k: q.get(k) for k in ("jql", "nextPageToken", "maxResults", "fields", "expand", "properties")
    }
    params["reconcileIssues"] = [x for v in q.getlist("reconcileIssues") for x in v.split(",")]
    return await _enhanced(request, params)


@router.post("/rest/api/3/search/jql")
async def search_jql_post(request: Request) -> Response:
    """Enhanced JQL search (POST): same as GET with a JSON body (``fields`` a list, ``expand`` a string)."""
    return await _enhanced(request, await body_json(request))


async def _legacy(request: Request, ver: str, params: dict[str, Any]) -> Response:
    site = site_of(request)
    api = api_version(site, ver)
    if not site.server:
        raise JiraHTTPError(410, GONE)
    start = max(int(params.get("startAt") or 0), 0)
    max_results = _max_results(params.get("maxResults"), site.config.page_cap)
    try:
        ids = search_ids(site, str(params.get("jql") or ""))
    except JqlError as exc:
        raise JiraHTTPError(400, str(exc)) from exc
    fields = parse_fields(site, params.get("fields"), "*navigable")
    expand = parse_expand(params.get("expand"))
    cores = [site.issues[i] for i in ids[start : start + max_results]]
    head = {"expand": "names,schema", "startAt": start, "maxResults": max_results, "total": len(ids)}
    body = issues_page_bytes(site, cores, api, fields, expand, head, names_and_schema(site, fields, expand))
    await _per_issue_delay(request, len(cores))
    return Response(body, media_type="application/json;charset=UTF-8")


@router.get("/rest/api/{ver}/search")
async def legacy_search_get(request: Request, ver: str) -> Response:
    """Legacy search: 410 Gone on Cloud; ``startAt``/``total`` pages in Server mode."""
    q = request.query_params
    return await _legacy(
        request, ver, {k: q.get(k) for k in ("jql", "startAt", "maxResults", "fields", "expand")}
    )


@router.post("/rest/api/{ver}/search")
async def legacy_search_post(request: Request, ver: str) -> Response:
    """Legacy search via POST (body)."""
    site = site_of(request)
    api_version(site, ver)
    if not site.server:
        raise JiraHTTPError(410, GONE)
    return await _legacy(request, ver, await body_json(request))


@router.post("/rest/api/3/search/approximate-count")
async def approximate_count(request: Request) -> Response:
    """``{"count": n}`` for a bounded JQL."""
    site = site_of(request)
    body = await body_json(request)
    try:
        ids = search_ids(site, str(body.get("jql") or ""))
    except JqlError as exc:
        raise JiraHTTPError(400, str(exc)) from exc
    return jresp({"count": len(ids)})
