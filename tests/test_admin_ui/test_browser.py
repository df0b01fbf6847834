"""/admin in a real browser: Playwright drives Debian's Chromium against the real service and the simulator.

The service runs as a uvicorn subprocess (its own temporary SQLite metadata DB and DuckDB warehouse, workers
on); the simulator is a real server on loopback. Each test leaves screenshots in ``test-artifacts/``.
Without ``/usr/bin/chromium`` the tests skip, except under ``CI=true`` where that is a failure.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet

from tests.fixtures.simulator import SimHandle
from tests.test_admin_ui.conftest import ADMIN, VIEWER

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
RUN_TIMEOUT_MS = 180_000  # a full sync of a small site; generous for a loaded 2-core CI machine


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Service:
    """The running service under test."""

    base_url: str
    log: Path


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    """``uvicorn app.main:app`` in a subprocess, configured only through its environment."""
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("JIRA_", "SNOWFLAKE_"))}
    env.update(
        KAIRUS_ENV_FILE="",
        DEBUG="false",
        LOG_LEVEL="WARNING",
        SECRET_KEY="browser-test-secret-" + "k" * 40,
        ENCRYPTION_KEY=Fernet.generate_key().decode(),
        ADMIN_USERNAME=ADMIN[0],
        ADMIN_PASSWORD=ADMIN[1],
        VIEWER_USERNAME=VIEWER[0],
        VIEWER_PASSWORD=VIEWER[1],
        DATABASE_URL=f"sqlite:///{tmp_path / 'meta.db'}",
        DUCKDB_PATH=str(tmp_path / "warehouse.duckdb"),
        REDIS_URL="",
        RATE_LIMIT="100000/minute",
        SCHEDULER_ENABLED="false",
    )
    log = tmp_path / "service.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url, proc, log)
        yield Service(base_url=base_url, log=log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _wait_until_up(base_url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(600):
        if proc.poll() is not None:
            raise RuntimeError(f"service exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base_url}/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"service did not answer /health:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium under Playwright (skip without it, unless CI=true)."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; CI=true requires the browser tests to run")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(chromium: Any) -> Iterator[Callable[..., Any]]:
    """``open_page(**context_options)`` -> a new page; CSP violations and JS errors are collected."""
    contexts: list[Any] = []

    def make(**options: Any) -> Any:
        context = chromium.new_context(**options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.problems = []
        page.on("pageerror", lambda exc: page.problems.append(f"pageerror: {exc}"))
        page.on(
            "console",
            lambda msg: (
                page.problems.append(msg.text)
                if msg.type == "error" and "Content Security Policy" in msg.text
                else None
            ),
        )
        return page

    yield make
    for context in contexts:
        context.close()


def _screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _sign_in(page: Any, base_url: str, user: tuple[str, str]) -> None:
    page.goto(f"{base_url}/admin/")
    assert "/admin/login" in page.url  # signed out: the entry point asks to sign in
    page.fill("input[name=username]", user[0])
    page.fill("input[name=password]", user[1])
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/jobs$"))


def _table(page: Any, testid: str) -> dict[str, str]:
    rows = page.locator(f"[data-testid={testid}] tbody tr")
    found = {}
    for i in range(rows.count()):
        cells = rows.nth(i).locator("td").all_inner_texts()
        found[cells[0].strip()] = cells[-1].strip()
    return found


def test_admin_connects_the_simulator_runs_a_sync_and_sees_the_table_counts(
    service: Service, sim_factory: Callable[..., SimHandle], open_page: Callable[..., Any]
) -> None:
    sim = sim_factory(issues=40, seed=11)
    page = open_page(viewport={"width": 1280, "height": 900})
    _sign_in(page, service.base_url, ADMIN)

    # Connect the simulated Jira site.
    page.click("nav >> text=Integrations")
    page.click("[data-testid=new-integration]")
    page.fill("input[name=name]", "simulator")
    page.fill("input[name=base_url]", sim.base_url)
    page.select_option("select[name=deployment_type]", "cloud")
    page.select_option("select[name=auth_type]", "basic")
    page.fill("input[name=username]", sim.config.email)
    page.fill("input[name=token]", sim.config.token)
    page.click("[data-testid=save-integration]")
    assert page.inner_text("[data-testid=flash]") == "Integration saved."
    page.click("[data-integration=simulator] [data-testid=test-connection]")
    assert "Connected as" in page.inner_text("[data-testid=test-result]")
    _screenshot(page, "admin-integrations")

    # A second tab keeps the jobs list open: it must show the new run without a reload.
    watcher = open_page(viewport={"width": 1280, "height": 900})
    _sign_in(watcher, service.base_url, ADMIN)
    assert watcher.locator("[data-testid=jobs-table] tbody tr[data-job-id]").count() == 0

    sim.faults(storm_429=2)  # Jira throttles the first requests: the job page must show it
    page.click("nav >> text=Jobs")
    page.select_option("[data-testid=start-integration]", label="simulator")
    page.click("[data-testid=start-full]")
    page.wait_for_url(re.compile(r".*/admin/jobs/[0-9a-f-]{36}$"))
    job_id = page.url.rsplit("/", 1)[1]

    # The job page polls its live part until the run ends; the badge turns to "succeeded" by itself.
    page.wait_for_selector(
        "[data-testid=job-status]:text-matches('succeeded|failed|cancelled')", timeout=RUN_TIMEOUT_MS
    )
    status = page.inner_text("[data-testid=job-status]")
    assert status == "succeeded", page.inner_text("#job-live") + service.log.read_text()[-2000:]
    tables = _table(page, "tables-table")
    truth = sim.truth()
    assert int(tables["issues"].replace(",", "")) == len(truth["issues"])
    assert int(tables["comments"].replace(",", "")) == len(truth["comments"])
    assert int(page.inner_text("[data-testid=req-total]").replace(",", "")) > 0
    throttled = sum(int(codes.get("429", 0)) for codes in sim.stats()["by_endpoint"].values())
    assert throttled == 2
    assert int(page.inner_text("[data-testid=req-429]")) == throttled
    assert int(page.inner_text("[data-testid=req-retries]")) >= throttled
    assert "job succeeded" in page.inner_text("[data-testid=events-table]")
    _screenshot(page, "admin-job")

    watcher.wait_for_selector(
        f"[data-testid=jobs-table] tr[data-job-id='{job_id}'][data-status=succeeded]", timeout=30_000
    )
    row = watcher.locator(f"tr[data-job-id='{job_id}']").inner_text()
    assert "full" in row and "manual" in row

    # Jira changes; an incremental run started from the page picks the changes up.
    sim.mutate(seed=1, update=5, add_comments=4)
    page.click("nav >> text=Jobs")
    page.click("[data-testid=start-incremental]")
    page.wait_for_url(re.compile(r".*/admin/jobs/[0-9a-f-]{36}$"))
    page.wait_for_selector(
        "[data-testid=job-status]:text-matches('succeeded|failed|cancelled')", timeout=RUN_TIMEOUT_MS
    )
    assert page.inner_text("[data-testid=job-status]") == "succeeded"
    assert int(_table(page, "tables-table")["comments"].replace(",", "")) >= 4
    watcher.wait_for_selector("#runs-chart[data-points='2']", timeout=30_000)
    assert "incremental" in watcher.locator("[data-testid=jobs-table] tbody tr").first.inner_text()
    _screenshot(watcher, "admin-jobs")

    # Readable on a phone: the page itself never scrolls sideways (wide tables scroll in their box).
    phone = open_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    _sign_in(phone, service.base_url, ADMIN)
    for path, name in ((f"/admin/jobs/{job_id}", "admin-job-phone"), ("/admin/jobs", "admin-jobs-phone")):
        phone.goto(f"{service.base_url}{path}")
        overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, path
        _screenshot(phone, name)

    for p in (page, watcher, phone):
        assert p.problems == []


def test_viewer_sees_runs_but_cannot_start_one(
    service: Service, sim_factory: Callable[..., SimHandle], open_page: Callable[..., Any]
) -> None:
    sim = sim_factory(issues=30, seed=5)
    admin_token = httpx.post(
        f"{service.base_url}/api/v1/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]}
    ).json()["access_token"]
    created = httpx.post(
        f"{service.base_url}/api/v1/admin/integrations",
        headers={"Authorization": f"Bearer {admin_token}"},
        json={
            "name": "simulator",
            "base_url": sim.base_url,
            "username": sim.config.email,
            "token": sim.config.token,
        },
    )
    assert created.status_code == 201, created.text

    page = open_page(viewport={"width": 1280, "height": 900})
    _sign_in(page, service.base_url, VIEWER)
    assert page.locator("[data-testid=start-run]").count() == 0
    assert page.locator("[data-testid=start-full]").count() == 0
    page.click("nav >> text=Integrations")
    assert page.locator("[data-integration=simulator]").count() == 1
    assert page.locator("[data-testid=test-connection], [data-testid=new-integration]").count() == 0

    # Even a hand-made POST with the viewer's own session and CSRF token is refused by the server.
    status = page.evaluate(
        """async (integrationId) => {
            const csrf = document.querySelector('meta[name="csrf-token"]').content;
            const body = new URLSearchParams({csrf_token: csrf, integration_id: integrationId, mode: "full"});
            const response = await fetch("/admin/jobs/start", {method: "POST", body});
            return response.status;
        }""",
        str(created.json()["id"]),
    )
    assert status == 403
    page.click("nav >> text=Jobs")
    assert page.locator("[data-testid=jobs-table] tbody tr[data-job-id]").count() == 0
    _screenshot(page, "admin-viewer-jobs")
    page.click("nav >> text=Health")
    names = page.locator("[data-component] h3").all_inner_texts()
    assert names == ["database", "cache", "warehouse", "scheduler"]
    assert "simulator" in page.inner_text("[data-testid=health-integrations]")
    _screenshot(page, "admin-health")
    assert page.problems == []


def test_admin_cancels_a_running_sync_from_its_page(
    service: Service, sim_factory: Callable[..., SimHandle], open_page: Callable[..., Any]
) -> None:
    # A slow site (every answer takes 300 ms) keeps the run going while the operator cancels it.
    sim = sim_factory(issues=60, seed=9, latency_ms=300.0)
    admin_token = httpx.post(
        f"{service.base_url}/api/v1/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]}
    ).json()["access_token"]
    created = httpx.post(
        f"{service.base_url}/api/v1/admin/integrations",
        headers={"Authorization": f"Bearer {admin_token}"},
        json={
            "name": "slow",
            "base_url": sim.base_url,
            "username": sim.config.email,
            "token": sim.config.token,
        },
    )
    assert created.status_code == 201, created.text

    page = open_page(viewport={"width": 1280, "height": 900})
    page.on("dialog", lambda dialog: dialog.accept())  # the "Cancel this job?" confirmation
    _sign_in(page, service.base_url, ADMIN)
    page.click("[data-testid=start-full]")
    page.wait_for_url(re.compile(r".*/admin/jobs/[0-9a-f-]{36}$"))
    # The badge follows the job by itself: wait until a worker has it, then cancel the running job.
    page.wait_for_selector("[data-testid=job-status]:text-is('running')", timeout=60_000)
    page.click("[data-testid=cancel-job]")
    page.wait_for_selector(
        "[data-testid=job-status]:text-matches('succeeded|failed|cancelled')", timeout=RUN_TIMEOUT_MS
    )
    assert page.inner_text("[data-testid=job-status]") == "cancelled"
    assert page.locator("[data-testid=cancel-job]").count() == 0
    assert "cancel requested" in page.inner_text("[data-testid=events-table]")
    _screenshot(page, "admin-job-cancelled")
    assert page.problems == []
