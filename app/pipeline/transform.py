"""Complete Jira issues (contract section 2) into warehouse rows: pure functions, no I/O.

Every timestamp becomes an aware UTC datetime; rich text is flattened (``app/pipeline/adf.py``) next to the
raw value; custom fields are keyed by field *name*, resolved through the field list of the run (so a
renamed field shows under its new name); Story points, Sprint and Development are found by their
``schema.custom`` type, never by id. Values that cannot be parsed are left as they are, for ``validate``
to quarantine with a reason. Reference streams are in ``transform_reference.py`` (re-exported here).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

from app.core.gc_pause import collector_paused
from app.pipeline.adf import adf_to_text
from app.pipeline.schema import LINK_OWNER
from app.pipeline.transform_dev import DEV_TABLES, dev_rows
from app.pipeline.transform_reference import transform_reference
from app.pipeline.values import name_of, obj, sid, to_date, to_float, to_int, to_utc, user_id

__all__ = ["FieldMap", "Rows", "build_field_map", "estimated_rows", "transform_issues", "transform_reference"]

Rows = dict[str, list[dict[str, Any]]]

SPRINT_CUSTOM: Final = "com.pyxis.greenhopper.jira:gh-sprint"
DEV_CUSTOM: Final = "com.atlassian.jira.plugins.jira-development-integration-plugin:devsummarycf"
# Company-managed projects use jsw-story-points; older sites a float field named "Story Points".
STORY_POINTS_CUSTOM: Final = ("com.pyxis.greenhopper.jira:jsw-story-points",)
_SERVER_SPRINT_ID: Final = re.compile(r"[\[,]id=(\d+)")
_SKIP_FIELDS: Final = frozenset({"comment", "worklog"})


@dataclass(frozen=True)
class FieldMap:
    """Custom field ids resolved from one run's ``/field`` list."""

    names: dict[str, str] = field(default_factory=dict)  # custom field id -> unique display name
    kinds: dict[str, str] = field(default_factory=dict)  # custom field id -> schema.custom
    sprint: tuple[str, ...] = ()
    story_points: tuple[str, ...] = ()
    development: tuple[str, ...] = ()


def build_field_map(fields: list[dict[str, Any]]) -> FieldMap:
    """Resolve custom fields by ``schema.custom``; names clashing with another field get `` (id)``."""
    names: dict[str, str] = {}
    kinds: dict[str, str] = {}
    seen: dict[str, int] = {}
    custom = [
        f
        for f in fields
        if isinstance(f, dict) and (f.get("custom") or str(f.get("id", "")).startswith("customfield_"))
    ]
    for f in custom:
        seen[str(f.get("name"))] = seen.get(str(f.get("name")), 0) + 1
    sprint, points, dev = [], [], []
    for f in custom:
        fid, name = str(f["id"]), str(f.get("name") or f["id"])
        names[fid] = name if seen.get(name, 0) == 1 else f"{name} ({fid})"
        kind = str((f.get("schema") or {}).get("custom") or "")
        kinds[fid] = kind
        if kind == SPRINT_CUSTOM:
            sprint.append(fid)
        elif kind in STORY_POINTS_CUSTOM or (kind.endswith(":float") and name.lower() == "story points"):
            points.append(fid)
        elif kind == DEV_CUSTOM:
            dev.append(fid)
    return FieldMap(names, kinds, tuple(sprint), tuple(points), tuple(dev))


def sprint_ids(value: Any) -> list[str]:
    """Sprint ids of the Sprint field: Cloud objects ``{"id": 37}`` or Server strings ``...[id=42,...]``."""
    out: list[str] = []
    for s in value if isinstance(value, list) else ([value] if value else []):
        if isinstance(s, dict) and s.get("id") is not None:
            out.append(str(s["id"]))
        elif isinstance(s, str):
            m = _SERVER_SPRINT_ID.search(s)
            if m:
                out.append(m.group(1))
            elif s.isdigit():
                out.append(s)
        elif isinstance(s, int) and not isinstance(s, bool):
            out.append(str(s))
    return out


def _custom_value(kind: str, value: Any) -> Any:
    """A readable custom field value; the full value stays in ``raw``."""
    if isinstance(value, dict):
        if value.get("type") == "doc":
            return adf_to_text(value)
        if "child" in value and isinstance(value["child"], dict):
            return {"value": value.get("value"), "child": value["child"].get("value")}
        if "value" in value:
            return value["value"]
        if "accountId" in value or ("key" in value and "displayName" in value):
            return user_id(value)
    if isinstance(value, list) and value and isinstance(value[0], dict) and kind != SPRINT_CUSTOM:
        return [_custom_value(kind, v) for v in value]
    return value


def _issue_row(issue: dict[str, Any], f: dict[str, Any], fmap: FieldMap) -> dict[str, Any]:
    project = obj(f, "project")
    status = obj(f, "status")
    customs: dict[str, Any] = {}
    points = None
    sprints: list[str] = []
    for fid, value in f.items():
        name = fmap.names.get(fid)
        if name is None or value is None or fid in fmap.development:
            continue
        if fid in fmap.sprint:
            sprints.extend(sprint_ids(value))
        elif fid in fmap.story_points and points is None:
            points = to_float(value)
        customs[name] = _custom_value(fmap.kinds.get(fid, ""), value)
    description = f.get("description")
    return {
        "issue_id": sid(issue.get("id")),
        "issue_key": issue.get("key"),
        "project_id": sid(project.get("id")),
        "project_key": project.get("key"),
        "issue_type": name_of(f.get("issuetype")),
        "parent_id": sid(name_of(f.get("parent"), "id")),
        "status_name": status.get("name"),
        "status_category": name_of(status.get("statusCategory"), "key"),
        "priority": name_of(f.get("priority")),
        "resolution": name_of(f.get("resolution")),
        "summary": f.get("summary"),
        "description_text": None if description is None else adf_to_text(description),
        "assignee_account_id": user_id(f.get("assignee")),
        "reporter_account_id": user_id(f.get("reporter")),
        "creator_account_id": user_id(f.get("creator")),
        "created_at": to_utc(f.get("created")),
        "updated_at": to_utc(f.get("updated")),
        "resolved_at": to_utc(f.get("resolutiondate")),
        "due_date": to_date(f.get("duedate")),
        "labels": f.get("labels") or [],
        "components": [name_of(c) for c in f.get("components") or ()],
        "fix_versions": [name_of(v) for v in f.get("fixVersions") or ()],
        "story_points": points,
        "sprint_ids": list(dict.fromkeys(sprints)),
        "custom_fields": customs,
        "raw": {
            "id": issue.get("id"),
            "key": issue.get("key"),
            "self": issue.get("self"),
            "fields": {k: v for k, v in f.items() if k not in _SKIP_FIELDS},
        },
        "is_deleted": False,
        "dev_status": _dev_status(issue.get("devStatus")),
    }


def _dev_status(dev: Any) -> str | None:
    """How dev-status answered for the issue (``ok``, ``none``, ``forbidden``, ``absent``, ``error``)."""
    status = dev.get("status") if isinstance(dev, dict) else None
    return status if isinstance(status, str) else None


def _changelog(issue_id: str, issue: dict[str, Any], out: list[dict[str, Any]]) -> None:
    changelog = obj(issue, "changelog")
    for h in changelog.get("histories") or ():
        hid, author, at = sid(h.get("id")), user_id(h.get("author")), to_utc(h.get("created"))
        for index, item in enumerate(h.get("items") or ()):
            out.append(
                {
                    "history_id": hid,
                    "item_index": index,
                    "issue_id": issue_id,
                    "author_account_id": author,
                    "changed_at": at,
                    "field": item.get("field"),
                    "field_id": item.get("fieldId"),
                    "field_type": item.get("fieldtype"),
                    "from_value": sid(item.get("from")),
                    "from_string": item.get("fromString"),
                    "to_value": sid(item.get("to")),
                    "to_string": item.get("toString"),
                }
            )


def _comments(issue_id: str, f: dict[str, Any], out: list[dict[str, Any]]) -> None:
    container = obj(f, "comment")
    for c in container.get("comments") or ():
        out.append(
            {
                "comment_id": sid(c.get("id")),
                "issue_id": issue_id,
                "author_account_id": user_id(c.get("author")),
                "update_author_account_id": user_id(c.get("updateAuthor")),
                "body_text": adf_to_text(c.get("body")),
                "created_at": to_utc(c.get("created")),
                "updated_at": to_utc(c.get("updated")),
            }
        )


def _worklogs(issue_id: str, f: dict[str, Any], out: list[dict[str, Any]]) -> None:
    container = obj(f, "worklog")
    for w in container.get("worklogs") or ():
        comment = w.get("comment")
        out.append(
            {
                "worklog_id": sid(w.get("id")),
                "issue_id": issue_id,
                "author_account_id": user_id(w.get("author")),
                "started_at": to_utc(w.get("started")),
                "time_spent_seconds": to_int(w.get("timeSpentSeconds")),
                "comment_text": None if comment is None else adf_to_text(comment),
                "created_at": to_utc(w.get("created")),
                "updated_at": to_utc(w.get("updated")),
            }
        )


def _links(issue_id: str, f: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    source: str | None
    target: str | None
    for link in f.get("issuelinks") or ():
        ltype = obj(link, "type")
        if isinstance(link.get("outwardIssue"), dict):
            source, target = issue_id, sid(link["outwardIssue"].get("id"))
        elif isinstance(link.get("inwardIssue"), dict):
            source, target = sid(link["inwardIssue"].get("id")), issue_id
        else:
            continue
        out.append(
            {
                "link_id": sid(link.get("id")),
                "source_issue_id": source,
                "target_issue_id": target,
                "link_type": ltype.get("name"),
                "link_type_id": sid(ltype.get("id")),
                "outward_description": ltype.get("outward"),
                "inward_description": ltype.get("inward"),
                LINK_OWNER: issue_id,
            }
        )
    return out


def _newest(issues: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One issue per id: the newest ``updated`` wins (an issue edited mid-scan can appear twice)."""
    by_id: dict[Any, dict[str, Any]] = {}
    for issue in issues:
        iid = issue.get("id")
        old = by_id.get(iid)
        if old is None or _updated(issue) >= _updated(old):
            by_id[iid] = issue
    return list(by_id.values())


def _updated(issue: dict[str, Any]) -> str:
    v = to_utc((issue.get("fields") or {}).get("updated"))
    return v.isoformat() if hasattr(v, "isoformat") else ""


@collector_paused()
def transform_issues(issues: list[dict[str, Any]], fmap: FieldMap, *, deployment: str = "cloud") -> Rows:
    """Rows of ``issues`` and every child table for a list of complete issues.

    An issue listed twice is transformed once (newest ``updated``); ``validate`` reports the duplicate
    from the raw list. Each issue link appears once, owned by the newest issue carrying it. Works for
    Cloud (ADF, ``accountId``) and Server/DC (wiki strings, user ``key``/``name``) alike; ``deployment``
    is accepted for the contract and does not change the parsing, which looks at the values themselves.
    """
    del deployment  # the shapes are detected per value (ADF dict vs wiki string, accountId vs key)
    rows: Rows = {
        "issues": [],
        "issue_changelog": [],
        "comments": [],
        "worklogs": [],
        "issue_links": [],
        "issue_sprints": [],
        **{t: [] for t in DEV_TABLES},
    }
    links: dict[Any, tuple[Any, dict[str, Any]]] = {}
    for issue in _newest(issues):
        f = obj(issue, "fields")
        row = _issue_row(issue, f, fmap)
        issue_id = row["issue_id"]
        rows["issues"].append(row)
        _changelog(issue_id, issue, rows["issue_changelog"])
        _comments(issue_id, f, rows["comments"])
        _worklogs(issue_id, f, rows["worklogs"])
        for sprint in row["sprint_ids"]:
            rows["issue_sprints"].append({"issue_id": issue_id, "sprint_id": sprint})
        for link in _links(issue_id, f):
            held = links.get(link["link_id"])
            if held is None or _key(row) >= held[0]:
                links[link["link_id"]] = (_key(row), link)
        for table, keyed in dev_rows(issue_id, issue.get("devStatus")).items():
            rows[table].extend(keyed.values())
    rows["issue_links"] = [link for _, link in links.values()]
    return rows


def estimated_rows(issues: list[dict[str, Any]]) -> int:
    """Rows ``transform_issues`` makes of ``issues`` at least: the issue, its changelog items, comments and
    worklogs (links, sprints and development rows come on top). Used to cap a batch before transforming it.
    """
    total = 0
    for issue in issues:
        f = obj(issue, "fields")
        total += 1 + _count(obj(f, "comment").get("comments")) + _count(obj(f, "worklog").get("worklogs"))
        histories = obj(issue, "changelog").get("histories")
        if isinstance(histories, list):
            total += sum(_count(h.get("items")) for h in histories if isinstance(h, dict))
    return total


def _count(value: Any) -> int:
    return len(value) if isinstance(value, list) else 0


def _key(row: dict[str, Any]) -> str:
    v = row["updated_at"]
    return v.isoformat() if hasattr(v, "isoformat") else ""
