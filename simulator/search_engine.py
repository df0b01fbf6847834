"""Running JQL against the site: value resolution, ordering, consistency lag and cursor snapshots."""

from __future__ import annotations

import base64
import binascii
import itertools
import json
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from simulator.data.issues import IssueCore
from simulator.data.reference import STATUS_CATEGORIES
from simulator.jql import Context, JqlError, parse
from simulator.site import Site

ENGLISH_CATEGORY = {
    "no category": "undefined",
    "to do": "new",
    "in progress": "indeterminate",
    "done": "done",
}
MAX_SNAPSHOTS = 64


class Snapshots:
    """Result id lists behind ``nextPageToken`` values (token = base64 of snapshot id + offset)."""

    def __init__(self) -> None:
        self._store: OrderedDict[int, list[int]] = OrderedDict()
        self._ids = itertools.count(1)

    def add(self, ids: list[int]) -> int:
        """Keep a result list; returns its snapshot id (old snapshots are evicted)."""
        sid = next(self._ids)
        self._store[sid] = ids
        while len(self._store) > MAX_SNAPSHOTS:
            self._store.popitem(last=False)
        return sid

    def get(self, sid: int) -> list[int] | None:
        """The stored list, or None when expired."""
        return self._store.get(sid)


def make_token(sid: int, offset: int) -> str:
    """An opaque page token."""
    raw = json.dumps({"s": sid, "o": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_token(token: str) -> tuple[int, int]:
    """(snapshot id, offset) of a token; raises ``JqlError`` when it is not one of ours."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return int(data["s"]), int(data["o"])
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise JqlError("The provided next page token is invalid or expired.") from exc


def _resolver(site: Site) -> Callable[[str, str], Callable[[str], Any]]:
    ref = site.ref
    cat_of = {s["id"]: s["statusCategory"]["key"] for s in ref.statuses}

    def project(v: str) -> str:
        for p in ref.projects:
            if v.upper() == p["key"] or v == p["id"] or v.lower() == p["name"].lower():
                return str(p["key"])
        raise JqlError(f"The value '{v}' does not exist for the field 'project'.")

    def issue(v: str) -> int:
        core = site.get(v)
        if core is None:
            if v.isdigit():
                return int(v)
            raise JqlError(f"An issue with key '{v}' does not exist for field 'key'.")
        return core.id

    def status(v: str) -> str:
        for s in ref.statuses:
            if v == s["id"] or v.lower() == s["name"].lower():
                return str(s["id"])
        raise JqlError(f"The value '{v}' does not exist for the field 'status'.")

    def category(v: str) -> str:
        low = v.lower()
        for c in STATUS_CATEGORIES:
            if low in (str(c["id"]), str(c["key"]).lower(), str(c["name"]).lower()):
                return str(c["key"])
        if low in ENGLISH_CATEGORY:
            return ENGLISH_CATEGORY[low]
        raise JqlError(f"The value '{v}' does not exist for the field 'statusCategory'.")

    def issuetype(v: str) -> str:
        for t in ref.issue_types:
            if v == t["id"] or v.lower() == t["name"].lower():
                return str(t["id"])
        raise JqlError(f"The value '{v}' does not exist for the field 'issuetype'.")

    table: dict[str, Callable[[str], Any]] = {
        "project": project,
        "key": issue,
        "issuekey": issue,
        "id": issue,
        "status": status,
        "statuscategory": category,
        "issuetype": issuetype,
        "type": issuetype,
        "statuscategory_of": lambda sid: cat_of[sid],
    }

    def resolve(field: str, _name: str) -> Callable[[str], Any]:
        return table[field]

    return resolve


def _dev_count(site: Site) -> Callable[[IssueCore, str, str], int]:
    def count(core: IssueCore, kind: str, which: str) -> int:
        dev = site.dev(core)
        if dev is None:
            return 0
        if kind == "commits":
            return sum(len(r["commits"]) for d in dev.real().values() for r in d.repos)
        prs = [p for d in dev.real().values() for p in d.prs]
        return len([p for p in prs if p["status"] == "OPEN"]) if which == "open" else len(prs)

    return count


def search_ids(site: Site, jql: str, *, reconcile: list[int] | None = None) -> list[int]:
    """Ordered issue ids matching a bounded JQL (raises ``JqlError`` for 400 answers)."""
    ctx = Context(site.tz, site.clock.now_ms(), _resolver(site), _dev_count(site))
    query = parse(jql, ctx)
    if query.where is None:
        raise JqlError(
            "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
        )
    where = query.where
    with site.lock:
        matched = [c for c in site.issues.values() if where(c)]
    lag_ms = int(site.config.consistency_lag_s * 1000)
    if lag_ms > 0:
        # Eventual consistency: recently changed issues are not indexed yet, unless reconciled.
        horizon = ctx.now_ms - lag_ms
        keep = set(reconcile or ())
        matched = [c for c in matched if c.updated_ms <= horizon or c.id in keep]
    sort_issues(matched, query.order)
    return [c.id for c in matched]


def _field_value(c: IssueCore, name: str) -> Any:
    if name == "key":
        project, _, num = c.key.partition("-")
        return (project, int(num))
    return {"updated": c.updated_ms, "created": c.created_ms, "id": c.id}[name]


def sort_issues(cores: list[IssueCore], order: list[tuple[str, bool]]) -> None:
    """Sort in place by the ORDER BY fields; ties go to id, in the direction of the last field.

    Stable sorts from the least significant key up, so descending text keys need no tricks.
    Without ORDER BY the order is ``created DESC``.
    """
    order = order or [("created", True)]
    cores.sort(key=lambda c: c.id, reverse=order[-1][1])
    for name, desc in reversed(order):
        cores.sort(key=lambda c, n=name: _field_value(c, n), reverse=desc)  # type: ignore[misc]
