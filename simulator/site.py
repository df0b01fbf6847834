"""The in-memory simulated Jira site: reference data, compact issues, children with mutation overlays.

``Site`` is what ``app.state.sim`` holds. Reads derive children lazily from the seed; mutations record
overlays (added/deleted children, new histories) so generated data is never rewritten.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from simulator.clock import SimClock
from simulator.config import SimConfig
from simulator.data import children, devdata
from simulator.data.adf import build_pool
from simulator.data.agile import Board, Sprint, make_boards
from simulator.data.issues import IssueCore, Link, generate_issues
from simulator.data.reference import make_reference
from simulator.timefmt import zone

Timed = tuple[int, dict[str, Any]]
FRAGMENT_BUDGET = 48 * 2**20  # bytes of cached issue JSON
CACHE_ENTRIES = 8000  # derived per-issue objects (fields, children, dev data)


@dataclass
class Overlay:
    """The materialised children of an issue once a mutation touched it (edited in place afterwards)."""

    hist: list[Timed]
    comm: dict[int, list[dict[str, Any]]]  # api version -> comments, oldest first
    work: dict[int, list[Timed]]  # api version -> (updated ms, worklog)
    next_child: int  # next child index (ids are issue_id * factor + index)
    dev_rev: int = 0


class Site:
    """One simulated Jira site (Cloud or Server), deterministic from ``(seed, issues)``."""

    def __init__(self, config: SimConfig, base_url: str = "http://jira.sim") -> None:
        self.config = config
        self.base_url = base_url
        self.tz = zone(config.tz)
        self.clock = SimClock(config.start)
        self.lock = threading.RLock()
        self.ref = make_reference(config.seed, config.issues, base_url)
        self.pool = build_pool(self.ref.users)
        self.boards: list[Board] = make_boards(config.seed, self.clock.start_ms)
        self.sprints: dict[int, Sprint] = {s.id: s for b in self.boards for s in b.sprints}
        cores, links = generate_issues(config.seed, config.issues, self.ref, self.boards, self.clock.start_ms)
        self.issues: dict[int, IssueCore] = {c.id: c for c in cores}
        self.key_index: dict[str, int] = {}
        for c in cores:
            self.key_index[c.key] = c.id
            for old in c.old_keys:
                self.key_index[old] = c.id
        self.links: dict[int, Link] = {link.id: link for link in links}
        self.links_by_issue: dict[int, list[int]] = {}
        for link in links:
            self.links_by_issue.setdefault(link.source, []).append(link.id)
            self.links_by_issue.setdefault(link.target, []).append(link.id)
        self.subtasks: dict[int, list[int]] = {}  # parent id -> sub-task ids
        for c in cores:
            if c.parent_id is not None and c.type_id == "10004":
                self.subtasks.setdefault(c.parent_id, []).append(c.id)
        self.overlays: dict[int, Overlay] = {}
        self.dev_on: set[int] = set()  # issues given dev data by mutation
        self.deleted: dict[int, tuple[str, int]] = {}  # issue id -> (key, deleted at ms)
        self.worklog_tombstones: list[tuple[int, str]] = []  # (deleted at ms, worklog id)
        self.next_issue_id = max(self.issues, default=10000) + 1
        self.next_link_id = max(self.links, default=10299) + 1
        self.snapshots: Any = None  # search cursor snapshots, attached by create_app
        self.audit: list[dict[str, Any]] = []  # auditing/record entries (issue deletions)
        self.generation = 0  # bumped by every mutation; part of derived-data cache keys
        self._user_refs: dict[str, dict[str, Any]] = {}
        self._cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._frags: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self._frag_bytes = 0
        self._cache_lock = threading.Lock()

    # -- small helpers -------------------------------------------------------------------------------

    @property
    def server(self) -> bool:
        """True in Server/DC mode."""
        return self.config.mode == "server"

    def user_ref(self, user: dict[str, Any]) -> dict[str, Any]:
        """The compact user object embedded in issues and children (Server adds name/key)."""
        acc = user["accountId"]
        ref = self._user_refs.get(acc)
        if ref is None:
            ref = {
                k: user[k]
                for k in (
                    "self",
                    "accountId",
                    "avatarUrls",
                    "displayName",
                    "active",
                    "timeZone",
                    "accountType",
                )
                if k in user
            }
            if "emailAddress" in user:
                ref["emailAddress"] = user["emailAddress"]
            if self.server:
                ref["name"] = ref["key"] = "u" + acc[-8:]
            self._user_refs[acc] = ref
        return ref

    def cached(self, key: tuple[Any, ...], make: Any) -> Any:
        """A small LRU for derived per-issue data (keys include the issue's revision).

        Tests read the site from their own thread while the server renders, hence the cache lock.
        """
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        value = make()
        with self._cache_lock:
            self._cache[key] = value
            while len(self._cache) > CACHE_ENTRIES:
                self._cache.popitem(last=False)
        return value

    def fragment(self, key: tuple[Any, ...], make: Any) -> bytes:
        """Serialized issue JSON, kept in a byte-budgeted LRU so repeated pages skip rendering."""
        with self._cache_lock:
            hit = self._frags.get(key)
            if hit is not None:
                self._frags.move_to_end(key)
                return hit
        value: bytes = make()
        with self._cache_lock:
            if key not in self._frags:
                self._frags[key] = value
                self._frag_bytes += len(value)
            while self._frag_bytes > FRAGMENT_BUDGET and self._frags:
                _, old = self._frags.popitem(last=False)
                self._frag_bytes -= len(old)
        return value

    def get(self, id_or_key: str | int) -> IssueCore | None:
        """An existing issue by numeric id or (current or old) key; None when absent or deleted."""
        text = str(id_or_key)
        iid = int(text) if text.isdigit() else self.key_index.get(text.upper())
        if iid is None:
            return None
        return self.issues.get(iid)

    def issue_ids(self) -> list[str]:
        """The current issue ids (strings, ascending)."""
        return [str(i) for i in self.issues]

    def overlay(self, core: IssueCore) -> Overlay:
        """The issue's overlay, materialising its generated children on first use."""
        ov = self.overlays.get(core.id)
        if ov is None:
            ov = Overlay(
                hist=list(self.histories(core)),
                comm={a: list(self.comments(core, a)) for a in (2, 3)},
                work={a: list(self.worklogs(core, a)) for a in (2, 3)},
                next_child=max(core.n_hist, core.n_comm, core.n_work) + 1,
            )
            self.overlays[core.id] = ov
        return ov

    # -- children --------------------------------------------------------------------------------------

    def histories(self, core: IssueCore) -> list[Timed]:
        """All change histories of an issue, oldest first."""
        ov = self.overlays.get(core.id)
        if ov is not None:
            return ov.hist
        return self.cached(("h", core.id), lambda: children.histories(self, core))

    def comments(self, core: IssueCore, api: int = 3) -> list[dict[str, Any]]:
        """All current comments of an issue, oldest first."""
        ov = self.overlays.get(core.id)
        if ov is not None:
            return ov.comm[api]
        base = self.cached(("c", core.id, api), lambda: children.comments(self, core, api))
        return [rec for _, rec in base]

    def worklogs(self, core: IssueCore, api: int = 3) -> list[Timed]:
        """All current worklogs of an issue as (updated ms, record), in creation order."""
        ov = self.overlays.get(core.id)
        if ov is not None:
            return ov.work[api]
        return self.cached(("w", core.id, api), lambda: children.worklogs(self, core, api))

    def counts(self, core: IssueCore) -> tuple[int, int, int]:
        """(histories, comments, worklogs) of an issue without generating them."""
        ov = self.overlays.get(core.id)
        if ov is None:
            return core.n_hist, core.n_comm, core.n_work
        return len(ov.hist), len(ov.comm[3]), len(ov.work[3])

    def dev(self, core: IssueCore) -> devdata.DevData | None:
        """The issue's dev data, or None when it has none (Development field ``"{}"``)."""
        if not (core.has_dev or core.id in self.dev_on):
            return None
        ov = self.overlays.get(core.id)
        rev = ov.dev_rev if ov else 0
        return self.cached(
            ("d", core.id, rev),
            lambda: devdata.generate(self.config.seed, core.id, f"JIRA-{core.id}", core.created_ms, rev),
        )

    def complete_issue(self, issue_id: str | int) -> dict[str, Any]:
        """The issue exactly as a perfect extractor yields it (contract section 2, ``devStatus`` included)."""
        from simulator.truth import complete_issue

        return complete_issue(self, issue_id)

    def issue_links(self, core: IssueCore) -> list[Link]:
        """Links touching the issue (as source or target)."""
        return [self.links[i] for i in self.links_by_issue.get(core.id, ()) if i in self.links]
