"""Integrations in /admin: list, create, edit, delete and "test connection"."""

from __future__ import annotations

import socket

from fastapi.testclient import TestClient

from app.core.database import session_scope
from app.core.security import decrypt_secret
from app.jobs.jira_job import enqueue_job
from app.models.unified_models import Integration
from tests.test_admin_ui.conftest import ADMIN, add_integration, sign_in


def _form(**overrides: str) -> dict[str, str]:
    form = {
        "name": "acme",
        "base_url": "https://acme.atlassian.net/",
        "deployment_type": "cloud",
        "auth_type": "basic",
        "username": "ops@acme.example",
        "token": "api-token-1",
        "projects": "ops, web",
        "jql_filter": "labels = etl",
        "interval_hours": "6",
        "cron": "",
        "enabled": "1",
    }
    form.update(overrides)
    return form


def _stored(client: TestClient, name: str) -> Integration | None:
    with session_scope(client.app.state.engine) as session:  # type: ignore[attr-defined]
        return session.query(Integration).filter_by(name=name).one_or_none()


def test_create_stores_the_integration_with_its_token_encrypted(client: TestClient) -> None:
    csrf = sign_in(client, *ADMIN)
    response = client.post("/admin/integrations/new", data={**_form(), "csrf_token": csrf})
    assert response.status_code == 200  # after the redirect
    assert "Integration saved." in response.text
    assert "https://acme.atlassian.net" in response.text
    integ = _stored(client, "acme")
    assert integ is not None
    assert integ.projects == ["OPS", "WEB"]
    assert integ.base_url == "https://acme.atlassian.net"
    assert integ.interval_hours == 6.0
    assert integ.jql_filter == "labels = etl"
    assert "api-token-1" not in (integ.token_encrypted or "")
    key = client.app.state.settings.encryption_key_value  # type: ignore[attr-defined]
    assert decrypt_secret(integ.token_encrypted or "", key) == "api-token-1"
    assert "api-token-1" not in client.get("/admin/integrations").text


def test_invalid_form_is_shown_again_with_the_errors(client: TestClient) -> None:
    csrf = sign_in(client, *ADMIN)
    bad = _form(base_url="ftp://nowhere", username="", interval_hours="-1")
    response = client.post("/admin/integrations/new", data={**bad, "csrf_token": csrf})
    assert response.status_code == 422
    assert 'data-testid="form-errors"' in response.text
    assert "Base url" in response.text
    assert 'value="ftp://nowhere"' in response.text  # the operator's input is kept
    assert _stored(client, "acme") is None


def test_duplicate_name_is_refused(client: TestClient) -> None:
    add_integration(client, name="acme")
    csrf = sign_in(client, *ADMIN)
    response = client.post("/admin/integrations/new", data={**_form(), "csrf_token": csrf})
    assert response.status_code == 422
    assert "already exists" in response.text


def test_edit_changes_fields_and_keeps_the_token_when_left_empty(client: TestClient) -> None:
    integ_id = add_integration(client, name="acme")
    before = _stored(client, "acme")
    assert before is not None
    csrf = sign_in(client, *ADMIN)
    form = client.get(f"/admin/integrations/{integ_id}/edit").text
    assert 'value="acme"' in form
    assert "demo-token" not in form  # the stored token is never shown
    response = client.post(
        f"/admin/integrations/{integ_id}/edit",
        data={**_form(name="acme-2", token="", projects="KAN", enabled=""), "csrf_token": csrf},
    )
    assert "Integration updated." in response.text
    after = _stored(client, "acme-2")
    assert after is not None
    assert after.projects == ["KAN"]
    assert after.enabled is False
    assert after.token_encrypted == before.token_encrypted


def test_delete_removes_the_integration(client: TestClient) -> None:
    integ_id = add_integration(client)
    csrf = sign_in(client, *ADMIN)
    response = client.post(f"/admin/integrations/{integ_id}/delete", data={"csrf_token": csrf})
    assert "Integration deleted." in response.text
    assert _stored(client, "acme") is None


def test_delete_is_refused_while_a_job_is_active(client: TestClient) -> None:
    integ_id = add_integration(client)
    with session_scope(client.app.state.engine) as session:  # type: ignore[attr-defined]
        enqueue_job(session, integration_id=integ_id, mode="full", trigger="api")
    csrf = sign_in(client, *ADMIN)
    response = client.post(f"/admin/integrations/{integ_id}/delete", data={"csrf_token": csrf})
    assert response.status_code == 409
    assert "cancel it first" in response.text
    assert _stored(client, "acme") is not None


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_test_connection_shows_why_it_failed(client: TestClient) -> None:
    integ_id = add_integration(client, base_url=f"http://127.0.0.1:{_closed_port()}")
    csrf = sign_in(client, *ADMIN)
    response = client.post(f"/admin/integrations/{integ_id}/test", data={"csrf_token": csrf})
    assert response.status_code == 200
    assert 'data-testid="test-result"' in response.text
    assert "Failed" in response.text
    assert "/myself" in response.text


def test_test_connection_against_the_simulator_shows_the_account(client: TestClient, sim_factory) -> None:
    sim = sim_factory(issues=30, seed=3)
    csrf = sign_in(client, *ADMIN)
    form = _form(name="sim", base_url=sim.base_url, username=sim.config.email, token=sim.config.token)
    client.post("/admin/integrations/new", data={**form, "csrf_token": csrf})
    integ = _stored(client, "sim")
    assert integ is not None
    response = client.post(f"/admin/integrations/{integ.id}/test", data={"csrf_token": csrf})
    result = response.text.split('data-testid="test-result">', 1)[1].split("</div>", 1)[0]
    assert "Connected as" in result
    assert sim.config.tz in result  # the Jira user's time zone, which incremental sync depends on
