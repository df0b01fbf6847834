"""Per-issue children derived from (seed, issue id): change histories, comments and worklogs.

Each function returns ``(epoch_ms, record)`` pairs in creation order, Cloud v3 shape when ``api == 3``
(ADF bodies) and wiki strings when ``api == 2``. The site adds mutation overlays on top.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from simulator.data.issues import IssueCore
from simulator.timefmt import jira_ts

if TYPE_CHECKING:
    from simulator.site import Site

Timed = tuple[int, dict[str, Any]]
STATUS_NAMES = {
    "10000": "To Do",
    "3": "In Progress",
    "10101": "In Review",
    "10102": "Blocked",
    "10001": "Done",
    "10103": "Won't Do",
}
PRIORITY_NAMES = {"1": "Highest", "2": "High", "3": "Medium", "4": "Low", "5": "Lowest"}
CHILD_ID_FACTOR = 10000  # child ids are issue_id * factor + index: unique, stable and sortable


def item(
    field: str,
    field_id: str,
    fieldtype: str,
    frm: str | None,
    frm_s: str | None,
    to: str | None,
    to_s: str | None,
) -> dict[str, Any]:
    """A changelog item; empty sides are null, as in real Jira."""
    return {
        "field": field,
        "fieldtype": fieldtype,
        "fieldId": field_id,
        "from": frm,
        "fromString": frm_s,
        "to": to,
        "toString": to_s,
    }


def _random_items(site: Site, rng: random.Random) -> list[dict[str, Any]]:
    users = site.ref.users
    out: list[dict[str, Any]] = []
    for _ in range(rng.choice([1, 1, 2, 3])):
        kind = rng.randrange(6)
        if kind == 0:
            a, b = rng.sample(list(STATUS_NAMES), 2)
            out.append(item("status", "status", "jira", a, STATUS_NAMES[a], b, STATUS_NAMES[b]))
        elif kind == 1:
            u = users[rng.randrange(len(users))]
            out.append(item("assignee", "assignee", "jira", None, None, u["accountId"], u["displayName"]))
        elif kind == 2:
            a, b = rng.sample(list(PRIORITY_NAMES), 2)
            out.append(item("priority", "priority", "jira", a, PRIORITY_NAMES[a], b, PRIORITY_NAMES[b]))
        elif kind == 3:
            out.append(item("labels", "labels", "jira", None, "", None, rng.choice(["backend", "perf ux"])))
        elif kind == 4:
            sp = site.ref.cf["story_points"]
            out.append(
                item(
                    "Story point estimate",
                    sp,
                    "custom",
                    None,
                    str(rng.choice([1, 2, 3])),
                    None,
                    str(rng.choice([5, 8])),
                )
            )
        else:
            out.append(item("summary", "summary", "jira", None, "Old title", None, "Newer title"))
    return out


def _sprint_item(site: Site, sprint_ids: tuple[int, ...]) -> dict[str, Any]:
    """A Sprint change: multi-value sides are comma-separated ids and names (carried-over issues)."""
    names = [site.sprints[s].name for s in sprint_ids]
    ids = [str(s) for s in sprint_ids]
    frm, frm_s = (ids[0], names[0]) if len(ids) > 1 else (None, "")
    return item("Sprint", site.ref.cf["sprint"], "custom", frm, frm_s, ", ".join(ids), ", ".join(names))


def histories(site: Site, core: IssueCore) -> list[Timed]:
    """Generated change histories, oldest first; the last one sets the current status."""
    rng = random.Random(f"{site.config.seed}:hist:{core.id}")
    users = site.ref.users
    span = max(core.updated_ms - core.created_ms, core.n_hist)
    move_at = core.n_hist // 2 if core.moved_from else -1
    sprint_at = core.n_hist - 1
    out: list[Timed] = []
    for k in range(core.n_hist):
        ms = core.created_ms + span * (k + 1) // core.n_hist if k < core.n_hist - 1 else core.updated_ms
        if k == move_at and core.moved_from:
            src = core.moved_from.split("-")[0]
            dst_p, src_p = site.ref.project_by_key[core.project], site.ref.project_by_key[src]
            items = [
                item("Key", "issuekey", "jira", None, core.moved_from, None, core.key),
                item("project", "project", "jira", src_p["id"], src_p["name"], dst_p["id"], dst_p["name"]),
            ]
        else:
            items = _random_items(site, rng)
        if k == core.n_hist - 1:
            items.append(
                item(
                    "status",
                    "status",
                    "jira",
                    "3",
                    "In Progress",
                    core.status_id,
                    STATUS_NAMES[core.status_id],
                )
            )
        if k == sprint_at and core.sprint_ids:
            items.append(_sprint_item(site, core.sprint_ids))
        author = users[rng.randrange(len(users))]
        out.append(
            (
                ms,
                {
                    "id": str(core.id * CHILD_ID_FACTOR + k + 1),
                    "author": site.user_ref(author),
                    "created": jira_ts(ms, site.tz),
                    "items": items,
                },
            )
        )
    return out


def comments(site: Site, core: IssueCore, api: int) -> list[Timed]:
    """Generated comments, oldest first."""
    if core.n_comm == 0:
        return []
    rng = random.Random(f"{site.config.seed}:comm:{core.id}")
    users, pool = site.ref.users, site.pool
    span = max(core.updated_ms - core.created_ms, 1)
    out: list[Timed] = []
    base = f"{site.base_url}/rest/api/{api}/issue/{core.id}/comment/"
    for k in range(core.n_comm):
        ms = core.created_ms + span * (k + 1) // (core.n_comm + 1)
        edited = ms + rng.randrange(60_000, 3_600_000) if rng.random() < 0.2 else ms
        edited = min(edited, core.updated_ms)
        author = site.user_ref(users[rng.randrange(len(users))])
        body_adf, body_wiki = pool[rng.randrange(len(pool))]
        cid = str(core.id * CHILD_ID_FACTOR + k + 1)
        rec: dict[str, Any] = {
            "self": base + cid,
            "id": cid,
            "author": author,
            "body": body_adf if api == 3 else body_wiki,
            "updateAuthor": author,
            "created": jira_ts(ms, site.tz),
            "updated": jira_ts(edited, site.tz),
            "jsdPublic": True,
        }
        if k % 9 == 8:
            rec["visibility"] = {"type": "role", "value": "Developers", "identifier": "10002"}
        out.append((ms, rec))
    return out


def time_spent(seconds: int) -> str:
    """Jira's ``timeSpent`` text: ``3h 20m``, ``1d 2h``, ``45m``."""
    d, rem = divmod(seconds, 8 * 3600)
    h, rem = divmod(rem, 3600)
    m = rem // 60
    parts = [f"{d}d" if d else "", f"{h}h" if h else "", f"{m}m" if m else ""]
    return " ".join(p for p in parts if p) or "0m"


def worklog_record(
    site: Site,
    core: IssueCore,
    wid: int,
    started: int,
    created: int,
    updated: int,
    seconds: int,
    author: dict[str, Any],
    body: Any,
    api: int,
) -> dict[str, Any]:
    """One worklog in Jira's shape."""
    rec: dict[str, Any] = {
        "self": f"{site.base_url}/rest/api/{api}/issue/{core.id}/worklog/{wid}",
        "author": author,
        "updateAuthor": author,
        "created": jira_ts(created, site.tz),
        "updated": jira_ts(updated, site.tz),
        "started": jira_ts(started, site.tz),
        "timeSpent": time_spent(seconds),
        "timeSpentSeconds": seconds,
        "id": str(wid),
        "issueId": str(core.id),
    }
    if body is not None:
        rec["comment"] = body
    return rec


def worklogs(site: Site, core: IssueCore, api: int) -> list[Timed]:
    """Generated worklogs, in creation order; the ``Timed`` ms is the worklog's ``updated`` time."""
    if core.n_work == 0:
        return []
    rng = random.Random(f"{site.config.seed}:work:{core.id}")
    users, pool = site.ref.users, site.pool
    span = max(core.updated_ms - core.created_ms, 1)
    out: list[Timed] = []
    for k in range(core.n_work):
        created = core.created_ms + span * (k + 1) // (core.n_work + 1)
        started = created - rng.randrange(0, 8 * 3_600_000)
        updated = min(
            created + (rng.randrange(60_000, 600_000) if rng.random() < 0.15 else 0), core.updated_ms
        )
        body = None if rng.random() < 0.3 else pool[rng.randrange(len(pool))][0 if api == 3 else 1]
        author = site.user_ref(users[rng.randrange(len(users))])
        wid = core.id * CHILD_ID_FACTOR + k + 1
        out.append(
            (
                updated,
                worklog_record(
                    site, core, wid, started, created, updated, 900 * rng.randint(1, 32), author, body, api
                ),
            )
        )
    return out
