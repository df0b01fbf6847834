"""The health page: database, cache, warehouse, scheduler, and each integration's last and next run."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.core.config import reset_settings
from app.core.database import session_scope
from app.jobs.jira_job import claim_next_job, enqueue_job, finish_job
from app.jobs.sites import open_settings_warehouse
from app.main import create_app
from tests.test_admin_ui.conftest import ADMIN, VIEWER, add_integration, make_settings, sign_in


def _components(html: str) -> dict[str, str]:
    cards = re.findall(r'data-component="(\w+)">\s*<h3>\w+</h3>\s*<div><span class="badge (\w+)"', html)
    return dict(cards)


def test_health_shows_each_component_and_the_last_run(client: TestClient) -> None:
    integ = add_integration(client, name="acme")
    with session_scope(client.app.state.engine) as session:  # type: ignore[attr-defined]
        job = enqueue_job(session, integration_id=integ, mode="full", trigger="schedule")
        claim_next_job(session, "w")
        finish_job(session, job.id, "failed", error="Jira answered 401")
    # A warehouse that has been set up (as after a first run) answers the probe.
    warehouse = open_settings_warehouse(client.app.state.settings)  # type: ignore[attr-defined]
    warehouse.ensure_schema()
    warehouse.close()
    sign_in(client, *VIEWER)
    html = client.get("/admin/health").text
    # The scheduler is switched off in this app: the page says so rather than pretending.
    assert _components(html) == {"database": "ok", "cache": "ok", "warehouse": "ok", "scheduler": "disabled"}
    assert "<dt>backend</dt><dd>memory</dd>" in html
    assert "Jira answered 401" in html
    assert f'href="/admin/jobs/{job.id}"' in html


@pytest.mark.redis
def test_health_checks_redis_and_shows_the_next_scheduled_run(tmp_path: Path, redis_url: str) -> None:
    settings = make_settings(tmp_path, redis_url=redis_url, scheduler_enabled=True)
    try:
        with TestClient(create_app(settings)) as client:
            csrf = sign_in(client, *ADMIN)
            form = {
                "name": "hourly",
                "base_url": "http://127.0.0.1:9",
                "deployment_type": "cloud",
                "auth_type": "bearer",
                "token": "pat",
                "interval_hours": "1",
                "enabled": "1",
            }
            client.post("/admin/integrations/new", data={**form, "csrf_token": csrf})
            # Saving asks the scheduler to re-read the integrations; it does so on its own loop.
            html = ""
            for _ in range(100):
                html = client.get("/admin/health").text
                if re.search(r"<td>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC</td></tr>", html):
                    break
                time.sleep(0.1)
            components = _components(html)
            assert components["cache"] == "ok" and "<dt>backend</dt><dd>redis</dd>" in html
            assert components["scheduler"] == "ok" and "<dt>leader</dt><dd>True</dd>" in html
            assert re.search(r"<td>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC</td></tr>", html), html
    finally:
        reset_settings()
