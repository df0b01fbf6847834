"""A full extraction against the simulator over real HTTP yields exactly the site's entities."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from app.jira.incremental import parse_jira_datetime
from tests.fixtures.simulator import SimHandle
from tests.test_jira.entity_keys import truth_sets
from tests.test_jira.sim_run import Extracted, extract, site_for

SimFactory = Callable[..., SimHandle]


def assert_matches_truth(got: dict[str, set[str]], truth: dict[str, set[str]]) -> None:
    """Counts and ids per entity, every child included."""
    for entity, keys in truth.items():
        have = got.get(entity, set())
        assert have == keys, (
            f"{entity}: {len(have)} extracted vs {len(keys)} true; "
            f"missing {sorted(keys - have)[:5]}, extra {sorted(have - keys)[:5]}"
        )


def comparable(issue: dict[str, Any]) -> dict[str, Any]:
    """An issue with the parts the contract leaves free normalised (history order, paging members)."""
    issue = json.loads(json.dumps(issue))
    issue.pop("expand", None)  # search's own echo of what may be expanded
    histories = sorted(issue["changelog"]["histories"], key=lambda h: int(h["id"]))
    for h in histories:  # bulkfetch gives epoch ms, the per-issue endpoint ISO text: the same instant
        h["created"] = parse_jira_datetime(h["created"]).isoformat()
    issue["changelog"] = {"histories": histories, "total": issue["changelog"]["total"]}
    for name, items in (("comment", "comments"), ("worklog", "worklogs")):
        container = issue["fields"][name]
        issue["fields"][name] = {items: container[items], "total": container["total"]}
    return issue


def assert_issues_complete(sim: SimHandle, out: Extracted) -> None:
    assert set(out.issues) == set(sim.site.issue_ids())
    for issue_id, issue in out.issues.items():
        assert comparable(issue) == comparable(sim.site.complete_issue(issue_id)), issue_id


async def test_full_cloud_extraction_is_exact_and_near_minimal(sim_factory: SimFactory) -> None:
    sim = sim_factory(issues=200, seed=11)
    truth = truth_sets(sim.truth())
    out = await extract(site_for(sim))
    assert_matches_truth(out.keys(), truth)
    assert_issues_complete(sim, out)
    assert all(p["_archived"] in (True, False) for p in out.reference["projects"])
    assert all("_boardId" in s for s in out.reference["sprints"])
    stats = sim.stats()
    minimal = sim.minimal_requests()["full"]
    assert stats["retry_after_violations"] == 0
    assert out.stats["requests"] == stats["total"]  # the client counts every request it makes
    assert stats["total"] <= 1.05 * minimal, (stats["total"], minimal)
    # Only scrum boards are asked for sprints, and no board answered 400.
    sprint_calls = stats["by_endpoint"]["GET /rest/agile/1.0/board/{board_id}/sprint"]
    assert sprint_calls == {"200": sim.minimal_requests()["breakdown"]["sprints"]}


async def test_server_mode_with_bearer_token_is_exact(sim_factory: SimFactory) -> None:
    sim = sim_factory(issues=80, seed=5, mode="server")
    truth = truth_sets(sim.truth())
    out = await extract(site_for(sim, bearer=True))
    assert_matches_truth(out.keys(), truth)
    assert_issues_complete(sim, out)
    assert "POST /rest/api/2/search" in sim.stats()["by_endpoint"]


async def test_base_url_with_a_path_prefix_is_honoured(sim_factory: SimFactory) -> None:
    sim = sim_factory(issues=30, seed=3)
    site = site_for(sim)
    from dataclasses import replace

    from app.core.errors import JiraNotFoundError

    with pytest.raises(JiraNotFoundError, match="path prefix"):
        await extract(replace(site, base_url=site.base_url + "/jira"))
