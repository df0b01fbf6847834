"""The app's surface: /health, /docs, /redoc, /openapi.json, /metrics, security headers, request ids, CORS."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from app.core.database import create_db_engine

SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy")


def test_health_is_unauthenticated_and_checks_the_database(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["version"]


def test_health_answers_503_when_the_database_is_down(client: TestClient) -> None:
    app = client.app
    # A PostgreSQL URL on a port where nothing listens: the check must fail, not hang or crash.
    app.state.engine = create_db_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")  # type: ignore[attr-defined]
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["database"] == "error"


def test_docs_redoc_and_openapi_are_served(client: TestClient) -> None:
    spec = client.get("/openapi.json")
    assert spec.status_code == 200
    paths = spec.json()["paths"]
    assert "/api/v1/auth/token" in paths
    assert "/api/v1/admin/integrations/{integration_id}" in paths
    assert "/health" in paths
    for page in ("/docs", "/redoc"):
        response = client.get(page)
        assert response.status_code == 200
        assert "text/html" in response.headers["content-type"]
        assert "/openapi.json" in response.text


def test_docs_inline_scripts_carry_the_csp_nonce(client: TestClient) -> None:
    response = client.get("/docs")
    csp = response.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp)
    assert nonce is not None
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    scripts = re.findall(r"<script[^>]*>", response.text)
    assert scripts
    assert all(f'nonce="{nonce.group(1)}"' in tag for tag in scripts)
    # A fresh nonce per response: a leaked one is useless for the next page.
    assert client.get("/docs").headers["Content-Security-Policy"] != csp


def test_metrics_exposes_http_and_etl_families(client: TestClient) -> None:
    client.get("/health")
    client.get("/no/such/path")
    text = client.get("/metrics").text
    assert re.search(r'kairus_http_requests_total\{method="GET",route="/health",status="200"\} \d', text)
    # Unknown paths are grouped, so scanners cannot create unbounded label values.
    assert 'route="<unmatched>",status="404"' in text
    assert "/no/such/path" not in text
    for family in ("kairus_jira_requests_total", "kairus_jobs_total", "kairus_rows_loaded_total"):
        assert f"# TYPE {family} counter" in text
    assert "kairus_http_request_seconds_bucket" in text


def test_security_headers_on_every_response(client: TestClient) -> None:
    for response in (client.get("/health"), client.get("/missing"), client.get("/api/v1/auth/me")):
        for header in SECURITY_HEADERS:
            assert header in response.headers, (response.url, header)
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        csp = response.headers["Content-Security-Policy"]
        assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'none'" in csp
        assert "Strict-Transport-Security" not in response.headers


def test_hsts_only_over_https(make_client) -> None:
    https = make_client(base_url="https://testserver")
    assert https.get("/health").headers["Strict-Transport-Security"].startswith("max-age=")
    proxied = https.get("http://testserver/health", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in proxied.headers


def test_request_id_is_echoed_or_generated(client: TestClient) -> None:
    echoed = client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["X-Request-ID"] == "abc-123"
    generated = client.get("/health")
    assert re.fullmatch(r"[0-9a-f]{32}", generated.headers["X-Request-ID"])
    # A hostile id (log injection) is replaced, not echoed.
    hostile = client.get("/health", headers={"X-Request-ID": "evil id with spaces"})
    assert hostile.headers["X-Request-ID"] != "evil id with spaces"


def test_cors_allows_only_configured_origins(make_client) -> None:
    client = make_client(cors_origins="https://dash.example.com")
    preflight = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "Authorization"}
    allowed = client.options(
        "/api/v1/admin/integrations", headers={"Origin": "https://dash.example.com", **preflight}
    )
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://dash.example.com"
    denied = client.options(
        "/api/v1/admin/integrations", headers={"Origin": "https://evil.example", **preflight}
    )
    assert "Access-Control-Allow-Origin" not in denied.headers
