"""Injected faults do not change the output; terminal errors fail fast with a clear message."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest

from app.core.errors import JiraAuthError, JiraBadRequestError, JiraError
from app.jira.client import JiraClient
from app.jira.dev_status import REFUSALS_TO_DISABLE, find_dev_field
from app.jira.extract import census, issue_pages
from tests.fixtures.simulator import SimHandle
from tests.test_jira.entity_keys import truth_sets
from tests.test_jira.sim_run import FAST_RETRY, extract, site_for
from tests.test_jira.test_full_extraction import assert_issues_complete, assert_matches_truth

SimFactory = Callable[..., SimHandle]


async def test_5xx_drops_and_a_429_storm_leave_the_output_identical(sim_factory: SimFactory) -> None:
    sim = sim_factory(issues=120, seed=21)
    truth = truth_sets(sim.truth())
    sim.faults(error_rate=0.1, drop_rate=0.03, storm_429=4)
    out = await extract(site_for(sim))
    assert_matches_truth(out.keys(), truth)
    assert_issues_complete(sim, out)
    stats = sim.stats()
    statuses = {s for per in stats["by_endpoint"].values() for s in per}
    assert {"429", "500", "502", "503", "504"} <= statuses  # the faults really happened...
    assert stats["retry_after_violations"] == 0  # ...and no request jumped a Retry-After
    assert out.stats["responses_429"] == 4
    assert out.stats["retries"] >= 4 + sum(
        n for per in stats["by_endpoint"].values() for s, n in per.items() if s.startswith("5")
    )


async def test_wrong_token_fails_fast_with_a_clear_message(sim_factory: SimFactory) -> None:
    sim = sim_factory(issues=20)
    site = replace(site_for(sim), token="wrong")
    with pytest.raises(JiraAuthError, match="e-mail and API token"):
        await extract(site)
    assert sim.stats()["total"] == 1  # not retried


async def test_bad_jql_filter_fails_fast_naming_the_jql(sim_factory: SimFactory) -> None:
    sim = sim_factory(issues=20)
    site = replace(site_for(sim), jql="summary ~ ((( nonsense")
    with pytest.raises(JiraBadRequestError, match="JQL"):
        await extract(site)
    searches = sim.stats()["by_endpoint"]["POST /rest/api/3/search/jql"]
    # At most the first page of each partition that was already in flight; none retried.
    assert set(searches) == {"400"}
    assert searches["400"] <= len(sim.truth()["projects"])


async def test_legacy_search_on_cloud_says_to_fix_the_deployment_type(sim_factory: SimFactory) -> None:
    sim = sim_factory(issues=20)
    site = replace(site_for(sim), deployment="server")
    async with JiraClient(site, retry=FAST_RETRY) as client:
        with pytest.raises(JiraError, match="deployment type") as info:
            pages = issue_pages(client, fields_list=None, since={}, until=_now(), projects=["ALPHA"])
            async for _ in pages:
                pass
    assert info.value.status in (404, 410)


@pytest.mark.parametrize("mode", ["forbidden", "absent"])
async def test_dev_status_refusal_is_reported_once_and_does_not_fail(
    sim_factory: SimFactory, mode: str
) -> None:
    sim = sim_factory(issues=60, seed=4, dev_status=mode)
    truth = truth_sets(sim.truth())
    out = await extract(site_for(sim))
    assert_matches_truth(out.keys(), truth)  # truth has no dev rows without permission
    statuses = {i["devStatus"]["status"] for i in out.issues.values()}
    assert statuses == {"none", mode}
    dev_calls = sum(
        sum(per.values()) for ep, per in sim.stats()["by_endpoint"].items() if "/rest/dev-status/" in ep
    )
    # A few refusals in a row, before dev-status ever answered, stop it for the rest of the run.
    assert dev_calls == REFUSALS_TO_DISABLE
    assert sum("dev-status skipped" in n for n in out.notices) == 1


async def test_dev_status_error_objects_are_kept_and_reported_once(sim_factory: SimFactory) -> None:
    sim = sim_factory(issues=200, seed=11)
    out = await extract(site_for(sim))
    with_errors = [i for i in out.issues.values() if i["devStatus"]["errors"]]
    assert with_errors, "the simulator seeds error objects in some stash responses"
    assert all(i["devStatus"]["status"] == "ok" and i["devStatus"]["details"] for i in with_errors)
    assert any(isinstance(e, dict) for i in with_errors for e in i["devStatus"]["errors"])
    assert sum("dev-status answered with errors" in n for n in out.notices) == 1


async def test_changelog_bulkfetch_404_falls_back_to_the_per_issue_endpoint(sim_factory: SimFactory) -> None:
    sim = sim_factory(issues=80, seed=11)
    truth = truth_sets(sim.truth())
    inner = sim.transport()

    async def site_without_bulk(request: httpx.Request) -> httpx.Response:
        # A Jira site that does not serve the bulk endpoint (seen on some instances).
        if request.url.path.endswith("/changelog/bulkfetch"):
            return httpx.Response(404, json={"errorMessages": ["Not found"], "errors": {}})
        response = await inner.handle_async_request(request)
        body = await response.aread()
        return httpx.Response(response.status_code, headers=response.headers, content=body)

    out = await extract(site_for(sim), transport=httpx.MockTransport(site_without_bulk))
    assert_matches_truth(out.keys(), truth)
    per_issue = out.stats["by_endpoint"]["GET /rest/api/3/issue/{id}/changelog"]
    assert per_issue.get("200", 0) >= 1
    assert out.stats["by_endpoint"]["POST /rest/api/3/changelog/bulkfetch"] == {"404": 1}


async def test_census_lists_ids_and_refuses_to_guess_for_invisible_projects(sim_factory: SimFactory) -> None:
    sim = sim_factory(issues=90, seed=8)
    deleted = sim.mutate(seed=3, delete=4)["deleted"]
    detail: dict[str, Any] = sim.truth(detail="issues")
    async with JiraClient(site_for(sim), retry=FAST_RETRY) as client:
        for project in {v["project_key"] for v in detail.values()}:
            expected = {i for i, v in detail.items() if v["project_key"] == project}
            assert await census(client, project) == expected
        assert await census(client, "NOPE") is None
    assert not set(deleted) & set(detail)


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


async def test_deleted_worklogs_are_listed_once_with_the_next_since(sim_factory: SimFactory) -> None:
    sim = sim_factory(issues=60, seed=9)
    first = await extract(site_for(sim), with_reference=False, projects=[], fields=[])
    assert first.deleted_worklogs == []
    gone = set(sim.mutate(seed=2, delete_worklogs=3)["worklogs_deleted"])
    assert len(gone) == 3
    sim.clock(advance_s=120)  # Jira leaves out the last minute of tombstones
    second = await extract(
        site_for(sim), with_reference=False, projects=[], fields=[], since_ms=first.since_ms
    )
    assert set(second.deleted_worklogs) == gone
    third = await extract(
        site_for(sim), with_reference=False, projects=[], fields=[], since_ms=second.since_ms
    )
    assert third.deleted_worklogs == []
    assert third.since_ms >= second.since_ms


async def test_unparsable_development_field_falls_back_to_the_summary_endpoint(
    sim_factory: SimFactory,
) -> None:
    sim = sim_factory(issues=80, seed=11)
    truth = truth_sets(sim.truth())
    dev_field = find_dev_field(sim.site.ref.fields)
    assert dev_field
    inner = sim.transport()

    async def site_with_old_field_format(request: httpx.Request) -> httpx.Response:
        # An older site whose Development field carries no JSON summary, only the Java map of counts.
        response = await inner.handle_async_request(request)
        body = await response.aread()
        if not request.url.path.endswith("/search/jql"):
            return httpx.Response(response.status_code, headers=response.headers, content=body)
        data = json.loads(body)
        for issue in data.get("issues", []):
            if issue["fields"].get(dev_field) not in (None, "{}"):
                issue["fields"][dev_field] = "{pullrequest={dataType=pullrequest, state=OPEN, stateCount=1}}"
        return httpx.Response(response.status_code, json=data)

    out = await extract(site_for(sim), transport=httpx.MockTransport(site_with_old_field_format))
    assert_matches_truth(out.keys(), truth)
    with_dev = [i for i in out.issues.values() if i["devStatus"]["status"] != "none"]
    summaries = out.stats["by_endpoint"]["GET /rest/dev-status/latest/issue/summary"]
    assert summaries == {"200": len(with_dev)}


async def test_a_rate_limited_site_is_extracted_exactly_with_few_429s(sim_factory: SimFactory) -> None:
    sim = sim_factory(issues=150, seed=21, rate=25, burst=10)
    truth = truth_sets(sim.truth())
    out = await extract(site_for(sim))
    assert_matches_truth(out.keys(), truth)
    # The pacer engaged on the real server's 429s and aims near the server's rate (in probe mode it may end a
    # little above it, until the next 429 measures it). How close it gets
    # to the rate depends on timing (a short run may end while it still probes upwards from its first lower
    # bound), so that is measured by bench/extract.py, not asserted here.
    assert out.pace is not None and 0 < out.pace <= 25 * 1.3, (out.pace, out.stats)
    # Few 429s: discovery costs some (requests already in flight when the first 429 arrives), then none.
    assert 1 <= out.stats["responses_429"] <= 0.1 * out.stats["requests"], out.stats
