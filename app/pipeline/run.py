"""One pipeline run: extract -> transform -> validate -> load, in bounded batches, with checkpoints.

The job worker, the CLI ``sync`` and ``scripts/demo.py`` are thin callers of :func:`run_pipeline`.

Order of a run:
1. reference streams (projects, users, fields, ...) are loaded as one batch; the ``fields`` records give
   the field map every issue page is transformed with;
2. issue pages, per project partition in ``updated ASC, id ASC`` order, are transformed and buffered; the
   buffer is validated and loaded when it holds ``batch_rows`` rows, when ``batch_seconds`` passed, or at
   the end. Only *after* the warehouse committed a batch are the partitions' checkpoints advanced to the
   largest ``updated`` that batch contained, so a crash replays at most one idempotent batch;
3. incremental and reconcile runs re-read issues whose development data may have changed without
   ``updated`` moving (open pull requests; reconcile: any development data), without moving checkpoints;
4. worklog tombstones since the last run are deleted from ``worklogs``;
5. ``reconcile`` mode lists every visible project's issue ids and marks the warehouse's missing ones
   ``is_deleted`` (a project that is no longer visible is skipped: lost access is not deletion).

Cancellation is cooperative: the sink is asked between pages and :class:`JobCancelled` is raised; the
rows still in the buffer are dropped, so the warehouse stays at the last committed batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol, TypeVar

import httpx

from app.core import metrics
from app.core.errors import JiraBadRequestError, JobCancelled
from app.jira.client import JiraClient, JiraSite
from app.jira.extract import census, deleted_worklogs, issue_pages, reference_streams
from app.jira.stats import RequestStats
from app.pipeline.state import (
    REFERENCE,
    WORKLOGS_DELETED,
    RowBuffer,
    RunProgress,
    SyncStateStore,
    issue_stream,
    merge_dq,
)
from app.pipeline.transform import build_field_map, transform_issues, transform_reference
from app.pipeline.validate import validate
from app.warehouse.base import Warehouse

# Which issues a run re-reads for development data that changed without bumping ``updated``.
DEV_REFRESH_JQL = {
    "incremental": "development[pullrequests].open > 0",
    "reconcile": "development[pullrequests].all > 0 OR development[commits].all > 0",
}
T = TypeVar("T")
R = TypeVar("R")
Mode = Literal["full", "incremental", "reconcile"]
MODES: tuple[str, ...] = ("full", "incremental", "reconcile")


class RunSink(Protocol):
    """Where a run reports what it does, and whether it should stop (the job, the CLI's display...)."""

    async def event(self, level: str, message: str, data: dict[str, Any] | None = None) -> None:
        """One log line of the run."""

    async def progress(self, progress: dict[str, Any]) -> None:
        """The run's progress so far (also a heartbeat)."""

    async def cancel_requested(self) -> bool:
        """True when the run should stop at its next checkpoint."""


@dataclass(frozen=True)
class RunRequest:
    """What to run. ``projects``/``jql`` narrow the integration's own filter when given."""

    job_id: str
    site: JiraSite
    mode: Mode = "incremental"
    projects: tuple[str, ...] = ()
    jql: str | None = None
    batch_rows: int = 5000
    batch_seconds: float = 30.0
    max_in_flight: int = 8
    timeout: float = 30.0
    overlap_minutes: int = 5
    max_failure_ratio: float = 0.01
    dev_refresh: bool = True


@dataclass
class RunResult:
    """Outcome of a finished run: ``stats`` is the contract's ``Job.stats`` JSON."""

    job_id: str
    mode: str
    progress: dict[str, Any]
    stats: dict[str, Any]
    deleted_issues: int = 0
    deleted_worklogs: int = 0
    projects: list[str] = field(default_factory=list)


@contextlib.asynccontextmanager
async def _closing(stream: AsyncIterator[T]) -> AsyncIterator[AsyncIterator[T]]:
    """Close an async generator when the block ends, also on cancel (its tasks must not leak)."""
    try:
        yield stream
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()


async def _blocking(fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> R:
    """Run a blocking warehouse/state call in a thread and let it finish even if the run is cancelled.

    A thread cannot be interrupted: returning early would let the caller close the warehouse under a
    running statement. The cancellation is re-raised once the call has ended.
    """
    task = asyncio.ensure_future(asyncio.to_thread(fn, *args, **kwargs))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(BaseException):
            await task
        raise


class _Run:
    """The state of one run; :func:`run_pipeline` is its public face."""

    def __init__(
        self,
        request: RunRequest,
        warehouse: Warehouse,
        state: SyncStateStore,
        sink: RunSink,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.request = request
        self.transport = transport
        self.warehouse = warehouse
        self.state = state
        self.sink = sink
        self.progress = RunProgress()
        self.buffer = RowBuffer()
        self.dq: dict[tuple[str, str], dict[str, Any]] = {}
        self.quarantined = 0
        self.started = time.monotonic()
        self.last_flush = time.monotonic()
        self.result = RunResult(request.job_id, request.mode, {}, {})
        self.client_stats: RequestStats | None = None

    # --- checkpoints of the caller -----------------------------------------------------------------
    async def checkpoint(self) -> None:
        """Report progress and stop here if the caller asked for it."""
        if self.client_stats is not None:
            self.progress.requests = self.client_stats.requests
            self.progress.responses_429 = self.client_stats.responses_429
        await self.sink.progress(self.progress.as_dict())
        if await self.sink.cancel_requested():
            await self.sink.event("warning", "cancel requested: stopping at the last committed batch")
            raise JobCancelled(f"job {self.request.job_id} cancelled")

    # --- loading -----------------------------------------------------------------------------------
    async def flush(self) -> None:
        """Validate and load the buffer, then advance the checkpoints of the partitions it held."""
        if self.buffer.empty():
            return
        rows, raw_issues, positions = self.buffer.take()
        self.progress.batches += 1
        batch_no = self.progress.batches
        job_id = self.request.job_id
        checked = validate(
            rows,
            job_id=job_id,
            raw_issues=raw_issues or None,
            max_failure_ratio=self.request.max_failure_ratio,
        )
        started = time.monotonic()
        counts = await _blocking(
            self.warehouse.load,
            checked.rows,
            job_id=job_id,
            batch_no=batch_no,
            quarantine=checked.quarantine,
            dq_results=checked.dq_results,
        )
        elapsed = time.monotonic() - started
        # The warehouse has committed the batch: only now may the checkpoints move.
        if positions:
            checkpoints: dict[str, tuple[datetime | None, dict[str, Any]]] = {
                stream: (position, {"job_id": job_id, "position": position.isoformat()})
                for stream, position in positions.items()
            }
            await _blocking(self.state.save_many, checkpoints)
        for table, table_counts in counts.items():
            loaded = int(table_counts.get("rows_in", 0))
            self.progress.add_rows(table, loaded)
            metrics.ROWS_LOADED.labels(table=table).inc(loaded)
            metrics.BATCHES_LOADED.labels(table=table).inc()
            metrics.LOAD_LATENCY.labels(table=table).observe(elapsed)
        for row in checked.quarantine:
            metrics.ROWS_QUARANTINED.labels(entity=str(row.get("entity", "?"))).inc()
        self.quarantined += len(checked.quarantine)
        merge_dq(self.dq, checked.dq_results)
        self.last_flush = time.monotonic()
        batch_rows = {table: int(c["rows_in"]) for table, c in counts.items() if c.get("rows_in")}
        await self.sink.event(
            "info",
            f"batch {batch_no} committed: {sum(batch_rows.values())} rows",
            {"batch": batch_no, "tables": batch_rows, "seconds": round(elapsed, 3)},
        )

    def due(self) -> bool:
        """True when the buffer should be flushed now (size or age)."""
        if self.buffer.empty():
            return False
        if self.buffer.size >= self.request.batch_rows:
            return True
        return time.monotonic() - self.last_flush >= self.request.batch_seconds

    # --- stages ------------------------------------------------------------------------------------
    async def references(self, client: JiraClient) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Load every reference stream as one batch; returns (fields records, project records)."""
        fields: list[dict[str, Any]] = []
        projects: list[dict[str, Any]] = []
        async with _closing(reference_streams(client)) as streams:
            async for name, records in streams:
                self.progress.add_page(name, len(records))
                if name == "fields":
                    fields = records
                elif name == "projects":
                    projects = records
                self.buffer.add(transform_reference(name, records))
                await self.checkpoint()
        await self.flush()
        await asyncio.to_thread(
            self.state.save, REFERENCE, watermark=None, cursor={"job_id": self.request.job_id}
        )
        await self.sink.event(
            "info", "reference data loaded", {"fields": len(fields), "projects": len(projects)}
        )
        return fields, projects

    def project_keys(self, projects: list[dict[str, Any]]) -> list[str]:
        """The projects to scan: the request's, else the integration's, else every visible active one."""
        wanted = self.request.projects or self.request.site.projects
        if wanted:
            return list(dict.fromkeys(wanted))
        return [str(p["key"]) for p in projects if p.get("key") and not p.get("_archived")]

    async def since(self, keys: list[str]) -> dict[str, datetime | None]:
        """Each partition's starting point for this run's mode."""
        saved = await asyncio.to_thread(self.state.all)
        since: dict[str, datetime | None] = {}
        for key in keys:
            stream = issue_stream(key)
            checkpoint = saved.get(stream)
            if checkpoint is None:
                since[stream] = None
            elif self.request.mode != "full":
                since[stream] = checkpoint.watermark
            elif checkpoint.cursor.get("job_id") == self.request.job_id and checkpoint.cursor.get("position"):
                # A resumed full job continues from its own last committed batch.
                since[stream] = datetime.fromisoformat(str(checkpoint.cursor["position"]))
            else:
                since[stream] = None
        return since

    async def issues(self, client: JiraClient, fields: list[dict[str, Any]], keys: list[str]) -> None:
        """Stream every partition's issue pages into the warehouse, advancing the checkpoints."""
        since = await self.since(keys)
        resumed = {k: v.isoformat() for k, v in since.items() if v is not None}
        await self.sink.event(
            "info", f"scanning issues of {len(keys)} project(s)", {"projects": keys, "since": resumed}
        )
        await self.scan(client, fields, keys, since, checkpointed=True)

    async def dev_refresh(self, client: JiraClient, fields: list[dict[str, Any]], keys: list[str]) -> None:
        """Re-read issues whose development data may have changed without ``updated`` moving.

        Linking a commit or a pull request does not bump ``updated``, so the incremental scan cannot see
        it. Incremental runs re-read the issues with *open* pull requests (where new commits, reviews and
        merges happen); reconcile runs re-read every issue with any development data. These scans do not
        move the checkpoints.
        """
        wanted = DEV_REFRESH_JQL["reconcile" if self.request.mode == "reconcile" else "incremental"]
        site = client.site
        extra = f"({site.jql}) AND ({wanted})" if site.jql else wanted
        refresh = JiraClient(
            replace(site, jql=extra),
            transport=self.transport,
            max_in_flight=self.request.max_in_flight,
            timeout=self.request.timeout,
            stats=client.stats,
        )
        try:
            async with refresh:
                await self.scan(refresh, fields, keys, dict.fromkeys(keys), checkpointed=False)
        except JiraBadRequestError as exc:
            # Sites without development tools reject the development[] JQL: nothing to refresh there.
            await self.sink.event("warning", f"development data refresh skipped: {exc}")
            return
        refreshed = sum(
            v["records"] for k, v in self.progress.streams.items() if k.startswith("dev_refresh:")
        )
        await self.sink.event("info", f"development data refreshed for {refreshed} issue(s)", {"jql": wanted})

    async def scan(
        self,
        client: JiraClient,
        fields: list[dict[str, Any]],
        keys: list[str],
        since: dict[str, datetime | None],
        *,
        checkpointed: bool,
    ) -> None:
        """Transform and load the issue pages of ``keys``; ``checkpointed`` scans advance the watermarks."""
        fmap = build_field_map(fields)
        until = datetime.now(UTC)
        overlap = timedelta(minutes=self.request.overlap_minutes)
        pages = issue_pages(
            client, fields_list=fields, since=since, until=until, projects=keys, overlap=overlap
        )
        async with _closing(pages) as stream:
            async for page in stream:
                key = page.partition.removeprefix("issues:")
                stream_name = issue_stream(key) if checkpointed else f"dev_refresh:{key}"
                self.progress.add_page(stream_name, len(page.issues))
                if page.issues:
                    rows = transform_issues(page.issues, fmap, deployment=self.request.site.deployment)
                    position = page.max_updated if checkpointed else None
                    self.buffer.add(rows, raw_issues=page.issues, stream=stream_name, position=position)
                if self.due():
                    await self.flush()
                await self.checkpoint()
        await self.flush()

    async def worklog_tombstones(self, client: JiraClient) -> None:
        """Delete the worklogs Jira reports deleted since the last run."""
        saved = await asyncio.to_thread(self.state.get, WORKLOGS_DELETED)
        since_ms = int(saved.cursor.get("since_ms", 0)) if saved else 0
        ids, new_since = await deleted_worklogs(client, since_ms)
        if ids:
            await _blocking(self.warehouse.delete_children, "worklogs", ids)
            await self.sink.event("info", f"{len(ids)} deleted worklog(s) removed", {"count": len(ids)})
        await asyncio.to_thread(self.state.save, WORKLOGS_DELETED, cursor={"since_ms": int(new_since)})
        self.result.deleted_worklogs = len(ids)

    async def reconcile(self, client: JiraClient, keys: list[str]) -> None:
        """Mark issues that vanished from every visible project ``is_deleted``."""
        visible: list[str] = []
        alive: set[str] = set()
        for key in keys:
            ids = await census(client, key)
            await self.checkpoint()
            if ids is None:
                await self.sink.event("warning", f"project {key} is not visible: skipped by reconcile")
                continue
            visible.append(key)
            alive |= ids
        missing: set[str] = set()
        for key in visible:
            known = await _blocking(self.warehouse.issue_ids, key)
            # An issue moved to another visible project is still alive: compare with the union.
            missing |= known - alive
        if missing:
            await _blocking(self.warehouse.mark_deleted, sorted(missing), self.request.job_id)
        self.result.deleted_issues = len(missing)
        await self.sink.event(
            "info", f"reconcile: {len(missing)} issue(s) marked deleted", {"projects": visible}
        )

    def stats(self, client_stats: dict[str, Any]) -> dict[str, Any]:
        """The contract's ``Job.stats``: request statistics plus seconds, rows, dq and quarantine."""
        stats = dict(client_stats)
        stats["seconds"] = round(time.monotonic() - self.started, 3)
        stats["rows"] = dict(self.progress.tables)
        stats["dq"] = list(self.dq.values())
        stats["quarantined"] = self.quarantined
        stats["deleted_issues"] = self.result.deleted_issues
        stats["deleted_worklogs"] = self.result.deleted_worklogs
        return stats


async def run_pipeline(
    request: RunRequest,
    *,
    warehouse: Warehouse,
    state: SyncStateStore,
    sink: RunSink,
    transport: httpx.AsyncBaseTransport | None = None,
) -> RunResult:
    """Run one sync of ``request.site`` into ``warehouse``; see the module docstring for the order.

    Raises :class:`JobCancelled` when the sink asked to stop, and the extraction's or warehouse's
    errors as they are. ``RunResult.stats`` (and ``sink.progress``) are filled in either case: on an
    error the partial statistics are attached to the exception as ``partial_stats``.
    """
    run = _Run(request, warehouse, state, sink, transport)
    site = request.site
    if request.jql:
        # The request narrows the integration's own filter; it never widens it.
        site = replace(site, jql=f"({site.jql}) AND ({request.jql})" if site.jql else request.jql)
    if request.projects:
        site = replace(site, projects=tuple(request.projects))
    await _blocking(warehouse.ensure_schema)
    await sink.event("info", f"{request.mode} sync of {site.name} started", {"base_url": site.base_url})
    client = JiraClient(
        site, transport=transport, max_in_flight=request.max_in_flight, timeout=request.timeout
    )
    run.client_stats = client.stats
    try:
        async with client:
            fields, projects = await run.references(client)
            keys = run.project_keys(projects)
            run.result.projects = keys
            await run.issues(client, fields, keys)
            if request.mode != "full" and request.dev_refresh:
                await run.dev_refresh(client, fields, keys)
            await run.worklog_tombstones(client)
            if request.mode == "reconcile":
                await run.reconcile(client, keys)
    except BaseException as exc:
        partial = run.stats(client.stats.as_dict())
        with contextlib.suppress(Exception):
            exc.partial_stats = partial  # type: ignore[attr-defined]
            exc.partial_progress = run.progress.as_dict()  # type: ignore[attr-defined]
        raise
    run.progress.requests = client.stats.requests
    run.progress.responses_429 = client.stats.responses_429
    run.result.progress = run.progress.as_dict()
    run.result.stats = run.stats(client.stats.as_dict())
    await sink.progress(run.result.progress)
    await sink.event("info", f"{request.mode} sync finished", {"rows": run.result.stats["rows"]})
    return run.result
