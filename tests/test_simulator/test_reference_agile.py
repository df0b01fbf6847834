"""Reference data (families A and E) and the agile API (boards, sprints, issue lists)."""

from __future__ import annotations

from simulator import SimConfig, Site

CUSTOM_TYPES = {
    "com.pyxis.greenhopper.jira:gh-sprint",
    "com.pyxis.greenhopper.jira:jsw-story-points",
    "com.atlassian.jira.plugins.jira-development-integration-plugin:devsummarycf",
    *(
        f"com.atlassian.jira.plugin.system.customfieldtypes:{t}"
        for t in (
            "select",
            "multiselect",
            "cascadingselect",
            "userpicker",
            "float",
            "datepicker",
            "datetime",
            "labels",
            "textarea",
            "url",
        )
    ),
}


def test_project_search_is_family_a_live_by_default_clamped_to_100(client) -> None:
    live = client.get("/rest/api/3/project/search").json()
    assert live["isLast"] is True and live["total"] == 4
    assert all(not p.get("archived") for p in live["values"])
    both = client.get(
        "/rest/api/3/project/search", params={"status": "live,archived", "maxResults": 500}
    ).json()
    assert both["maxResults"] == 100 and both["total"] == 5
    assert [p["key"] for p in both["values"] if p.get("archived")] == ["OLD"]
    paged = client.get("/rest/api/3/project/search", params={"maxResults": 3}).json()
    assert paged["isLast"] is False and "startAt=3" in paged["nextPage"]
    assert client.get("/rest/api/3/project/search", params={"keys": "NOPE"}).status_code == 404


def test_fields_carry_many_custom_types_with_non_standard_ids(client) -> None:
    fields = client.get("/rest/api/3/field").json()
    customs = {f["schema"]["custom"]: f["id"] for f in fields if f["custom"]}
    assert set(customs) >= CUSTOM_TYPES
    assert not {"customfield_10020", "customfield_10016", "customfield_10000"} & set(customs.values())
    other_seed = Site(SimConfig(issues=30, seed=12)).ref.cf
    assert other_seed["sprint"] != customs["com.pyxis.greenhopper.jira:gh-sprint"]


def test_users_search_pages_until_an_empty_array(client, shared_sim) -> None:
    users, start = [], 0
    while True:
        page = client.get("/rest/api/3/users/search", params={"startAt": start, "maxResults": 10}).json()
        assert isinstance(page, list)
        if not page:
            break
        users += page
        start += len(page)
    assert len(users) == len(shared_sim.site.ref.users)
    assert any(not u["active"] for u in users)
    assert any(u["accountType"] == "app" for u in users)
    assert any("emailAddress" not in u for u in users if u["accountType"] == "atlassian")


def test_status_categories_are_localised_with_stable_keys(client) -> None:
    cats = {c["key"]: c["name"] for c in client.get("/rest/api/3/statuscategory").json()}
    assert cats["done"] == "Fertig" and cats["new"] == "Aufgaben"
    statuses = client.get("/rest/api/3/status").json()
    assert {s["statusCategory"]["key"] for s in statuses} == {"new", "indeterminate", "done"}
    for path, key in [("priority", None), ("issuetype", None), ("resolution", None)]:
        assert isinstance(client.get(f"/rest/api/3/{path}").json(), list), key
    assert client.get("/rest/api/3/issueLinkType").json()["issueLinkTypes"][0]["inward"]


def test_boards_have_locations_and_kanban_boards_refuse_sprints(client) -> None:
    boards = client.get("/rest/agile/1.0/board").json()
    assert boards["isLast"] is True and boards["total"] == len(boards["values"])
    assert all(b["location"]["projectKey"] for b in boards["values"])
    kinds = {b["type"] for b in boards["values"]}
    assert kinds == {"scrum", "kanban"}
    kanban = next(b for b in boards["values"] if b["type"] == "kanban")
    resp = client.get(f"/rest/agile/1.0/board/{kanban['id']}/sprint")
    assert resp.status_code == 400 and resp.json()["errorMessages"]
    only_scrum = client.get("/rest/agile/1.0/board", params={"type": "scrum"}).json()["values"]
    assert {b["type"] for b in only_scrum} == {"scrum"}


def test_sprints_filter_by_state_and_list_their_issues(client, shared_sim) -> None:
    board = 1
    sprints = client.get(f"/rest/agile/1.0/board/{board}/sprint").json()["values"]
    assert {s["state"] for s in sprints} == {"closed", "active", "future"}
    active = client.get(f"/rest/agile/1.0/board/{board}/sprint", params={"state": "active"}).json()["values"]
    assert len(active) == 1 and active[0]["state"] == "active"
    members = {f"{c.id}" for c in shared_sim.site.issues.values() if active[0]["id"] in c.sprint_ids}
    page = client.get(f"/rest/agile/1.0/sprint/{active[0]['id']}/issue", params={"maxResults": 1000}).json()
    assert page["total"] == len(members) and {i["id"] for i in page["issues"]} == members
    board_issues = client.get(f"/rest/agile/1.0/board/{board}/issue", params={"maxResults": 5}).json()
    assert board_issues["maxResults"] == 5 and board_issues["total"] > 5


def test_sprint_field_holds_cloud_objects_matching_the_sprint_list(client, shared_sim) -> None:
    sprint_cf = shared_sim.site.ref.cf["sprint"]
    page = client.get(
        "/rest/api/3/search/jql", params={"jql": "project = PAY", "fields": sprint_cf, "maxResults": 100}
    ).json()
    values = [s for i in page["issues"] for s in (i["fields"][sprint_cf] or [])]
    assert values and all({"id", "name", "state", "boardId"} <= set(s) for s in values)
    listed = {s["id"] for s in client.get("/rest/agile/1.0/board/1/sprint").json()["values"]}
    assert {s["id"] for s in values} <= listed


def test_agile_issue_lists_add_sprint_closed_sprints_and_flag(client, shared_sim) -> None:
    closed = next(
        s
        for s in shared_sim.site.sprints.values()
        if s.state == "closed" and any(s.id in c.sprint_ids for c in shared_sim.site.issues.values())
    )
    page = client.get(f"/rest/agile/1.0/sprint/{closed.id}/issue", params={"maxResults": 100}).json()
    assert page["issues"]
    for issue in page["issues"]:
        assert closed.id in {s["id"] for s in issue["fields"]["closedSprints"]}
        assert isinstance(issue["fields"]["flagged"], bool)
