"""The service end to end: API -> worker -> pipeline -> DuckDB, against the simulator over real HTTP.

Runs on SQLite and PostgreSQL metadata (``db_url``).
"""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from app.main import create_app
from tests.test_jobs.helpers import differences


def test_full_incremental_and_reconcile_through_the_api_match_the_simulator(service_factory):
    service = service_factory(batch_rows=1000)
    sim = service.sim
    full = service.run(mode="full")
    assert full["status"] == "succeeded", full
    assert full["stats"]["requests"] > 0 and full["stats"]["rows"]["issues"] == 80
    assert full["progress"]["batches"] >= 2
    assert full["progress"]["requests"] == full["stats"]["requests"] > 0
    assert full["attempts"] == 1 and full["heartbeat_at"] is not None  # alive all along: never re-queued
    events = service.client.get(f"/api/v1/etl/jobs/{full['id']}/events", headers=service.headers).json()
    assert any("batch" in e["message"] for e in events["items"])
    metrics = service.client.get("/metrics").text
    assert 'kairus_jobs_total{mode="full",status="succeeded"}' in metrics
    assert 'kairus_rows_loaded_total{table="issues"}' in metrics
    wh = service.warehouse()
    try:
        assert differences(wh, sim.truth()) == {}
    finally:
        wh.close()

    sim.clock(advance_s=3600)
    changed = sim.mutate(
        seed=8,
        update=5,
        add_comments=3,
        delete_comments=2,
        add_worklogs=2,
        delete_worklogs=2,
        move=1,
        create=2,
    )
    sim.clock(advance_s=120)
    incremental = service.run()
    assert incremental["status"] == "succeeded" and incremental["mode"] == "incremental"
    # Only the changed window was re-read, not the whole site.
    assert incremental["stats"]["rows"]["issues"] < 80 / 2
    assert incremental["stats"]["deleted_worklogs"] == len(changed["worklogs_deleted"])
    wh = service.warehouse()
    try:
        assert differences(wh, sim.truth()) == {}
    finally:
        wh.close()

    sim.clock(advance_s=600)
    deleted = set(sim.mutate(seed=12, delete=2)["deleted"])
    reconcile = service.run(mode="reconcile")
    assert reconcile["status"] == "succeeded" and reconcile["stats"]["deleted_issues"] == 2
    wh = service.warehouse()
    try:
        flagged = {str(r[0]) for r in wh._query("SELECT issue_id FROM jira.issues WHERE is_deleted")}
        assert flagged == deleted
        assert differences(wh, sim.truth()) == {}
    finally:
        wh.close()


def test_concurrent_extract_is_409_and_a_cancelled_job_leaves_a_consistent_warehouse(service_factory):
    # A slow site (latency per request and per issue) keeps the job running long enough to be cancelled
    # mid-way: the worker reads the cancel flag at most once a second.
    slow = {"issues": 120, "seed": 6, "latency_ms": 40, "per_issue_ms": 40, "page_cap": 20}
    service = service_factory(sim_config=slow, batch_rows=200, batch_issues=20)
    first = service.extract(mode="full")
    assert first.status_code == 202
    job_id = first.json()["job_id"]
    second = service.extract(mode="incremental")
    assert second.status_code == 409 and second.json()["running_job_id"] == job_id
    service.wait(job_id, lambda j: j["status"] == "running" and j["progress"].get("batches", 0) >= 2)
    cancel = service.client.post(f"/api/v1/etl/jobs/{job_id}/cancel", headers=service.headers)
    assert cancel.status_code == 202
    job = service.wait(job_id, lambda j: j["status"] in ("succeeded", "failed", "cancelled"))
    assert job["status"] == "cancelled", job
    truth = service.sim.truth()
    wh = service.warehouse()
    try:
        loaded = wh.issue_ids()
        assert loaded and loaded < set(truth["issues"])
        for table in ("comments", "worklogs", "issue_changelog"):
            orphans = wh._query(
                f"SELECT count(*) FROM jira.{table} WHERE issue_id NOT IN (SELECT issue_id FROM jira.issues)"
            )
            assert orphans[0][0] == 0, table
    finally:
        wh.close()
    # The integration is free again, and the next run completes the warehouse.
    follow_up = service.run()
    assert follow_up["status"] == "succeeded"
    wh = service.warehouse()
    try:
        assert differences(wh, truth) == {}
    finally:
        wh.close()


def test_a_short_schedule_fires_a_job_that_runs(service_factory):
    service = service_factory(scheduler_enabled=True, integration={"interval_hours": 1 / 3600})
    deadline = time.monotonic() + 60
    while True:
        jobs = service.client.get("/api/v1/etl/jobs?status=succeeded", headers=service.headers).json()[
            "items"
        ]
        if any(j["trigger"] == "schedule" for j in jobs):
            break
        assert time.monotonic() < deadline, "no scheduled job succeeded within 60 s"
        time.sleep(0.2)
    health = service.client.get("/api/v1/admin/health", headers=service.headers).json()
    entry = next(i for i in health["integrations"] if i["id"] == service.integration)
    assert entry["last_run"]["status"] == "succeeded" and entry["next_run"] is not None
    assert health["scheduler"]["ok"] and health["scheduler"]["detail"]["leader"] is True


def test_service_shutdown_requeues_the_running_job_and_the_next_start_finishes_it(service_factory):
    # Slow pages and one batch per page: the stop must land mid-job whatever the machine's speed.
    slow = {"issues": 100, "seed": 7, "latency_ms": 20, "per_issue_ms": 40, "page_cap": 20}
    service = service_factory(sim_config=slow, batch_rows=200, batch_issues=20)
    job_id = service.extract(mode="full").json()["job_id"]
    service.wait(job_id, lambda j: j["status"] == "running" and j["progress"].get("batches", 0) >= 2)
    service.client.__exit__(None, None, None)  # graceful stop (lifespan shutdown) mid-job
    with TestClient(create_app(service.settings)) as client:
        service.client = client
        job = service.job(job_id)
        assert job["status"] in ("queued", "running")
        job = service.wait(job_id, lambda j: j["status"] in ("succeeded", "failed", "cancelled"))
        events = client.get(f"/api/v1/etl/jobs/{job_id}/events", headers=service.headers).json()["items"]
    assert job["status"] == "succeeded" and job["attempts"] == 2
    assert any("the service stopped" in e["message"] for e in events)
    wh = service.warehouse()
    try:
        assert differences(wh, service.sim.truth()) == {}
    finally:
        wh.close()


def test_rejected_credentials_fail_the_job_with_a_message_saying_so(service_factory):
    service = service_factory(integration={"token": "wrong-token"})
    job = service.run(mode="full")
    assert job["status"] == "failed"
    assert "401" in job["error"] or "credential" in job["error"].lower() or "auth" in job["error"].lower()
    test = service.client.post(
        f"/api/v1/admin/integrations/{service.integration}/test", headers=service.headers
    )
    assert test.json()["ok"] is False and test.json()["status"] == 401
    # A job that failed does not block the integration.
    assert service.extract(mode="full").status_code == 202


def test_integration_test_returns_the_account_and_its_time_zone(service_factory):
    service = service_factory(sim_config={"issues": 30, "seed": 2, "tz": "Asia/Kolkata"})
    answer = service.client.post(
        f"/api/v1/admin/integrations/{service.integration}/test", headers=service.headers
    )
    body = answer.json()
    assert answer.status_code == 200 and body["ok"] is True, body
    assert body["time_zone"] == "Asia/Kolkata" and body["account_id"] and body["error"] is None
