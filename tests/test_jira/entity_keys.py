"""Keys of every entity in extracted records, in the shape of the simulator's ``/__sim/truth``.

Written independently of ``app.pipeline.transform`` on purpose: these tests check the extraction, so they
read the raw records the way the warehouse contract defines its primary keys.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

REFERENCE = {
    "projects": "id",
    "users": "accountId",
    "fields": "id",
    "statuses": "id",
    "status_categories": "id",
    "priorities": "id",
    "issue_types": "id",
    "resolutions": "id",
    "issue_link_types": "id",
    "boards": "id",
    "sprints": "id",
}


def sprint_field(fields: list[dict[str, Any]]) -> str | None:
    for f in fields:
        if str((f.get("schema") or {}).get("custom", "")).endswith(":gh-sprint"):
            return str(f["id"])
    return None


def reference_keys(streams: dict[str, list[dict[str, Any]]]) -> dict[str, set[str]]:
    return {name: {str(r[REFERENCE[name]]) for r in records} for name, records in streams.items()}


def _sprint_id(value: Any) -> str:
    if isinstance(value, dict):
        return str(value["id"])
    text = str(value)  # Server: com.atlassian.greenhopper.service.sprint.Sprint@1a2b[id=42,...]
    return text.split("id=", 1)[1].split(",", 1)[0].rstrip("]")


def issue_keys(issues: list[dict[str, Any]], sprint_field_id: str | None) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for issue in issues:
        iid = str(issue["id"])
        fields = issue["fields"]
        out["issues"].add(iid)
        for h in issue["changelog"]["histories"]:
            out["issue_changelog"].update(f"{h['id']}|{n}" for n in range(len(h["items"])))
        out["comments"].update(str(c["id"]) for c in fields["comment"]["comments"])
        out["worklogs"].update(str(w["id"]) for w in fields["worklog"]["worklogs"])
        out["issue_links"].update(str(link["id"]) for link in fields.get("issuelinks") or [])
        if sprint_field_id:
            out["issue_sprints"].update(f"{iid}|{_sprint_id(s)}" for s in fields.get(sprint_field_id) or [])
        for d in issue["devStatus"]["details"]:
            app = d["applicationType"]
            for entry in d["detail"]:
                for pr in entry.get("pullRequests") or []:
                    out["dev_pull_requests"].add(f"{iid}|{app}|{pr['repositoryName']}|{pr['id']}")
                for b in entry.get("branches") or []:
                    out["dev_branches"].add(f"{iid}|{app}|{b['repository']['name']}|{b['name']}")
                for repo in entry.get("repositories") or []:
                    commits = repo["commits"]
                    out["dev_commits"].update(f"{iid}|{app}|{repo['name']}|{c['id']}" for c in commits)
                builds, deployments = entry.get("builds") or [], entry.get("deployments") or []
                out["dev_builds"].update(f"{iid}|{app}|{b['id']}" for b in builds)
                out["dev_deployments"].update(f"{iid}|{app}|{x['id']}" for x in deployments)
    return out


def truth_sets(truth: dict[str, list[str]]) -> dict[str, set[str]]:
    return {name: set(keys) for name, keys in truth.items()}
