"""``/__sim/*`` control endpoints (no auth): stats, truth, minimal requests, mutate, clock, faults."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from simulator.config import FAULT_FIELDS
from simulator.mutate import mutate
from simulator.routes.common import JiraHTTPError, body_json, jresp, site_of
from simulator.truth import minimal_requests, truth, truth_issues

router = APIRouter(prefix="/__sim")


@router.get("/stats")
async def stats(request: Request) -> Response:
    """Calls per endpoint template and status, and Retry-After violations."""
    return jresp(request.app.state.stats.as_dict())


@router.post("/stats/reset")
async def stats_reset(request: Request) -> Response:
    """Forget all counts."""
    request.app.state.stats.reset()
    return jresp(request.app.state.stats.as_dict())


@router.get("/minimal-requests")
async def minimal(request: Request) -> Response:
    """Requests a perfect full extraction needs for the current data."""
    return jresp(minimal_requests(site_of(request)))


@router.get("/truth")
async def get_truth(request: Request) -> Response:
    """Keys of every entity, or ``?detail=issues`` for per-issue key/updated/project."""
    site = site_of(request)
    if request.query_params.get("detail") == "issues":
        return jresp(truth_issues(site))
    return jresp(truth(site))


@router.post("/mutate")
async def post_mutate(request: Request) -> Response:
    """Seeded changes: update, comments, worklogs, dev data, move, delete, create."""
    return jresp(mutate(site_of(request), await body_json(request)))


@router.api_route("/clock", methods=["GET", "POST"])
async def clock(request: Request) -> Response:
    """Read the simulated clock, advance it (``advance_s``) or set it (``set``)."""
    site = site_of(request)
    if request.method == "POST":
        body = await body_json(request)
        if "set" in body:
            site.clock.set(str(body["set"]))
        if "advance_s" in body:
            site.clock.advance(float(body["advance_s"]))
    return jresp({"now": site.clock.now_iso()})


@router.post("/faults")
async def faults(request: Request) -> Response:
    """Change fault settings at run time (and ``storm_429``: the next K requests answer 429)."""
    site = site_of(request)
    body = await body_json(request)
    unknown = set(body) - set(FAULT_FIELDS) - {"storm_429", "consistency_lag_s", "page_cap"}
    if unknown:
        raise JiraHTTPError(400, f"Unknown fault fields: {sorted(unknown)}")
    changes: dict[str, Any] = {k: v for k, v in body.items() if k != "storm_429"}
    site.config = site.config.with_changes(**changes)
    flt = request.app.state.faults
    if "rate" in changes or "burst" in changes:
        flt.buckets.clear()
    if "storm_429" in body:
        flt.storm = int(body["storm_429"])
    cfg = site.config
    return jresp(
        {k: getattr(cfg, k) for k in (*FAULT_FIELDS, "consistency_lag_s", "page_cap")}
        | {"storm_429": flt.storm}
    )
