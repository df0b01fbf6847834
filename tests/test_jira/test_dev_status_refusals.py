"""dev-status refusals: a site that refuses it is found out in a few requests; once it has answered, a
refusal concerns one issue (404: deleted since the search) or one project (403), never the whole run."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import httpx

from app.jira.dev_status import REFUSALS_TO_DISABLE
from tests.fixtures.simulator import SimHandle
from tests.test_jira.sim_run import extract, site_for

SimFactory = Callable[..., SimHandle]
DEV = "/rest/dev-status/"


def _refusing(sim: SimHandle, refuse: Callable[[str, int], int | None]) -> httpx.MockTransport:
    """The simulator, except that ``refuse(issue id, dev-status calls so far)`` may answer a status."""
    inner = sim.transport()
    calls = Counter[str]()

    async def handler(request: httpx.Request) -> httpx.Response:
        if DEV in request.url.path:
            issue_id = request.url.params["issueId"]
            status = refuse(issue_id, sum(calls.values()))
            calls[issue_id] += 1
            if status is not None:
                return httpx.Response(status, json={"errorMessages": ["refused"], "errors": {}})
        response = await inner.handle_async_request(request)
        body = await response.aread()
        return httpx.Response(response.status_code, headers=response.headers, content=body)

    return httpx.MockTransport(handler)


def _statuses(issues: dict[str, dict]) -> Counter[str]:
    return Counter(i["devStatus"]["status"] for i in issues.values())


async def test_a_site_without_dev_status_costs_a_few_requests(sim_factory: SimFactory) -> None:
    sim = sim_factory(issues=60, seed=4)
    out = await extract(site_for(sim), transport=_refusing(sim, lambda _id, _n: 404))
    assert set(_statuses(out.issues)) == {"none", "absent"}
    assert out.stats["by_endpoint"]["GET /rest/dev-status/latest/issue/detail"] == {
        "404": REFUSALS_TO_DISABLE
    }
    assert sum("dev-status skipped for the rest of the run" in n for n in out.notices) == 1


async def test_a_deleted_issue_tried_first_does_not_switch_dev_status_off(sim_factory: SimFactory) -> None:
    sim = sim_factory(issues=60, seed=4)
    gone: list[str] = []

    def refuse(issue_id: str, calls: int) -> int | None:
        if calls == 0:
            gone.append(issue_id)
        return 404 if issue_id in gone else None

    out = await extract(site_for(sim), transport=_refusing(sim, refuse))
    statuses = _statuses(out.issues)
    assert out.issues[gone[0]]["devStatus"]["status"] == "absent"
    assert statuses["absent"] == 1 and statuses["ok"] > 10
    assert not any("rest of the run" in n for n in out.notices)


async def test_a_404_after_dev_status_answered_concerns_that_issue_only(sim_factory: SimFactory) -> None:
    sim = sim_factory(issues=60, seed=4)
    gone: list[str] = []

    def refuse(issue_id: str, calls: int) -> int | None:
        if calls == 12 and not gone:
            gone.append(issue_id)
        return 404 if issue_id in gone else None

    out = await extract(site_for(sim), transport=_refusing(sim, refuse))
    assert [i for i, issue in out.issues.items() if issue["devStatus"]["status"] == "absent"] == gone
    assert _statuses(out.issues)["ok"] > 10
    assert sum("404 for an issue" in n for n in out.notices) == 1


async def test_a_403_for_one_project_stops_asking_for_that_project_only(sim_factory: SimFactory) -> None:
    sim = sim_factory(issues=90, seed=4)
    project = {i: v["project_key"] for i, v in sim.truth("issues").items()}
    locked = sorted(set(project.values()))[0]
    refused = Counter[str]()

    def refuse(issue_id: str, calls: int) -> int | None:
        if calls >= 5 and project[issue_id] == locked:
            refused[issue_id] += 1
            return 403
        return None

    out = await extract(site_for(sim), transport=_refusing(sim, refuse))
    by_project = {
        (project[i], issue["devStatus"]["status"])
        for i, issue in out.issues.items()
        if issue["devStatus"]["details"]
    }
    assert {p for p, _ in by_project} - {locked}, "other projects keep their dev data"
    forbidden = [i for i, issue in out.issues.items() if issue["devStatus"]["status"] == "forbidden"]
    assert forbidden and all(project[i] == locked for i in forbidden)
    # Once the project refused, its other issues were not asked (issues already in flight may be).
    assert sum(refused.values()) < len(forbidden)
    assert sum("403 for a project" in n for n in out.notices) == 1
