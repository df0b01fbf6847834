"""Dev-status details (``issue["devStatus"]``, contract section 2) into the five ``dev_*`` tables.

``pullrequest`` and ``branch`` details both carry pull requests *and* branches, so rows are keyed by their
primary key and each appears once per issue. Commit lines added/removed are summed from ``files``.
Build and deployment shapes are unverified against real Jira (JIRA_API.md 6.2); their whole entry is kept
in ``raw``.
"""

from __future__ import annotations

from typing import Any, Final

from app.pipeline.schema import DEV_CHILD_TABLES
from app.pipeline.values import name_of, obj, sid, to_int, to_utc

Row = dict[str, Any]
DevRows = dict[str, dict[tuple[Any, ...], Row]]

DEV_TABLES: Final = DEV_CHILD_TABLES  # the dev_* tables, as the schema declares them


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _pull_request(issue_id: str, app: str, pr: dict[str, Any]) -> Row:
    repo = pr.get("repositoryName") or name_of(pr.get("repository")) or ""
    reviewers = [
        {"name": r.get("name"), "approved": r.get("approved")}
        for r in _list(pr.get("reviewers"))
        if isinstance(r, dict)
    ]
    return {
        "issue_id": issue_id,
        "application_type": app,
        "repository_name": repo,
        "pr_id": sid(pr.get("id")),
        "title": pr.get("name") or pr.get("title"),
        "status": pr.get("status"),
        "author_name": name_of(pr.get("author")),
        "source_branch": name_of(pr.get("source"), "branch"),
        "destination_branch": name_of(pr.get("destination"), "branch"),
        "reviewers": reviewers,
        "comment_count": to_int(pr.get("commentCount")),
        "last_update_at": to_utc(pr.get("lastUpdate")),
        "url": pr.get("url"),
        "repository_url": pr.get("repositoryUrl") or name_of(pr.get("repository"), "url"),
    }


def _branch(issue_id: str, app: str, br: dict[str, Any]) -> Row:
    last = obj(br, "lastCommit")
    return {
        "issue_id": issue_id,
        "application_type": app,
        "repository_name": name_of(br.get("repository")) or br.get("repositoryName") or "",
        "branch_name": br.get("name"),
        "url": br.get("url"),
        "last_commit_id": sid(last.get("id")),
        "last_commit_at": to_utc(last.get("authorTimestamp")),
    }


def _commit(issue_id: str, app: str, repo: str, c: dict[str, Any]) -> Row:
    added = removed = 0
    for f in _list(c.get("files")):
        if isinstance(f, dict):
            added += to_int(f.get("linesAdded")) or 0
            removed += to_int(f.get("linesRemoved")) or 0
    return {
        "issue_id": issue_id,
        "application_type": app,
        "repository_name": repo,
        "commit_id": sid(c.get("id")),
        "display_id": c.get("displayId"),
        "message": c.get("message"),
        "author_name": name_of(c.get("author")),
        "authored_at": to_utc(c.get("authorTimestamp")),
        "file_count": to_int(c.get("fileCount")),
        "lines_added": added,
        "lines_removed": removed,
        "is_merge": c.get("merge"),
        "url": c.get("url"),
    }


def _build(issue_id: str, app: str, b: dict[str, Any]) -> Row:
    return {
        "issue_id": issue_id,
        "application_type": app,
        "id": sid(b.get("id")),
        "name": b.get("displayName") or b.get("name"),
        "state": b.get("state"),
        "build_number": to_int(b.get("buildNumber")),
        "last_updated_at": to_utc(b.get("lastUpdated")),
        "url": b.get("url"),
        "raw": b,
    }


def _deployment(issue_id: str, app: str, d: dict[str, Any]) -> Row:
    env = d.get("environment")
    return {
        "issue_id": issue_id,
        "application_type": app,
        "id": sid(d.get("id")),
        "name": d.get("displayName") or d.get("name"),
        "environment": (env.get("displayName") or env.get("id")) if isinstance(env, dict) else env,
        "status": d.get("state") or d.get("status"),
        "last_updated_at": to_utc(d.get("lastUpdated")),
        "url": d.get("url"),
        "raw": d,
    }


def _put(out: DevRows, table: str, row: Row, key: tuple[str, ...]) -> None:
    out[table][tuple(row[k] for k in key)] = row


def dev_rows(issue_id: str, dev_status: Any) -> DevRows:
    """Rows of the ``dev_*`` tables for one issue, keyed by primary key (deduplicated)."""
    out: DevRows = {t: {} for t in DEV_TABLES}
    if not isinstance(dev_status, dict):
        return out
    for group in _list(dev_status.get("details")):
        if not isinstance(group, dict):
            continue
        app = str(group.get("applicationType") or "")
        for entry in _list(group.get("detail")):
            if not isinstance(entry, dict):
                continue
            for pr in _list(entry.get("pullRequests")):
                if isinstance(pr, dict):
                    row = _pull_request(issue_id, app, pr)
                    _put(out, "dev_pull_requests", row, ("application_type", "repository_name", "pr_id"))
            for br in _list(entry.get("branches")):
                if isinstance(br, dict):
                    row = _branch(issue_id, app, br)
                    _put(out, "dev_branches", row, ("application_type", "repository_name", "branch_name"))
            for repo in _list(entry.get("repositories")):
                if not isinstance(repo, dict):
                    continue
                rname = str(repo.get("name") or "")
                for c in _list(repo.get("commits")):
                    if isinstance(c, dict):
                        row = _commit(issue_id, app, rname, c)
                        _put(out, "dev_commits", row, ("application_type", "repository_name", "commit_id"))
            for b in _list(entry.get("builds")):
                if isinstance(b, dict):
                    _put(out, "dev_builds", _build(issue_id, app, b), ("application_type", "id"))
            for d in _list(entry.get("deployments")):
                if isinstance(d, dict):
                    _put(out, "dev_deployments", _deployment(issue_id, app, d), ("application_type", "id"))
    return out
