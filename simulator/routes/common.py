"""Helpers shared by the route modules: fast JSON responses, Jira errors, paging parameters."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from simulator.site import Site


class JiraHTTPError(Exception):
    """Raised by handlers; rendered as Jira's error body with the given status."""

    def __init__(
        self,
        status: int,
        *messages: str,
        errors: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(messages[0] if messages else str(status))
        self.status, self.messages, self.errors, self.headers = status, list(messages), errors or {}, headers


def jresp(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Serialize with ``json.dumps`` directly (much faster than FastAPI's encoder on big pages)."""
    body = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, status_code=status, media_type="application/json;charset=UTF-8", headers=headers)


def site_of(request: Request) -> Site:
    """The simulated site behind the app."""
    site: Site = request.app.state.sim
    return site


def api_version(site: Site, ver: str) -> int:
    """2 or 3; Server/DC has no v3 (404), unknown versions are 404 too."""
    if ver not in ("2", "3") or (ver == "3" and site.server):
        raise JiraHTTPError(404, "null for uri: /rest/api/" + ver)
    return int(ver)


def int_param(request: Request, name: str, default: int, *, minimum: int = 0) -> int:
    """An integer query parameter (400 with Jira's message when not a number)."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise JiraHTTPError(400, f"The '{name}' parameter must be a number.") from exc
    return max(value, minimum)


def page_a(
    request: Request, values: list[Any], start: int, max_results: int, *, base: str | None = None
) -> dict[str, Any]:
    """Family A page bean: ``{self, nextPage?, maxResults, startAt, total, isLast, values}``."""
    chunk = values[start : start + max_results]
    is_last = start + len(chunk) >= len(values)
    self_url = str(request.url)
    out: dict[str, Any] = {
        "self": self_url,
        "maxResults": max_results,
        "startAt": start,
        "total": len(values),
        "isLast": is_last,
        "values": chunk,
    }
    if not is_last:
        nxt = request.url.include_query_params(startAt=start + len(chunk), maxResults=max_results)
        out["nextPage"] = str(nxt)
    return out


async def body_json(request: Request) -> dict[str, Any]:
    """The JSON body as a dict (400 when malformed)."""
    try:
        data = await request.json()
    except ValueError as exc:
        raise JiraHTTPError(400, "Unexpected character in the JSON body.") from exc
    if not isinstance(data, dict):
        raise JiraHTTPError(400, "The request body must be a JSON object.")
    return data
