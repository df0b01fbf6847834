"""Extraction benchmark: request efficiency and throughput against a rate-limited simulated site.

``python -m bench.extract --issues 10000 [--latency-ms 40 --per-issue-ms 1.5 --rate 30 --burst 60]``

Starts the simulator in a subprocess (real uvicorn, so it does not share this process's CPU or memory),
runs a full extraction through the public functions of ``app.jira.extract`` (records are counted, then
dropped), mutates 1% of the issues, runs an incremental extraction from the full run's watermarks, and
prints the figures. The last line is one JSON object.

Targets (issue 3): requests <= 1.05 x the simulator's minimal-requests; sustained rate >= 85% of the rate
limit; incremental requests <= 3% of the full run's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httpx

from app.jira.client import JiraClient, JiraSite
from app.jira.extract import deleted_worklogs, issue_pages, reference_streams

EMAIL, TOKEN = "demo@example.com", "demo-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_simulator(args: argparse.Namespace, port: int) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "simulator",
        "--port",
        str(port),
        "--issues",
        str(args.issues),
        "--seed",
        str(args.seed),
        "--latency-ms",
        str(args.latency_ms),
        "--per-issue-ms",
        str(args.per_issue_ms),
        "--email",
        EMAIL,
        "--token",
        TOKEN,
    ]
    if args.rate:
        cmd += ["--rate", str(args.rate), "--burst", str(args.burst)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"simulator exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/__sim/stats", timeout=1.0).raise_for_status()
            return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("simulator did not start in time")


async def run_extraction(
    site: JiraSite, since: dict[str, datetime | None], max_in_flight: int
) -> tuple[dict[str, Any], Counter[str], dict[str, datetime | None]]:
    """One extraction (reference, issues, worklog tombstones); returns stats, counts and watermarks."""
    counts: Counter[str] = Counter()
    marks: dict[str, datetime | None] = dict(since)
    async with JiraClient(site, max_in_flight=max_in_flight) as client:
        fields: list[dict[str, Any]] = []
        projects: list[str] = []
        async for name, records in reference_streams(client):
            counts[name] += len(records)
            if name == "fields":
                fields = records
            if name == "projects":
                projects = [p["key"] for p in records if not p["_archived"]]
        until = datetime.now(UTC)
        pages = issue_pages(client, fields_list=fields, since=since, until=until, projects=projects)
        async for page in pages:
            counts["issues"] += len(page.issues)
            for issue in page.issues:
                f = issue["fields"]
                counts["histories"] += len(issue["changelog"]["histories"])
                counts["comments"] += len(f["comment"]["comments"])
                counts["worklogs"] += len(f["worklog"]["worklogs"])
                counts["dev_details"] += len(issue["devStatus"]["details"])
            old = marks.get(page.partition)
            if page.max_updated and (old is None or page.max_updated > old):
                marks[page.partition] = page.max_updated
        ids, _ = await deleted_worklogs(client, 0)
        counts["deleted_worklogs"] = len(ids)
        return client.stats.as_dict(), counts, marks


def sim_json(base: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    resp = httpx.request(method, base + path, json=body, timeout=120.0)
    resp.raise_for_status()
    return resp.json()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and print its figures; returns the final JSON object."""
    parser = argparse.ArgumentParser(prog="python -m bench.extract", description=__doc__.split("\n")[0])
    parser.add_argument("--issues", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--latency-ms", type=float, default=40.0)
    parser.add_argument("--per-issue-ms", type=float, default=1.5)
    parser.add_argument("--rate", type=float, default=30.0)
    parser.add_argument("--burst", type=float, default=60.0)
    parser.add_argument("--max-in-flight", type=int, default=8)
    parser.add_argument("--changed", type=float, default=0.01, help="fraction of issues mutated")
    args = parser.parse_args(argv)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    print(
        f"starting simulator: {args.issues} issues, rate {args.rate}/s burst {args.burst}, "
        f"latency {args.latency_ms} ms + {args.per_issue_ms} ms/issue",
        flush=True,
    )
    proc = start_simulator(args, port)
    try:
        site = JiraSite(base, username=EMAIL, token=TOKEN, name="bench")
        minimal = sim_json(base, "GET", "/__sim/minimal-requests")
        started = time.monotonic()
        stats, counts, marks = asyncio.run(run_extraction(site, {}, args.max_in_flight))
        wall = time.monotonic() - started
        sim_stats = sim_json(base, "GET", "/__sim/stats")
        print(
            f"full: {wall:.1f}s, {stats['requests']} requests (minimal {minimal['full']}, "
            f"ratio {stats['requests'] / minimal['full']:.3f}), {stats['requests'] / wall:.1f} req/s "
            f"vs limit {args.rate}/s, 429s {stats['responses_429']}, retries {stats['retries']}, "
            f"Retry-After violations {sim_stats['retry_after_violations']}",
            flush=True,
        )
        print(f"full: entities {dict(counts)}", flush=True)
        print(f"minimal breakdown {minimal['breakdown']}", flush=True)

        changed = max(1, int(args.issues * args.changed))
        sim_json(base, "POST", "/__sim/clock", {"advance_s": 120})
        sim_json(base, "POST", "/__sim/mutate", {"seed": args.seed, "update": changed})
        sim_json(base, "POST", "/__sim/clock", {"advance_s": 120})
        sim_json(base, "POST", "/__sim/stats/reset")
        inc_started = time.monotonic()
        inc_stats, inc_counts, _ = asyncio.run(run_extraction(site, marks, args.max_in_flight))
        inc_wall = time.monotonic() - inc_started
        share = inc_stats["requests"] / stats["requests"]
        print(
            f"incremental after {changed} changed issues: {inc_wall:.1f}s, {inc_stats['requests']} "
            f"requests ({share:.2%} of full), issues re-read {inc_counts['issues']}",
            flush=True,
        )
        print(f"incremental by endpoint: {inc_stats['by_endpoint']}", flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    result = {
        "issues": args.issues,
        "requests": stats["requests"],
        "minimal_requests": minimal["full"],
        "requests_ratio": round(stats["requests"] / minimal["full"], 4),
        "wall_s": round(wall, 2),
        "rate_limit": args.rate,
        "requests_per_s": round(stats["requests"] / wall, 2),
        "rate_utilisation": round(stats["requests"] / wall / args.rate, 4) if args.rate else None,
        "responses_429": stats["responses_429"],
        "retries": stats["retries"],
        "retry_after_violations": sim_stats["retry_after_violations"],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "incremental_requests": inc_stats["requests"],
        "incremental_ratio": round(inc_stats["requests"] / stats["requests"], 4),
        "incremental_issues": inc_counts["issues"],
    }
    print(json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    main()
