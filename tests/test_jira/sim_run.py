"""Run the extraction's public functions against a simulated site and collect what they yield."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from app.jira.client import JiraClient, JiraSite
from app.jira.extract import deleted_worklogs, issue_pages, reference_streams
from app.jira.retry import RetryPolicy
from tests.fixtures.simulator import SimHandle
from tests.test_jira.entity_keys import issue_keys, reference_keys, sprint_field

FAST_RETRY = RetryPolicy(max_attempts=10, base_delay=0.02, max_delay=0.5)


def site_for(sim: SimHandle, **kw: Any) -> JiraSite:
    mode = sim.config.mode
    if kw.pop("bearer", False):
        return JiraSite(sim.base_url, deployment=mode, auth="bearer", token=sim.config.token, **kw)
    return JiraSite(sim.base_url, deployment=mode, username=sim.config.email, token=sim.config.token, **kw)


@dataclass
class Extracted:
    reference: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    issues: dict[str, dict[str, Any]] = field(default_factory=dict)
    watermarks: dict[str, datetime | None] = field(default_factory=dict)
    pages: list[tuple[str, list[str]]] = field(default_factory=list)
    deleted_worklogs: list[str] = field(default_factory=list)
    since_ms: int = 0
    stats: dict[str, Any] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    pace: float | None = None  # the client's paced rate at the end (None: never throttled)

    def keys(self) -> dict[str, set[str]]:
        out = reference_keys(self.reference)
        out.update(issue_keys(list(self.issues.values()), sprint_field(self.reference.get("fields", []))))
        return out


async def extract(
    site: JiraSite,
    *,
    since: dict[str, datetime | None] | None = None,
    until: datetime | None = None,
    with_reference: bool = True,
    max_in_flight: int = 8,
    since_ms: int = 0,
    projects: list[str] | None = None,
    fields: list[dict[str, Any]] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Extracted:
    out = Extracted(since_ms=since_ms)
    async with JiraClient(site, max_in_flight=max_in_flight, retry=FAST_RETRY, transport=transport) as client:
        if with_reference:
            async for name, records in reference_streams(client):
                assert name not in out.reference, f"{name} yielded twice"
                out.reference[name] = records
            fields = out.reference["fields"]
            live = [p["key"] for p in out.reference["projects"] if not p["_archived"]]
            projects = projects or live
        assert projects is not None
        pages = issue_pages(
            client, fields_list=fields, since=since or {}, until=until or datetime.now(UTC), projects=projects
        )
        async for page in pages:
            out.pages.append((page.partition, [i["id"] for i in page.issues]))
            for issue in page.issues:
                out.issues[issue["id"]] = issue
            mark = out.watermarks.get(page.partition)
            if page.max_updated and (mark is None or page.max_updated > mark):
                out.watermarks[page.partition] = page.max_updated
        out.deleted_worklogs, out.since_ms = await deleted_worklogs(client, since_ms)
        out.stats = client.stats.as_dict()
        out.notices = client.notices.as_list()
        out.pace = client.limiter.rate
    return out
