"""Deterministic, realistic generated data; ground truth and the minimal-request yardstick."""

from __future__ import annotations

from simulator import SimConfig, create_app
from simulator.data.adf import build_pool


def _site(**kw):
    return create_app(SimConfig(**kw)).state.sim


def test_same_seed_gives_the_same_site_and_other_seeds_differ() -> None:
    from simulator.truth import truth

    a, b, c = _site(issues=60, seed=21), _site(issues=60, seed=21), _site(issues=60, seed=22)
    for site in (a, b, c):
        site.clock.set("2026-01-15T12:00:00+00:00")
    assert truth(a) == truth(b)
    for iid in ("10001", "10003", "10030", "10060"):
        assert a.complete_issue(iid) == b.complete_issue(iid)
    assert truth(a) != truth(c)


def test_generated_issues_cover_the_shapes_an_extractor_must_handle() -> None:
    site = _site(issues=200, seed=7)
    cores = list(site.issues.values())
    assert {c.type_id for c in cores} == {"10000", "10001", "10002", "10003", "10004"}
    subtasks = [c for c in cores if c.type_id == "10004"]
    assert subtasks and all(c.parent_id in site.issues for c in subtasks)
    complete = [site.complete_issue(c.id) for c in cores]
    assert any(len(i["changelog"]["histories"]) > 100 for i in complete)
    assert any(i["fields"]["comment"]["total"] > 100 for i in complete)
    assert any(i["fields"]["worklog"]["total"] > 20 for i in complete)
    assert any(i["fields"]["description"] is None for i in complete)
    assert any(i["fields"]["assignee"] is None for i in complete)
    sp = site.ref.cf["story_points"]
    assert any(sp not in i["fields"] for i in complete) and any(i["fields"].get(sp) for i in complete)
    links = [lk for i in complete for lk in i["fields"]["issuelinks"]]
    outward = {lk["id"] for lk in links if "outwardIssue" in lk}
    inward = {lk["id"] for lk in links if "inwardIssue" in lk}
    assert outward and outward == inward  # every link shows on both of its issues
    assert any(c.moved_from for c in cores)
    devs = [i["devStatus"] for i in complete]
    assert {d["status"] for d in devs} == {"none", "ok"}


def test_rich_text_pool_has_the_hard_adf_nodes() -> None:
    site = _site(issues=30, seed=1)
    kinds = set()

    def walk(node):
        kinds.add(node.get("type"))
        for child in node.get("content", []):
            walk(child)

    for adf, wiki in build_pool(site.ref.users):
        walk(adf)
        assert isinstance(wiki, str) and wiki
    assert {
        "bulletList",
        "orderedList",
        "table",
        "codeBlock",
        "mention",
        "emoji",
        "hardBreak",
        "panel",
        "inlineCard",
        "mediaSingle",
        "taskList",
    } <= kinds
    text = str(build_pool(site.ref.users))
    assert "支払い" in text and "Повторите" in text


def test_minimal_requests_follow_the_documented_formula() -> None:
    site = _site(issues=150, seed=11)
    from simulator.truth import minimal_requests

    got = minimal_requests(site)
    b = got["breakdown"]
    assert got["full"] == sum(b.values())
    per_project: dict[str, int] = {}
    for c in site.issues.values():
        per_project[c.project] = per_project.get(c.project, 0) + 1
    assert b["search"] == sum(-(-n // 100) for n in per_project.values())
    assert b["reference_lists"] == 7 and b["worklog_deleted"] == 1 and b["users"] == 2
    expected_dev = 0
    for c in site.issues.values():
        dev = site.dev(c)
        if dev:
            expected_dev += 2 * len(dev.instances) + bool(dev.builds) + bool(dev.deployments)
    assert b["dev_status"] == expected_dev
    assert b["comments"] >= 2 and b["worklogs"] >= 1 and b["changelog"] == 1


def test_parents_list_their_subtasks_and_sprint_changes_are_recorded() -> None:
    site = _site(issues=150, seed=7)
    sub = next(c for c in site.issues.values() if c.type_id == "10004")
    parent = site.complete_issue(sub.parent_id)
    assert str(sub.id) in {s["id"] for s in parent["fields"]["subtasks"]}
    carried = next(c for c in site.issues.values() if len(c.sprint_ids) == 2)
    items = [
        i
        for h in site.complete_issue(carried.id)["changelog"]["histories"]
        for i in h["items"]
        if i["field"] == "Sprint"
    ]
    a, b = carried.sprint_ids
    assert items and items[-1]["from"] == str(a) and items[-1]["to"] == f"{a}, {b}"
