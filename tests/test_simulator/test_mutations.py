"""``/__sim/mutate`` and ``/__sim/clock``: changes show up consistently in the API and in the truth."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from simulator import SimConfig, create_app


@pytest.fixture
def sim(sim_factory):
    return sim_factory(issues=80, seed=9)


@pytest.fixture
def api(sim):
    with httpx.Client(base_url=sim.base_url, auth=sim.auth) as c:
        yield c


def _ms(ts: str) -> int:
    return int(datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp() * 1000)


def test_updates_bump_updated_to_now_and_add_a_history(sim, api) -> None:
    before = sim.site.clock.now_ms()
    old_totals = {i: len(sim.site.complete_issue(i)["changelog"]["histories"]) for i in sim.site.issue_ids()}
    changed = sim.mutate(seed=1, update=5)["updated"]
    assert len(changed) == 5
    page = api.get(
        "/rest/api/3/search/jql",
        params={"jql": f"updated >= {before}", "fields": "updated", "maxResults": 100},
    ).json()
    assert {i["id"] for i in page["issues"]} == set(changed)
    for iid in changed:
        hist = api.get(f"/rest/api/3/issue/{iid}/changelog").json()
        assert hist["total"] == old_totals[iid] + 1
        assert _ms(hist["values"][-1]["created"]) >= before - 1000
        assert {i["field"] for i in hist["values"][-1]["items"]} >= {"status"}
    truth = sim.truth(detail="issues")
    assert all(_ms(truth[i]["updated"]) >= before - 1000 for i in changed)


def test_comment_and_worklog_changes_reach_endpoints_and_truth(sim, api) -> None:
    out = sim.mutate(seed=2, add_comments=3, delete_comments=2, add_worklogs=2, delete_worklogs=1)
    truth = sim.truth()
    assert set(out["comments_added"]) <= set(truth["comments"])
    assert not set(out["comments_deleted"]) & set(truth["comments"])
    assert set(out["worklogs_added"]) <= set(truth["worklogs"])
    assert not set(out["worklogs_deleted"]) & set(truth["worklogs"])
    cid = out["comments_added"][0]
    owner = int(cid) // 10000
    ids = [c["id"] for c in api.get(f"/rest/api/3/issue/{owner}/comment").json()["comments"]]
    assert cid in ids
    deleted = out["comments_deleted"][0]
    assert deleted not in [
        c["id"] for c in api.get(f"/rest/api/3/issue/{int(deleted) // 10000}/comment").json()["comments"]
    ]


def test_delete_removes_issue_everywhere_and_keeps_links_consistent(sim, api) -> None:
    victim = next(lk.target for lk in sim.site.links.values())
    other = next(lk.source for lk in sim.site.links.values() if lk.target == victim)
    sim.site.issues[victim]  # exists before
    gone = []
    for seed in range(200):  # find a seed whose deletion hits the linked issue
        probe = create_app(SimConfig(issues=80, seed=9)).state.sim
        from simulator.mutate import mutate

        if str(victim) in mutate(probe, {"seed": seed, "delete": 3})["deleted"]:
            gone = sim.mutate(seed=seed, delete=3)["deleted"]
            break
    assert str(victim) in gone
    assert api.get(f"/rest/api/3/issue/{victim}").status_code == 404
    truth = sim.truth()
    assert str(victim) not in truth["issues"]
    links = api.get(f"/rest/api/3/issue/{other}", params={"fields": "issuelinks"}).json()["fields"][
        "issuelinks"
    ]
    assert all(link.get("outwardIssue", link.get("inwardIssue"))["id"] != str(victim) for link in links)
    assert all(not k.startswith(f"{victim}|") for k in truth["issue_sprints"])
    ids = api.get("/rest/api/3/search/jql", params={"jql": "created >= 0", "maxResults": 5000}).json()[
        "issues"
    ]
    assert str(victim) not in {i["id"] for i in ids}


def test_move_gives_a_new_key_in_another_project_with_the_same_id(sim, api) -> None:
    before = {i: (c.key, c.project) for i, c in sim.site.issues.items()}
    moved = sim.mutate(seed=3, move=2)["moved"]
    for iid in moved:
        old_key, old_project = before[int(iid)]
        body = api.get(f"/rest/api/3/issue/{old_key}").json()
        assert body["id"] == iid and body["key"] != old_key
        assert body["fields"]["project"]["key"] != old_project
        assert body["key"].startswith(body["fields"]["project"]["key"] + "-")
        assert sim.truth(detail="issues")[iid]["project_key"] == body["fields"]["project"]["key"]


def test_create_adds_searchable_issues(sim, api) -> None:
    created = sim.mutate(seed=4, create=3)["created"]
    ids = api.get("/rest/api/3/search/jql", params={"jql": "created >= -1d", "maxResults": 100}).json()[
        "issues"
    ]
    assert set(created) <= {i["id"] for i in ids}
    assert set(created) <= set(sim.truth()["issues"])


def test_dev_changes_do_not_bump_updated_but_change_dev_data(sim, api) -> None:
    before_truth = sim.truth()
    before = sim.truth(detail="issues")
    added = sim.mutate(seed=5, add_dev=4)["dev_added"]
    after = sim.truth(detail="issues")
    assert all(after[i]["updated"] == before[i]["updated"] for i in added)
    truth = sim.truth()
    assert len(truth["dev_commits"]) > len(before_truth["dev_commits"])
    cf = sim.site.ref.cf["development"]
    for iid in added:
        assert api.get(f"/rest/api/3/issue/{iid}", params={"fields": cf}).json()["fields"][cf] != "{}"


def test_same_mutation_seed_gives_the_same_changes_on_identical_sites() -> None:
    spec = {
        "seed": 11,
        "update": 3,
        "add_comments": 2,
        "delete_comments": 1,
        "add_worklogs": 2,
        "delete_worklogs": 1,
        "add_dev": 2,
        "move": 1,
        "delete": 1,
        "create": 2,
    }
    from simulator.mutate import mutate

    a = create_app(SimConfig(issues=60, seed=3)).state.sim
    b = create_app(SimConfig(issues=60, seed=3)).state.sim
    for site in (a, b):
        site.clock.set("2026-02-01T00:00:00+00:00")
    assert mutate(a, spec) == mutate(b, spec)


def test_clock_advances_and_sets(sim) -> None:
    start = sim.site.clock.now_ms()
    later = sim.clock(advance_s=3600)
    assert _ms(later.replace("Z", "+0000").replace("+00:00", "+0000")) - start >= 3_600_000
    assert sim.clock(set="2027-01-01T00:00:00+00:00").startswith("2027-01-01T00:00:0")
    assert httpx.get(f"{sim.base_url}/__sim/clock").json()["now"].startswith("2027-01-01")


def test_deleted_issues_are_in_the_audit_log(sim, api) -> None:
    gone = sim.mutate(seed=6, delete=2)["deleted"]
    records = api.get("/rest/api/3/auditing/record", params={"filter": "deleted"}).json()
    assert records["total"] == 2
    assert {r["objectItem"]["id"] for r in records["records"]} == set(gone)
    assert {r["objectItem"]["typeName"] for r in records["records"]} == {"ISSUE_DELETE"}


def test_consistency_lag_hides_fresh_updates_unless_reconciled(sim_factory) -> None:
    sim = sim_factory(issues=40, seed=3, consistency_lag_s=30)
    before = sim.site.clock.now_ms()
    changed = sim.mutate(seed=1, update=2)["updated"]
    jql = f"updated >= {before}"
    with httpx.Client(base_url=sim.base_url, auth=sim.auth) as c:

        def found(**extra) -> set[str]:
            body = {"jql": jql, "maxResults": 100, **extra}
            return {i["id"] for i in c.post("/rest/api/3/search/jql", json=body).json()["issues"]}

        assert found() == set()
        assert found(reconcileIssues=[int(changed[0])]) == {changed[0]}
        sim.clock(advance_s=31)
        assert found() == set(changed)
