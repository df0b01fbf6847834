"""Workers: claim queued jobs, run the pipeline, heartbeat, and record the outcome.

A worker runs one job at a time. While it runs, a side task refreshes the job's heartbeat every
``stale_seconds / 4`` seconds, so a job is only considered dead when its *process* is. The pipeline's
progress, events and cancel checks go through :class:`JobSink` into the metadata database.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import traceback
import uuid
from typing import Any

import httpx
import structlog
from sqlalchemy.engine import Engine

from app.core import metrics
from app.core.config import Settings
from app.core.database import session_factory, session_scope
from app.core.errors import JobCancelled, KairusError
from app.jira.client import JiraSite
from app.jobs import jira_job
from app.jobs.sites import open_settings_warehouse, site_for
from app.models.unified_models import Integration, Job
from app.pipeline.run import RunRequest, RunSink, run_pipeline
from app.pipeline.state import SyncStateStore
from app.warehouse.base import Warehouse

log = structlog.get_logger(__name__)


def new_worker_id() -> str:
    """A worker id unique across hosts and processes (shown in job events)."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class JobSink:
    """The pipeline's reporting channel for one job: events, progress/heartbeat and cancel checks."""

    def __init__(
        self, engine: Engine, job_id: str, *, worker_id: str | None = None, min_interval: float = 1.0
    ) -> None:
        self.engine = engine
        self.job_id = job_id
        self.worker_id = worker_id
        self.min_interval = min_interval
        self._last_progress = 0.0
        self._last_check = 0.0
        self._cancel = False

    async def event(self, level: str, message: str, data: dict[str, Any] | None = None) -> None:
        """Store one log line of the job."""

        def write() -> None:
            with session_scope(self.engine) as session:
                jira_job.add_event(session, self.job_id, message, level=level, data=data)

        log.info("job_event", job_id=self.job_id, level=level, message_text=message)
        await asyncio.to_thread(write)

    async def progress(self, progress: dict[str, Any]) -> None:
        """Store progress (at most once per ``min_interval``), which also refreshes the heartbeat."""
        now = time.monotonic()
        if now - self._last_progress < self.min_interval:
            return
        self._last_progress = self._last_check = now
        self._cancel = await asyncio.to_thread(self._beat, progress)

    async def cancel_requested(self) -> bool:
        """Whether the job was asked to stop (read from the database at most once per ``min_interval``)."""
        now = time.monotonic()
        if not self._cancel and now - self._last_check >= self.min_interval:
            self._last_check = now
            self._cancel = await asyncio.to_thread(self._beat, None)
        return self._cancel

    def _beat(self, progress: dict[str, Any] | None) -> bool:
        with session_scope(self.engine) as session:
            return jira_job.heartbeat(session, self.job_id, progress=progress, worker_id=self.worker_id)


class JobWorker:
    """Claims and runs jobs until stopped."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        worker_id: str | None = None,
        poll_seconds: float = 1.0,
        transport: httpx.AsyncBaseTransport | None = None,
        requeue_on_stop: bool = True,
    ) -> None:
        self.engine = engine
        self.requeue_on_stop = requeue_on_stop
        self.settings = settings
        self.worker_id = worker_id or new_worker_id()
        self.poll_seconds = poll_seconds
        self.transport = transport
        self.current_job: str | None = None
        self.stale_seconds = float(settings.heartbeat_stale_seconds)

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Claim and run jobs until ``stop`` is set; stale jobs of dead workers are re-queued on the way."""
        next_recovery = 0.0
        while not stop.is_set():
            try:
                if time.monotonic() >= next_recovery:
                    await asyncio.to_thread(self.recover_stale)
                    next_recovery = time.monotonic() + self.stale_seconds / 2
                ran = await self.run_next()
            except asyncio.CancelledError:
                raise
            except Exception:  # a broken database must not kill the worker loop for good
                log.exception("worker_loop_error", worker_id=self.worker_id)
                ran = False
            if not ran:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.poll_seconds)

    def recover_stale(self) -> list[str]:
        """Re-queue running jobs whose heartbeat went stale; returns their ids."""
        with session_scope(self.engine) as session:
            jobs = jira_job.recover_stale_jobs(session, self.stale_seconds)
            ids = [job.id for job in jobs]
        for job_id in ids:
            log.warning("stale_job_recovered", job_id=job_id, worker_id=self.worker_id)
        return ids

    async def run_next(self) -> bool:
        """Claim one queued job and run it; returns False when the queue was empty."""

        def claim() -> str | None:
            with session_scope(self.engine) as session:
                job = jira_job.claim_next_job(session, self.worker_id)
                return job.id if job else None

        job_id = await asyncio.to_thread(claim)
        if job_id is None:
            return False
        await self.run_job(job_id)
        return True

    async def run_job(
        self,
        job_id: str,
        *,
        site: JiraSite | None = None,
        sink: RunSink | None = None,
        warehouse: Warehouse | None = None,
    ) -> str:
        """Run a claimed job to its end; returns the final status ("queued" when re-queued by shutdown).

        The CLI passes its own ``site`` (the ``JIRA_*`` variables), ``sink`` (a display wrapping
        :class:`JobSink`) and an already opened ``warehouse`` (which it then closes itself).
        """
        self.current_job = job_id
        metrics.JOBS_RUNNING.inc()
        started = time.monotonic()
        beat = asyncio.create_task(self._heartbeat(job_id))
        sink = sink or JobSink(self.engine, job_id, worker_id=self.worker_id)
        mode = "?"
        status = "failed"
        try:
            request, state = await asyncio.to_thread(self._prepare, job_id, site)
            mode = request.mode
            owned = warehouse is None
            wh: Warehouse = (
                warehouse
                if warehouse is not None
                else await asyncio.to_thread(open_settings_warehouse, self.settings)
            )
            try:
                result = await run_pipeline(
                    request, warehouse=wh, state=state, sink=sink, transport=self.transport
                )
            finally:
                if owned:
                    await asyncio.to_thread(wh.close)
            await asyncio.to_thread(self._finish, job_id, "succeeded", result.stats, result.progress, None)
            status = "succeeded"
        except jira_job.JobLostError as exc:
            # Another worker owns the job now; finishing it here would overwrite that worker's outcome.
            status = "lost"
            log.warning("job_lost", job_id=job_id, worker_id=self.worker_id, error=str(exc))
        except JobCancelled as exc:
            status = "cancelled"
            await asyncio.to_thread(self._finish_from, job_id, status, exc, "cancelled on request")
        except asyncio.CancelledError:
            # The service is stopping: the job is not finished, another worker resumes it.
            status = "queued" if self.requeue_on_stop else "cancelled"
            with contextlib.suppress(Exception):
                if self.requeue_on_stop:
                    await asyncio.shield(asyncio.to_thread(self._requeue, job_id, "the service stopped"))
                else:
                    await asyncio.shield(
                        asyncio.to_thread(self._finish, job_id, status, None, None, "interrupted")
                    )
            raise
        except Exception as exc:
            message = str(exc) if isinstance(exc, KairusError) else f"{type(exc).__name__}: {exc}"
            log.error("job_failed", job_id=job_id, error=message, trace=traceback.format_exc())
            await asyncio.to_thread(self._finish_from, job_id, "failed", exc, message)
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
            metrics.JOBS_RUNNING.dec()
            if status not in ("queued", "lost"):
                metrics.JOBS_TOTAL.labels(mode=mode, status=status).inc()
                metrics.JOB_DURATION.labels(mode=mode).observe(time.monotonic() - started)
            self.current_job = None
        return status

    # --- database steps (blocking; run in a thread) -----------------------------------------------
    def _prepare(self, job_id: str, site: JiraSite | None) -> tuple[RunRequest, SyncStateStore]:
        with session_scope(self.engine) as session:
            job = session.get(Job, job_id)
            assert job is not None
            integration = session.get(Integration, job.integration_id)
            if integration is None:
                raise jira_job.NotFoundError(f"integration {job.integration_id} of job {job_id} is gone")
            params = dict(job.params or {})
            request = RunRequest(
                job_id=job.id,
                site=site or site_for(integration, self.settings.encryption_key_value),
                mode=job.mode,  # type: ignore[arg-type]
                projects=tuple(params.get("projects") or ()),
                jql=params.get("jql") or None,
                batch_issues=self.settings.batch_issues,
                batch_rows=self.settings.batch_rows,
                batch_seconds=self.settings.batch_seconds,
                max_in_flight=self.settings.jira_max_in_flight,
                timeout=self.settings.jira_timeout_seconds,
                overlap_minutes=self.settings.overlap_minutes,
                max_failure_ratio=self.settings.dq_max_failure_ratio,
                dev_refresh=self.settings.dev_refresh,
            )
            state = SyncStateStore(session_factory(self.engine), integration.id)
        return request, state

    def _finish(
        self,
        job_id: str,
        status: str,
        stats: dict[str, Any] | None,
        progress: dict[str, Any] | None,
        error: str | None,
    ) -> None:
        with session_scope(self.engine) as session:
            jira_job.finish_job(session, job_id, status, stats=stats, progress=progress, error=error)

    def _finish_from(self, job_id: str, status: str, exc: BaseException, error: str) -> None:
        stats = getattr(exc, "partial_stats", None)
        progress = getattr(exc, "partial_progress", None)
        self._finish(job_id, status, stats, progress, None if status == "cancelled" else error)

    def _requeue(self, job_id: str, reason: str) -> None:
        with session_scope(self.engine) as session:
            jira_job.requeue_job(session, job_id, reason)

    async def _heartbeat(self, job_id: str) -> None:
        interval = max(0.5, self.stale_seconds / 4)

        def beat() -> None:
            with session_scope(self.engine) as session:
                jira_job.heartbeat(session, job_id)

        while True:
            await asyncio.sleep(interval)
            try:
                await asyncio.to_thread(beat)
            except Exception:  # a missed beat is retried at the next interval
                log.warning("heartbeat_failed", job_id=job_id)
