"""The seed's command, `python -m uvicorn app.main:app`, serves /health and /docs from the environment."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_uvicorn_serves_the_module_app(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "KAIRUS_ENV_FILE": "",
        "SECRET_KEY": "s" * 48,
        "ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "ADMIN_PASSWORD": "a-long-admin-password",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'meta.db'}",
        "DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
        "SCHEDULER_ENABLED": "false",
        "WORKER_ENABLED": "false",
        "REDIS_URL": "",
    }
    command = [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        health = None
        deadline = (
            time.monotonic() + 60
        )  # a generous start-up allowance on a busy machine, not a timing check
        while time.monotonic() < deadline and process.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert health is not None, process.stdout.read().decode() if process.stdout else ""
        assert health.status_code == 200
        assert health.json()["database"] == "ok"
        assert httpx.get(f"http://127.0.0.1:{port}/docs", timeout=5).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=30)
