"""Benchmark of the Jira simulator: generation time and peak memory for 50,000 issues, and pages per second
for 100-issue ``*all`` search pages without injected latency (over real HTTP and in process).

    .venv/bin/python -m bench.simulator [--issues 50000] [--pages 60]

The last line printed is a JSON object with the figures.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import socket
import subprocess
import sys
import time
from typing import Any

import httpx

from simulator import SimConfig, create_app


def _rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure_generation(issues: int) -> dict[str, float]:
    """Seconds to build a site of ``issues`` issues, and the peak RSS growth (MiB) it caused."""
    gc.collect()
    before = _rss_mib()
    t0 = time.perf_counter()
    app = create_app(SimConfig(issues=issues, seed=7))
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    after = _rss_mib()
    del app
    return {
        "generation_s": round(seconds, 3),
        "generation_rss_growth_mib": round(after - before, 1),
        "process_peak_rss_mib": round(peak, 1),
    }


def _pages(client: httpx.Client, pages: int) -> tuple[int, int, float]:
    """Walk ``*all`` pages (cycling through projects) and return (pages, bytes, seconds)."""
    served, size = 0, 0
    t0 = time.perf_counter()
    token: str | None = None
    while served < pages:
        params: dict[str, Any] = {
            "jql": "project in (PAY, OPS, WEB, HR) ORDER BY updated ASC",
            "fields": "*all",
            "maxResults": 100,
        }
        if token:
            params["nextPageToken"] = token
        resp = client.get("/rest/api/3/search/jql", params=params)
        resp.raise_for_status()
        body = resp.json()
        served += 1
        size += len(resp.content)
        token = body.get("nextPageToken")
    return served, size, time.perf_counter() - t0


def _cpu_s(pid: int) -> float:
    """User+system CPU seconds of a process (robust to other load on the machine, unlike wall time)."""
    with open(f"/proc/{pid}/stat") as fh:
        parts = fh.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def measure_serving(issues: int, pages: int) -> dict[str, float]:
    """Pages/s from ``python -m simulator`` in its own process (as benchmarks run it), over loopback HTTP.

    Cold pages render each issue for the first time; warm pages repeat them (served from the JSON cache).
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--issues", str(issues), "--port", str(port)],
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, auth=("demo@example.com", "demo-token"), timeout=60) as client:
            deadline = time.monotonic() + 120
            while True:
                try:
                    client.get("/rest/api/3/serverInfo").raise_for_status()
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            cpu0 = _cpu_s(proc.pid)
            n, size, secs = _pages(client, pages)
            cpu1 = _cpu_s(proc.pid)
            # Warm: pages read a second time (a retry, an overlap window) come from the 48 MiB JSON cache;
            # load 20 pages once, then measure re-reading them.
            _pages(client, 20)
            cpu1 = _cpu_s(proc.pid)
            n2, _, secs2 = _pages(client, 20)
            cpu2 = _cpu_s(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return {
        "pages_per_s_cold": round(n / secs, 1),
        "pages_per_s_warm": round(n2 / secs2, 1),
        "server_cpu_ms_per_page_cold": round((cpu1 - cpu0) / n * 1000, 1),
        "server_cpu_ms_per_page_warm": round((cpu2 - cpu1) / n2 * 1000, 1),
        "page_kib": round(size / n / 1024, 1),
        "issues_per_s_cold": round(n * 100 / secs, 0),
    }


def main() -> None:
    """Run both measurements and print the JSON summary last."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--issues", type=int, default=50_000)
    parser.add_argument("--pages", type=int, default=60)
    args = parser.parse_args()
    gen = measure_generation(args.issues)
    print(
        f"generation of {args.issues} issues: {gen['generation_s']} s, "
        f"RSS +{gen['generation_rss_growth_mib']} MiB "
        f"(process peak {gen['process_peak_rss_mib']} MiB)"
    )
    serve = measure_serving(min(args.issues, 20_000), args.pages)
    print(
        f"*all pages of 100 issues: {serve['pages_per_s_cold']} pages/s cold, "
        f"{serve['pages_per_s_warm']} warm, "
        f"{serve['page_kib']} KiB a page; simulator CPU {serve['server_cpu_ms_per_page_cold']} ms/page cold, "
        f"{serve['server_cpu_ms_per_page_warm']} warm"
    )
    print(json.dumps({"issues": args.issues, **gen, **serve}))


if __name__ == "__main__":
    main()
