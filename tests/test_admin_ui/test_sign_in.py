"""Sign-in to /admin: the API's users and JWT, kept in an HttpOnly SameSite=Strict cookie."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.test_admin_ui.conftest import ADMIN, VIEWER, sign_in


def _login_token(client: TestClient) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/admin/login").text)
    assert found is not None
    return found.group(1)


def test_pages_redirect_to_sign_in_when_signed_out(client: TestClient) -> None:
    response = client.get("/admin/jobs?integration_id=3", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/login?next=%2Fadmin%2Fjobs%3Fintegration_id%3D3"


def test_sign_in_sets_httponly_strict_cookie_holding_a_valid_api_token(client: TestClient) -> None:
    token = _login_token(client)
    response = client.post(
        "/admin/login",
        data={"username": ADMIN[0], "password": ADMIN[1], "csrf_token": token, "next": "/admin/health"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/health"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("kairus_admin="))
    assert "httponly" in cookie.lower()
    assert "samesite=strict" in cookie.lower()
    jwt = cookie.split(";", 1)[0].split("=", 1)[1]
    # The same JWT the API issues: it authenticates a bearer call as the same user and role.
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {jwt}"})
    assert me.status_code == 200
    assert me.json()["role"] == "admin"


def test_wrong_password_is_refused_with_a_message(client: TestClient) -> None:
    token = _login_token(client)
    response = client.post(
        "/admin/login",
        data={"username": ADMIN[0], "password": "not-the-password", "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 401
    assert "Wrong user name or password" in response.text
    assert "kairus_admin=" not in response.headers.get("set-cookie", "").replace("kairus_admin_login", "")


def test_sign_in_form_without_its_token_is_refused(client: TestClient) -> None:
    client.get("/admin/login")
    response = client.post(
        "/admin/login", data={"username": ADMIN[0], "password": ADMIN[1], "csrf_token": "forged"}
    )
    assert response.status_code == 403
    assert client.get("/admin/jobs", follow_redirects=False).status_code == 303


def test_sign_in_never_redirects_off_site(client: TestClient) -> None:
    token = _login_token(client)
    response = client.post(
        "/admin/login",
        data={"username": ADMIN[0], "password": ADMIN[1], "csrf_token": token, "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/admin/jobs"


def test_viewer_signs_in_and_is_shown_as_viewer(client: TestClient) -> None:
    sign_in(client, *VIEWER)
    page = client.get("/admin/jobs")
    assert page.status_code == 200
    assert 'data-role="viewer"' in page.text
    assert "viewer (viewer)" in page.text


def test_sign_out_clears_the_session(client: TestClient) -> None:
    csrf = sign_in(client, *ADMIN)
    response = client.post("/admin/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/admin/jobs", follow_redirects=False).status_code == 303


def test_a_forged_cookie_is_treated_as_signed_out(client: TestClient) -> None:
    client.cookies.set(
        "kairus_admin", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiIsInJvbGUiOiJhZG1pbiJ9.", path="/admin"
    )
    assert client.get("/admin/jobs", follow_redirects=False).status_code == 303
