"""Background machinery of the service process: the job workers and the scheduler.

``main.py``'s lifespan calls :func:`start_background` and :func:`stop_background`. When the ``JIRA_*``
variables define a site, its ``env-default`` integration is created or updated first. At start-up, running
jobs whose heartbeat went stale (their process died) are re-queued first, so they resume before new work.
SQLite metadata gets a single worker whatever ``WORKER_COUNT`` says: SQLite has one writer.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

import structlog
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from app.core.config import Settings, get_settings
from app.core.database import get_engine, session_scope
from app.jobs.scheduler import JobScheduler
from app.jobs.sites import ensure_env_integration
from app.jobs.worker import JobWorker

log = structlog.get_logger(__name__)


@dataclass
class Background:
    """What :func:`start_background` started, kept on ``app.state.background``."""

    stop: asyncio.Event
    workers: list[JobWorker] = field(default_factory=list)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    scheduler: JobScheduler | None = None


def _engine_and_settings(app: FastAPI) -> tuple[Engine, Settings]:
    settings: Settings = getattr(app.state, "settings", None) or get_settings()
    engine: Engine = getattr(app.state, "engine", None) or get_engine(settings.database_url)
    return engine, settings


def _sync_env_integration(engine: Engine, settings: Settings) -> None:
    try:
        with session_scope(engine) as session:
            ensure_env_integration(session, settings)
    except Exception:  # a bad JIRA_* value must not keep the service from starting
        log.exception("env_integration_failed")


async def start_background(app: FastAPI) -> None:
    """Start the worker(s) and the scheduler in this process (each only when enabled in settings)."""
    engine, settings = _engine_and_settings(app)
    if settings.jira_configured():
        # The JIRA_* site is an integration like any other: scheduled, listed, with its own history.
        await asyncio.to_thread(_sync_env_integration, engine, settings)
    background = Background(stop=asyncio.Event())
    app.state.background = background
    app.state.scheduler = None
    if settings.worker_enabled:
        count = 1 if engine.dialect.name == "sqlite" else settings.worker_count
        for _ in range(count):
            worker = JobWorker(engine, settings)
            background.workers.append(worker)
        # Jobs left running by a dead process resume before anything new starts.
        recovered = await asyncio.to_thread(background.workers[0].recover_stale)
        if recovered:
            log.warning("stale_jobs_requeued", jobs=recovered)
        for worker in background.workers:
            task = asyncio.create_task(worker.run_forever(background.stop), name=f"worker {worker.worker_id}")
            background.tasks.append(task)
    if settings.scheduler_enabled:
        scheduler = JobScheduler(engine, settings, resync_seconds=settings.scheduler_resync_seconds)
        await scheduler.start()
        background.scheduler = scheduler
        app.state.scheduler = scheduler
    log.info("background_started", workers=len(background.workers), scheduler=settings.scheduler_enabled)


async def stop_background(app: FastAPI) -> None:
    """Stop scheduling, then stop the workers; a job still running is re-queued to resume later."""
    background: Background | None = getattr(app.state, "background", None)
    if background is None:
        return
    if background.scheduler is not None:
        await background.scheduler.stop()
    background.stop.set()
    for task in background.tasks:
        task.cancel()
    for task in background.tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    app.state.background = None
    log.info("background_stopped")
