"""A service process killed with SIGKILL mid-job: after a restart the job resumes from its checkpoint.

The service runs as a real process (``python -m app serve``) against SQLite or PostgreSQL metadata and a
DuckDB file; the simulator runs in the test process over real HTTP.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from app.core.database import create_db_engine
from app.core.migrate import upgrade_head
from app.core.security import create_access_token
from app.warehouse.factory import open_warehouse
from tests.test_jobs.conftest import add_integration, make_settings
from tests.test_jobs.helpers import differences

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_service(env: dict[str, str], log_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    log = log_path.open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, log_path.read_text()[-3000:]
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "service did not start"
        time.sleep(0.2)


def poll(base: str, headers: dict[str, str], job_id: str, until, limit: float = 120.0) -> dict:
    deadline = time.monotonic() + limit
    while True:
        answer = httpx.get(f"{base}/api/v1/etl/jobs/{job_id}", headers=headers, timeout=10)
        job = answer.json()
        if answer.status_code == 200 and until(job):
            return job
        assert time.monotonic() < deadline, f"job state not reached: {job}"
        time.sleep(0.2)


def test_sigkilled_worker_restarts_and_resumes_to_a_clean_warehouse(db_url, tmp_path, sim_factory):
    # Slow pages and one batch per page leave a wide window between the second committed batch and the end
    # of the job (about two thirds of it), whatever the machine's speed: the kill must land mid-job.
    sim = sim_factory(issues=120, seed=9, latency_ms=20, per_issue_ms=60, page_cap=20)
    secret, key = "z" * 48, Fernet.generate_key().decode()
    duckdb_path = tmp_path / "wh.duckdb"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JIRA_", "SNOWFLAKE_"))}
    env.update(
        {
            "KAIRUS_ENV_FILE": "",
            "DEBUG": "false",
            "SECRET_KEY": secret,
            "ENCRYPTION_KEY": key,
            "ADMIN_PASSWORD": "admin-password-123",
            "DATABASE_URL": db_url,
            "DUCKDB_PATH": str(duckdb_path),
            "HEARTBEAT_STALE_SECONDS": "5",  # short: the restarted service re-queues the job sooner
            "BATCH_ROWS": "200",
            "BATCH_ISSUES": "20",
            "SCHEDULER_ENABLED": "false",
            "LOG_LEVEL": "WARNING",
            "RATE_LIMIT": "100000/minute",  # the test polls the API often
        }
    )
    upgrade_head(db_url)
    engine = create_db_engine(db_url)
    integration = add_integration(engine, key, base_url=sim.base_url)
    engine.dispose()
    settings = make_settings(db_url, tmp_path, secret_key=secret, encryption_key=key)
    headers = {"Authorization": f"Bearer {create_access_token('admin', 'admin', settings=settings)}"}
    log_path = tmp_path / "service.log"

    proc, base = start_service(env, log_path)
    try:
        answer = httpx.post(
            f"{base}/api/v1/etl/jira/extract",
            json={"integration_id": integration, "mode": "full"},
            headers=headers,
        )
        assert answer.status_code == 202, answer.text
        job_id = answer.json()["job_id"]
        poll(
            base, headers, job_id, lambda j: j["status"] == "running" and j["progress"].get("batches", 0) >= 2
        )
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()

    proc, base = start_service(env, log_path)
    try:
        stuck = httpx.get(f"{base}/api/v1/etl/jobs/{job_id}", headers=headers).json()
        assert stuck["status"] in ("running", "queued")  # the dead worker's job is not lost
        job = poll(base, headers, job_id, lambda j: j["status"] in ("succeeded", "failed", "cancelled"))
        events = httpx.get(f"{base}/api/v1/etl/jobs/{job_id}/events", headers=headers).json()["items"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert job["status"] == "succeeded", (job, log_path.read_text()[-3000:])
    assert job["attempts"] == 2
    assert any("re-queued" in e["message"] for e in events)
    # The second attempt continued from the committed checkpoints instead of re-reading every issue.
    reread = sum(v["records"] for k, v in job["progress"]["streams"].items() if k.startswith("issues:"))
    assert 0 < reread < 120
    warehouse = open_warehouse(duckdb_path=duckdb_path, schema="jira", snowflake=None)
    try:
        assert differences(warehouse, sim.truth()) == {}  # every table, no duplicate rows
    finally:
        warehouse.close()
