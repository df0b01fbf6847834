"""Small complete Jira issues (contract section 2 shape), written like JIRA_API.md's examples.

They stand in for the outside world (Jira) in loader tests; rows come from the real transform.
"""

from __future__ import annotations

from typing import Any

from app.pipeline.transform import FieldMap, Rows, build_field_map, transform_issues

FIELDS: list[dict[str, Any]] = [
    {"id": "summary", "name": "Summary", "custom": False, "schema": {"type": "string", "system": "summary"}},
    {
        "id": "customfield_10020",
        "name": "Sprint",
        "custom": True,
        "schema": {"type": "array", "items": "json", "custom": "com.pyxis.greenhopper.jira:gh-sprint"},
    },
    {
        "id": "customfield_10016",
        "name": "Story point estimate",
        "custom": True,
        "schema": {"type": "number", "custom": "com.pyxis.greenhopper.jira:jsw-story-points"},
    },
]


def fmap() -> FieldMap:
    """The field map of :data:`FIELDS`."""
    return build_field_map(FIELDS)


def _doc(text: str) -> dict[str, Any]:
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
    }


def issue(
    iid: int,
    updated: str,
    *,
    summary: str = "Retry webhook sender",
    comments: tuple[int, ...] = (),
    worklogs: tuple[int, ...] = (),
    links_to: tuple[tuple[int, int], ...] = (),
    sprints: tuple[int, ...] = (),
    histories: int = 1,
    created: str = "2025-02-20T09:12:03.101+0000",
    commits: int = 0,
) -> dict[str, Any]:
    """A complete issue; ``links_to`` holds ``(link_id, target issue id)`` outward links."""
    user = {"accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "Sam Park"}
    return {
        "id": str(iid),
        "key": f"PAY-{iid}",
        "self": f"https://example.atlassian.net/rest/api/3/issue/{iid}",
        "fields": {
            "summary": summary,
            "project": {"id": "10000", "key": "PAY"},
            "issuetype": {"id": "10001", "name": "Story"},
            "status": {"id": "3", "name": "In Progress", "statusCategory": {"key": "indeterminate"}},
            "created": created,
            "updated": updated,
            "description": _doc(f"{summary} description"),
            "labels": ["backend"],
            "assignee": user,
            "customfield_10016": 5.0,
            "customfield_10020": [{"id": s, "name": f"Sprint {s}", "state": "active"} for s in sprints],
            "issuelinks": [
                {
                    "id": str(lid),
                    "type": {"id": "10000", "name": "Blocks", "inward": "is blocked by", "outward": "blocks"},
                    "outwardIssue": {"id": str(target), "key": f"PAY-{target}"},
                }
                for lid, target in links_to
            ],
            "comment": {
                "total": len(comments),
                "comments": [
                    {
                        "id": str(c),
                        "author": user,
                        "body": _doc(f"comment {c}"),
                        "created": created,
                        "updated": updated,
                    }
                    for c in comments
                ],
            },
            "worklog": {
                "total": len(worklogs),
                "worklogs": [
                    {
                        "id": str(w),
                        "author": user,
                        "started": created,
                        "timeSpentSeconds": 3600,
                        "created": created,
                        "updated": updated,
                    }
                    for w in worklogs
                ],
            },
        },
        "changelog": {
            "total": histories,
            "histories": [
                {
                    "id": f"{iid}{h}",
                    "created": updated,
                    "author": user,
                    "items": [
                        {
                            "field": "status",
                            "fieldtype": "jira",
                            "fieldId": "status",
                            "from": "1",
                            "fromString": "To Do",
                            "to": "3",
                            "toString": "In Progress",
                        }
                    ],
                }
                for h in range(histories)
            ],
        },
        "devStatus": {
            "status": "ok" if commits else "none",
            "details": [
                {
                    "applicationType": "GitHub",
                    "dataType": "repository",
                    "detail": [
                        {
                            "repositories": [
                                {
                                    "name": "acme/payments",
                                    "commits": [
                                        {
                                            "id": f"c{iid}{n}",
                                            "displayId": f"c{iid}{n}",
                                            "message": "fix",
                                            "fileCount": 1,
                                            "authorTimestamp": updated,
                                            "files": [{"linesAdded": 3, "linesRemoved": 1}],
                                        }
                                        for n in range(commits)
                                    ],
                                }
                            ]
                        }
                    ],
                }
            ]
            if commits
            else [],
            "errors": [],
        },
    }


def rows(*issues: dict[str, Any]) -> Rows:
    """Transformed rows of ``issues``."""
    return transform_issues(list(issues), fmap())
