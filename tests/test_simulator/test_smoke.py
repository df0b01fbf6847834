"""The simulator serves over real HTTP through the fixture and counts what it serves."""

from __future__ import annotations

import httpx


def test_real_server_answers_authenticated_requests_and_counts_them(sim_factory) -> None:
    sim = sim_factory(issues=40, seed=3)
    with httpx.Client(base_url=sim.base_url, auth=sim.auth) as client:
        me = client.get("/rest/api/3/myself")
        assert me.status_code == 200
        assert me.json()["timeZone"] == "America/Los_Angeles"
        assert client.get("/rest/api/3/myself", auth=("x", "y")).status_code == 401
    stats = sim.stats()
    assert stats["by_endpoint"]["GET /rest/api/3/myself"] == {"200": 1, "401": 1}
    assert stats["total"] == 2
