"""End-to-end fixtures: the real service (workers on) against a simulator over real HTTP."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.migrate import upgrade_head
from app.core.security import create_access_token
from app.main import create_app
from app.warehouse.factory import open_warehouse
from tests.test_jobs.conftest import add_integration, make_settings


class Service:
    """A running service (in-process, lifespan on) with an admin token and one integration."""

    def __init__(self, client: TestClient, settings: Any, integration: int, sim: Any) -> None:
        self.client = client
        self.settings = settings
        self.integration = integration
        self.sim = sim
        token = create_access_token("admin", "admin", settings=settings)
        self.headers = {"Authorization": f"Bearer {token}"}

    def extract(self, **body: Any):
        body.setdefault("integration_id", self.integration)
        return self.client.post("/api/v1/etl/jira/extract", json=body, headers=self.headers)

    def job(self, job_id: str) -> dict[str, Any]:
        return self.client.get(f"/api/v1/etl/jobs/{job_id}", headers=self.headers).json()

    def wait(
        self, job_id: str, until: Callable[[dict[str, Any]], bool], limit: float = 90.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + limit
        job = self.job(job_id)
        while not until(job):
            assert time.monotonic() < deadline, f"job did not reach the state in {limit}s: {job}"
            time.sleep(0.1)
            job = self.job(job_id)
        return job

    def run(self, **body: Any) -> dict[str, Any]:
        answer = self.extract(**body)
        assert answer.status_code == 202, answer.text
        return self.wait(
            answer.json()["job_id"], lambda j: j["status"] in ("succeeded", "failed", "cancelled")
        )

    def warehouse(self):
        return open_warehouse(duckdb_path=self.settings.duckdb_path, schema="jira", snowflake=None)


@pytest.fixture
def service_factory(db_url, tmp_path, sim_factory):
    """``make(sim_config=..., **settings) -> Service`` running until the test ends."""
    stack: list[TestClient] = []

    def make(
        sim_config: dict[str, Any] | None = None, integration: dict[str, Any] | None = None, **overrides
    ):
        sim = sim_factory(**(sim_config or {"issues": 80, "seed": 5}))
        overrides.setdefault("scheduler_enabled", False)
        overrides.setdefault("rate_limit", "100000/minute")  # tests poll the API often
        settings = make_settings(db_url, tmp_path, **overrides)
        upgrade_head(db_url)
        from app.core.database import create_db_engine

        engine = create_db_engine(db_url)
        integration_id = add_integration(
            engine, settings.encryption_key_value, base_url=sim.base_url, **(integration or {})
        )
        engine.dispose()
        client = TestClient(create_app(settings))
        client.__enter__()
        stack.append(client)
        return Service(client, settings, integration_id, sim)

    yield make
    for client in stack:
        with contextlib.suppress(Exception):  # a test may have stopped it already
            client.__exit__(None, None, None)
