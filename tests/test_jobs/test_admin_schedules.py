"""Integrations changed through the API are (re)scheduled at once, not at the next periodic re-sync."""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi.testclient import TestClient

from app.core.security import create_access_token
from app.main import create_app
from tests.test_jobs.conftest import make_settings


def eventually(predicate: Callable[[], bool], limit: float = 10.0) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_create_change_and_delete_reschedule_at_once(db_url, tmp_path):
    # The periodic re-sync is an hour away: only the API's sync request can move the schedules.
    settings = make_settings(
        db_url, tmp_path, worker_enabled=False, scheduler_enabled=True, scheduler_resync_seconds=3600
    )
    app = create_app(settings)
    with TestClient(app) as client:
        scheduler = app.state.scheduler
        assert scheduler is not None
        admin = {"Authorization": f"Bearer {create_access_token('admin', 'admin', settings=settings)}"}
        body = {
            "name": "sched",
            "base_url": "http://127.0.0.1:9",
            "username": "demo@example.com",
            "token": "t",
            "interval_hours": 5,
        }
        created = client.post("/api/v1/admin/integrations", json=body, headers=admin)
        assert created.status_code == 201, created.text
        integration = created.json()["id"]
        assert eventually(lambda: scheduler.next_run(integration) is not None)
        first = scheduler.next_run(integration)

        changed = client.patch(
            f"/api/v1/admin/integrations/{integration}", json={"interval_hours": 50}, headers=admin
        )
        assert changed.status_code == 200, changed.text
        # Ten times the interval: the next firing moves much later.
        assert eventually(lambda: (scheduler.next_run(integration) or first) > first)

        off = client.patch(
            f"/api/v1/admin/integrations/{integration}", json={"enabled": False}, headers=admin
        )
        assert off.status_code == 200
        assert eventually(lambda: scheduler.next_run(integration) is None)

        client.patch(f"/api/v1/admin/integrations/{integration}", json={"enabled": True}, headers=admin)
        assert eventually(lambda: scheduler.next_run(integration) is not None)
        gone = client.delete(f"/api/v1/admin/integrations/{integration}", headers=admin)
        assert gone.status_code == 204
        assert eventually(lambda: scheduler.next_run(integration) is None)
