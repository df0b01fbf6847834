"""Jobs in /admin: start and cancel runs, the self-refreshing list, the job page and the chart's data."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from app.core.database import session_scope
from app.jobs.jira_job import add_event, claim_next_job, enqueue_job, finish_job, heartbeat
from app.models.unified_models import Job
from tests.test_admin_ui.conftest import ADMIN, VIEWER, add_integration, sign_in

FINISHED_STATS = {
    "requests": 57,
    "by_endpoint": {"POST /rest/api/3/search/jql": {"200": 4, "429": 3}, "GET /rest/api/3/field": {"200": 1}},
    "responses_429": 3,
    "retries": 5,
    "seconds": 12.5,
    "rows": {"issues": 120, "comments": 340, "dev_commits": 17},
    "dq": [
        {
            "check_name": "created_le_updated",
            "table_name": "issues",
            "status": "fail",
            "failing_rows": 2,
            "details": "2 issues updated before created",
        },
        {"check_name": "created_le_updated", "table_name": "issues", "status": "pass", "failing_rows": 0},
        {"check_name": "created_le_updated", "table_name": "issues", "status": "fail", "failing_rows": 1},
        {
            "check_name": "unique_keys",
            "table_name": "comments",
            "status": "pass",
            "failing_rows": 0,
            "details": "",
        },
    ],
    "quarantined": 1,
    "quarantine": [
        {"entity": "issues", "entity_id": "10042", "reason": "created after updated", "raw": "{}"}
    ],
}
PROGRESS = {
    "streams": {"issues:OPS": {"pages": 2, "records": 120}, "users": {"pages": 1, "records": 9}},
    "tables": {"issues": 120},
    "batches": 3,
}


def _run_job(client: TestClient, integ: int, *, status: str = "succeeded", error: str | None = None) -> str:
    """A job taken through the real lifecycle functions, as a worker would."""
    with session_scope(client.app.state.engine) as session:  # type: ignore[attr-defined]
        job = enqueue_job(session, integration_id=integ, mode="full", trigger="manual")
        claim_next_job(session, "worker-test")
        heartbeat(session, job.id, progress=PROGRESS)
        add_event(session, job.id, "batch 1 loaded", data={"rows": 120})
        if status != "running":
            finish_job(session, job.id, status, stats=FINISHED_STATS, progress=PROGRESS, error=error)
        return job.id


def test_admin_starts_a_full_run_and_lands_on_its_page(client: TestClient) -> None:
    integ = add_integration(client)
    csrf = sign_in(client, *ADMIN)
    response = client.post(
        "/admin/jobs/start",
        data={"integration_id": str(integ), "mode": "incremental", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303
    job_id = response.headers["location"].rsplit("/", 1)[1]
    with session_scope(client.app.state.engine) as session:  # type: ignore[attr-defined]
        job = session.get(Job, job_id)
        assert job is not None
        assert (job.mode, job.trigger, job.status) == ("incremental", "manual", "queued")
    page = client.get(response.headers["location"])
    assert 'data-testid="job-status">queued' in page.text


def test_second_run_of_the_same_integration_is_refused_with_the_active_job(client: TestClient) -> None:
    integ = add_integration(client)
    csrf = sign_in(client, *ADMIN)
    data = {"integration_id": str(integ), "mode": "full", "csrf_token": csrf}
    first = client.post("/admin/jobs/start", data=data, follow_redirects=False)
    active_id = first.headers["location"].rsplit("/", 1)[1]
    second = client.post("/admin/jobs/start", data=data)
    assert second.status_code == 409
    assert active_id in second.text


def test_cancel_stops_a_queued_job(client: TestClient) -> None:
    integ = add_integration(client)
    csrf = sign_in(client, *ADMIN)
    started = client.post(
        "/admin/jobs/start",
        data={"integration_id": str(integ), "mode": "full", "csrf_token": csrf},
        follow_redirects=False,
    )
    page = client.post(started.headers["location"] + "/cancel", data={"csrf_token": csrf})
    assert 'data-testid="job-status">cancelled' in page.text
    # Cancelling again (already finished) is harmless.
    again = client.post(started.headers["location"] + "/cancel", data={"csrf_token": csrf})
    assert again.status_code == 200


def test_cancel_of_a_running_job_is_a_request(client: TestClient) -> None:
    job_id = _run_job(client, add_integration(client), status="running")
    csrf = sign_in(client, *ADMIN)
    client.post(f"/admin/jobs/{job_id}/cancel", data={"csrf_token": csrf})
    with session_scope(client.app.state.engine) as session:  # type: ignore[attr-defined]
        job = session.get(Job, job_id)
        assert job is not None
        assert (job.status, job.cancel_requested) == ("running", True)


def test_job_page_shows_streams_tables_requests_quality_quarantine_and_events(client: TestClient) -> None:
    job_id = _run_job(client, add_integration(client))
    sign_in(client, *VIEWER)
    html = client.get(f"/admin/jobs/{job_id}").text
    tables = re.search(r'data-testid="tables-table">(.*?)</table>', html, re.S)
    assert tables is not None
    cells = re.findall(r"<td>(\w+)</td><td class=\"num\">([\d,]+)</td>", tables.group(1))
    assert cells == [("comments", "340"), ("dev_commits", "17"), ("issues", "120")]
    assert re.search(r'data-testid="req-429">3<', html)
    assert re.search(r'data-testid="req-retries">5<', html)
    assert re.search(r'data-testid="req-total">57<', html)
    assert "POST /rest/api/3/search/jql" in html and "429: 3" in html
    assert "issues:OPS" in html
    # Data quality: one line per check and table over all batches, the failing ones first.
    dq = re.search(r'data-testid="dq-table">(.*?)</table>', html, re.S)
    assert dq is not None
    first_row = re.sub(r"<[^>]+>|\s+", " ", dq.group(1).split("<tbody>")[1].split("</tr>")[0]).split()
    assert first_row[:5] == ["created_le_updated", "issues", "fail", "3", "3"]
    assert "2 issues updated before created" in html
    assert "1 passing checks" in html
    assert "10042" in html and "created after updated" in html
    assert "batch 1 loaded" in html and "job succeeded" in html
    assert 'data-testid="job-rows">477<' in html


def test_failed_job_shows_its_error(client: TestClient) -> None:
    job_id = _run_job(
        client, add_integration(client), status="failed", error="Jira said 401: check the token"
    )
    sign_in(client, *VIEWER)
    html = client.get(f"/admin/jobs/{job_id}").text
    assert 'data-testid="job-error">Jira said 401: check the token' in html
    listing = client.get("/admin/jobs.json").json()
    assert listing["jobs"][0]["error_short"] == "Jira said 401: check the token"


def test_live_fragment_reports_the_status_for_the_poller(client: TestClient) -> None:
    job_id = _run_job(client, add_integration(client), status="running")
    sign_in(client, *VIEWER)
    live = client.get(f"/admin/jobs/{job_id}/live")
    assert live.headers["x-job-status"] == "running"
    assert "<html" not in live.text  # a fragment, swapped into the page
    assert "issues:OPS" in live.text


def test_jobs_json_lists_jobs_and_the_chart_runs(client: TestClient) -> None:
    integ = add_integration(client)
    finished = _run_job(client, integ)
    running = _run_job(client, integ, status="running")
    sign_in(client, *VIEWER)
    data = client.get("/admin/jobs.json").json()
    assert data["active"] == 1
    by_id = {job["id"]: job for job in data["jobs"]}
    assert by_id[finished]["rows"] == 477
    assert by_id[finished]["status"] == "succeeded"
    assert by_id[running]["can_cancel"] is True
    assert by_id[finished]["duration_s"] is not None
    assert [run["rows"] for run in data["runs"]] == [477]
    assert data["runs"][0]["seconds"] == by_id[finished]["duration_s"]  # the chart agrees with the list


@pytest.mark.postgres
def test_jobs_pages_on_postgresql(pg_client: TestClient) -> None:
    integ = add_integration(pg_client)
    finished = _run_job(pg_client, integ)
    csrf = sign_in(pg_client, *ADMIN)
    started = pg_client.post(
        "/admin/jobs/start",
        data={"integration_id": str(integ), "mode": "reconcile", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert started.status_code == 303
    data = pg_client.get("/admin/jobs.json").json()
    assert [job["status"] for job in data["jobs"]] == ["queued", "succeeded"]
    assert data["jobs"][1]["id"] == finished and data["jobs"][1]["rows"] == 477
    assert "comments" in pg_client.get(f"/admin/jobs/{finished}").text


def test_jobs_json_needs_a_session(client: TestClient) -> None:
    assert client.get("/admin/jobs.json").status_code == 401


def test_unknown_job_is_404(client: TestClient) -> None:
    sign_in(client, *VIEWER)
    page = client.get("/admin/jobs/does-not-exist")
    assert page.status_code == 404
    assert 'data-testid="error-detail">There is no job does-not-exist.' in page.text  # a page, not JSON


def test_jobs_list_filters_by_integration_and_status_and_pages(client: TestClient) -> None:
    first, second = add_integration(client, name="first"), add_integration(client, name="second")
    with session_scope(client.app.state.engine) as session:  # type: ignore[attr-defined]
        for _ in range(51):  # one more than a page
            job = enqueue_job(session, integration_id=first, mode="full", trigger="api")
            finish_job(session, job.id, "failed", error="boom")
    ok = _run_job(client, second)
    sign_in(client, *VIEWER)
    only_second = client.get(f"/admin/jobs.json?integration_id={second}").json()
    assert [job["id"] for job in only_second["jobs"]] == [ok]
    failed = client.get("/admin/jobs.json?status=failed&integration_id=").json()
    assert failed["total"] == 51 and len(failed["jobs"]) == 50
    assert failed["older"] == "?status=failed&page=2" and failed["newer"] is None
    page2 = client.get("/admin/jobs.json?status=failed&page=2").json()
    assert len(page2["jobs"]) == 1 and page2["newer"] == "?status=failed"
    html = client.get("/admin/jobs?status=failed").text
    assert 'href="/admin/jobs?status=failed&amp;page=2"' in html
    assert 'data-poll-url="/admin/jobs.json?status=failed"' in html
