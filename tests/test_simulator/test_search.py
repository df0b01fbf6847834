"""Enhanced search (cursor family C), legacy search, counting, field selection and embedded containers."""

from __future__ import annotations

import re

import httpx

from tests.test_simulator.conftest import all_pages

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$")


def _project_ids(sim, key: str) -> set[str]:
    return {i for i, d in sim.truth(detail="issues").items() if d["project_key"] == key}


def test_cursor_pages_cover_a_project_once_in_updated_order_without_total(client, shared_sim) -> None:
    pages = all_pages(
        client, {"jql": "project = PAY ORDER BY updated ASC", "fields": "updated", "maxResults": 7}
    )
    assert len(pages) > 2
    for page in pages[:-1]:
        assert page["isLast"] is False and page["nextPageToken"]
        assert "total" not in page
        assert len(page["issues"]) == 7
    assert pages[-1]["isLast"] is True and "nextPageToken" not in pages[-1]
    issues = [i for p in pages for i in p["issues"]]
    ids = [i["id"] for i in issues]
    assert len(ids) == len(set(ids))
    assert set(ids) == _project_ids(shared_sim, "PAY")
    order = [(shared_sim.site.issues[int(i)].updated_ms, int(i)) for i in ids]
    assert order == sorted(order)


def test_post_search_returns_the_same_issues_as_get(client) -> None:
    jql = "project in (OPS, WEB) AND created >= 0 ORDER BY created DESC"
    got = [i["id"] for p in all_pages(client, {"jql": jql, "maxResults": 20}) for i in p["issues"]]
    posted = [
        i["id"]
        for p in all_pages(client, {"jql": jql, "maxResults": 20, "fields": ["id"]}, post=True)
        for i in p["issues"]
    ]
    assert got == posted and got


def test_fields_default_to_id_only(client) -> None:
    page = client.get("/rest/api/3/search/jql", params={"jql": "project = PAY", "maxResults": 3}).json()
    assert page["issues"] and all("fields" not in i for i in page["issues"])
    assert {"id", "key", "self"} <= set(page["issues"][0])


def test_field_selection_all_navigable_lists_and_exclusions(client, shared_sim) -> None:
    def fields_of(spec: str) -> set[str]:
        page = client.get("/rest/api/3/search/jql", params={"jql": "id = 10004", "fields": spec}).json()
        return set(page["issues"][0]["fields"])

    every = fields_of("*all")
    assert {"comment", "worklog", "summary", "status", shared_sim.site.ref.cf["development"]} <= every
    navigable = fields_of("*navigable")
    assert "comment" not in navigable and "summary" in navigable
    assert fields_of("summary,status") == {"summary", "status"}
    assert fields_of("*all,-comment,-worklog") == every - {"comment", "worklog"}


def test_page_cap_is_5000_for_ids_and_page_cap_for_full_issues(client, shared_sim) -> None:
    ids_page = client.get(
        "/rest/api/3/search/jql", params={"jql": "created >= 0", "fields": "id", "maxResults": 5000}
    ).json()
    assert len(ids_page["issues"]) == 150 and ids_page["isLast"] is True
    full = client.get(
        "/rest/api/3/search/jql", params={"jql": "created >= 0", "fields": "*all", "maxResults": 1000}
    ).json()
    assert len(full["issues"]) == shared_sim.config.page_cap == 100
    assert full["isLast"] is False


def test_expand_changelog_embeds_the_newest_40_histories_with_total(client) -> None:
    page = client.get("/rest/api/3/search/jql", params={"jql": "id = 10003", "expand": "changelog"}).json()
    embedded = page["issues"][0]["changelog"]
    full = client.get("/rest/api/3/issue/10003/changelog", params={"startAt": 100}).json()
    assert embedded["total"] > 100 and len(embedded["histories"]) == 40
    assert embedded["histories"][0]["id"] == full["values"][-1]["id"]  # newest first
    created = [h["created"] for h in embedded["histories"]]
    assert created == sorted(created, reverse=True)


def test_embedded_comment_and_worklog_containers_are_capped_with_their_totals(client) -> None:
    page = client.get(
        "/rest/api/3/search/jql", params={"jql": "id in (10004, 10005)", "fields": "comment,worklog"}
    ).json()
    by_id = {i["id"]: i["fields"] for i in page["issues"]}
    comments = by_id["10004"]["comment"]
    assert comments["total"] > 100 and len(comments["comments"]) == 20
    worklogs = by_id["10005"]["worklog"]
    assert worklogs["total"] > 20 and len(worklogs["worklogs"]) == 20


def test_names_and_schema_describe_the_returned_fields(client, shared_sim) -> None:
    sprint = shared_sim.site.ref.cf["sprint"]
    page = client.get(
        "/rest/api/3/search/jql",
        params={
            "jql": "project = PAY",
            "fields": f"summary,{sprint}",
            "expand": "names,schema",
            "maxResults": 1,
        },
    ).json()
    assert page["names"] == {"summary": "Summary", sprint: "Sprint"}
    assert page["schema"][sprint]["custom"] == "com.pyxis.greenhopper.jira:gh-sprint"


def test_timestamps_have_milliseconds_and_a_colonless_non_utc_offset(client) -> None:
    page = client.get(
        "/rest/api/3/search/jql",
        params={"jql": "project = OPS", "fields": "created,updated", "maxResults": 20},
    ).json()
    stamps = [i["fields"][f] for i in page["issues"] for f in ("created", "updated")]
    assert stamps and all(TS.match(s) for s in stamps)
    assert {s[-5:] for s in stamps} <= {"-0800", "-0700"}


def test_jql_errors_answer_400_with_jira_error_body(client) -> None:
    for jql in [
        "",
        "ORDER BY updated ASC",
        "(project = PAY ORDER BY updated)",
        "projekt = PAY",
        "updated >= 'yesterday-ish'",
        "project = NOPE",
    ]:
        resp = client.get("/rest/api/3/search/jql", params={"jql": jql})
        assert resp.status_code == 400, jql
        body = resp.json()
        assert set(body) == {"errorMessages", "errors"} and body["errorMessages"][0]


def test_bad_page_token_is_400(client) -> None:
    resp = client.get("/rest/api/3/search/jql", params={"jql": "project = PAY", "nextPageToken": "garbage!"})
    assert resp.status_code == 400


def test_legacy_search_is_gone_on_cloud(client) -> None:
    for path in ("/rest/api/3/search", "/rest/api/2/search"):
        assert client.get(path, params={"jql": "project = PAY"}).status_code == 410
        assert client.post(path, json={"jql": "project = PAY"}).status_code == 410


def test_approximate_count_matches_the_project_size(client, shared_sim) -> None:
    resp = client.post("/rest/api/3/search/approximate-count", json={"jql": "project = WEB"})
    assert resp.json() == {"count": len(_project_ids(shared_sim, "WEB"))}
    assert client.post("/rest/api/3/search/approximate-count", json={"jql": ""}).status_code == 400


def test_server_mode_serves_v2_search_with_total_wiki_text_and_sprint_strings(sim_factory) -> None:
    sim = sim_factory(issues=60, seed=5, mode="server")
    sprint = sim.site.ref.cf["sprint"]
    with httpx.Client(base_url=sim.base_url, auth=sim.auth) as c:
        assert c.get("/rest/api/2/serverInfo").json()["deploymentType"] == "Server"
        assert c.get("/rest/api/3/search/jql", params={"jql": "project = PAY"}).status_code == 404
        seen, start, total = [], 0, None
        while total is None or start < total:
            page = c.get(
                "/rest/api/2/search",
                params={
                    "jql": "created >= 0 ORDER BY key ASC",
                    "startAt": start,
                    "maxResults": 25,
                    "fields": f"description,{sprint}",
                },
            ).json()
            total = page["total"]
            seen += page["issues"]
            start += len(page["issues"])
        assert total == 60 and len({i["id"] for i in seen}) == 60
        descriptions = [i["fields"]["description"] for i in seen if i["fields"]["description"]]
        assert descriptions and all(isinstance(d, str) for d in descriptions)
        sprints = [s for i in seen for s in (i["fields"].get(sprint) or [])]
        assert sprints and all(
            s.startswith("com.atlassian.greenhopper.service.sprint.Sprint@") for s in sprints
        )
        user = c.get("/rest/api/2/users/search").json()[0]
        assert user["name"] and user["key"]


def test_request_limits_on_reconcile_issues_and_properties(client) -> None:
    base = {"jql": "project = PAY"}
    too_many = client.post("/rest/api/3/search/jql", json={**base, "reconcileIssues": list(range(51))})
    assert too_many.status_code == 400
    props = client.post("/rest/api/3/search/jql", json={**base, "properties": [f"p{i}" for i in range(6)]})
    assert props.status_code == 400
    assert client.post("/rest/api/3/search/jql", json={**base, "reconcileIssues": [10001]}).status_code == 200


def test_issue_get_expands_names_and_schema(client) -> None:
    body = client.get(
        "/rest/api/3/issue/10001", params={"fields": "summary,status", "expand": "names,schema"}
    ).json()
    assert body["names"] == {"summary": "Summary", "status": "Status"}
    assert body["schema"]["status"]["system"] == "status"
