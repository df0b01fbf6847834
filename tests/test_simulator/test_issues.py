"""Issue GET and bulkfetch, changelog (family A and bulkfetch), comments, worklogs (B, D), remote links."""

from __future__ import annotations

import httpx


def test_get_issue_by_id_and_key_and_404_body(client, shared_sim) -> None:
    core = shared_sim.site.issues[10010]
    by_id = client.get("/rest/api/3/issue/10010").json()
    by_key = client.get(f"/rest/api/3/issue/{core.key}").json()
    assert by_id["key"] == by_key["key"] == core.key and by_id["id"] == "10010"
    assert "comment" in by_id["fields"]  # fields default to *all
    missing = client.get("/rest/api/3/issue/NOPE-999")
    assert missing.status_code == 404 and missing.json()["errorMessages"]


def test_moved_issue_answers_under_its_old_key_with_the_same_id(client, shared_sim) -> None:
    moved = next(c for c in shared_sim.site.issues.values() if c.moved_from)
    body = client.get(f"/rest/api/3/issue/{moved.moved_from}").json()
    assert body["id"] == str(moved.id) and body["key"] == moved.key != moved.moved_from
    hist = client.get(f"/rest/api/3/issue/{moved.id}/changelog").json()["values"]
    key_items = [i for h in hist for i in h["items"] if i["field"] == "Key"]
    assert (
        key_items and key_items[0]["fromString"] == moved.moved_from and key_items[0]["toString"] == moved.key
    )


def test_bulkfetch_returns_ascending_ids_and_leaves_out_missing_issues(client) -> None:
    resp = client.post(
        "/rest/api/3/issue/bulkfetch",
        json={"issueIdsOrKeys": ["10020", "10002", "NOPE-1"], "fields": ["summary"]},
    )
    body = resp.json()
    assert [i["id"] for i in body["issues"]] == ["10002", "10020"]
    assert body["issueErrors"] == []
    too_many = client.post(
        "/rest/api/3/issue/bulkfetch", json={"issueIdsOrKeys": [str(i) for i in range(101)]}
    )
    assert too_many.status_code == 400


def test_issue_changelog_is_family_a_oldest_first_capped_at_100(client, shared_sim) -> None:
    values, start = [], 0
    while True:
        page = client.get(
            "/rest/api/3/issue/10003/changelog", params={"startAt": start, "maxResults": 500}
        ).json()
        assert page["maxResults"] == 100
        values += page["values"]
        start += len(page["values"])
        if page["isLast"]:
            break
        assert page["nextPage"]
    expected = shared_sim.site.complete_issue(10003)["changelog"]["histories"]
    assert [h["id"] for h in values] == [h["id"] for h in expected] and len(values) == page["total"] > 100
    assert [h["created"] for h in values] == sorted(h["created"] for h in values)


def test_changelog_bulkfetch_pages_by_token_with_epoch_ms(client, shared_sim) -> None:
    ids = ["10003", "10010", "10011"]
    seen, token = [], None
    for _ in range(50):
        body = {"issueIdsOrKeys": ids, "maxResults": 25, **({"nextPageToken": token} if token else {})}
        page = client.post("/rest/api/3/changelog/bulkfetch", json=body).json()
        for log in page["issueChangeLogs"]:
            for h in log["changeHistories"]:
                assert isinstance(h["created"], int)
                seen.append((log["issueId"], h["id"]))
        token = page.get("nextPageToken")
        if token is None:
            break
    expected = [
        (i, h["id"]) for i in ids for h in shared_sim.site.complete_issue(i)["changelog"]["histories"]
    ]
    assert sorted(seen) == sorted(expected) and len(seen) == len(set(seen))
    assert client.post("/rest/api/3/changelog/bulkfetch", json={"issueIdsOrKeys": []}).status_code == 400
    ids_1001 = [str(10001 + i) for i in range(1001)]
    assert (
        client.post("/rest/api/3/changelog/bulkfetch", json={"issueIdsOrKeys": ids_1001}).status_code == 400
    )


def test_changelog_bulkfetch_filters_field_ids(client) -> None:
    page = client.post(
        "/rest/api/3/changelog/bulkfetch", json={"issueIdsOrKeys": ["10003"], "fieldIds": ["status"]}
    ).json()
    items = [i for log in page["issueChangeLogs"] for h in log["changeHistories"] for i in h["items"]]
    assert items and {i["fieldId"] for i in items} == {"status"}


def test_comments_are_family_b_with_order(client, shared_sim) -> None:
    total = len(shared_sim.site.complete_issue(10004)["fields"]["comment"]["comments"])
    page = client.get("/rest/api/3/issue/10004/comment", params={"maxResults": 1000}).json()
    assert page["maxResults"] == 100 and page["total"] == total > 100 and len(page["comments"]) == 100
    last = client.get("/rest/api/3/issue/10004/comment", params={"startAt": 100}).json()
    assert len(last["comments"]) == total - 100
    newest = client.get(
        "/rest/api/3/issue/10004/comment", params={"orderBy": "-created", "maxResults": 1}
    ).json()
    assert newest["comments"][0]["id"] == last["comments"][-1]["id"]
    assert page["comments"][0]["body"]["type"] == "doc"


def test_worklogs_per_issue_and_started_filters(client) -> None:
    page = client.get("/rest/api/3/issue/10005/worklog").json()
    logs = page["worklogs"]
    assert page["total"] == len(logs) > 20
    assert all(w["issueId"] == "10005" and w["timeSpentSeconds"] > 0 for w in logs)
    from datetime import datetime

    starts = sorted(
        int(datetime.strptime(w["started"], "%Y-%m-%dT%H:%M:%S.%f%z").timestamp() * 1000) for w in logs
    )
    cut = starts[len(starts) // 2]
    after = client.get("/rest/api/3/issue/10005/worklog", params={"startedAfter": cut}).json()
    assert after["total"] == sum(1 for s in starts if s >= cut)


def test_worklog_updated_feed_pages_and_list_returns_full_worklogs(client, shared_sim) -> None:
    ids, since, pages = [], 0, 0
    while True:
        page = client.get("/rest/api/3/worklog/updated", params={"since": since}).json()
        pages += 1
        ids += [v["worklogId"] for v in page["values"]]
        times = [v["updatedTime"] for v in page["values"]]
        assert times == sorted(times) and all(t > since for t in times)
        if page["lastPage"]:
            break
        assert "since=" in page["nextPage"]
        since = page["until"]
    assert sorted(str(i) for i in ids) == sorted(shared_sim.truth()["worklogs"])
    full = client.post("/rest/api/3/worklog/list", json={"ids": ids[:5]}).json()
    assert isinstance(full, list) and [int(w["id"]) for w in full] == ids[:5]
    assert client.post("/rest/api/3/worklog/list", json={"ids": list(range(1001))}).status_code == 400


def test_remote_links_are_a_bare_array(client) -> None:
    arrays = [client.get(f"/rest/api/3/issue/{i}/remotelink").json() for i in (10008, 10012, 10020)]
    assert all(isinstance(a, list) for a in arrays)
    assert any(a and a[0]["object"]["url"] for a in arrays)


def test_worklog_feeds_hide_the_last_minute(sim_factory) -> None:
    sim = sim_factory(issues=40, seed=2)
    changed = sim.mutate(seed=1, add_worklogs=2, delete_worklogs=1)
    with httpx.Client(base_url=sim.base_url, auth=sim.auth) as c:

        def feed(path: str) -> set[str]:
            return {str(v["worklogId"]) for v in c.get(path, params={"since": 0}).json()["values"]}

        assert not set(changed["worklogs_added"]) & feed("/rest/api/3/worklog/updated")
        assert feed("/rest/api/3/worklog/deleted") == set()
        sim.clock(advance_s=61)
        assert set(changed["worklogs_added"]) <= feed("/rest/api/3/worklog/updated")
        assert feed("/rest/api/3/worklog/deleted") == set(changed["worklogs_deleted"])
