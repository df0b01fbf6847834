"""Scheduling: each enabled integration enqueues an incremental job on its interval or cron.

APScheduler 3's ``AsyncIOScheduler`` holds one APScheduler job per integration. The set is re-synced from
the database every ``resync_seconds`` (and at once after :meth:`JobScheduler.request_sync`), so creating,
editing, disabling or deleting an integration takes effect without a restart. A schedule whose trigger did
not change is left alone, so re-syncing never postpones its next run.

On PostgreSQL several replicas may run; only the one holding a session-level advisory lock (on a
dedicated connection kept for the scheduler's lifetime) schedules. The lock is keyed by the metadata schema
too (advisory locks are per database), so deployments sharing a database in separate schemas each elect
their own leader. The others keep trying, so a new leader
takes over when the old one dies and its connection closes.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Connection, Engine

from app.core.config import Settings
from app.core.database import session_scope
from app.core.errors import JobConflictError
from app.jobs import jira_job
from app.models.unified_models import Integration

log = structlog.get_logger(__name__)

ADVISORY_LOCK_KEY = 0x4B414952  # "KAIR": the scheduler leader lock
SYNC_JOB_ID = "__sync_integrations__"


def _job_id(integration_id: int) -> str:
    return f"integration:{integration_id}"


class JobScheduler:
    """Keeps one schedule per enabled integration and enqueues their jobs."""

    def __init__(self, engine: Engine, settings: Settings, *, resync_seconds: float = 30.0) -> None:
        self.engine = engine
        self.settings = settings
        self.resync_seconds = resync_seconds
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self._signatures: dict[int, str] = {}
        self._lock_conn: Connection | None = None
        self.is_leader = False
        self.last_sync: datetime | None = None
        # A request that arrives while a sync runs must not be lost (APScheduler would skip a second
        # instance of the running job): the running sync goes round once more instead.
        self._syncing = False
        self._sync_requested = False

    # --- lifecycle ---------------------------------------------------------------------------------
    async def start(self) -> None:
        """Start APScheduler and the periodic re-sync (which also tries to become leader)."""
        self.scheduler.start()
        self.scheduler.add_job(
            self.sync,
            IntervalTrigger(seconds=self.resync_seconds),
            id=SYNC_JOB_ID,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(self.scheduler.timezone),
        )

    async def stop(self) -> None:
        """Stop scheduling and release the leader lock."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await asyncio.to_thread(self._release_lock)

    @property
    def running(self) -> bool:
        """Whether APScheduler runs in this process."""
        return bool(self.scheduler.running)

    def request_sync(self) -> None:
        """Re-read the integrations now (call after an integration changed)."""
        self._sync_requested = True
        if self.scheduler.running and not self._syncing:
            self.scheduler.modify_job(SYNC_JOB_ID, next_run_time=datetime.now(self.scheduler.timezone))

    def next_run(self, integration_id: int) -> datetime | None:
        """When the integration's next scheduled job is due (None: not scheduled here)."""
        job = self.scheduler.get_job(_job_id(integration_id)) if self.scheduler.running else None
        return job.next_run_time if job is not None else None

    # --- leadership --------------------------------------------------------------------------------
    def _try_lead(self) -> bool:
        if self.engine.dialect.name != "postgresql":
            return True  # SQLite: a single service process by construction
        if self._lock_conn is not None:
            try:
                self._lock_conn.execute(sa.text("SELECT 1"))
                return True
            except sa.exc.DBAPIError:
                self._release_lock()
        conn = self.engine.connect()
        got = bool(
            conn.execute(
                sa.text("SELECT pg_try_advisory_lock(:k, hashtext(current_schema()))"),
                {"k": ADVISORY_LOCK_KEY},
            ).scalar()
        )
        conn.commit()
        if got:
            self._lock_conn = conn
        else:
            conn.close()
        return got

    def _release_lock(self) -> None:
        conn, self._lock_conn = self._lock_conn, None
        if conn is None:
            return
        try:
            conn.execute(
                sa.text("SELECT pg_advisory_unlock(:k, hashtext(current_schema()))"), {"k": ADVISORY_LOCK_KEY}
            )
            conn.commit()
        except sa.exc.DBAPIError:
            pass
        finally:
            conn.close()

    # --- schedules ---------------------------------------------------------------------------------
    def trigger_for(self, integration: Integration) -> tuple[BaseTrigger, str] | None:
        """The integration's trigger and a signature to detect changes (None: not scheduled)."""
        if integration.cron:
            return CronTrigger.from_crontab(integration.cron, timezone="UTC"), f"cron:{integration.cron}"
        hours = integration.interval_hours or self.settings.jira_job_interval_hours
        if hours:
            return IntervalTrigger(seconds=float(hours) * 3600), f"interval:{float(hours)}"
        return None

    async def sync(self) -> None:
        """Make the schedules match the enabled integrations (only the leader schedules).

        Repeats while :meth:`request_sync` was called during a pass, so no change is missed.
        """
        self._syncing = True
        try:
            while True:
                self._sync_requested = False
                await self._sync_once()
                if not self._sync_requested:
                    break
        finally:
            self._syncing = False

    async def _sync_once(self) -> None:
        self.is_leader = await asyncio.to_thread(self._try_lead)
        wanted: dict[int, tuple[BaseTrigger, str]] = {}
        if self.is_leader:
            for integration in await asyncio.to_thread(self._enabled_integrations):
                found = self.trigger_for(integration)
                if found is not None:
                    wanted[integration.id] = found
        for integration_id in list(self._signatures):
            if integration_id not in wanted:
                self.scheduler.remove_job(_job_id(integration_id))
                del self._signatures[integration_id]
        for integration_id, (trigger, signature) in wanted.items():
            if self._signatures.get(integration_id) == signature:
                continue
            self.scheduler.add_job(
                self.fire,
                trigger,
                args=[integration_id],
                id=_job_id(integration_id),
                replace_existing=True,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=None,
            )
            self._signatures[integration_id] = signature
            log.info("schedule_set", integration_id=integration_id, schedule=signature)
        self.last_sync = datetime.now(self.scheduler.timezone)

    def _enabled_integrations(self) -> list[Integration]:
        with session_scope(self.engine) as session:
            return list(session.scalars(sa.select(Integration).where(Integration.enabled.is_(True))).all())

    async def fire(self, integration_id: int) -> str | None:
        """Enqueue the integration's scheduled job; returns its id (None when one is already active)."""

        def enqueue() -> str | None:
            with session_scope(self.engine) as session:
                try:
                    job = jira_job.enqueue_job(
                        session, integration_id=integration_id, mode="incremental", trigger="schedule"
                    )
                except JobConflictError as exc:
                    log.info("schedule_skipped", integration_id=integration_id, running=exc.running_job_id)
                    return None
                except jira_job.NotFoundError:
                    return None
                return job.id

        job_id = await asyncio.to_thread(enqueue)
        if job_id:
            log.info("scheduled_job_enqueued", integration_id=integration_id, job_id=job_id)
        return job_id

    def describe(self) -> dict[str, Any]:
        """State for the health endpoint."""
        return {
            "running": self.running,
            "leader": self.is_leader,
            "schedules": len(self._signatures),
            "last_sync": self.last_sync.isoformat() if self.last_sync else None,
        }
