"""Shared read-only simulated sites for the simulator's own tests (mutating tests make their own)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.fixtures.simulator import SimHandle, start_simulator


@pytest.fixture(scope="module")
def shared_sim() -> Iterator[SimHandle]:
    """A 150-issue Cloud site shared by the read-only tests of one module."""
    handle = start_simulator(issues=150, seed=11)
    yield handle
    handle.stop()


@pytest.fixture
def client(shared_sim: SimHandle) -> Iterator[httpx.Client]:
    """An authenticated client of the shared site."""
    with httpx.Client(base_url=shared_sim.base_url, auth=shared_sim.auth, timeout=30) as c:
        yield c


def all_pages(client: httpx.Client, params: dict, *, post: bool = False) -> list[dict]:
    """Every page of an enhanced search, following nextPageToken."""
    pages = []
    token = None
    for _ in range(1000):
        body = dict(params, **({"nextPageToken": token} if token else {}))
        resp = (
            client.post("/rest/api/3/search/jql", json=body)
            if post
            else client.get("/rest/api/3/search/jql", params=body)
        )
        assert resp.status_code == 200, resp.text
        page = resp.json()
        pages.append(page)
        token = page.get("nextPageToken")
        if token is None:
            return pages
    raise AssertionError("pagination did not end")
