"""Throughput of transform + validate + load into DuckDB, on issues generated in-process by the simulator.

    .venv/bin/python -m bench.load --issues 20000 [--batch 2000] [--page 100] [--threads 1] [--mode cloud]
        [--profile] [--memory-limit 64MB] [--checkpoint-threshold 32MB]

Issues come from ``Site.complete_issue`` (the contract's complete shape, dev-status included), generated
lazily one search page at a time, so the bench holds one batch in memory. As in the service, pages are
buffered (``RowBuffer``) until the batch holds ``--batch`` issues (the service's ``BATCH_ISSUES``
default); the batch is then transformed, validated and loaded in one transaction. The
simulator's generation stands in for Jira and is timed apart: ``issues_per_s`` is issues / (buffer +
transform + validate + load wall seconds; buffering counts the rows each page will make),
``issues_per_cpu_s`` the same over this process's CPU seconds (the 2-core
machine is shared, so wall time also counts waiting for a core); ``issues_per_s_wall`` includes
generating them. DuckDB runs on ``--threads`` threads (1 = one core). The simulated site is frozen out of
Python's cyclic collector (it stands in for Jira, which is not in the service's process).
Peak RSS is the process's (``ru_maxrss``); ``rss_site_mb`` is the RSS once the simulated site exists, so
``peak_rss_mb - rss_site_mb`` is what the pipeline itself adds. The last line is one JSON object.

Memory: DuckDB's buffer pool fills up to its ``memory_limit`` as the file grows, so peak RSS only stays
flat from 5,000 to 20,000 issues when the limit is reached early: the bench runs DuckDB at 64MB with a
32MB checkpoint threshold (the service's default is 256MB; measured here, 256MB gives no more throughput
and a peak that grows until the pool is full). pyarrow imports pandas on its first conversion; that import
is paid in setup.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib
import json
import pstats
import resource
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Literal

from app.core.config import Settings
from app.pipeline.native import compiled_modules
from app.pipeline.state import RowBuffer
from app.pipeline.transform import build_field_map, transform_issues, transform_reference
from app.pipeline.validate import validate
from app.warehouse.duckdb import DuckDBWarehouse
from simulator import SimConfig, create_app

REFERENCE_STREAMS = {
    "projects": "projects",
    "users": "users",
    "fields": "fields",
    "statuses": "statuses",
    "status_categories": "status_categories",
    "priorities": "priorities",
    "issue_types": "issue_types",
    "resolutions": "resolutions",
    "issue_link_types": "link_types",
}


def rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    """Current resident set size, in MB."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * resource.getpagesize() / 1024 / 1024


def run(
    issues: int,
    batch: int,
    threads: int,
    mode: Literal["cloud", "server"],
    seed: int,
    path: Path,
    memory_limit: str | None = None,
    checkpoint_threshold: str = "32MB",
    page: int = 100,
) -> dict[str, Any]:
    """Generate, transform, validate and load ``issues`` issues; return the figures."""
    t0 = time.perf_counter()
    site = create_app(SimConfig(issues=issues, seed=seed, mode=mode)).state.sim
    ids = site.issue_ids()
    # pyarrow imports pandas on its first conversion (about 0.5 s, once per process; the service has it
    # loaded already): a start-up cost, so it is paid here, in setup, not charged to the first batch.
    importlib.import_module("pandas")
    # The simulated site (millions of objects) stands in for Jira, which is not in the service's process:
    # frozen, Python's cyclic collector stops rescanning it on every full collection. Unfrozen, those
    # scans are charged to transform and validate (about a quarter of their time).
    gc.freeze()
    rss_site = current_rss_mb()
    setup_s = time.perf_counter() - t0
    wh = DuckDBWarehouse(
        path, threads=threads, memory_limit=memory_limit, checkpoint_threshold=checkpoint_threshold
    )
    wh.ensure_schema()
    fmap = build_field_map(site.ref.fields)
    ref_rows: dict[str, list[dict[str, Any]]] = {}
    for stream, attr in REFERENCE_STREAMS.items():
        ref_rows.update(transform_reference(stream, getattr(site.ref, attr)))
    wh.load(ref_rows, job_id="bench", batch_no=0)
    timing: defaultdict[str, float] = defaultdict(float)
    cpu: defaultdict[str, float] = defaultdict(float)
    rows_by_table = Counter[str]()
    quarantined = 0
    wall0 = time.perf_counter()

    def lap(stage: str, since: tuple[float, float]) -> tuple[float, float]:
        now = time.perf_counter(), time.process_time()
        timing[stage] += now[0] - since[0]
        cpu[stage] += now[1] - since[1]
        return now

    for batch_no, start in enumerate(range(0, len(ids), batch), start=1):
        # As the service does: search pages are buffered as they arrive until the batch is full; then
        # the batch is transformed, validated and loaded in one transaction.
        buffer = RowBuffer()
        end = min(start + batch, len(ids))
        for first in range(start, end, page):
            clock = time.perf_counter(), time.process_time()
            page_issues = [site.complete_issue(i) for i in ids[first : min(first + page, end)]]
            clock = lap("generate", clock)
            buffer.add_issues(page_issues)  # the service's work per page: counting the rows it will make
            lap("buffer", clock)
        _, raw, _ = buffer.take()
        clock = time.perf_counter(), time.process_time()
        rows = transform_issues(raw, fmap, deployment=mode)
        clock = lap("transform", clock)
        checked = validate(rows, job_id="bench", raw_issues=raw)
        clock = lap("validate", clock)
        wh.load(
            checked.rows,
            job_id="bench",
            batch_no=batch_no,
            quarantine=checked.quarantine,
            dq_results=checked.dq_results,
            frames=checked.frames,
        )
        lap("load", clock)
        for table, table_rows in checked.rows.items():
            rows_by_table[table] += len(table_rows)
        quarantined += len(checked.quarantine)
        del raw, rows, checked, buffer
    wall = time.perf_counter() - wall0
    counts = wh.table_counts()
    # Closing checkpoints what the WAL still holds: that is load work too.
    t, c = time.perf_counter(), time.process_time()
    wh.close()
    timing["load"] += time.perf_counter() - t
    cpu["load"] += time.process_time() - c
    wall += time.perf_counter() - t
    stages = ("buffer", "transform", "validate", "load")
    pipeline_s = sum(timing[stage] for stage in stages)
    pipeline_cpu_s = sum(cpu[stage] for stage in stages)
    total_rows = sum(rows_by_table.values())
    return {
        "issues": len(ids),
        "batch": batch,
        "page": page,
        "threads": threads,
        "memory_limit": memory_limit,
        "checkpoint_threshold": checkpoint_threshold,
        "mode": mode,
        # Which transform modules run compiled (mypyc, at install); pure Python is about 1.7x slower.
        "compiled": compiled_modules(),
        "setup_s": round(setup_s, 2),
        "wall_s": round(wall, 2),
        "pipeline_s": round(pipeline_s, 2),
        "seconds": {k: round(v, 2) for k, v in timing.items()},
        "cpu_seconds": {k: round(v, 2) for k, v in cpu.items()},
        "pipeline_cpu_s": round(pipeline_cpu_s, 2),
        "issues_per_s": round(len(ids) / pipeline_s, 1),
        "issues_per_cpu_s": round(len(ids) / pipeline_cpu_s, 1),
        "issues_per_s_wall": round(len(ids) / wall, 1),
        "rows": total_rows,
        "rows_per_s": round(total_rows / pipeline_s, 1),
        "rows_by_table": dict(rows_by_table),
        "rows_per_s_by_table": {t: round(n / pipeline_s, 1) for t, n in rows_by_table.items()},
        "warehouse_counts": {t: n for t, n in counts.items() if n},
        "quarantined": quarantined,
        "rss_site_mb": round(rss_site, 1),
        "peak_rss_mb": round(rss_mb(), 1),
    }


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--issues", type=int, default=20000)
    p.add_argument(
        "--batch",
        type=int,
        default=Settings.model_fields["batch_issues"].default,
        help="issues per batch, one load transaction each (default: the service's BATCH_ISSUES default)",
    )
    p.add_argument("--page", type=int, default=100, help="issues per search page (buffered until a batch)")
    p.add_argument("--threads", type=int, default=1, help="DuckDB threads (1 = one core)")
    p.add_argument("--mode", choices=["cloud", "server"], default="cloud")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--memory-limit", default="64MB", help="DuckDB memory_limit ('' = DuckDB's default)")
    p.add_argument(
        "--checkpoint-threshold", default="32MB", help="DuckDB WAL size that triggers a checkpoint"
    )
    p.add_argument("--path", type=Path, help="DuckDB file (default: a temporary one, removed afterwards)")
    p.add_argument("--profile", action="store_true", help="print the top functions by cumulative time")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.path or Path(tmp) / "bench.duckdb"
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        result = run(
            args.issues,
            args.batch,
            args.threads,
            args.mode,
            args.seed,
            path,
            args.memory_limit or None,
            args.checkpoint_threshold,
            args.page,
        )
        if profiler:
            profiler.disable()
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(25)
    print(
        f"{result['issues']} issues in {result['pipeline_s']} s of buffer+transform+validate+load "
        f"({result['issues_per_s']} issues/s; {result['issues_per_s_wall']} issues/s with generation)"
    )
    print(
        f"  CPU time of this process: {result['pipeline_cpu_s']} s ({result['issues_per_cpu_s']} issues per "
        "CPU-second; the machine is shared, so wall time includes waiting for a core)"
    )
    for stage, secs in result["seconds"].items():
        print(f"  {stage:<10} {secs:8.2f} s wall {result['cpu_seconds'][stage]:8.2f} s CPU")
    for table, n in sorted(result["rows_by_table"].items(), key=lambda kv: -kv[1]):
        print(f"  {table:<20} {n:>9} rows {result['rows_per_s_by_table'][table]:>12} rows/s")
    print(f"peak RSS {result['peak_rss_mb']} MB (site alone {result['rss_site_mb']} MB)")
    print(f"transform modules compiled: {', '.join(result['compiled']) or 'none (pure Python)'}")
    print(json.dumps(result, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
