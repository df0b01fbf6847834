"""issue_pages: several partitions at once, completion overlapping the next search page, clean early exit."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import httpx

from app.jira.client import JiraClient
from app.jira.extract import issue_pages
from tests.fixtures.simulator import SimHandle
from tests.test_jira.sim_run import FAST_RETRY, site_for

SimFactory = Callable[..., SimHandle]


class Watching:
    """Forwards to the simulated site and records how many requests of each kind were in flight."""

    def __init__(self, sim: SimHandle) -> None:
        self.inner = sim.transport()
        self.now: dict[str, int] = {"search": 0, "other": 0}
        self.peak_search = 0
        self.overlaps = 0  # non-search requests answered while a search request was in flight

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        kind = "search" if request.url.path.endswith("/search/jql") else "other"
        self.now[kind] += 1
        self.peak_search = max(self.peak_search, self.now["search"])
        try:
            if kind == "other" and self.now["search"]:
                self.overlaps += 1
            response = await self.inner.handle_async_request(request)
            body = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=body)
        finally:
            self.now[kind] -= 1


async def test_partitions_scan_concurrently_and_children_overlap_search(sim_factory: SimFactory) -> None:
    sim = sim_factory(issues=300, seed=11, latency_ms=15, per_issue_ms=0.5)
    watch = Watching(sim)
    projects = sorted({v["project_key"] for v in sim.truth(detail="issues").values()})
    seen: dict[str, list[str]] = {}
    async with JiraClient(site_for(sim), transport=httpx.MockTransport(watch), retry=FAST_RETRY) as client:
        async for page in issue_pages(
            client, fields_list=None, since={}, until=datetime.now(UTC), projects=projects
        ):
            seen.setdefault(page.partition, []).extend(i["id"] for i in page.issues)
    assert watch.peak_search >= 2  # several cursors at once
    assert watch.overlaps > 0  # completion requests ran while a search page was being fetched
    assert sorted(i for ids in seen.values() for i in ids) == sorted(sim.site.issue_ids())
    for ids in seen.values():
        assert len(ids) == len(set(ids))


async def test_leaving_early_cancels_every_partition(sim_factory: SimFactory) -> None:
    sim = sim_factory(issues=200, seed=11)
    projects = sorted({v["project_key"] for v in sim.truth(detail="issues").values()})
    async with JiraClient(site_for(sim), retry=FAST_RETRY) as client:
        pages = issue_pages(client, fields_list=None, since={}, until=datetime.now(UTC), projects=projects)
        async for _ in pages:
            break
        await pages.aclose()  # type: ignore[attr-defined]
        await asyncio.sleep(0.1)
        stragglers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
        assert stragglers == []
