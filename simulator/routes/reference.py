"""Identity and reference data: myself, serverInfo, projects, fields, users, statuses, priorities,
issue types, resolutions and link types."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from simulator.routes.common import JiraHTTPError, api_version, int_param, jresp, page_a, site_of
from simulator.site import Site

router = APIRouter()


def _with_self(site: Site, api: int, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if api == 3:
        return rows
    return [
        dict(r, self=r["self"].replace("/rest/api/3/", "/rest/api/2/")) if "self" in r else r for r in rows
    ]


@router.get("/rest/api/{ver}/myself")
async def myself(request: Request, ver: str) -> Response:
    """The authenticated account, with its (non-UTC by default) profile time zone."""
    site = site_of(request)
    api_version(site, ver)
    cfg = site.config
    out: dict[str, Any] = {
        "self": f"{site.base_url}/rest/api/{ver}/user?accountId=5b10a2844c20165700ede21g",
        "accountId": "5b10a2844c20165700ede21g",
        "accountType": "atlassian",
        "emailAddress": cfg.email,
        "displayName": "Demo Extractor",
        "active": True,
        "timeZone": cfg.tz,
        "locale": "en_US",
        "avatarUrls": {"48x48": f"{site.base_url}/a.png"},
    }
    if site.server:
        out["name"] = out["key"] = cfg.email.split("@")[0]
    return jresp(out)


@router.get("/rest/api/{ver}/serverInfo")
async def server_info(request: Request, ver: str) -> Response:
    """Deployment type, base URL and version."""
    site = site_of(request)
    api_version(site, ver)
    server = site.server
    return jresp(
        {
            "baseUrl": site.base_url,
            "version": "9.12.4" if server else "1001.0.0-SNAPSHOT",
            "versionNumbers": [9, 12, 4] if server else [1001, 0, 0],
            "deploymentType": "Server" if server else "Cloud",
            "buildNumber": 100246,
            "buildDate": "2025-12-01T00:00:00.000+0000",
            "serverTitle": "Kairus Jira (simulated)",
            "serverTime": site.clock.now_iso(),
        }
    )


@router.get("/rest/api/{ver}/project/search")
async def project_search(request: Request, ver: str) -> Response:
    """Family A, ``maxResults`` clamped to 100; ``status=live,archived``; 404 when nothing matches."""
    site = site_of(request)
    api = api_version(site, ver)
    q = request.query_params
    statuses = {s.strip() for v in q.getlist("status") for s in v.split(",") if s.strip()} or {"live"}
    keys = {k.strip().upper() for v in q.getlist("keys") for k in v.split(",") if k.strip()}
    ids = {k.strip() for v in q.getlist("id") for k in v.split(",") if k.strip()}
    rows = []
    for p in site.ref.projects:
        state = "archived" if p.get("archived") else "live"
        if state not in statuses or (keys and p["key"] not in keys) or (ids and p["id"] not in ids):
            continue
        rows.append(p)
    if not rows:
        raise JiraHTTPError(404, "No projects found.")
    expand = {e.strip() for v in q.getlist("expand") for e in v.split(",")}
    if expand & {"description", "lead"}:
        rows = [_expanded(site, p, expand) for p in rows]
    if q.get("orderBy", "key").lstrip("+-") == "key":
        rows.sort(key=lambda p: p["key"], reverse=q.get("orderBy", "").startswith("-"))
    start = int_param(request, "startAt", 0)
    max_results = min(int_param(request, "maxResults", 50, minimum=1), 100)
    return jresp(page_a(request, _with_self(site, api, rows), start, max_results))


def _expanded(site: Site, project: dict[str, Any], expand: set[str]) -> dict[str, Any]:
    out = dict(project)
    if "description" in expand:
        out["description"] = f"{project['name']}: everything about {project['key']}"
    if "lead" in expand:
        out["lead"] = site.user_ref(site.ref.users[int(project["id"]) % len(site.ref.users)])
    return out


@router.get("/rest/api/{ver}/project/{id_or_key}")
async def project(request: Request, ver: str, id_or_key: str) -> Response:
    """One project by id or key."""
    site = site_of(request)
    api = api_version(site, ver)
    for p in site.ref.projects:
        if id_or_key in (p["id"], p["key"]):
            return jresp(_with_self(site, api, [p])[0])
    raise JiraHTTPError(404, f"No project could be found with key '{id_or_key}'.")


@router.get("/rest/api/{ver}/field")
async def fields(request: Request, ver: str) -> Response:
    """All fields at once (bare array), custom field ids included."""
    site = site_of(request)
    api_version(site, ver)
    return jresp(site.ref.fields)


@router.get("/rest/api/{ver}/users/search")
async def users_search(request: Request, ver: str) -> Response:
    """Bare array pages (default 50, max 1000); the page after the last user is empty."""
    site = site_of(request)
    api_version(site, ver)
    start = int_param(request, "startAt", 0)
    max_results = min(int_param(request, "maxResults", 50, minimum=1), 1000)
    users = site.ref.users[start : start + max_results]
    if site.server:
        users = [dict(u, name="u" + u["accountId"][-8:], key="u" + u["accountId"][-8:]) for u in users]
    return jresp(users)


def _simple(name: str, attr: str) -> None:
    async def handler(request: Request, ver: str) -> Response:
        site = site_of(request)
        api = api_version(site, ver)
        return jresp(_with_self(site, api, getattr(site.ref, attr)))

    handler.__doc__ = f"All {name} (bare array)."
    handler.__name__ = f"list_{attr}"
    router.add_api_route(f"/rest/api/{{ver}}/{name}", handler, methods=["GET"])


for _name, _attr in [
    ("status", "statuses"),
    ("statuscategory", "status_categories"),
    ("priority", "priorities"),
    ("issuetype", "issue_types"),
    ("resolution", "resolutions"),
]:
    _simple(_name, _attr)


@router.get("/rest/api/{ver}/issueLinkType")
async def link_types(request: Request, ver: str) -> Response:
    """``{"issueLinkTypes": [...]}``."""
    site = site_of(request)
    api = api_version(site, ver)
    return jresp({"issueLinkTypes": _with_self(site, api, site.ref.link_types)})


@router.get("/rest/api/{ver}/auditing/record")
async def audit_records(request: Request, ver: str) -> Response:
    """Family F audit log; issue deletions appear as ``objectItem.typeName == "ISSUE_DELETE"``."""
    site = site_of(request)
    api_version(site, ver)
    offset = int_param(request, "offset", 0)
    limit = min(int_param(request, "limit", 1000, minimum=1), 1000)
    flt = (request.query_params.get("filter") or "").lower()
    rows = [r for r in reversed(site.audit) if not flt or all(w in r["summary"].lower() for w in flt.split())]
    return jresp(
        {"offset": offset, "limit": limit, "total": len(rows), "records": rows[offset : offset + limit]}
    )


@router.get("/rest/api/{ver}/priority/search")
async def priority_search(request: Request, ver: str) -> Response:
    """Priorities as a family A page bean."""
    site = site_of(request)
    api = api_version(site, ver)
    start = int_param(request, "startAt", 0)
    max_results = min(int_param(request, "maxResults", 50, minimum=1), 50)
    rows = [dict(p, isDefault=p["id"] == "3") for p in _with_self(site, api, site.ref.priorities)]
    return jresp(page_a(request, rows, start, max_results))


@router.get("/rest/api/{ver}/resolution/search")
async def resolution_search(request: Request, ver: str) -> Response:
    """Resolutions as a family A page bean."""
    site = site_of(request)
    api = api_version(site, ver)
    start = int_param(request, "startAt", 0)
    max_results = min(int_param(request, "maxResults", 50, minimum=1), 50)
    rows = [dict(r, default=r["id"] == "10000") for r in _with_self(site, api, site.ref.resolutions)]
    return jresp(page_a(request, rows, start, max_results))
