"""Compact issue records and their deterministic generation.

An issue is stored as a small ``IssueCore``; its text, custom field values and children (histories,
comments, worklogs, dev data) are derived on demand from ``(seed, issue id)`` so 50,000 issues stay lean.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from simulator.data.agile import Board, sprint_at
from simulator.data.reference import PROJECT_SPECS, Reference
from simulator.timefmt import DAY_MS

FIRST_ID = 10001
HISTORY_SPAN_DAYS = 540
# Issue positions (1-based) that always get the heavy child counts, so even a 30-issue site has them.
HEAVY_HISTORIES, HEAVY_COMMENTS, HEAVY_WORKLOGS = (3, 97), (4, 89), (5, 53)
MOVED_POSITION = 7  # always moved, so even small sites have one


@dataclass(slots=True)
class IssueCore:
    """The stored part of an issue; everything else is derived from the seed and the id."""

    id: int
    key: str
    project: str
    type_id: str
    status_id: str
    priority_id: str
    created_ms: int
    updated_ms: int
    reporter: int
    assignee: int | None
    parent_id: int | None
    n_hist: int
    n_comm: int
    n_work: int
    has_dev: bool
    sprint_ids: tuple[int, ...] = ()
    moved_from: str | None = None
    moved_at_ms: int | None = None
    rev: int = 0
    labels: tuple[str, ...] = ()
    old_keys: tuple[str, ...] = field(default=())


@dataclass(slots=True)
class Link:
    """An issue link; it shows on both issues (outward on the source, inward on the target)."""

    id: int
    type_index: int
    source: int
    target: int


LABELS = ["backend", "frontend", "tech-debt", "customer", "security", "perf", "ux", "billing", "日本語"]


def _heavy(position: int, spec: tuple[int, int]) -> bool:
    first, every = spec
    return position == first or position % every == 0


def generate_issues(
    seed: int,
    n: int,
    ref: Reference,
    boards: list[Board],
    start_ms: int,
) -> tuple[list[IssueCore], list[Link]]:
    """Generate ``n`` issues in id order, plus issue links between them."""
    rng = random.Random(f"{seed}:issues")
    live = [(k, w) for k, _n, _t, w, archived in PROJECT_SPECS if not archived and w > 0]
    keys = [k for k, _ in live]
    weights = [w for _, w in live]
    counters = dict.fromkeys(keys, 0)
    scrum = {b.project_key: b for b in boards if b.type == "scrum"}
    n_users = len(ref.users)
    humans = [i for i, u in enumerate(ref.users) if u["accountType"] == "atlassian"] or list(range(n_users))
    span = HISTORY_SPAN_DAYS * DAY_MS
    out: list[IssueCore] = []
    parents: dict[str, list[int]] = {k: [] for k in keys}
    epics: dict[str, list[int]] = {k: [] for k in keys}
    moved_pending: list[tuple[IssueCore, str]] = []
    for pos in range(1, n + 1):
        iid = FIRST_ID + pos - 1
        project = rng.choices(keys, weights)[0]
        created = start_ms - span + (pos * span) // (n + 1) + rng.randrange(0, 3_600_000)
        age = max(start_ms - created - 60_000, 60_000)
        updated = created + min(int(age * rng.random() ** 2) + rng.randrange(60_000, 7_200_000), age)
        r = rng.random()
        parent: int | None = None
        if pos > 3 and r < 0.06:
            type_id = "10000"
        elif parents[project] and r < 0.22:
            type_id = "10004"
            parent = rng.choice(parents[project][-50:])
        else:
            type_id = rng.choice(["10001", "10001", "10002", "10003"])
            if epics[project] and rng.random() < 0.5:
                parent = rng.choice(epics[project][-10:])
        done = rng.random() < min(0.9, (start_ms - updated) / span * 1.8 + 0.1)
        status = (
            rng.choice(["10001", "10001", "10103"]) if done else rng.choice(["10000", "3", "10101", "10102"])
        )
        n_hist = 130 + pos % 20 if _heavy(pos, HEAVY_HISTORIES) else rng.randint(1, 8)
        n_comm = 120 + pos % 15 if _heavy(pos, HEAVY_COMMENTS) else rng.choice([0, 0, 1, 1, 2, 3, 5])
        n_work = 25 + pos % 5 if _heavy(pos, HEAVY_WORKLOGS) else rng.choice([0, 0, 0, 1, 2, 3])
        sprint_ids: tuple[int, ...] = ()
        board = scrum.get(project)
        if board is not None and type_id not in ("10000",):
            sprint = sprint_at(board, updated)
            if sprint is not None and rng.random() < 0.8:
                prev = sprint_at(board, sprint.start_ms - 1)
                carried = prev is not None and rng.random() < 0.2
                sprint_ids = (prev.id, sprint.id) if carried and prev else (sprint.id,)
        labels = tuple(sorted(rng.sample(LABELS, rng.choice([0, 0, 1, 2]))))
        core = IssueCore(
            id=iid,
            key="",
            project=project,
            type_id=type_id,
            status_id=status,
            priority_id=rng.choice(["1", "2", "3", "3", "3", "4", "5"]),
            created_ms=created,
            updated_ms=updated,
            reporter=rng.choice(humans),
            assignee=None if rng.random() < 0.15 else rng.randrange(n_users),
            parent_id=parent,
            n_hist=n_hist,
            n_comm=n_comm,
            n_work=n_work,
            has_dev=rng.random() < 0.34,
            sprint_ids=sprint_ids,
            labels=labels,
        )
        # About 1.5% of issues were moved from another project: their old key leaves a gap there.
        if len(keys) > 1 and pos > 6 and (rng.random() < 0.015 or pos == MOVED_POSITION):
            source = rng.choice([k for k in keys if k != project])
            counters[source] += 1
            core.moved_from = f"{source}-{counters[source]}"
            core.moved_at_ms = created + (updated - created) // 2
            moved_pending.append((core, project))
        else:
            counters[project] += 1
            core.key = f"{project}-{counters[project]}"
        if type_id == "10000":
            epics[project].append(iid)
        elif type_id != "10004":
            parents[project].append(iid)
        out.append(core)
    for core, project in moved_pending:
        counters[project] += 1
        core.key = f"{project}-{counters[project]}"
        core.old_keys = (core.moved_from or "",)
    links: list[Link] = []
    link_id = 10300
    for core in out:
        lr = random.Random(f"{seed}:link:{core.id}")
        if core.id > FIRST_ID + 2 and (lr.random() < 0.08 or core.id == FIRST_ID + 8):
            target = FIRST_ID + lr.randrange(0, core.id - FIRST_ID)
            links.append(Link(id=link_id, type_index=lr.randrange(4), source=core.id, target=target))
            link_id += 1
    return out, links
