"""Structured logs: JSON lines carrying the request id, and no secret ever written."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable

import structlog
from fastapi.testclient import TestClient

from app.core.logging_config import configure_logging, redact_text, redact_value
from tests.test_api.support import ADMIN_PASSWORD, SECRET_KEY

JIRA_TOKEN = "jira-token-SHOULD-NEVER-APPEAR-91f3"


def test_redact_text_scrubs_headers_jwts_pairs_and_url_credentials() -> None:
    jwt_like = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl"
    text = (
        f"Authorization: Bearer {jwt_like} then Basic ZGVtbzp0b2tlbg== and token={JIRA_TOKEN}&x=1 "
        f'"password": "hunter2-secret" via https://user:s3cret@host/db'
    )
    cleaned = redact_text(text)
    for secret in (jwt_like, "ZGVtbzp0b2tlbg==", JIRA_TOKEN, "hunter2-secret", "s3cret"):
        assert secret not in cleaned
    assert "Bearer ***" in cleaned
    assert "x=1" in cleaned  # only secrets go


def test_redact_value_walks_nested_structures_by_key() -> None:
    value = {
        "headers": {"Authorization": "whatever", "Accept": "application/json"},
        "integration": {"name": "acme", "token": JIRA_TOKEN, "has_token": True},
        "items": [{"api_key": "k1"}, "Bearer abc.def"],
        "private_key_passphrase": "pp",
    }
    redacted = redact_value(value)
    assert redacted["headers"] == {"Authorization": "***", "Accept": "application/json"}
    assert redacted["integration"] == {"name": "acme", "token": "***", "has_token": True}
    assert redacted["items"] == [{"api_key": "***"}, "Bearer ***"]
    assert redacted["private_key_passphrase"] == "***"


def test_no_secret_reaches_the_logs_during_auth_and_integration_create(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(log_level="DEBUG")
    settings = client.app.state.settings  # type: ignore[attr-defined]
    buffer = io.StringIO()
    configure_logging("DEBUG", stream=buffer)

    login = client.post("/api/v1/auth/token", data={"username": "admin", "password": ADMIN_PASSWORD})
    token = login.json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "X-Request-ID": "req-create-1"}
    body = {
        "name": "acme",
        "base_url": "https://acme.atlassian.net",
        "username": "bot@acme.example",
        "token": JIRA_TOKEN,
    }
    assert client.post("/api/v1/admin/integrations", json=body, headers=headers).status_code == 201
    # Careless callers: a header dict, a token in an f-string, a stdlib logger with %-args.
    structlog.get_logger("careless").info("calling jira", headers={"Authorization": f"Bearer {token}"})
    structlog.get_logger("careless").warning(f"retry with token={JIRA_TOKEN}")
    logging.getLogger("thirdparty").warning("sent Authorization: Basic %s", "ZGVtbzpkZW1vLXRva2Vu")

    output = buffer.getvalue()
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert any(line.get("event") == "integration_created" for line in lines)
    for secret in (
        ADMIN_PASSWORD,
        token,
        JIRA_TOKEN,
        SECRET_KEY,
        settings.encryption_key_value,
        "ZGVtbzpkZW1vLXRva2Vu",
    ):
        assert secret not in output
    created = next(line for line in lines if line.get("event") == "integration_created")
    assert created["request_id"] == "req-create-1"
    access = [line for line in lines if line.get("event") == "request" and line.get("status") == 201]
    assert access[0]["request_id"] == "req-create-1"
    assert access[0]["route"] == "/api/v1/admin/integrations"


def test_debug_uses_the_console_renderer() -> None:
    buffer = io.StringIO()
    configure_logging("INFO", debug=True, stream=buffer)
    structlog.get_logger("t").info("hello", password="pw-123")
    output = buffer.getvalue()
    assert "hello" in output
    assert "pw-123" not in output
    assert not output.lstrip().startswith("{")
    configure_logging("INFO")
