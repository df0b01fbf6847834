"""``POST /__sim/mutate``: seeded changes to the site between extraction runs.

Every mutated issue gets a new change history and ``updated`` = simulated now, except dev-only changes,
which leave ``updated`` alone (as in real Jira, linking a commit does not touch the issue).
"""

from __future__ import annotations

import random
from typing import Any

from simulator.data.children import CHILD_ID_FACTOR, STATUS_NAMES, item, worklog_record
from simulator.data.issues import IssueCore
from simulator.data.reference import PROJECT_SPECS
from simulator.render import summary_of
from simulator.site import Site
from simulator.timefmt import jira_ts

LIVE = [k for k, _n, _t, w, archived in PROJECT_SPECS if not archived and w > 0]


def _touch(site: Site, core: IssueCore, now: int, items: list[dict[str, Any]], rng: random.Random) -> None:
    """Append a history with ``items`` and set ``updated`` to now."""
    ov = site.overlay(core)
    author = site.user_ref(site.ref.users[rng.randrange(len(site.ref.users))])
    hid = str(core.id * CHILD_ID_FACTOR + ov.next_child)
    ov.next_child += 1
    ov.hist.append((now, {"id": hid, "author": author, "created": jira_ts(now, site.tz), "items": items}))
    core.updated_ms = now


def _next_key(site: Site, project: str) -> str:
    top = max((int(k.split("-")[1]) for k in site.key_index if k.split("-")[0] == project), default=0)
    return f"{project}-{top + 1}"


def _pick(rng: random.Random, pool: list[IssueCore], n: int) -> list[IssueCore]:
    return rng.sample(pool, min(n, len(pool)))


def mutate(site: Site, spec: dict[str, Any]) -> dict[str, list[str]]:
    """Apply the requested counts of changes; returns what changed (ids as strings)."""
    rng = random.Random(f"{site.config.seed}:mutate:{spec.get('seed', 0)}")
    out: dict[str, list[str]] = {
        k: []
        for k in (
            "updated",
            "created",
            "deleted",
            "moved",
            "comments_added",
            "comments_deleted",
            "worklogs_added",
            "worklogs_deleted",
            "dev_added",
        )
    }
    with site.lock:
        now = site.clock.now_ms()
        site.generation += 1
        pool = sorted(site.issues.values(), key=lambda c: c.id)
        for core in _pick(rng, pool, int(spec.get("update", 0))):
            site.overlay(core)  # materialise children before the core changes under them
            old_status, old_prio, old_summary = core.status_id, core.priority_id, summary_of(core)
            core.status_id = rng.choice([s for s in STATUS_NAMES if s != old_status])
            core.priority_id = rng.choice([p for p in "12345" if p != old_prio])
            core.rev += 1
            _touch(
                site,
                core,
                now,
                [
                    item(
                        "status",
                        "status",
                        "jira",
                        old_status,
                        STATUS_NAMES[old_status],
                        core.status_id,
                        STATUS_NAMES[core.status_id],
                    ),
                    item("priority", "priority", "jira", old_prio, None, core.priority_id, None),
                    item("summary", "summary", "jira", None, old_summary, None, summary_of(core)),
                ],
                rng,
            )
            out["updated"].append(str(core.id))
        for core in _pick(rng, pool, int(spec.get("add_comments", 0))):
            ov = site.overlay(core)
            cid = str(core.id * CHILD_ID_FACTOR + ov.next_child)
            ov.next_child += 1
            adf, wiki = site.pool[rng.randrange(len(site.pool))]
            author = site.user_ref(site.ref.users[rng.randrange(len(site.ref.users))])
            for api in (2, 3):
                ov.comm[api].append(
                    {
                        "self": f"{site.base_url}/rest/api/{api}/issue/{core.id}/comment/{cid}",
                        "id": cid,
                        "author": author,
                        "body": adf if api == 3 else wiki,
                        "updateAuthor": author,
                        "created": jira_ts(now, site.tz),
                        "updated": jira_ts(now, site.tz),
                        "jsdPublic": True,
                    }
                )
            _touch(site, core, now, [item("Comment", "comment", "jira", None, None, cid, None)], rng)
            out["comments_added"].append(cid)
        with_comments = [c for c in pool if site.comments(c)]
        for core in _pick(rng, with_comments, int(spec.get("delete_comments", 0))):
            ov = site.overlay(core)
            victim = ov.comm[3][rng.randrange(len(ov.comm[3]))]["id"]
            for api in (2, 3):
                ov.comm[api] = [c for c in ov.comm[api] if c["id"] != victim]
            _touch(site, core, now, [item("Comment", "comment", "jira", victim, None, None, None)], rng)
            out["comments_deleted"].append(victim)
        for core in _pick(rng, pool, int(spec.get("add_worklogs", 0))):
            ov = site.overlay(core)
            wid = core.id * CHILD_ID_FACTOR + ov.next_child
            ov.next_child += 1
            adf, wiki = site.pool[rng.randrange(len(site.pool))]
            author = site.user_ref(site.ref.users[rng.randrange(len(site.ref.users))])
            seconds = 900 * rng.randint(1, 16)
            for api in (2, 3):
                rec = worklog_record(
                    site,
                    core,
                    wid,
                    now - 3_600_000,
                    now,
                    now,
                    seconds,
                    author,
                    adf if api == 3 else wiki,
                    api,
                )
                ov.work[api].append((now, rec))
            _touch(
                site, core, now, [item("timespent", "timespent", "jira", None, None, str(seconds), None)], rng
            )
            out["worklogs_added"].append(str(wid))
        with_work = [c for c in pool if site.worklogs(c)]
        for core in _pick(rng, with_work, int(spec.get("delete_worklogs", 0))):
            ov = site.overlay(core)
            victim = ov.work[3][rng.randrange(len(ov.work[3]))][1]["id"]
            for api in (2, 3):
                ov.work[api] = [w for w in ov.work[api] if w[1]["id"] != victim]
            site.worklog_tombstones.append((now, victim))
            _touch(site, core, now, [item("WorklogId", "worklogId", "jira", victim, victim, None, None)], rng)
            out["worklogs_deleted"].append(victim)
        for core in _pick(rng, pool, int(spec.get("add_dev", 0))):
            # Dev data changes do not bump `updated` (and write no history), like real Jira.
            had = core.has_dev or core.id in site.dev_on
            site.dev_on.add(core.id)
            if had:
                site.overlay(core).dev_rev += 1
            out["dev_added"].append(str(core.id))
        for core in _pick(rng, pool, int(spec.get("move", 0))):
            site.overlay(core)
            target = rng.choice([p for p in LIVE if p != core.project])
            old_key, old_p = core.key, site.ref.project_by_key[core.project]
            new_p = site.ref.project_by_key[target]
            core.key = _next_key(site, target)
            core.project = target
            core.old_keys = (*core.old_keys, old_key)
            site.key_index[core.key] = core.id
            _touch(
                site,
                core,
                now,
                [
                    item("Key", "issuekey", "jira", None, old_key, None, core.key),
                    item(
                        "project", "project", "jira", old_p["id"], old_p["name"], new_p["id"], new_p["name"]
                    ),
                ],
                rng,
            )
            out["moved"].append(str(core.id))
        deleted_ids = set()
        for core in _pick(rng, pool, int(spec.get("delete", 0))):
            _delete(site, core, now, rng)
            deleted_ids.add(core.id)
            out["deleted"].append(str(core.id))
        for _ in range(int(spec.get("create", 0))):
            out["created"].append(str(_create(site, now, rng).id))
        # An update on an issue deleted in the same call is not reported as updated.
        for key in ("updated", "moved"):
            out[key] = [i for i in out[key] if int(i) not in deleted_ids]
    return out


def _delete(site: Site, core: IssueCore, now: int, rng: random.Random) -> None:
    del site.issues[core.id]
    site.deleted[core.id] = (core.key, now)
    site.audit.append(
        {
            "id": len(site.audit) + 1,
            "summary": "Issue deleted",
            "created": jira_ts(now, site.tz),
            "category": "issue management",
            "eventSource": "",
            "objectItem": {"id": str(core.id), "name": core.key, "typeName": "ISSUE_DELETE"},
            "associatedItems": [],
            "changedValues": [],
        }
    )
    for link_id in list(site.links_by_issue.get(core.id, ())):
        link = site.links.pop(link_id, None)
        if link is None:
            continue
        other = site.issues.get(link.target if link.source == core.id else link.source)
        if other is not None:
            # Removing the link changes the other issue: Jira records a "Link" history there.
            _touch(
                site,
                other,
                now,
                [item("Link", "issuelinks", "jira", core.key, f"This issue links {core.key}", None, None)],
                rng,
            )


def _create(site: Site, now: int, rng: random.Random) -> IssueCore:
    project = rng.choice(LIVE)
    iid = site.next_issue_id
    site.next_issue_id += 1
    core = IssueCore(
        id=iid,
        key=_next_key(site, project),
        project=project,
        type_id=rng.choice(["10001", "10003"]),
        status_id="10000",
        priority_id="3",
        created_ms=now,
        updated_ms=now,
        reporter=rng.randrange(len(site.ref.users)),
        assignee=None,
        parent_id=None,
        n_hist=1,
        n_comm=rng.choice([0, 1, 2]),
        n_work=rng.choice([0, 1]),
        has_dev=False,
    )
    site.issues[iid] = core
    site.key_index[core.key] = iid
    return core
