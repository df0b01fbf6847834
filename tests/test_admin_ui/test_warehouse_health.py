"""The warehouse in the health report: a fresh install is "up, empty: not synced yet", a broken one is down.

The report is read through the real API (``GET /api/v1/admin/health``) and the admin health page, over a
fresh temporary DuckDB file (and Snowflake through fakesnow), so the probe meets a warehouse whose
``jira`` schema does not exist yet.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings, reset_settings
from app.core.security import create_access_token
from app.jobs.health import NOT_SYNCED, warehouse_probe
from app.jobs.sites import open_settings_warehouse
from app.main import create_app
from tests.test_admin_ui.conftest import VIEWER, make_settings, sign_in


def _health(client: TestClient, settings: Settings) -> dict[str, Any]:
    token = create_access_token("viewer", "viewer", settings=settings)
    response = client.get("/api/v1/admin/health", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[tuple[TestClient, Settings]]:
    """The service over a DuckDB path that does not exist yet (a fresh install)."""
    settings = make_settings(tmp_path, duckdb_path=tmp_path / "wh" / "fresh.duckdb")
    with TestClient(create_app(settings)) as client:
        yield client, settings
    reset_settings()


def _schemas(path: Path) -> set[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            row[0] for row in con.execute("SELECT schema_name FROM information_schema.schemata").fetchall()
        }
    finally:
        con.close()


def test_fresh_duckdb_is_up_and_empty_and_the_probe_creates_no_schema(
    fresh: tuple[TestClient, Settings],
) -> None:
    client, settings = fresh
    assert not settings.duckdb_path.exists()
    body = _health(client, settings)
    warehouse = body["warehouse"]
    assert warehouse["ok"] is True, warehouse
    assert warehouse["detail"]["state"] == NOT_SYNCED
    assert warehouse["detail"]["kind"] == "duckdb" and warehouse["detail"]["issues"] == 0
    assert body["status"] == "ok"
    # The file could be created and opened; the probe only read, so the schema is still the first job's.
    assert settings.duckdb_path.exists()
    assert "jira" not in _schemas(settings.duckdb_path)


def test_fresh_warehouse_shows_up_on_the_health_page(fresh: tuple[TestClient, Settings]) -> None:
    client, _settings = fresh
    sign_in(client, *VIEWER)
    html = client.get("/admin/health").text
    assert 'data-component="warehouse">' in html
    card = html.split('data-component="warehouse">', 1)[1].split('class="card"', 1)[0]
    assert '<span class="badge ok"' in card, card
    assert f"<dt>state</dt><dd>{NOT_SYNCED}</dd>" in card, card


def test_set_up_warehouse_is_ready_with_its_counts(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    warehouse = open_settings_warehouse(settings)
    warehouse.ensure_schema()
    warehouse.close()
    detail = warehouse_probe(settings)
    assert detail["state"] == "ready" and detail["issues"] == 0 and detail["tables"] > 10


def test_a_file_that_is_not_a_warehouse_is_down(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    settings.duckdb_path.write_bytes(b"this is not a DuckDB database file\n" * 200)
    try:
        with TestClient(create_app(settings)) as client:
            body = _health(client, settings)
    finally:
        reset_settings()
    # Only a missing schema counts as "not synced yet"; a broken file is still reported down.
    assert body["warehouse"]["ok"] is False and body["warehouse"]["error"], body["warehouse"]
    assert body["status"] == "degraded"


def test_fresh_snowflake_schema_is_up_and_empty(tmp_path: Path) -> None:
    import fakesnow

    settings = make_settings(
        tmp_path,
        snowflake_account="acct",
        snowflake_user="u",
        snowflake_password="pw",
        snowflake_database="kairus",
    )
    with fakesnow.patch():
        detail = warehouse_probe(settings)
        assert detail["kind"] == "snowflake" and detail["state"] == NOT_SYNCED
        warehouse = open_settings_warehouse(settings)
        warehouse.ensure_schema()
        warehouse.close()
        assert warehouse_probe(settings)["state"] == "ready"
