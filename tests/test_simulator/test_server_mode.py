"""Server/DC mode: v2 only, wiki-markup rich text, users with name/key, DC rate-limit headers."""

from __future__ import annotations

import httpx


def test_server_mode_children_and_users_use_dc_shapes(sim_factory) -> None:
    sim = sim_factory(issues=40, seed=2, mode="server", rate=0.01, burst=50)
    with httpx.Client(base_url=sim.base_url, auth=sim.auth) as c:
        assert c.get("/rest/api/3/myself").status_code == 404  # no v3 on Data Center
        me = c.get("/rest/api/2/myself")
        assert me.json()["name"] == "demo"
        assert {"x-ratelimit-fillrate", "x-ratelimit-interval-seconds"} <= set(me.headers)
        comments = c.get("/rest/api/2/issue/10004/comment").json()["comments"]
        assert comments and all(isinstance(x["body"], str) for x in comments)
        assert all(x["author"]["name"] and x["author"]["key"] for x in comments)
        issue = c.get("/rest/api/2/issue/10004", params={"fields": "reporter,worklog"}).json()
        assert issue["fields"]["reporter"]["name"]
        assert issue["self"].endswith("/rest/api/2/issue/10004")
    complete = sim.site.complete_issue(10004)
    assert isinstance(complete["fields"]["comment"]["comments"][0]["body"], str)
