"""A viewer sees, an admin acts: buttons hidden for viewers, and the server refuses their POSTs (403).

Every form also needs the session's CSRF token, whoever posts it.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.core.database import session_scope
from app.jobs.jira_job import enqueue_job
from app.models.unified_models import Integration, Job
from tests.test_admin_ui.conftest import ADMIN, VIEWER, add_integration, sign_in

ACTION_MARKERS = (
    'data-testid="start-full"',
    'data-testid="new-integration"',
    'data-testid="delete-integration"',
)


def _queued_job(client: TestClient, integration_id: int) -> str:
    with session_scope(client.app.state.engine) as session:  # type: ignore[attr-defined]
        return enqueue_job(session, integration_id=integration_id, mode="full", trigger="api").id


def test_viewer_pages_show_no_action_buttons(client: TestClient) -> None:
    integ = add_integration(client)
    job_id = _queued_job(client, integ)
    sign_in(client, *VIEWER)
    pages = [client.get(p).text for p in ("/admin/jobs", "/admin/integrations", f"/admin/jobs/{job_id}")]
    for html in pages:
        for marker in (*ACTION_MARKERS, 'data-testid="cancel-job"'):
            assert marker not in html
    assert client.get("/admin/integrations/new").status_code == 200  # the form shows, saving is refused


def test_admin_pages_show_the_action_buttons(client: TestClient) -> None:
    integ = add_integration(client)
    job_id = _queued_job(client, integ)
    sign_in(client, *ADMIN)
    assert 'data-testid="start-full"' in client.get("/admin/jobs").text
    integrations = client.get("/admin/integrations").text
    assert 'data-testid="new-integration"' in integrations
    assert 'data-testid="delete-integration"' in integrations
    assert 'data-testid="cancel-job"' in client.get(f"/admin/jobs/{job_id}").text


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/admin/jobs/start", {"integration_id": "{integ}", "mode": "full"}),
        ("/admin/jobs/{job}/cancel", {}),
        ("/admin/integrations/new", {"name": "other", "base_url": "http://127.0.0.1:9", "token": "t"}),
        ("/admin/integrations/{integ}/edit", {"name": "renamed", "base_url": "http://127.0.0.1:9"}),
        ("/admin/integrations/{integ}/delete", {}),
        ("/admin/integrations/{integ}/test", {}),
    ],
)
def test_viewer_posts_are_refused_with_403_and_change_nothing(
    client: TestClient, path: str, data: dict
) -> None:
    integ = add_integration(client)
    job_id = _queued_job(client, integ)
    csrf = sign_in(client, *VIEWER)
    fields = {k: v.format(integ=integ) for k, v in data.items()}
    response = client.post(path.format(integ=integ, job=job_id), data={**fields, "csrf_token": csrf})
    assert response.status_code == 403
    with session_scope(client.app.state.engine) as session:  # type: ignore[attr-defined]
        assert [i.name for i in session.query(Integration).all()] == ["acme"]
        jobs = session.query(Job).all()
        assert [(j.id, j.status, j.cancel_requested) for j in jobs] == [(job_id, "queued", False)]


@pytest.mark.parametrize("token", ["", "0" * 64])
def test_admin_posts_without_the_session_csrf_token_are_refused(client: TestClient, token: str) -> None:
    integ = add_integration(client)
    sign_in(client, *ADMIN)
    response = client.post(
        "/admin/jobs/start", data={"integration_id": str(integ), "mode": "full", "csrf_token": token}
    )
    assert response.status_code == 403
    with session_scope(client.app.state.engine) as session:  # type: ignore[attr-defined]
        assert session.query(Job).count() == 0


def test_csrf_token_is_bound_to_its_session(client: TestClient) -> None:
    integ = add_integration(client)
    other_session_token = sign_in(client, *VIEWER)
    client.cookies.clear()
    own_token = sign_in(client, *ADMIN)
    assert other_session_token != own_token
    data = {"integration_id": str(integ), "mode": "full"}
    refused = client.post("/admin/jobs/start", data={**data, "csrf_token": other_session_token})
    assert refused.status_code == 403
    accepted = client.post(
        "/admin/jobs/start", data={**data, "csrf_token": own_token}, follow_redirects=False
    )
    assert accepted.status_code == 303


def test_signed_out_post_is_refused(client: TestClient) -> None:
    integ = add_integration(client)
    response = client.post(
        "/admin/jobs/start", data={"integration_id": str(integ), "mode": "full", "csrf_token": "x"}
    )
    assert response.status_code == 401
