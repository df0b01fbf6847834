"""The token flow and every way a token is refused (401), plus roles (403)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi.testclient import TestClient

from app.__main__ import main as cli_main
from app.core.config import activate_settings
from tests.test_api.conftest import login
from tests.test_api.support import ADMIN_PASSWORD, SECRET_KEY, VIEWER_PASSWORD

ME = "/api/v1/auth/me"
INTEGRATIONS = "/api/v1/admin/integrations"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _claims(**overrides: object) -> dict[str, object]:
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "iss": "kairus-etl",
        "sub": "admin",
        "role": "admin",
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    claims.update(overrides)
    return claims


def test_admin_gets_a_token_and_uses_it(client: TestClient) -> None:
    response = client.post("/api/v1/auth/token", data={"username": "admin", "password": ADMIN_PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["role"] == "admin"
    assert body["expires_in"] == 60 * 60
    claims = jwt.decode(body["access_token"], SECRET_KEY, algorithms=["HS256"])
    assert claims["sub"] == "admin"
    assert claims["exp"] - claims["iat"] == 3600
    me = client.get(ME, headers=_bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json() == {"subject": "admin", "role": "admin"}


@pytest.mark.parametrize(("username", "password"), [("admin", "wrong-password"), ("nobody", ADMIN_PASSWORD)])
def test_wrong_credentials_get_401(client: TestClient, username: str, password: str) -> None:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 401
    assert response.json() == {"detail": "Incorrect username or password"}
    assert "access_token" not in response.text


def test_missing_token_gets_401_with_bearer_challenge(client: TestClient) -> None:
    response = client.get(ME)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json() == {"detail": "Not authenticated"}


def test_malformed_token_gets_401(client: TestClient) -> None:
    for token in ("not-a-jwt", "a.b.c", "Basic abc"):
        response = client.get(ME, headers=_bearer(token))
        assert response.status_code == 401, token
        assert response.json() == {"detail": "Invalid token"}
    wrong_scheme = client.get(ME, headers={"Authorization": "Basic YWRtaW46cGFzcw=="})
    assert wrong_scheme.status_code == 401


def test_expired_token_gets_401(client: TestClient) -> None:
    past = datetime.now(UTC) - timedelta(hours=2)
    token = jwt.encode(_claims(iat=past, exp=past + timedelta(minutes=5)), SECRET_KEY, algorithm="HS256")
    response = client.get(ME, headers=_bearer(token))
    assert response.status_code == 401
    assert response.json() == {"detail": "Token expired"}


def test_token_signed_with_another_key_gets_401(client: TestClient) -> None:
    token = jwt.encode(_claims(), "some-other-key-" + "y" * 40, algorithm="HS256")
    assert client.get(ME, headers=_bearer(token)).status_code == 401


def test_unsigned_alg_none_token_gets_401(client: TestClient) -> None:
    token = jwt.encode(_claims(), None, algorithm="none")
    assert token.endswith(".")  # really unsigned
    assert client.get(ME, headers=_bearer(token)).status_code == 401


def test_token_with_another_algorithm_gets_401(client: TestClient) -> None:
    token = jwt.encode(_claims(), SECRET_KEY, algorithm="HS512")
    assert client.get(ME, headers=_bearer(token)).status_code == 401


def test_well_formed_token_is_accepted(client: TestClient) -> None:
    # The control for the refusals around it: the same claims, correctly signed, pass.
    token = jwt.encode(_claims(), SECRET_KEY, algorithm="HS256")
    assert client.get(ME, headers=_bearer(token)).status_code == 200


def test_token_from_another_issuer_gets_401(client: TestClient) -> None:
    for claims in (_claims(iss="someone-else"), {k: v for k, v in _claims().items() if k != "iss"}):
        token = jwt.encode(claims, SECRET_KEY, algorithm="HS256")
        assert client.get(ME, headers=_bearer(token)).status_code == 401


def test_token_without_expiry_or_with_unknown_role_gets_401(client: TestClient) -> None:
    no_exp = {"iss": "kairus-etl", "sub": "admin", "role": "admin", "iat": datetime.now(UTC)}
    assert (
        client.get(ME, headers=_bearer(jwt.encode(no_exp, SECRET_KEY, algorithm="HS256"))).status_code == 401
    )
    root = jwt.encode(_claims(role="root"), SECRET_KEY, algorithm="HS256")
    assert client.get(ME, headers=_bearer(root)).status_code == 401


def test_configured_viewer_signs_in_with_the_viewer_role(client: TestClient) -> None:
    token = login(client, "viewer", VIEWER_PASSWORD)
    assert client.get(ME, headers=_bearer(token)).json() == {"subject": "viewer", "role": "viewer"}
    assert client.post(INTEGRATIONS, json={}, headers=_bearer(token)).status_code == 403


def test_viewer_reads_but_gets_403_on_admin_routes(
    client: TestClient, viewer_headers: dict[str, str]
) -> None:
    assert client.get(INTEGRATIONS, headers=viewer_headers).status_code == 200
    body = {"name": "x", "base_url": "https://x.example", "username": "u@example.com", "token": "t"}
    response = client.post(INTEGRATIONS, json=body, headers=viewer_headers)
    assert response.status_code == 403
    assert response.json() == {"detail": "Admin role required"}
    assert client.delete(f"{INTEGRATIONS}/1", headers=viewer_headers).status_code == 403


def test_create_token_cli_mints_a_working_viewer_token(client: TestClient, capsys) -> None:
    activate_settings(client.app.state.settings)  # type: ignore[attr-defined]
    assert cli_main(["create-token", "--role", "viewer", "--subject", "ci-bot", "--minutes", "5"]) == 0
    token = capsys.readouterr().out.strip()
    me = client.get(ME, headers=_bearer(token))
    assert me.json() == {"subject": "ci-bot", "role": "viewer"}
    body = {"name": "x", "base_url": "https://x.example", "username": "u@example.com", "token": "t"}
    assert client.post(INTEGRATIONS, json=body, headers=_bearer(token)).status_code == 403
