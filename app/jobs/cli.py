"""``python -m app sync``: one sync run in the foreground, recorded as a job like any other.

Without ``--integration`` the ``JIRA_*`` variables define the site (stored as the ``env-default``
integration so watermarks and history persist). The warehouse is opened *first*: DuckDB allows one
writing process, so when the service holds the file the command stops at once and says how to run the
sync through the API instead. On a terminal a live table shows progress; at the end a per-table summary
(rows loaded by this run, rows in the warehouse) and the request statistics are printed.

Exit codes: 0 succeeded, 1 failed, 2 bad configuration or arguments, 3 warehouse locked, 4 a job of the
integration is already running, 130 cancelled (Ctrl-C).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table
from sqlalchemy.engine import Engine

from app.core.config import Settings, load_settings
from app.core.database import get_engine, session_scope
from app.core.errors import ConfigError, JobConflictError, WarehouseLockedError
from app.core.logging_config import configure_logging
from app.core.migrate import current_revision, head_revision, upgrade_head
from app.jira.client import JiraSite
from app.jobs import jira_job
from app.jobs.sites import ensure_env_integration, env_site, find_integration, open_settings_warehouse
from app.jobs.worker import JobSink, JobWorker, new_worker_id
from app.models.unified_models import JOB_MODES, Job
from app.warehouse.base import Warehouse


def build_parser() -> argparse.ArgumentParser:
    """Arguments of ``python -m app sync``."""
    parser = argparse.ArgumentParser(prog="python -m app sync", description="Run one Jira sync now.")
    parser.add_argument("--integration", help="integration name or id (default: the JIRA_* variables)")
    parser.add_argument("--mode", choices=JOB_MODES, default="incremental", help="default: incremental")
    parser.add_argument("--projects", help="comma-separated project keys (narrows the integration's)")
    parser.add_argument("--jql", help="extra JQL filter")
    return parser


class ConsoleSink:
    """Job sink that also shows progress: a live table on a terminal, event lines otherwise."""

    def __init__(self, inner: JobSink, console: Console, live: Live | None) -> None:
        self.inner = inner
        self.console = console
        self.live = live

    async def event(self, level: str, message: str, data: dict[str, Any] | None = None) -> None:
        """Record the event and show it."""
        await self.inner.event(level, message, data)
        style = {"warning": "yellow", "error": "red"}.get(level, "dim")
        self.console.print(f"[{style}]{level}[/] {message}", highlight=False)

    async def progress(self, progress: dict[str, Any]) -> None:
        """Record progress and refresh the live table."""
        await self.inner.progress(progress)
        if self.live is not None:
            self.live.update(progress_table(progress))

    async def cancel_requested(self) -> bool:
        """Stop when the job was cancelled through the API."""
        return await self.inner.cancel_requested()


def progress_table(progress: dict[str, Any]) -> Table:
    """The live view: pages and records per stream, and the batches committed."""
    table = Table(title=f"batches committed: {progress.get('batches', 0)}", expand=False)
    table.add_column("stream")
    table.add_column("pages", justify="right")
    table.add_column("records", justify="right")
    for name, entry in sorted(progress.get("streams", {}).items()):
        table.add_row(name, str(entry.get("pages", 0)), str(entry.get("records", 0)))
    return table


def summary_table(job: Job, counts: dict[str, int]) -> Table:
    """The final per-table summary: rows loaded by this run and rows now in the warehouse."""
    loaded: dict[str, int] = dict((job.stats or {}).get("rows") or (job.progress or {}).get("tables") or {})
    table = Table(title=f"{job.mode} sync {job.status}")
    table.add_column("table")
    table.add_column("rows loaded", justify="right")
    table.add_column("rows in warehouse", justify="right")
    for name in sorted(set(loaded) | set(counts)):
        table.add_row(name, str(loaded.get(name, 0)), str(counts.get(name, "")))
    return table


def _ensure_schema(settings: Settings) -> None:
    # A fresh machine has no metadata database yet: create it rather than fail on a missing table.
    if current_revision(settings.database_url) != head_revision():
        upgrade_head(settings.database_url)


def _start_job(
    engine: Engine, settings: Settings, args: argparse.Namespace, worker_id: str
) -> tuple[str, JiraSite | None]:
    projects = [p.strip() for p in (args.projects or "").split(",") if p.strip()]
    with session_scope(engine) as session:
        site: JiraSite | None = None
        if args.integration:
            integration = find_integration(session, args.integration)
            if integration is None:
                raise ConfigError(f"no integration named {args.integration!r}")
        else:
            integration = ensure_env_integration(session, settings)
            site = env_site(settings)
        job = jira_job.enqueue_job(
            session,
            integration_id=integration.id,
            mode=args.mode,
            trigger="cli",
            projects=projects,
            jql=args.jql,
            worker_id=worker_id,
        )
        return job.id, site


async def _run(engine: Engine, settings: Settings, args: argparse.Namespace, warehouse: Warehouse) -> str:
    console = Console()
    worker_id = new_worker_id()
    job_id, site = await asyncio.to_thread(_start_job, engine, settings, args, worker_id)
    console.print(f"job {job_id}: {args.mode} sync", highlight=False)
    worker = JobWorker(engine, settings, worker_id=worker_id, requeue_on_stop=False)
    live = Live(progress_table({}), console=console, transient=True) if console.is_terminal else None
    sink = ConsoleSink(JobSink(engine, job_id, worker_id=worker_id), console, live)
    if live is not None:
        live.start()
    try:
        status = await worker.run_job(job_id, site=site, sink=sink, warehouse=warehouse)
    finally:
        if live is not None:
            live.stop()
    counts = await asyncio.to_thread(warehouse.table_counts)
    with session_scope(engine) as session:
        job = jira_job.get_job(session, job_id)
        console.print(summary_table(job, counts))
        stats = job.stats or {}
        console.print(
            f"requests: {stats.get('requests', 0)}  429s: {stats.get('responses_429', 0)}  "
            f"retries: {stats.get('retries', 0)}  quarantined: {stats.get('quarantined', 0)}  "
            f"seconds: {stats.get('seconds', 0)}",
            highlight=False,
        )
        if job.error:
            console.print(f"[red]error:[/] {job.error}", highlight=False)
    return status


def sync_main(argv: list[str]) -> int:
    """Entry point of ``python -m app sync``; returns the exit code."""
    args = build_parser().parse_args(argv)
    err = Console(stderr=True)
    try:
        settings = load_settings()
        # The console display is the CLI's output; logs go to stderr, and only warnings unless asked.
        level = settings.log_level if settings.log_level != "INFO" else "WARNING"
        configure_logging(level, debug=settings.debug, stream=sys.stderr)
        _ensure_schema(settings)
        engine = get_engine(settings.database_url)
    except ConfigError as exc:
        err.print(f"[red]configuration error:[/] {exc}", highlight=False)
        return 2
    try:
        warehouse = open_settings_warehouse(settings)
    except WarehouseLockedError as exc:
        err.print(
            f"[red]{exc}[/]\nThe Kairus service (or another sync) holds the DuckDB file and DuckDB "
            "allows a single writer. Run the sync through the service instead:\n"
            '  POST /api/v1/etl/jira/extract  {"mode": "incremental"}   (or the admin page\'s Sync button)',
            highlight=False,
        )
        return 3
    try:
        status = asyncio.run(_run(engine, settings, args, warehouse))
    except JobConflictError as exc:
        err.print(
            f"[red]{exc}[/]: wait for it or cancel it (POST /api/v1/etl/jobs/<id>/cancel)", highlight=False
        )
        return 4
    except ConfigError as exc:
        err.print(f"[red]configuration error:[/] {exc}", highlight=False)
        return 2
    except KeyboardInterrupt:
        err.print("interrupted: the job is cancelled; the warehouse keeps its last committed batch")
        return 130
    finally:
        warehouse.close()
    return {"succeeded": 0, "cancelled": 130}.get(status, 1)


if __name__ == "__main__":  # pragma: no cover - `python -m app sync` is the supported entry point
    raise SystemExit(sync_main(sys.argv[1:]))
