"""Jira Software agile API: boards (A, with location), sprints (A, 400 for kanban), sprint and board
issue lists (B)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from simulator.data.agile import Board, Sprint
from simulator.issue_view import issue_json, parse_expand, parse_fields
from simulator.routes.common import JiraHTTPError, int_param, jresp, page_a, site_of
from simulator.site import Site
from simulator.timefmt import agile_ts

router = APIRouter(prefix="/rest/agile/1.0")
BOARD_PAGE_MAX = 50


def board_json(site: Site, board: Board) -> dict[str, Any]:
    """A board with its ``location``."""
    p = site.ref.project_by_key[board.project_key]
    return {
        "id": board.id,
        "self": f"{site.base_url}/rest/agile/1.0/board/{board.id}",
        "name": board.name,
        "type": board.type,
        "location": {
            "projectId": int(p["id"]),
            "displayName": f"{p['name']} ({p['key']})",
            "projectName": p["name"],
            "projectKey": p["key"],
            "projectTypeKey": p["projectTypeKey"],
            "avatarURI": f"{site.base_url}/avatar/project/{p['id']}.png",
            "name": p["name"],
        },
    }


def sprint_json(site: Site, sprint: Sprint) -> dict[str, Any]:
    """A sprint as the agile API writes it (offsets with a colon)."""
    out: dict[str, Any] = {
        "id": sprint.id,
        "self": f"{site.base_url}/rest/agile/1.0/sprint/{sprint.id}",
        "state": sprint.state,
        "name": sprint.name,
        "originBoardId": sprint.board_id,
        "goal": sprint.goal,
        "createdDate": agile_ts(sprint.start_ms - 3 * 86_400_000, site.tz),
    }
    if sprint.state != "future":
        out["startDate"] = agile_ts(sprint.start_ms, site.tz)
        out["endDate"] = agile_ts(sprint.end_ms, site.tz)
    if sprint.complete_ms is not None:
        out["completeDate"] = agile_ts(sprint.complete_ms, site.tz)
    return out


def _board(site: Site, board_id: int) -> Board:
    for b in site.boards:
        if b.id == board_id:
            return b
    raise JiraHTTPError(404, "Board does not exist or you do not have permission to see it.")


def _page_b(request: Request, site: Site, cores: list[Any]) -> Response:
    start = int_param(request, "startAt", 0)
    max_results = min(int_param(request, "maxResults", 50, minimum=1), site.config.page_cap)
    q = request.query_params
    fields = parse_fields(site, q.get("fields"), "*navigable")
    expand = parse_expand(q.get("expand"))
    api = 2 if site.server else 3
    issues = []
    for core in cores[start : start + max_results]:
        issue = issue_json(site, core, api, fields, expand)
        if "fields" in issue:
            # The agile API adds its own fields: current sprint, closed sprints, flag.
            sprints = [site.sprints[s] for s in core.sprint_ids]
            current = [s for s in sprints if s.state != "closed"]
            issue["fields"] = dict(
                issue["fields"],
                flagged=core.id % 17 == 0,
                sprint=sprint_json(site, current[-1]) if current else None,
                closedSprints=[sprint_json(site, s) for s in sprints if s.state == "closed"],
            )
        issues.append(issue)
    return jresp(
        {
            "expand": "schema,names",
            "startAt": start,
            "maxResults": max_results,
            "total": len(cores),
            "issues": issues,
        }
    )


@router.get("/board")
async def boards(request: Request) -> Response:
    """Boards, family A (max 50 a page), filter by ``type`` and ``projectKeyOrId``."""
    site = site_of(request)
    q = request.query_params
    types = {t for v in q.getlist("type") for t in v.split(",") if t}
    proj = q.get("projectKeyOrId")
    rows = [
        board_json(site, b)
        for b in site.boards
        if (not types or b.type in types)
        and (not proj or proj in (b.project_key, site.ref.project_by_key[b.project_key]["id"]))
    ]
    start = int_param(request, "startAt", 0)
    max_results = min(int_param(request, "maxResults", 50, minimum=1), BOARD_PAGE_MAX)
    page = page_a(request, rows, start, max_results)
    page.pop("self", None)
    page.pop("nextPage", None)
    return jresp(page)


@router.get("/board/{board_id}")
async def board(request: Request, board_id: int) -> Response:
    """One board."""
    site = site_of(request)
    return jresp(board_json(site, _board(site, board_id)))


@router.get("/board/{board_id}/sprint")
async def board_sprints(request: Request, board_id: int) -> Response:
    """Sprints of a scrum board (family A, ``state`` filter); kanban boards answer 400."""
    site = site_of(request)
    b = _board(site, board_id)
    if b.type != "scrum":
        raise JiraHTTPError(400, "The board does not support sprints")
    states = {s for v in request.query_params.getlist("state") for s in v.split(",") if s}
    rows = [sprint_json(site, s) for s in b.sprints if not states or s.state in states]
    start = int_param(request, "startAt", 0)
    max_results = min(int_param(request, "maxResults", 50, minimum=1), BOARD_PAGE_MAX)
    page = page_a(request, rows, start, max_results)
    page.pop("self", None)
    page.pop("nextPage", None)
    return jresp(page)


@router.get("/sprint/{sprint_id}")
async def sprint(request: Request, sprint_id: int) -> Response:
    """One sprint."""
    site = site_of(request)
    s = site.sprints.get(sprint_id)
    if s is None:
        raise JiraHTTPError(404, "Sprint does not exist or you do not have permission to see it.")
    return jresp(sprint_json(site, s))


@router.get("/sprint/{sprint_id}/issue")
async def sprint_issues(request: Request, sprint_id: int) -> Response:
    """Issues in a sprint, family B, ordered by rank."""
    site = site_of(request)
    if sprint_id not in site.sprints:
        raise JiraHTTPError(404, "Sprint does not exist or you do not have permission to see it.")
    cores = [c for c in site.issues.values() if sprint_id in c.sprint_ids]
    return _page_b(request, site, cores)


@router.get("/board/{board_id}/issue")
async def board_issues(request: Request, board_id: int) -> Response:
    """Issues of the board's project, family B, ordered by rank."""
    site = site_of(request)
    b = _board(site, board_id)
    cores = [c for c in site.issues.values() if c.project == b.project_key]
    return _page_b(request, site, cores)
