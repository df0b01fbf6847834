"""The undocumented dev-status API under ``/rest/dev-status/1.0`` and ``/rest/dev-status/latest``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from simulator.data import devdata
from simulator.data.issues import IssueCore
from simulator.routes.common import JiraHTTPError, jresp, site_of
from simulator.site import Site

router = APIRouter()
DATA_TYPES = {"pullrequest", "branch", "repository", "build", "deployment-environment", "review"}


def _check(request: Request, dver: str) -> tuple[Site, IssueCore]:
    site = site_of(request)
    if dver not in ("1.0", "latest"):
        raise JiraHTTPError(404, "null for uri: " + request.url.path)
    if site.config.dev_status == "absent":
        raise JiraHTTPError(404, "The dev-status plugin is not installed.")
    if site.config.dev_status == "forbidden":
        raise JiraHTTPError(403, "You do not have the 'View development tools' permission.")
    raw = request.query_params.get("issueId", "")
    # Keys are refused: dev-status wants the numeric issue id.
    if not raw.isdigit():
        raise JiraHTTPError(400, "issueId must be the numeric id of an issue.")
    core = site.issues.get(int(raw))
    if core is None:
        raise JiraHTTPError(404, "Issue does not exist or you do not have permission to see it.")
    return site, core


@router.get("/rest/dev-status/{dver}/issue/summary")
async def summary(request: Request, dver: str) -> Response:
    """Counts per data type and per instance type (the valid ``applicationType`` values)."""
    site, core = _check(request, dver)
    dev = site.dev(core)
    return jresp({"errors": [], "configErrors": [], "summary": devdata.summary(dev or devdata.DevData())})


@router.get("/rest/dev-status/{dver}/issue/detail")
async def detail(request: Request, dver: str) -> Response:
    """Detail for one exact ``applicationType`` and ``dataType`` (no match -> ``detail: []``)."""
    site, core = _check(request, dver)
    q = request.query_params
    app_type, data_type = q.get("applicationType"), q.get("dataType")
    if not app_type or not data_type:
        raise JiraHTTPError(400, "applicationType and dataType are required.")
    if data_type not in DATA_TYPES:
        raise JiraHTTPError(400, f"Unknown dataType '{data_type}'.")
    return jresp(devdata.detail(site.dev(core), app_type, data_type))
