"""Rendering an issue as Jira returns it: all fields (v3 ADF or v2 wiki text), field selection, expands."""

from __future__ import annotations

import random
from typing import Any

from simulator.data import devdata
from simulator.data.agile import sprint_field_value, sprint_server_string
from simulator.data.issues import IssueCore
from simulator.data.reference import PLATFORM_OPTIONS, REGIONS, TEAM_OPTIONS
from simulator.site import Site
from simulator.timefmt import jira_date, jira_ts

EMBED_COMMENTS = 20  # the embedded comment container is capped like worklogs; total tells the truth
EMBED_WORKLOGS = 20
EMBED_HISTORIES = 40
SUMMARIES = [
    "Retry webhook sender",
    "Fix checkout rounding",
    "Löschen von Konten schlägt fehl",
    "支払い画面の改善",
    "Upgrade TLS ciphers",
    "Ошибка в отчёте",
    "Make export async",
    'Add "quotes" & <tags> to titles',
    "Dashboard loads slowly",
    "Rotate API keys",
]


def summary_of(core: IssueCore) -> str:
    """The issue summary (revision suffix after updates)."""
    text = f"{SUMMARIES[core.id % len(SUMMARIES)]} #{core.id % 1000}"
    return text if core.rev == 0 else f"{text} (rev {core.rev})"


def issue_stub(site: Site, core: IssueCore, api: int) -> dict[str, Any]:
    """``{id, key, self, fields: {summary, status, priority, issuetype}}`` as used in parent/links."""
    st = site.ref.status_by_id[core.status_id]
    return {
        "id": str(core.id),
        "key": core.key,
        "self": f"{site.base_url}/rest/api/{api}/issue/{core.id}",
        "fields": {
            "summary": summary_of(core),
            "status": st,
            "priority": site.ref.priorities[int(core.priority_id) - 1],
            "issuetype": site.ref.issue_types[int(core.type_id) - 10000],
        },
    }


def _custom_values(site: Site, core: IssueCore, api: int) -> dict[str, Any]:
    rng = random.Random(f"{site.config.seed}:cf:{core.id}")
    cf = site.ref.cf
    users = site.ref.users
    out: dict[str, Any] = {}
    sprints = [site.sprints[s] for s in core.sprint_ids]
    if site.server:
        out[cf["sprint"]] = [sprint_server_string(s) for s in sprints] or None
    else:
        out[cf["sprint"]] = [sprint_field_value(s) for s in sprints] or None
    if core.project != "HR":  # story points are missing entirely (not null) outside software projects
        out[cf["story_points"]] = rng.choice([None, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 0.5])
    out[cf["development"]] = devdata.development_field(site.dev(core))
    out[cf["rank"]] = f"0|i{core.id:06x}:"
    t = rng.choice([None, *TEAM_OPTIONS])
    base = f"{site.base_url}/rest/api/{api}/customFieldOption/"
    out[cf["team"]] = None if t is None else {"self": base + t[0], "value": t[1], "id": t[0]}
    picks = rng.sample(PLATFORM_OPTIONS, rng.randint(0, 2))
    out[cf["platforms"]] = [{"self": base + i, "value": v, "id": i} for i, v in picks] or None
    if rng.random() < 0.5:
        rid, rname, kids = rng.choice(REGIONS)
        cid, cname = rng.choice(kids)
        out[cf["region"]] = {
            "self": base + rid,
            "value": rname,
            "id": rid,
            "child": {"self": base + cid, "value": cname, "id": cid},
        }
    else:
        out[cf["region"]] = None
    out[cf["reviewer"]] = site.user_ref(users[rng.randrange(len(users))]) if rng.random() < 0.4 else None
    out[cf["cost"]] = round(rng.uniform(10, 5000), 2) if rng.random() < 0.5 else None
    out[cf["target_date"]] = (
        jira_date(core.created_ms + rng.randrange(1, 60) * 86_400_000, site.tz)
        if rng.random() < 0.4
        else None
    )
    out[cf["go_live"]] = (
        jira_ts(core.created_ms + rng.randrange(1, 90) * 86_400_000, site.tz) if rng.random() < 0.3 else None
    )
    out[cf["tags"]] = sorted(rng.sample(["q1", "q2", "okr", "compliance", "ünïcode"], rng.randint(0, 2)))
    adf, wiki = site.pool[rng.randrange(len(site.pool))]
    out[cf["acceptance"]] = (adf if api == 3 else wiki) if rng.random() < 0.5 else None
    out[cf["design_url"]] = f"https://figma.example/file/{core.id}?node=1%3A2" if rng.random() < 0.3 else None
    out[cf["customer"]] = rng.choice([None, "ACME GmbH", "Ниагара", "株式会社テスト"])
    return out


def _link(site: Site, core: IssueCore, link: Any, api: int) -> dict[str, Any] | None:
    ltype = site.ref.link_types[link.type_index]
    other_id = link.target if link.source == core.id else link.source
    other = site.issues.get(other_id)
    if other is None:
        return None
    out: dict[str, Any] = {
        "id": str(link.id),
        "self": f"{site.base_url}/rest/api/{api}/issueLink/{link.id}",
        "type": ltype,
    }
    stub = issue_stub(site, other, api)
    # The source shows the outward side ("blocks" the other), the target the inward side.
    out["outwardIssue" if link.source == core.id else "inwardIssue"] = stub
    return out


def all_fields(site: Site, core: IssueCore, api: int) -> dict[str, Any]:
    """Every field of the issue (without comment/worklog containers, which callers add)."""
    return site.cached(("f", core.id, api, site.generation), lambda: _all_fields(site, core, api))


def _all_fields(site: Site, core: IssueCore, api: int) -> dict[str, Any]:
    ref = site.ref
    rng = random.Random(f"{site.config.seed}:f:{core.id}")
    status = ref.status_by_id[core.status_id]
    done = status["statusCategory"]["key"] == "done"
    project = dict(ref.project_by_key[core.project])
    project.pop("archived", None)
    project.pop("archivedDate", None)
    project.pop("projectCategory", None)
    desc_adf, desc_wiki = site.pool[core.id % len(site.pool)]
    assignee = site.user_ref(ref.users[core.assignee]) if core.assignee is not None else None
    reporter = site.user_ref(ref.users[core.reporter])
    fields: dict[str, Any] = {
        "summary": summary_of(core),
        "description": None if core.id % 13 == 0 else (desc_adf if api == 3 else desc_wiki),
        "issuetype": ref.issue_types[int(core.type_id) - 10000],
        "project": project,
        "status": status,
        "statuscategorychangedate": jira_ts(core.updated_ms, site.tz),
        "priority": ref.priorities[int(core.priority_id) - 1],
        "resolution": (ref.resolutions[0] if core.status_id == "10001" else ref.resolutions[1])
        if done
        else None,
        "resolutiondate": jira_ts(core.updated_ms, site.tz) if done else None,
        "assignee": assignee,
        "reporter": reporter,
        "creator": reporter,
        "created": jira_ts(core.created_ms, site.tz),
        "updated": jira_ts(core.updated_ms, site.tz),
        "duedate": jira_date(core.created_ms + 14 * 86_400_000, site.tz) if rng.random() < 0.3 else None,
        "labels": list(core.labels),
        "subtasks": [
            issue_stub(site, site.issues[i], api) for i in site.subtasks.get(core.id, ()) if i in site.issues
        ],
        "issuelinks": [],
        "environment": None,
        "timespent": timespent(site, core),
        "attachment": [],
    }
    if core.parent_id is not None and core.parent_id in site.issues:
        fields["parent"] = issue_stub(site, site.issues[core.parent_id], api)
    fields["issuelinks"] = [x for x in (_link(site, core, lk, api) for lk in site.issue_links(core)) if x]
    if rng.random() < 0.2:
        aid = str(core.id * 10 + 1)
        fields["attachment"] = [
            {
                "self": f"{site.base_url}/rest/api/{api}/attachment/{aid}",
                "id": aid,
                "filename": rng.choice(["trace.log", "screen shot.png", "données.csv"]),
                "author": reporter,
                "created": jira_ts(core.created_ms + 60_000, site.tz),
                "size": rng.randint(100, 90_000),
                "mimeType": "text/plain",
                "content": f"{site.base_url}/rest/api/{api}/attachment/content/{aid}",
            }
        ]
    fields.update(_custom_values(site, core, api))
    return fields


def comment_container(site: Site, core: IssueCore, api: int, cap: int = EMBED_COMMENTS) -> dict[str, Any]:
    """The embedded ``fields.comment`` container: the first ``cap`` comments and the true total."""
    comments = site.comments(core, api)
    return {
        "comments": comments[:cap],
        "self": f"{site.base_url}/rest/api/{api}/issue/{core.id}/comment",
        "maxResults": cap,
        "total": len(comments),
        "startAt": 0,
    }


def worklog_container(site: Site, core: IssueCore, api: int, cap: int = EMBED_WORKLOGS) -> dict[str, Any]:
    """The embedded ``fields.worklog`` container, capped at 20 with the true total."""
    logs = site.worklogs(core, api)
    return {"startAt": 0, "maxResults": cap, "total": len(logs), "worklogs": [r for _, r in logs[:cap]]}


def timespent(site: Site, core: IssueCore) -> int | None:
    """Sum of worklog seconds (None when nothing is logged)."""
    total = sum(r["timeSpentSeconds"] for _, r in site.worklogs(core, 3))
    return total or None


def embedded_changelog(site: Site, core: IssueCore) -> dict[str, Any]:
    """``expand=changelog``: the newest 40 histories, newest first, with the true total."""
    hist = site.histories(core)
    newest = [h for _, h in reversed(hist[-EMBED_HISTORIES:])]
    return {"startAt": 0, "maxResults": len(newest), "total": len(hist), "histories": newest}
