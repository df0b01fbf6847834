"""A by-the-book extraction over HTTP reaches the ground truth in exactly ``minimal-requests`` calls.

This pins the yardstick to the endpoints: if the formula or an endpoint drifts, the two disagree here.
The little extractor below is test scaffolding (the product's extractor lives in ``app/jira``).
"""

from __future__ import annotations

import json
import math
from typing import Any

import httpx


def _dev_summary(development: str) -> dict[str, Any] | None:
    if development == "{}":
        return None
    start = development.index("json=") + len("json=")
    payload, _ = json.JSONDecoder().raw_decode(development[start:])
    return dict(payload["cachedValue"]["summary"])


def _extract(c: httpx.Client, cf_dev: str) -> dict[str, set[str]]:
    got: dict[str, set[str]] = {
        k: set()
        for k in (
            "issues",
            "comments",
            "worklogs",
            "issue_changelog",
            "dev_pull_requests",
            "dev_commits",
            "projects",
            "users",
        )
    }
    projects = c.get(
        "/rest/api/3/project/search", params={"status": "live,archived", "maxResults": 100}
    ).json()
    got["projects"] = {p["id"] for p in projects["values"]}
    for path in ("field", "status", "statuscategory", "priority", "issuetype", "resolution", "issueLinkType"):
        c.get(f"/rest/api/3/{path}").raise_for_status()
    start = 0
    while page := c.get("/rest/api/3/users/search", params={"startAt": start, "maxResults": 1000}).json():
        got["users"] |= {u["accountId"] for u in page}
        start += len(page)
    for board in c.get("/rest/agile/1.0/board", params={"maxResults": 50}).json()["values"]:
        if board["type"] == "scrum":
            c.get(f"/rest/agile/1.0/board/{board['id']}/sprint", params={"maxResults": 50}).raise_for_status()
    issues: list[dict[str, Any]] = []
    for project in projects["values"]:
        if project.get("archived"):
            continue
        token = None
        while True:
            params: dict[str, Any] = {
                "jql": f"project = {project['key']} ORDER BY updated ASC",
                "fields": "*all",
                "expand": "changelog",
                "maxResults": 100,
                **({"nextPageToken": token} if token else {}),
            }
            page = c.get("/rest/api/3/search/jql", params=params).json()
            issues += page["issues"]
            token = page.get("nextPageToken")
            if token is None:
                break
    long_logs = []
    for issue in issues:
        iid, fields = issue["id"], issue["fields"]
        got["issues"].add(iid)
        log = issue["changelog"]
        if log["total"] > len(log["histories"]):
            long_logs.append(iid)
        else:
            got["issue_changelog"] |= {
                f"{h['id']}|{n}" for h in log["histories"] for n in range(len(h["items"]))
            }
        comments = fields["comment"]["comments"]
        if fields["comment"]["total"] > len(comments):
            comments = []
            for p in range(math.ceil(fields["comment"]["total"] / 100)):
                comments += c.get(
                    f"/rest/api/3/issue/{iid}/comment", params={"startAt": p * 100, "maxResults": 100}
                ).json()["comments"]
        got["comments"] |= {x["id"] for x in comments}
        logs = fields["worklog"]["worklogs"]
        if fields["worklog"]["total"] > len(logs):
            logs = c.get(f"/rest/api/3/issue/{iid}/worklog", params={"maxResults": 5000}).json()["worklogs"]
        got["worklogs"] |= {w["id"] for w in logs}
        summary = _dev_summary(fields[cf_dev])
        if summary is None:
            continue
        types = set()
        for dt in ("pullrequest", "branch", "repository"):
            types |= set(summary[dt]["byInstanceType"])
        for app in sorted(types):
            prs = c.get(
                "/rest/dev-status/1.0/issue/detail",
                params={"issueId": iid, "applicationType": app, "dataType": "pullrequest"},
            ).json()
            got["dev_pull_requests"] |= {
                f"{iid}|{app}|{pr['repositoryName']}|{pr['id']}"
                for d in prs["detail"]
                for pr in d["pullRequests"]
            }
            repos = c.get(
                "/rest/dev-status/1.0/issue/detail",
                params={"issueId": iid, "applicationType": app, "dataType": "repository"},
            ).json()
            got["dev_commits"] |= {
                f"{iid}|{app}|{r['name']}|{x['id']}"
                for d in repos["detail"]
                for r in d["repositories"]
                for x in r["commits"]
            }
        for dt in ("build", "deployment-environment"):
            if summary[dt]["overall"]["count"]:
                c.get(
                    "/rest/dev-status/1.0/issue/detail",
                    params={"issueId": iid, "applicationType": "cloud-providers", "dataType": dt},
                )
    for i in range(0, len(long_logs), 1000):
        token = None
        while True:
            body = {
                "issueIdsOrKeys": long_logs[i : i + 1000],
                "maxResults": 10000,
                **({"nextPageToken": token} if token else {}),
            }
            page = c.post("/rest/api/3/changelog/bulkfetch", json=body).json()
            for entry in page["issueChangeLogs"]:
                got["issue_changelog"] |= {
                    f"{h['id']}|{n}" for h in entry["changeHistories"] for n in range(len(h["items"]))
                }
            token = page.get("nextPageToken")
            if token is None:
                break
    c.get("/rest/api/3/worklog/deleted", params={"since": 0}).raise_for_status()
    return got


def test_perfect_extraction_needs_exactly_the_minimal_requests_and_reaches_the_truth(sim_factory) -> None:
    sim = sim_factory(issues=150, seed=11)
    sim.mutate(
        seed=3, update=5, add_comments=4, delete_comments=2, add_worklogs=3, move=2, delete=2, create=3
    )
    sim.reset_stats()
    with httpx.Client(base_url=sim.base_url, auth=sim.auth, timeout=30) as c:
        got = _extract(c, sim.site.ref.cf["development"])
    truth = sim.truth()
    for entity, keys in got.items():
        assert keys == set(truth[entity]), entity
    stats = sim.stats()
    assert all(set(codes) == {"200"} for codes in stats["by_endpoint"].values())
    assert stats["total"] == sim.minimal_requests()["full"]
