"""The ETL jobs API and the ops endpoints over the real app (workers off, so jobs stay queued)."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from app.core.security import create_access_token
from app.main import create_app
from tests.test_jobs.conftest import add_integration, make_settings


@pytest.fixture
def api(db_url, tmp_path):
    settings = make_settings(db_url, tmp_path, worker_enabled=False, scheduler_enabled=False)
    app = create_app(settings)
    with TestClient(app) as client:
        admin = {"Authorization": f"Bearer {create_access_token('admin', 'admin', settings=settings)}"}
        viewer = {"Authorization": f"Bearer {create_access_token('viewer', 'viewer', settings=settings)}"}
        integration = add_integration(app.state.engine, settings.encryption_key_value, name="acme")
        yield client, admin, viewer, integration, settings


def test_extract_answers_202_and_a_second_one_409_naming_the_running_job(api):
    client, admin, _viewer, integration, _ = api
    first = client.post(
        "/api/v1/etl/jira/extract", json={"integration_id": integration, "mode": "full"}, headers=admin
    )
    assert first.status_code == 202, first.text
    job_id = first.json()["job_id"]
    job = client.get(f"/api/v1/etl/jobs/{job_id}", headers=admin).json()
    assert job["status"] == "queued" and job["mode"] == "full" and job["trigger"] == "api"
    second = client.post("/api/v1/etl/jira/extract", json={"integration_id": integration}, headers=admin)
    assert second.status_code == 409
    assert second.json()["running_job_id"] == job_id
    assert job_id in second.json()["detail"]


def test_viewer_reads_but_cannot_start_or_cancel_and_anonymous_is_401(api):
    client, admin, viewer, integration, _ = api
    assert (
        client.post(
            "/api/v1/etl/jira/extract", json={"integration_id": integration}, headers=viewer
        ).status_code
        == 403
    )
    job_id = client.post(
        "/api/v1/etl/jira/extract", json={"integration_id": integration}, headers=admin
    ).json()["job_id"]
    assert client.get(f"/api/v1/etl/jobs/{job_id}", headers=viewer).status_code == 200
    assert client.get("/api/v1/etl/jobs", headers=viewer).json()["total"] == 1
    assert client.post(f"/api/v1/etl/jobs/{job_id}/cancel", headers=viewer).status_code == 403
    assert client.get("/api/v1/etl/jobs").status_code == 401


def test_bad_input_is_422_and_unknown_ids_404(api):
    client, admin, _viewer, integration, _ = api
    bad_projects = {"integration_id": integration, "projects": ["x) OR 1=1"]}
    assert client.post("/api/v1/etl/jira/extract", json=bad_projects, headers=admin).status_code == 422
    assert (
        client.post(
            "/api/v1/etl/jira/extract", json={"integration_id": integration, "mode": "all"}, headers=admin
        ).status_code
        == 422
    )
    assert (
        client.post("/api/v1/etl/jira/extract", json={"integration_id": 999}, headers=admin).status_code
        == 404
    )
    assert client.get("/api/v1/etl/jobs?status=bogus", headers=admin).status_code == 422
    assert client.get("/api/v1/etl/jobs/nope", headers=admin).status_code == 404
    assert client.post("/api/v1/etl/jobs/nope/cancel", headers=admin).status_code == 404
    assert client.get("/api/v1/etl/jobs/nope/events", headers=admin).status_code == 404


def test_extract_without_integration_needs_the_jira_variables(api):
    client, admin, *_ = api
    answer = client.post("/api/v1/etl/jira/extract", json={}, headers=admin)
    assert answer.status_code == 422
    assert "JIRA_URL" in answer.json()["detail"]


def test_extract_without_integration_uses_env_default(db_url, tmp_path):
    settings = make_settings(
        db_url,
        tmp_path,
        worker_enabled=False,
        scheduler_enabled=False,
        jira_url="http://127.0.0.1:9",
        jira_username="me@example.com",
        jira_token="tok",
        jira_projects="AB,CD",
    )
    app = create_app(settings)
    with TestClient(app) as client:
        admin = {"Authorization": f"Bearer {create_access_token('admin', 'admin', settings=settings)}"}
        answer = client.post(
            "/api/v1/etl/jira/extract", json={"projects": ["AB"], "jql": "labels = x"}, headers=admin
        )
        assert answer.status_code == 202, answer.text
        integrations = client.get("/api/v1/admin/integrations", headers=admin).json()
        items = integrations["items"] if isinstance(integrations, dict) else integrations
        env = [i for i in items if i["name"] == "env-default"]
        assert (
            env and env[0]["projects"] == ["AB", "CD"] and env[0]["base_url"].startswith("http://127.0.0.1:9")
        )
        job = client.get(f"/api/v1/etl/jobs/{answer.json()['job_id']}", headers=admin).json()
        assert job["params"] == {"projects": ["AB"], "jql": "labels = x"}


def test_cancel_queued_job_then_cancel_again_is_409_and_events_follow(api):
    client, admin, _viewer, integration, _ = api
    job_id = client.post(
        "/api/v1/etl/jira/extract", json={"integration_id": integration}, headers=admin
    ).json()["job_id"]
    cancelled = client.post(f"/api/v1/etl/jobs/{job_id}/cancel", headers=admin)
    assert cancelled.status_code == 202 and cancelled.json()["status"] == "cancelled"
    assert client.post(f"/api/v1/etl/jobs/{job_id}/cancel", headers=admin).status_code == 409
    events = client.get(f"/api/v1/etl/jobs/{job_id}/events", headers=admin).json()
    assert events["items"][0]["message"].startswith("incremental job queued")
    later = client.get(
        f"/api/v1/etl/jobs/{job_id}/events?after_id={events['items'][0]['id']}", headers=admin
    ).json()
    assert len(later["items"]) == len(events["items"]) - 1
    # The integration is free again.
    assert (
        client.post(
            "/api/v1/etl/jira/extract", json={"integration_id": integration}, headers=admin
        ).status_code
        == 202
    )


def test_list_jobs_filters_by_status_and_integration_with_pagination(api):
    client, admin, _viewer, integration, settings = api
    other = add_integration(client.app.state.engine, settings.encryption_key_value, name="other")
    a = client.post("/api/v1/etl/jira/extract", json={"integration_id": integration}, headers=admin).json()[
        "job_id"
    ]
    client.post(f"/api/v1/etl/jobs/{a}/cancel", headers=admin)
    b = client.post("/api/v1/etl/jira/extract", json={"integration_id": integration}, headers=admin).json()[
        "job_id"
    ]
    c = client.post("/api/v1/etl/jira/extract", json={"integration_id": other}, headers=admin).json()[
        "job_id"
    ]
    page = client.get(f"/api/v1/etl/jobs?integration_id={integration}&limit=1", headers=admin).json()
    assert page["total"] == 2 and [j["id"] for j in page["items"]] == [b]
    page2 = client.get(
        f"/api/v1/etl/jobs?integration_id={integration}&limit=1&offset=1", headers=admin
    ).json()
    assert [j["id"] for j in page2["items"]] == [a]
    queued = client.get("/api/v1/etl/jobs?status=queued", headers=admin).json()
    assert {j["id"] for j in queued["items"]} == {b, c}


def test_integration_test_reports_the_connection_error(api):
    client, admin, viewer, integration, _ = api
    assert client.post(f"/api/v1/admin/integrations/{integration}/test", headers=viewer).status_code == 403
    assert client.post("/api/v1/admin/integrations/999/test", headers=admin).status_code == 404
    result = client.post(f"/api/v1/admin/integrations/{integration}/test", headers=admin)
    assert result.status_code == 200
    body = result.json()
    assert body["ok"] is False and body["error"]


def test_admin_health_reports_components_and_integration_runs(api):
    client, admin, viewer, integration, _ = api
    job_id = client.post(
        "/api/v1/etl/jira/extract", json={"integration_id": integration}, headers=admin
    ).json()["job_id"]
    client.post(f"/api/v1/etl/jobs/{job_id}/cancel", headers=admin)
    health = client.get("/api/v1/admin/health", headers=viewer)
    assert health.status_code == 200, health.text
    body = health.json()
    assert body["database"]["ok"] and body["cache"]["ok"] and body["warehouse"]["ok"], body
    assert body["warehouse"]["detail"]["kind"] == "duckdb"
    entry = next(i for i in body["integrations"] if i["id"] == integration)
    assert entry["last_run"]["job_id"] == job_id and entry["last_run"]["status"] == "cancelled"
    assert body["status"] == "ok"


def test_env_configured_site_is_registered_and_scheduled_at_start_up(db_url, tmp_path):
    settings = make_settings(
        db_url,
        tmp_path,
        worker_enabled=False,
        scheduler_enabled=True,
        jira_url="http://127.0.0.1:9",
        jira_username="me@example.com",
        jira_token="tok",
        jira_job_interval_hours=6,
    )
    app = create_app(settings)
    with TestClient(app) as client:
        admin = {"Authorization": f"Bearer {create_access_token('admin', 'admin', settings=settings)}"}
        deadline = time.monotonic() + 20
        while True:
            health = client.get("/api/v1/admin/health", headers=admin).json()
            env = [i for i in health["integrations"] if i["name"] == "env-default"]
            if env and env[0]["next_run"]:
                break
            assert time.monotonic() < deadline, health
            time.sleep(0.2)
