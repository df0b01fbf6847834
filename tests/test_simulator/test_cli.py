"""``python -m simulator``: flags map onto ``SimConfig`` and the process serves a site."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

from simulator.__main__ import parse_args
from tests.fixtures.simulator import free_port


def test_flags_map_onto_the_config() -> None:
    cfg, host, port = parse_args(
        [
            "--issues",
            "5000",
            "--seed",
            "3",
            "--port",
            "9000",
            "--mode",
            "server",
            "--tz",
            "Europe/Berlin",
            "--latency-ms",
            "40",
            "--per-issue-ms",
            "1.5",
            "--rate",
            "30",
            "--burst",
            "60",
            "--error-rate",
            "0.02",
            "--email",
            "a@b.c",
            "--token",
            "t",
        ]
    )
    assert (cfg.issues, cfg.seed, cfg.mode, cfg.tz, cfg.latency_ms, cfg.per_issue_ms) == (
        5000,
        3,
        "server",
        "Europe/Berlin",
        40.0,
        1.5,
    )
    assert (cfg.rate, cfg.burst, cfg.error_rate, cfg.email, cfg.token) == (30.0, 60.0, 0.02, "a@b.c", "t")
    assert (host, port) == ("127.0.0.1", 9000)
    default, _, _ = parse_args([])
    assert default.rate is None and default.issues == 500


def test_module_serves_a_site(tmp_path) -> None:
    port = free_port()
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--issues", "30", "--port", str(port)],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(300):
            try:
                resp = httpx.get(
                    f"http://127.0.0.1:{port}/rest/api/3/serverInfo", auth=("demo@example.com", "demo-token")
                )
                break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            raise AssertionError("simulator did not start")
        assert resp.json()["baseUrl"] == f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
