"""The rate limit and the admin pages: polling from a signed-in page does not eat the API's budget.

Static files are exempt; the jobs list's JSON poll and a job page's live part draw on a separate budget
when the session cookie verifies; without a valid session they count like any API request, and a direct
API flood is still answered 429.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.core.config import reset_settings
from app.core.database import session_scope
from app.core.ratelimit import ADMIN_SESSION_COOKIE, RateLimitMiddleware, make_storage
from app.core.security import create_access_token
from app.jobs.jira_job import enqueue_job
from app.main import create_app
from tests.test_admin_ui.conftest import VIEWER, add_integration, make_settings, sign_in

API_BUDGET = 20


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[TestClient]:
    """The service with a small API budget (``API_BUDGET`` a minute per client)."""
    app = create_app(make_settings(tmp_path, rate_limit=f"{API_BUDGET}/minute"))
    with TestClient(app) as client:
        yield client
    reset_settings()


def _queued_job(client: TestClient) -> str:
    integ = add_integration(client)
    with session_scope(client.app.state.engine) as session:  # type: ignore[attr-defined]
        return enqueue_job(session, integration_id=integ, mode="full", trigger="manual").id


def test_signed_in_polling_spares_the_api_budget_and_a_flood_still_gets_429(limited: TestClient) -> None:
    client = limited
    job_id = _queued_job(client)
    sign_in(client, *VIEWER)  # three requests of the budget: the form, the sign-in, the jobs page
    spent = 3
    # Three open pages polling for a minute would be ~90 requests: far beyond the API budget.
    for _ in range(40):
        assert client.get("/admin/jobs.json").status_code == 200
        assert client.get(f"/admin/jobs/{job_id}/live").status_code == 200
    for _ in range(2 * API_BUDGET):
        assert client.get("/admin/static/admin.js").status_code == 200
    # The API budget is untouched by all that: exactly what is left of it passes, then 429.
    for _ in range(API_BUDGET - spent):
        assert client.get("/api/v1/auth/me").status_code == 401
    flooded = client.get("/api/v1/auth/me")
    assert flooded.status_code == 429 and int(flooded.headers["Retry-After"]) >= 1
    # Pages other than the polls share the API budget, so they are throttled too.
    assert client.get("/admin/jobs").status_code == 429


def test_polls_without_a_valid_session_count_against_the_api_budget(limited: TestClient) -> None:
    client = limited
    client.cookies.set(ADMIN_SESSION_COOKIE, "forged.jwt.value", path="/admin")
    for _ in range(API_BUDGET):
        assert client.get("/admin/jobs.json").status_code == 401
    assert client.get("/admin/jobs.json").status_code == 429
    assert client.get("/api/v1/auth/me").status_code == 429


def test_the_polling_budget_is_itself_limited(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    app = FastAPI()
    app.state.settings = settings

    @app.get("/admin/jobs.json")
    def poll() -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/api/v1/ping")
    def ping() -> dict[str, str]:
        return {"ok": "yes"}

    app.add_middleware(
        RateLimitMiddleware, limit="2/minute", poll_limit="5/minute", storage=make_storage(None)
    )
    client = TestClient(app)
    client.cookies.set(ADMIN_SESSION_COOKIE, create_access_token("viewer", "viewer", settings=settings))
    try:
        for _ in range(5):
            assert client.get("/admin/jobs.json").status_code == 200
        assert client.get("/admin/jobs.json").status_code == 429
        # The API budget was a separate one all along.
        assert [client.get("/api/v1/ping").status_code for _ in range(3)] == [200, 200, 429]
    finally:
        reset_settings()
