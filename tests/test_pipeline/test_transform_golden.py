"""Transform against pages recorded from the simulator (``golden/record.py`` regenerates them)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.pipeline.transform import build_field_map, sprint_ids, transform_issues
from tests.test_pipeline.golden.record import expected_rows

GOLDEN = Path(__file__).parent / "golden"
MODES = ("cloud", "server")


def _load(name: str) -> Any:
    return json.loads((GOLDEN / name).read_text(encoding="utf-8"))


def _rows(mode: str, fields: list[dict[str, Any]] | None = None) -> dict[str, list[dict[str, Any]]]:
    return transform_issues(
        _load(f"{mode}_issues.json"), build_field_map(fields or _load(f"{mode}_fields.json")), deployment=mode
    )


@pytest.mark.parametrize("mode", MODES)
def test_transform_matches_the_golden_rows(mode: str) -> None:
    assert expected_rows(_rows(mode)) == _load(f"{mode}_rows.json")


@pytest.mark.parametrize("mode", MODES)
def test_raw_is_the_issue_without_its_child_containers(mode: str) -> None:
    issues = _load(f"{mode}_issues.json")
    for issue, row in zip(issues, _rows(mode)["issues"], strict=True):
        assert row["raw"]["id"] == issue["id"]
        assert set(row["raw"]["fields"]) == set(issue["fields"]) - {"comment", "worklog"}


def test_cloud_and_server_pages_give_the_same_keys_and_instants() -> None:
    cloud, server = _rows("cloud"), _rows("server")
    assert cloud.keys() == server.keys()
    for table in cloud:
        key = sorted(k for k in cloud[table][0] if k.endswith("_id")) if cloud[table] else []
        assert [tuple(r[k] for k in key) for r in cloud[table]] == [
            tuple(r[k] for k in key) for r in server[table]
        ]
    assert [r["updated_at"] for r in cloud["issues"]] == [r["updated_at"] for r in server["issues"]]
    # Sprint ids come from objects (Cloud) and from "...Sprint@x[id=15,...]" strings (Server) alike.
    assert [r["sprint_ids"] for r in cloud["issues"]] == [r["sprint_ids"] for r in server["issues"]]
    assert any(r["sprint_ids"] for r in server["issues"])


@pytest.mark.parametrize("mode", MODES)
def test_children_reconcile_with_what_the_issues_embed(mode: str) -> None:
    issues, rows = _load(f"{mode}_issues.json"), _rows(mode)
    assert len(rows["comments"]) == sum(i["fields"]["comment"]["total"] for i in issues)
    assert len(rows["worklogs"]) == sum(i["fields"]["worklog"]["total"] for i in issues)
    items = sum(len(h["items"]) for i in issues for h in i["changelog"]["histories"])
    assert len(rows["issue_changelog"]) == items
    # Every updated_at is UTC, whatever offset the site wrote.
    assert all(r["updated_at"].tzinfo is UTC for r in rows["issues"])
    assert "-0800" in issues[0]["fields"]["updated"] or "-0700" in issues[0]["fields"]["updated"]


@pytest.mark.parametrize("mode", MODES)
def test_commit_lines_are_summed_from_files_and_links_appear_once(mode: str) -> None:
    issues, rows = _load(f"{mode}_issues.json"), _rows(mode)
    files: dict[str, tuple[int, int]] = {}
    for i in issues:
        for group in i["devStatus"]["details"]:
            for entry in group["detail"]:
                for repo in entry.get("repositories", []):
                    for c in repo["commits"]:
                        fs = c.get("files", [])
                        files[c["id"]] = (
                            sum(f["linesAdded"] for f in fs),
                            sum(f["linesRemoved"] for f in fs),
                        )
    assert (
        files
        and {r["commit_id"]: (r["lines_added"], r["lines_removed"]) for r in rows["dev_commits"]} == files
    )
    link_ids = [r["link_id"] for r in rows["issue_links"]]
    assert len(link_ids) == len(set(link_ids))
    # 10001 is the target of link 10300 from 10004 (inward side): source/target come from the side.
    (link,) = [r for r in rows["issue_links"] if r["link_id"] == "10300"]
    assert (link["source_issue_id"], link["target_issue_id"]) == ("10004", "10001")


def test_a_link_seen_from_both_issues_is_one_row() -> None:
    issues = _load("cloud_issues.json")
    source = copy.deepcopy(issues[0])
    source["id"], source["key"] = "10004", "OPS-3"
    source["fields"]["issuelinks"] = [
        {
            "id": "10300",
            "type": {"id": "10003", "name": "Relates", "inward": "relates to", "outward": "relates to"},
            "outwardIssue": {"id": "10001", "key": "HR-1"},
        }
    ]
    rows = transform_issues([issues[0], source], build_field_map(_load("cloud_fields.json")))
    assert [(r["link_id"], r["source_issue_id"], r["target_issue_id"]) for r in rows["issue_links"]].count(
        ("10300", "10004", "10001")
    ) == 1


def test_custom_fields_follow_a_renamed_field_and_are_found_by_type_not_id() -> None:
    fields = copy.deepcopy(_load("cloud_fields.json"))
    issues = _load("cloud_issues.json")
    points = next(f for f in fields if (f.get("schema") or {}).get("custom", "").endswith("jsw-story-points"))
    before = transform_issues(issues, build_field_map(fields))
    points["name"] = "Effort (points)"
    after = transform_issues(issues, build_field_map(fields))
    with_points = [i for i, r in enumerate(before["issues"]) if r["story_points"] is not None]
    assert with_points
    for i in with_points:
        assert "Effort (points)" in after["issues"][i]["custom_fields"]
        assert "Story point estimate" not in after["issues"][i]["custom_fields"]
        assert after["issues"][i]["story_points"] == before["issues"][i]["story_points"]


def test_server_sprint_strings_and_cloud_objects() -> None:
    server = [
        "com.atlassian.greenhopper.service.sprint.Sprint@1a2b[id=42,rapidViewId=4,state=CLOSED,name=Sprint 3,"
        "startDate=2025-01-01T00:00:00.000Z,endDate=2025-01-14T00:00:00.000Z,completeDate=<null>,sequence=42,goal=]",
        "com.atlassian.greenhopper.service.sprint.Sprint@9f[rapidViewId=4,id=43,state=ACTIVE,name=Sprint 4]",
    ]
    assert sprint_ids(server) == ["42", "43"]
    assert sprint_ids([{"id": 37, "name": "PAY Sprint 12", "state": "active", "boardId": 5}]) == ["37"]
    assert sprint_ids(None) == [] and sprint_ids([]) == []


def test_server_users_fall_back_to_key_then_name_and_epoch_ms_histories_parse() -> None:
    issue = copy.deepcopy(_load("server_issues.json")[0])
    issue["fields"]["assignee"] = {"name": "sam", "key": "JIRAUSER10100", "displayName": "Sam Park"}
    issue["fields"]["reporter"] = {"name": "dana", "displayName": "Dana Lee"}
    issue["changelog"]["histories"][0]["created"] = 1740910544870  # bulkfetch style
    rows = transform_issues([issue], build_field_map(_load("server_fields.json")), deployment="server")
    assert rows["issues"][0]["assignee_account_id"] == "JIRAUSER10100"
    assert rows["issues"][0]["reporter_account_id"] == "dana"
    first = [
        r for r in rows["issue_changelog"] if r["history_id"] == str(issue["changelog"]["histories"][0]["id"])
    ]
    assert first[0]["changed_at"] == datetime(2025, 3, 2, 10, 15, 44, 870000, tzinfo=UTC)


def test_an_issue_listed_twice_is_transformed_once_from_its_newest_version() -> None:
    issue = _load("cloud_issues.json")[0]
    older = copy.deepcopy(issue)
    older["fields"]["updated"] = "2020-01-01T00:00:00.000+0000"
    older["fields"]["summary"] = "stale"
    rows = transform_issues([issue, older], build_field_map(_load("cloud_fields.json")))
    assert [r["summary"] for r in rows["issues"]] == [issue["fields"]["summary"]]
