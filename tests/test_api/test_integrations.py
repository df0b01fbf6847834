"""Integrations CRUD: validation (422 naming the field), 409 on duplicates, the token encrypted at rest."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from app.core.config import reset_settings
from app.core.security import decrypt_secret
from app.main import create_app
from app.models import Integration, Job
from tests.test_api.conftest import bearer_for
from tests.test_api.support import build_settings

URL = "/api/v1/admin/integrations"
JIRA_TOKEN = "jira-api-token-4f9a1c77e2"


def _body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "acme",
        "base_url": "https://acme.atlassian.net",
        "deployment_type": "cloud",
        "auth_type": "basic",
        "username": "bot@acme.example",
        "token": JIRA_TOKEN,
        "projects": ["ENG", "DATA_2"],
        "interval_hours": 1.5,
    }
    body.update(overrides)
    return body


@pytest.fixture(scope="module")
def shared_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app for the validation cases: they never write, so they need no fresh database each."""
    settings = build_settings(tmp_path_factory.mktemp("shared"))
    with TestClient(create_app(settings)) as client:
        yield client
    reset_settings()


def _raw_token_column(client: TestClient, integration_id: int) -> str:
    engine: sa.Engine = client.app.state.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        value = conn.execute(
            sa.text("SELECT token_encrypted FROM integrations WHERE id = :id"), {"id": integration_id}
        ).scalar_one()
    return str(value)


def test_create_returns_has_token_never_the_token(client: TestClient, admin_headers: dict[str, str]) -> None:
    response = client.post(URL, json=_body(), headers=admin_headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["has_token"] is True
    assert "token" not in body
    assert JIRA_TOKEN not in response.text
    assert body["projects"] == ["ENG", "DATA_2"]
    assert body["interval_hours"] == 1.5
    listed = client.get(URL, headers=admin_headers)
    assert listed.json()["total"] == 1
    assert JIRA_TOKEN not in listed.text
    one = client.get(f"{URL}/{body['id']}", headers=admin_headers)
    assert one.status_code == 200
    assert JIRA_TOKEN not in one.text


def test_token_is_encrypted_in_the_database_column(client: TestClient, admin_headers: dict[str, str]) -> None:
    created = client.post(URL, json=_body(), headers=admin_headers).json()
    raw = _raw_token_column(client, created["id"])
    assert JIRA_TOKEN not in raw
    assert raw.startswith("gAAAA")  # a Fernet token
    key = client.app.state.settings.encryption_key_value  # type: ignore[attr-defined]
    assert decrypt_secret(raw, key) == JIRA_TOKEN


def test_patch_replaces_the_token_still_encrypted(client: TestClient, admin_headers: dict[str, str]) -> None:
    created = client.post(URL, json=_body(), headers=admin_headers).json()
    before = _raw_token_column(client, created["id"])
    response = client.patch(
        f"{URL}/{created['id']}", json={"token": "new-token-xyz", "enabled": False}, headers=admin_headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["enabled"] is False
    after = _raw_token_column(client, created["id"])
    assert after != before
    assert "new-token-xyz" not in after
    key = client.app.state.settings.encryption_key_value  # type: ignore[attr-defined]
    assert decrypt_secret(after, key) == "new-token-xyz"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"base_url": "ftp://acme.example"}, "base_url"),
        ({"base_url": "acme.atlassian.net"}, "base_url"),
        ({"deployment_type": "onprem"}, "deployment_type"),
        ({"auth_type": "oauth"}, "auth_type"),
        ({"projects": ["eng"]}, "projects"),
        ({"projects": ["TOOLONGPROJECTKEY"]}, "projects"),
        ({"projects": ["E"]}, "projects"),
        ({"interval_hours": 0}, "interval_hours"),
        ({"interval_hours": -2}, "interval_hours"),
        ({"interval_hours": None, "cron": "every hour"}, "cron"),
        ({"interval_hours": None, "cron": "61 * * * *"}, "cron"),
        ({"name": ""}, "name"),
        ({"token": ""}, "token"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_invalid_fields_get_422_naming_the_field(
    shared_client: TestClient, overrides: dict[str, Any], field: str
) -> None:
    headers = bearer_for(shared_client, "admin", "admin")
    response = shared_client.post(URL, json=_body(**overrides), headers=headers)
    assert response.status_code == 422, response.text
    locations = [error["loc"] for error in response.json()["detail"]]
    assert any(field in loc for loc in locations), locations


def test_valid_cron_is_accepted_and_both_schedules_are_refused(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    ok = client.post(URL, json=_body(interval_hours=None, cron="0 */2 * * 1-5"), headers=admin_headers)
    assert ok.status_code == 201, ok.text
    assert ok.json()["cron"] == "0 */2 * * 1-5"
    both = client.post(URL, json=_body(name="other", cron="0 * * * *"), headers=admin_headers)
    assert both.status_code == 422
    assert "interval_hours or cron" in both.text
    patched = client.patch(f"{URL}/{ok.json()['id']}", json={"interval_hours": 2}, headers=admin_headers)
    assert patched.status_code == 422


def test_basic_auth_needs_a_username(client: TestClient, admin_headers: dict[str, str]) -> None:
    response = client.post(URL, json=_body(username=None), headers=admin_headers)
    assert response.status_code == 422
    assert "username" in response.text
    bearer = client.post(URL, json=_body(username=None, auth_type="bearer"), headers=admin_headers)
    assert bearer.status_code == 201


def test_duplicate_name_gets_409(client: TestClient, admin_headers: dict[str, str]) -> None:
    assert client.post(URL, json=_body(), headers=admin_headers).status_code == 201
    duplicate = client.post(URL, json=_body(), headers=admin_headers)
    assert duplicate.status_code == 409
    assert "acme" in duplicate.json()["detail"]
    other = client.post(URL, json=_body(name="globex"), headers=admin_headers).json()
    rename = client.patch(f"{URL}/{other['id']}", json={"name": "acme"}, headers=admin_headers)
    assert rename.status_code == 409


def test_missing_integration_gets_404(client: TestClient, admin_headers: dict[str, str]) -> None:
    assert client.get(f"{URL}/999", headers=admin_headers).status_code == 404
    assert client.patch(f"{URL}/999", json={"enabled": False}, headers=admin_headers).status_code == 404
    assert client.delete(f"{URL}/999", headers=admin_headers).status_code == 404


def test_delete_removes_it_unless_a_job_is_active(client: TestClient, admin_headers: dict[str, str]) -> None:
    created = client.post(URL, json=_body(), headers=admin_headers).json()
    engine: sa.Engine = client.app.state.engine  # type: ignore[attr-defined]
    with sa.orm.Session(engine) as session:
        job = Job(integration_id=created["id"], mode="full", trigger="api", status="running")
        session.add(job)
        session.commit()
        job_id = job.id
    blocked = client.delete(f"{URL}/{created['id']}", headers=admin_headers)
    assert blocked.status_code == 409
    assert job_id in blocked.json()["detail"]
    with sa.orm.Session(engine) as session:
        session.get_one(Job, job_id).status = "succeeded"
        session.commit()
    assert client.delete(f"{URL}/{created['id']}", headers=admin_headers).status_code == 204
    assert client.get(f"{URL}/{created['id']}", headers=admin_headers).status_code == 404
    with sa.orm.Session(engine) as session:
        # The finished job went with its integration (ON DELETE CASCADE).
        assert session.get(Job, job_id) is None
        assert session.scalar(sa.select(sa.func.count()).select_from(Integration)) == 0


def test_list_is_paginated(client: TestClient, admin_headers: dict[str, str]) -> None:
    for name in ("c-site", "a-site", "b-site"):
        assert client.post(URL, json=_body(name=name), headers=admin_headers).status_code == 201
    page = client.get(URL, params={"limit": 2, "offset": 1}, headers=admin_headers).json()
    assert page["total"] == 3
    assert [item["name"] for item in page["items"]] == ["b-site", "c-site"]
