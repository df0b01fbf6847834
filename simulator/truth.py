"""Ground truth for tests and benchmarks: every entity's keys, the complete issue a perfect extractor
yields, and the minimal number of requests a perfect full extraction needs (see README.md)."""

from __future__ import annotations

import math
from typing import Any

from simulator.data import devdata
from simulator.data.issues import IssueCore
from simulator.issue_view import parse_fields
from simulator.render import EMBED_COMMENTS, EMBED_HISTORIES, EMBED_WORKLOGS, all_fields
from simulator.site import Site
from simulator.timefmt import jira_ts

PROJECT_PAGE, USER_PAGE, BOARD_PAGE, SPRINT_PAGE = 100, 1000, 50, 50
CHANGELOG_BULK_ISSUES, CHANGELOG_BULK_PAGE = 1000, 10000
COMMENT_PAGE, WORKLOG_PAGE = 100, 5000


def _dev_keys(iid: int, dev: devdata.DevData, out: dict[str, list[str]]) -> None:
    for app, data in dev.real().items():
        out["dev_pull_requests"] += [f"{iid}|{app}|{pr['repositoryName']}|{pr['id']}" for pr in data.prs]
        out["dev_branches"] += [f"{iid}|{app}|{b['repository']['name']}|{b['name']}" for b in data.branches]
        out["dev_commits"] += [f"{iid}|{app}|{r['name']}|{c['id']}" for r in data.repos for c in r["commits"]]
    out["dev_builds"] += [f"{iid}|{devdata.PROVIDERS}|{b['id']}" for b in dev.builds]
    out["dev_deployments"] += [f"{iid}|{devdata.PROVIDERS}|{d['id']}" for d in dev.deployments]


def truth(site: Site) -> dict[str, list[str]]:
    """``{entity: [key, ...]}`` of the current site (keys as strings, composite keys joined by ``|``)."""
    ref = site.ref
    out: dict[str, list[str]] = {
        "projects": [p["id"] for p in ref.projects],
        "users": [u["accountId"] for u in ref.users],
        "fields": [f["id"] for f in ref.fields],
        "statuses": [s["id"] for s in ref.statuses],
        "status_categories": [str(c["id"]) for c in ref.status_categories],
        "priorities": [p["id"] for p in ref.priorities],
        "issue_types": [t["id"] for t in ref.issue_types],
        "resolutions": [r["id"] for r in ref.resolutions],
        "issue_link_types": [t["id"] for t in ref.link_types],
        "boards": [str(b.id) for b in site.boards],
        "sprints": [str(s) for s in site.sprints],
        "issues": [],
        "issue_changelog": [],
        "comments": [],
        "worklogs": [],
        "issue_links": [],
        "issue_sprints": [],
        "dev_pull_requests": [],
        "dev_commits": [],
        "dev_branches": [],
        "dev_builds": [],
        "dev_deployments": [],
    }
    with site.lock:
        for core in list(site.issues.values()):
            out["issues"].append(str(core.id))
            for _, h in site.histories(core):
                out["issue_changelog"] += [f"{h['id']}|{n}" for n in range(len(h["items"]))]
            out["comments"] += [c["id"] for c in site.comments(core)]
            out["worklogs"] += [w["id"] for _, w in site.worklogs(core)]
            out["issue_sprints"] += [f"{core.id}|{s}" for s in core.sprint_ids]
            dev = site.dev(core)
            if dev is not None and site.config.dev_status == "ok":
                _dev_keys(core.id, dev, out)
        out["issue_links"] = [
            str(lk.id) for lk in site.links.values() if lk.source in site.issues and lk.target in site.issues
        ]
    return out


def truth_issues(site: Site) -> dict[str, dict[str, str]]:
    """``{issue_id: {"key", "updated", "project_key"}}``."""
    with site.lock:
        return {
            str(c.id): {"key": c.key, "updated": jira_ts(c.updated_ms, site.tz), "project_key": c.project}
            for c in site.issues.values()
        }


def dev_status(site: Site, core: IssueCore) -> dict[str, Any]:
    """The ``devStatus`` member of a complete issue (what a perfect extractor collects)."""
    dev = site.dev(core)
    if dev is None:
        return {"status": "none", "details": [], "errors": []}
    if site.config.dev_status != "ok":
        return {"status": site.config.dev_status, "details": [], "errors": []}
    details, errors = [], []
    for app, data_type in devdata.minimal_calls(dev):
        resp = devdata.detail(dev, app, data_type)
        details.append({"applicationType": app, "dataType": data_type, "detail": resp["detail"]})
        errors += resp["errors"]
    return {"status": "ok", "details": details, "errors": errors}


def complete_issue(site: Site, issue_id: str | int) -> dict[str, Any]:
    """The issue exactly as a perfect extractor yields it (contract section 2)."""
    core = site.issues[int(issue_id)]
    api = 2 if site.server else 3
    full = all_fields(site, core, api)
    fields = {f: full[f] for f in parse_fields(site, "*all", "*all") if f in full}
    comments = site.comments(core, api)
    logs = [w for _, w in site.worklogs(core, api)]
    fields["comment"] = {"comments": comments, "total": len(comments)}
    fields["worklog"] = {"worklogs": logs, "total": len(logs)}
    hist = [h for _, h in site.histories(core)]
    return {
        "id": str(core.id),
        "key": core.key,
        "self": f"{site.base_url}/rest/api/{api}/issue/{core.id}",
        "fields": fields,
        "changelog": {"histories": hist, "total": len(hist)},
        "devStatus": dev_status(site, core),
    }


def minimal_requests(site: Site) -> dict[str, Any]:
    """Requests a perfect full extraction needs (formula in simulator/README.md)."""
    ref, cap = site.ref, site.config.page_cap
    b: dict[str, int] = {
        "projects": math.ceil(len(ref.projects) / PROJECT_PAGE),
        "reference_lists": 7,  # field, status, statuscategory, priority, issuetype, resolution, issueLinkType
        "users": math.ceil(len(ref.users) / USER_PAGE) + 1,
        "boards": max(1, math.ceil(len(site.boards) / BOARD_PAGE)),
        "sprints": sum(
            max(1, math.ceil(len(bd.sprints) / SPRINT_PAGE)) for bd in site.boards if bd.type == "scrum"
        ),
        "search": 0,
        "changelog": 0,
        "comments": 0,
        "worklogs": 0,
        "dev_status": 0,
        "worklog_deleted": 1,
    }
    with site.lock:
        per_project: dict[str, int] = {p["key"]: 0 for p in ref.projects if not p.get("archived")}
        long_changelogs: list[int] = []
        for core in site.issues.values():
            per_project[core.project] = per_project.get(core.project, 0) + 1
            n_hist, n_comm, n_work = site.counts(core)
            if n_hist > EMBED_HISTORIES:
                long_changelogs.append(n_hist)
            if n_comm > EMBED_COMMENTS:
                b["comments"] += math.ceil(n_comm / COMMENT_PAGE)
            if n_work > EMBED_WORKLOGS:
                b["worklogs"] += math.ceil(n_work / WORKLOG_PAGE)
            dev = site.dev(core)
            if dev is not None:
                # Without permission (or plugin) a perfect extractor still learns it from one call.
                b["dev_status"] += len(devdata.minimal_calls(dev)) if site.config.dev_status == "ok" else 0
        if site.config.dev_status != "ok" and any(site.dev(c) for c in site.issues.values()):
            b["dev_status"] = 1
    b["search"] = sum(max(1, math.ceil(n / cap)) for n in per_project.values())
    for i in range(0, len(long_changelogs), CHANGELOG_BULK_ISSUES):
        b["changelog"] += math.ceil(sum(long_changelogs[i : i + CHANGELOG_BULK_ISSUES]) / CHANGELOG_BULK_PAGE)
    return {"full": sum(b.values()), "breakdown": b}
