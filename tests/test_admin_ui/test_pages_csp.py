"""Every admin page works under the service's strict CSP: no inline script, handler or style; no CDN."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.core.config import reset_settings
from app.core.database import session_scope
from app.jobs.jira_job import enqueue_job
from app.main import create_app
from tests.test_admin_ui.conftest import ADMIN, add_integration, make_settings, sign_in


@pytest.fixture(scope="module")
def module_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app for this module's read-only checks (building an app per test costs CPU for nothing)."""
    app = create_app(make_settings(tmp_path_factory.mktemp("csp")))
    with TestClient(app) as test_client:
        yield test_client
    reset_settings()


@pytest.fixture(scope="module")
def admin_pages(module_client: TestClient) -> dict[str, str]:
    """Every admin page as an admin sees it (the richest variant: all forms and buttons)."""
    client = module_client
    integ = add_integration(client)
    with session_scope(client.app.state.engine) as session:  # type: ignore[attr-defined]
        job_id = enqueue_job(session, integration_id=integ, mode="full", trigger="api").id
    pages = {"/admin/login": client.get("/admin/login").text}
    sign_in(client, *ADMIN)
    for path in (
        "/admin/jobs",
        f"/admin/jobs/{job_id}",
        "/admin/integrations",
        "/admin/integrations/new",
        f"/admin/integrations/{integ}/edit",
        "/admin/health",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        pages[path] = response.text
    return pages


def test_no_inline_scripts_handlers_or_styles(admin_pages: dict[str, str]) -> None:
    for path, html in admin_pages.items():
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert 'src="/admin/static/' in tag or 'type="application/json"' in tag, (path, tag)
        assert not re.search(r"\son[a-z]+\s*=", html), path
        assert not re.search(r"\sstyle\s*=", html), path
        assert "javascript:" not in html, path


def test_assets_are_our_own(admin_pages: dict[str, str]) -> None:
    for path, html in admin_pages.items():
        for url in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert url.startswith("/"), (path, url)
        assert 'name="viewport"' in html, path  # readable on a phone


def test_static_files_are_served_and_nothing_else(module_client: TestClient) -> None:
    client = module_client
    js = client.get("/admin/static/admin.js")
    assert js.status_code == 200
    assert js.headers["content-type"].startswith("text/javascript")
    assert client.get("/admin/static/admin.css").headers["content-type"].startswith("text/css")
    assert client.get("/admin/static/..%2Fmain.py").status_code == 404
    assert client.get("/admin/static/nope.js").status_code == 404


def test_every_post_form_carries_the_session_csrf_token(
    client: TestClient, admin_pages: dict[str, str]
) -> None:
    meta = re.search(r'<meta name="csrf-token" content="([^"]+)"', admin_pages["/admin/jobs"])
    assert meta is not None
    forms = 0
    for path, html in admin_pages.items():
        if path == "/admin/login":
            continue
        for form in re.findall(r'<form method="post".*?</form>', html, re.S):
            forms += 1
            token = re.search(r'name="csrf_token" value="([^"]*)"', form)
            assert token is not None and token.group(1) == meta.group(1), (path, form[:120])
    assert forms >= 8  # sign-out on each page, start, cancel, save, test, delete
