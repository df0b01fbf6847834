"""``make demo``: simulator -> full sync into DuckDB -> mutate the site -> incremental sync.

Starts the bundled Jira simulator (``python -m simulator``) on a free loopback port, runs the CLI's
``sync`` code path against it with the simulator's demo credentials (no ``.env`` needed), prints each run's
summary (rows per table, requests, seconds), and stops the simulator. The warehouse is
``data/warehouse.duckdb``; the demo's own metadata (job history, watermarks) is ``data/demo-meta.db``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("DEMO_DATA_DIR") or ROOT / "data")  # tests point it at a tmp dir
WAREHOUSE = DATA / "warehouse.duckdb"
META = DATA / "demo-meta.db"
ISSUES = int(os.environ.get("DEMO_ISSUES", "2000"))
DEMO_EMAIL = "demo@example.com"
DEMO_TOKEN = "demo-token"  # noqa: S105 - the simulator's default demo credentials, not a secret


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_json(url: str, body: dict[str, Any] | None = None) -> Any:
    """GET (or POST ``body``) a simulator control endpoint and decode its JSON answer."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback URL built here
        url, data=data, headers={"Content-Type": "application/json"}, method="GET" if body is None else "POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.loads(response.read())


@contextlib.contextmanager
def simulator(port: int) -> Iterator[str]:
    """Run ``python -m simulator`` until the block ends; yields its base URL."""
    cmd = [sys.executable, "-m", "simulator", "--issues", str(ISSUES), "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                err = proc.stderr.read().decode() if proc.stderr else ""
                raise SystemExit(f"the simulator exited early (code {proc.returncode}):\n{err}")
            try:
                http_json(f"{base_url}/__sim/stats")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("the simulator did not answer within 120 s") from None
                time.sleep(0.3)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def demo_environment(base_url: str) -> None:
    """Point the settings at the simulator and the demo's files (the CLI reads them from the environment)."""
    from cryptography.fernet import Fernet

    os.environ.update(
        {
            "KAIRUS_ENV_FILE": "",  # a developer's .env must not redirect the demo
            "DEBUG": "false",
            # Throw-away secrets: the demo's metadata database is recreated at every run.
            "SECRET_KEY": secrets.token_urlsafe(48),
            "ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "ADMIN_PASSWORD": secrets.token_urlsafe(16),
            "DATABASE_URL": f"sqlite:///{META}",
            "DUCKDB_PATH": str(WAREHOUSE),
            "JIRA_URL": base_url,
            "JIRA_USERNAME": DEMO_EMAIL,
            "JIRA_TOKEN": DEMO_TOKEN,
            "JIRA_DEPLOYMENT": "cloud",
            "JIRA_AUTH": "basic",
            "LOG_LEVEL": "WARNING",
        }
    )
    for name in ("SNOWFLAKE_ACCOUNT", "SNOWFLAKE_USER", "JIRA_PROJECTS", "JIRA_JQL"):
        os.environ.pop(name, None)


def main() -> int:
    """Run the demo; returns the process exit code."""
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    DATA.mkdir(exist_ok=True)
    for stale in (WAREHOUSE, META, WAREHOUSE.with_name(WAREHOUSE.name + ".wal")):
        if stale.exists():
            print(f"removing the previous demo's {stale}")
            stale.unlink()
    port = free_port()
    print(f"starting the Jira simulator ({ISSUES} issues) on port {port} ...")
    with simulator(port) as base_url:
        demo_environment(base_url)
        from app.jobs.cli import sync_main

        print("\n=== full sync ===")
        code = sync_main(["--mode", "full"])
        if code != 0:
            return code
        changes = {"seed": 11, "update": 40, "add_comments": 25, "delete_comments": 5, "add_worklogs": 20}
        changes |= {"delete_worklogs": 5, "add_dev": 10, "move": 3, "delete": 0, "create": 15}
        http_json(f"{base_url}/__sim/clock", {"advance_s": 120})
        changed = http_json(f"{base_url}/__sim/mutate", changes)
        http_json(f"{base_url}/__sim/clock", {"advance_s": 120})
        summary = {name: len(ids) for name, ids in changed.items() if isinstance(ids, list)}
        print(f"\nmutated the simulated site: {summary}")
        print("\n=== incremental sync ===")
        code = sync_main(["--mode", "incremental"])
    print(f"\nwarehouse: {WAREHOUSE} (open it with duckdb; schema 'jira')")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
