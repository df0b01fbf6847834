"""What a job records when a batch fails data quality, and the client's once-per-job notices.

The simulator stands in for Jira over real HTTP; a transport in front of it plays a broken site whose
search answers carry issues created after they were last updated (the outside world, not our code).
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from app.core.database import session_factory, session_scope
from app.jobs import jira_job
from app.jobs.worker import JobWorker
from app.pipeline.state import SyncStateStore
from app.warehouse.factory import open_warehouse
from tests.test_jobs.conftest import add_integration, make_settings


class CreatedAfterUpdated(httpx.AsyncBaseTransport):
    """Real HTTP to the simulator, with every searched issue's ``created`` moved after its ``updated``."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method != "POST" or not request.url.path.endswith("/search/jql"):
            return response
        await response.aread()
        if response.status_code != 200:
            return response
        body = json.loads(response.content)
        for issue in body.get("issues", []):
            fields = issue.get("fields") or {}
            if "created" in fields:
                fields["created"] = "2099-01-01T00:00:00.000+0000"
        return httpx.Response(200, json=body)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
def world(meta_engine, db_url, tmp_path, sim_factory):
    def make(**config):
        sim = sim_factory(issues=30, seed=5, **config)
        settings = make_settings(db_url, tmp_path)
        integration = add_integration(meta_engine, settings.encryption_key_value, base_url=sim.base_url)
        with session_scope(meta_engine) as s:
            job_id = jira_job.enqueue_job(s, integration_id=integration, mode="full", trigger="api").id
        return sim, settings, integration, job_id

    return make


def test_a_batch_failing_the_dq_ratio_fails_the_job_and_keeps_quarantine_and_dq_rows(world, meta_engine):
    _sim, settings, integration, job_id = world()
    worker = JobWorker(meta_engine, settings, worker_id="w-dq", transport=CreatedAfterUpdated())
    assert asyncio.run(worker.run_next()) is True
    with session_scope(meta_engine) as s:
        job = jira_job.get_job(s, job_id)
        status, error, stats = job.status, job.error or "", dict(job.stats or {})
        events = [(e.level, e.message) for e in jira_job.job_events(s, job_id)]
    assert status == "failed"
    assert "failed data quality" in error and "DQ_MAX_FAILURE_RATIO" in error
    assert "issues.created_le_updated" in error
    assert stats["quarantined"] > 0
    assert any(d["check_name"] == "created_le_updated" and d["status"] == "fail" for d in stats["dq"])
    assert ("error", error) in events
    warehouse = open_warehouse(duckdb_path=settings.duckdb_path, schema="jira", snowflake=None)
    try:
        quarantined = warehouse._query("SELECT entity FROM jira.quarantine WHERE job_id = ?", [job_id])
        checks = warehouse._query(
            "SELECT check_name, table_name, status FROM jira.dq_results WHERE job_id = ?", [job_id]
        )
        issues = warehouse._query("SELECT count(*) FROM jira.issues")[0][0]
    finally:
        warehouse.close()
    assert len(quarantined) == stats["quarantined"]
    assert {"issues", "comments"} <= {str(r[0]) for r in quarantined}
    assert ("created_le_updated", "issues", "fail") in {tuple(r) for r in checks}
    assert issues == 0  # nothing of the failed batch was loaded...
    saved = SyncStateStore(session_factory(meta_engine), integration).all()
    assert not [k for k in saved if k.startswith("issues:")]  # ... and no checkpoint moved


def test_client_notices_reach_the_job_events_and_stats(world, meta_engine):
    _sim, settings, _integration, job_id = world(dev_status="forbidden")
    worker = JobWorker(meta_engine, settings, worker_id="w-notice")
    assert asyncio.run(worker.run_next()) is True
    with session_scope(meta_engine) as s:
        job = jira_job.get_job(s, job_id)
        status, stats = job.status, dict(job.stats or {})
        warnings = [e.message for e in jira_job.job_events(s, job_id) if e.level == "warning"]
    assert status == "succeeded"
    refused = [n for n in stats["notices"] if "View development tools" in n]
    assert len(refused) == 1
    assert warnings.count(refused[0]) == 1  # reported once, not once per issue


def test_the_worker_runs_with_the_batch_and_dev_refresh_settings(meta_engine, db_url, tmp_path):
    settings = make_settings(db_url, tmp_path, batch_issues=7, batch_rows=900, dev_refresh="none")
    integration = add_integration(meta_engine, settings.encryption_key_value)
    with session_scope(meta_engine) as s:
        job_id = jira_job.enqueue_job(s, integration_id=integration, mode="incremental", trigger="api").id
    request, _state = JobWorker(meta_engine, settings)._prepare(job_id, None)
    assert (request.batch_issues, request.batch_rows, request.dev_refresh) == (7, 900, "none")
