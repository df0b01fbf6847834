"""Reference streams (contract section 2, ``reference_streams``) into their warehouse tables."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.pipeline.values import obj, sid, to_int, to_utc, user_id

Row = dict[str, Any]


def _project(p: Row) -> Row:
    return {
        "project_id": sid(p.get("id")),
        "project_key": p.get("key"),
        "name": p.get("name"),
        "project_type": p.get("projectTypeKey"),
        "lead_account_id": user_id(p.get("lead")),
        "archived": bool(p.get("_archived") or p.get("archived")),
        "raw": p,
    }


def _user(u: Row) -> Row:
    return {
        "account_id": user_id(u),
        "display_name": u.get("displayName"),
        "email": u.get("emailAddress") or None,
        "active": u.get("active"),
        "account_type": u.get("accountType"),
        "time_zone": u.get("timeZone"),
        "user_name": u.get("name"),
        "user_key": u.get("key"),
    }


def _field(f: Row) -> Row:
    schema = obj(f, "schema")
    return {
        "field_id": sid(f.get("id")),
        "name": f.get("name"),
        "is_custom": bool(f.get("custom")),
        "schema_type": schema.get("type"),
        "schema_custom": schema.get("custom"),
        "schema_items": schema.get("items"),
        "custom_id": sid(schema.get("customId")),
    }


def _status(s: Row) -> Row:
    cat = obj(s, "statusCategory")
    return {
        "status_id": sid(s.get("id")),
        "name": s.get("name"),
        "category_key": cat.get("key"),
        "category_id": sid(cat.get("id")),
    }


def _status_category(c: Row) -> Row:
    return {
        "category_id": sid(c.get("id")),
        "category_key": c.get("key"),
        "name": c.get("name"),
        "color_name": c.get("colorName"),
    }


def _priority(p: Row) -> Row:
    return {"priority_id": sid(p.get("id")), "name": p.get("name")}


def _issue_type(t: Row) -> Row:
    return {
        "issue_type_id": sid(t.get("id")),
        "name": t.get("name"),
        "subtask": t.get("subtask"),
        "hierarchy_level": to_int(t.get("hierarchyLevel")),
    }


def _resolution(r: Row) -> Row:
    return {"resolution_id": sid(r.get("id")), "name": r.get("name"), "description": r.get("description")}


def _link_type(t: Row) -> Row:
    return {
        "link_type_id": sid(t.get("id")),
        "name": t.get("name"),
        "inward": t.get("inward"),
        "outward": t.get("outward"),
    }


def _board(b: Row) -> Row:
    loc = obj(b, "location")
    return {
        "board_id": sid(b.get("id")),
        "name": b.get("name"),
        "board_type": b.get("type"),
        "project_id": sid(loc.get("projectId")),
        "project_key": loc.get("projectKey"),
    }


def _sprint(s: Row) -> Row:
    return {
        "sprint_id": sid(s.get("id")),
        "board_id": sid(s.get("originBoardId") or s.get("_boardId")),
        "name": s.get("name"),
        "state": s.get("state"),
        "start_at": to_utc(s.get("startDate")),
        "end_at": to_utc(s.get("endDate")),
        "complete_at": to_utc(s.get("completeDate")),
        "goal": s.get("goal"),
    }


#: stream name -> (table, row builder)
REFERENCE: dict[str, tuple[str, Callable[[Row], Row]]] = {
    "projects": ("projects", _project),
    "users": ("users", _user),
    "fields": ("fields", _field),
    "statuses": ("statuses", _status),
    "status_categories": ("status_categories", _status_category),
    "priorities": ("priorities", _priority),
    "issue_types": ("issue_types", _issue_type),
    "resolutions": ("resolutions", _resolution),
    "issue_link_types": ("issue_link_types", _link_type),
    "boards": ("boards", _board),
    "sprints": ("sprints", _sprint),
}


def transform_reference(stream: str, records: list[Row]) -> dict[str, list[Row]]:
    """Rows for one reference stream (``{table: rows}``); an unknown stream gives no rows."""
    spec = REFERENCE.get(stream)
    if spec is None:
        return {}
    table, build = spec
    return {table: [build(r) for r in records if isinstance(r, dict)]}


__all__ = ["REFERENCE", "transform_reference"]
