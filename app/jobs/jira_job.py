"""The job lifecycle, as plain functions over a SQLAlchemy ``Session``.

``queued -> running -> succeeded | failed | cancelled``. The API, the admin page, the scheduler, the CLI
and the workers all go through these functions, so the rules live in one place:

- at most one queued-or-running job per integration (:class:`JobConflictError` names it);
- workers claim queued jobs atomically (PostgreSQL: ``FOR UPDATE SKIP LOCKED``; SQLite: a conditional
  ``UPDATE``), heartbeat while running, and finish with statistics;
- cancel is a request the running job honours at its next checkpoint (a queued job is cancelled at once);
- a running job whose heartbeat went stale (its process died) is re-queued to resume from its checkpoint.

Every function leaves committing to the caller (``session_scope``), except where noted.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.errors import JobConflictError, KairusError
from app.models.unified_models import ACTIVE_JOB_STATUSES, JOB_MODES, Integration, Job, JobEvent

FINISHED_STATUSES = ("succeeded", "failed", "cancelled")
MAX_RESUMES = 5  # a job that keeps killing its worker must end, not loop forever


class NotFoundError(KairusError, LookupError):
    """The job or integration does not exist."""


class JobLostError(KairusError):
    """The job no longer belongs to this worker (it was re-queued as stale and claimed elsewhere)."""


class JobStateError(KairusError):
    """The job is in a state that does not allow the operation (e.g. cancelling a finished job)."""


def _now() -> datetime:
    return datetime.now(UTC)


def add_event(
    session: Session, job_id: str, message: str, *, level: str = "info", data: dict[str, Any] | None = None
) -> JobEvent:
    """Append one log line to the job."""
    event = JobEvent(job_id=job_id, ts=_now(), level=level, message=message, data=data)
    session.add(event)
    session.flush()
    return event


def active_job(session: Session, integration_id: int) -> Job | None:
    """The integration's queued or running job, if any."""
    return session.scalars(
        sa.select(Job)
        .where(Job.integration_id == integration_id, Job.status.in_(ACTIVE_JOB_STATUSES))
        .order_by(Job.created_at)
        .limit(1)
    ).first()


def enqueue_job(
    session: Session,
    *,
    integration_id: int,
    mode: str,
    trigger: str,
    projects: Sequence[str] | None = None,
    jql: str | None = None,
    worker_id: str | None = None,
) -> Job:
    """Queue a job for the integration (or, with ``worker_id``, create it already running for that worker).

    Raises :class:`NotFoundError` for an unknown integration and :class:`JobConflictError` (with
    ``running_job_id``) when the integration already has a queued or running job.
    """
    if mode not in JOB_MODES:
        raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(JOB_MODES)}")
    # Writing the integration's row first serialises concurrent enqueues: PostgreSQL locks the row,
    # SQLite takes its single write lock, so the check below sees every committed competitor.
    touched = session.execute(
        sa.update(Integration)
        .where(Integration.id == integration_id)
        .values(updated_at=Integration.updated_at)
        .execution_options(synchronize_session=False)
    )
    if touched.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFoundError(f"integration {integration_id} does not exist")
    running = active_job(session, integration_id)
    if running is not None:
        raise JobConflictError(
            f"integration {integration_id} already has job {running.id} ({running.status})",
            running_job_id=running.id,
        )
    now = _now()
    job = Job(
        integration_id=integration_id,
        mode=mode,
        trigger=trigger,
        status="running" if worker_id else "queued",
        params={"projects": list(projects or []), "jql": jql},
        progress={},
        stats={},
        cancel_requested=False,
        attempts=1 if worker_id else 0,
        worker_id=worker_id,
        created_at=now,
        started_at=now if worker_id else None,
        heartbeat_at=now if worker_id else None,
    )
    session.add(job)
    session.flush()
    add_event(session, job.id, f"{mode} job {'started' if worker_id else 'queued'} by {trigger}")
    return job


def claim_next_job(session: Session, worker_id: str) -> Job | None:
    """Atomically take the oldest queued job for ``worker_id`` and mark it running (None when idle)."""
    query = sa.select(Job).where(Job.status == "queued").order_by(Job.created_at, Job.id).limit(1)
    if session.get_bind().dialect.name == "postgresql":
        job = session.scalars(query.with_for_update(skip_locked=True)).first()
        if job is None:
            return None
    else:
        job = session.scalars(query).first()
        if job is None:
            return None
        # SQLite has no row locks: the conditional UPDATE is the claim, and only one claimant matches.
        claimed = session.execute(
            sa.update(Job)
            .where(Job.id == job.id, Job.status == "queued")
            .values(status="running", worker_id=worker_id)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        session.refresh(job)
    now = _now()
    job.status = "running"
    job.worker_id = worker_id
    job.attempts = (job.attempts or 0) + 1
    job.started_at = job.started_at or now
    job.heartbeat_at = now
    session.flush()
    add_event(session, job.id, f"claimed by worker {worker_id} (attempt {job.attempts})")
    return job


def heartbeat(
    session: Session, job_id: str, *, progress: dict[str, Any] | None = None, worker_id: str | None = None
) -> bool:
    """Record that the job is alive (and its progress); returns whether a cancel was requested.

    With ``worker_id``, raises :class:`JobLostError` when the job is no longer running for that worker
    (its heartbeat went stale and the job was re-queued): the worker must stop without finishing it.
    """
    values: dict[str, Any] = {"heartbeat_at": _now()}
    if progress is not None:
        values["progress"] = progress
    conditions = [Job.id == job_id, Job.status == "running"]
    if worker_id is not None:
        conditions.append(Job.worker_id == worker_id)
    updated = session.execute(
        sa.update(Job).where(*conditions).values(**values).execution_options(synchronize_session=False)
    )
    if worker_id is not None and updated.rowcount == 0:  # type: ignore[attr-defined]
        raise JobLostError(f"job {job_id} is no longer running for worker {worker_id}")
    flag = session.scalar(sa.select(Job.cancel_requested).where(Job.id == job_id))
    return bool(flag)


def finish_job(
    session: Session,
    job_id: str,
    status: str,
    *,
    stats: dict[str, Any] | None = None,
    progress: dict[str, Any] | None = None,
    error: str | None = None,
) -> Job:
    """Move a job to its final status with its statistics and error message."""
    if status not in FINISHED_STATUSES:
        raise ValueError(f"{status!r} is not a final status")
    job = get_job(session, job_id)
    job.status = status
    job.finished_at = _now()
    job.error = error
    if stats is not None:
        job.stats = stats
    if progress is not None:
        job.progress = progress
    session.flush()
    level = {"succeeded": "info", "cancelled": "warning"}.get(status, "error")
    add_event(session, job_id, f"job {status}" + (f": {error}" if error else ""), level=level)
    return job


def requeue_job(session: Session, job_id: str, reason: str) -> Job:
    """Put a running job back in the queue (its worker stopped); it resumes from its checkpoint."""
    job = get_job(session, job_id)
    job.status = "queued"
    job.worker_id = None
    session.flush()
    add_event(session, job_id, f"re-queued to resume from its checkpoint: {reason}", level="warning")
    return job


def request_cancel(session: Session, job_id: str) -> Job:
    """Ask a job to stop: a queued job is cancelled at once, a running one at its next checkpoint.

    Raises :class:`NotFoundError` and, for a finished job, :class:`JobStateError`.
    """
    job = get_job(session, job_id)
    if job.status in FINISHED_STATUSES:
        raise JobStateError(f"job {job_id} already {job.status}")
    if job.status == "queued":
        return finish_job(session, job_id, "cancelled", error="cancelled before it started")
    job.cancel_requested = True
    session.flush()
    add_event(session, job_id, "cancel requested", level="warning")
    return job


def recover_stale_jobs(session: Session, stale_seconds: float) -> list[Job]:
    """Re-queue running jobs whose heartbeat is older than ``stale_seconds`` (their worker died).

    A job that already resumed ``MAX_RESUMES`` times fails instead. Returns the jobs handled.
    """
    limit = _now() - timedelta(seconds=stale_seconds)
    query = sa.select(Job).where(
        Job.status == "running",
        sa.or_(Job.heartbeat_at < limit, sa.and_(Job.heartbeat_at.is_(None), Job.created_at < limit)),
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    handled = []
    for job in session.scalars(query).all():
        beat = job.heartbeat_at.isoformat() if job.heartbeat_at else "never"
        reason = f"worker {job.worker_id} stopped heartbeating (last heartbeat {beat})"
        if (job.attempts or 0) >= MAX_RESUMES:
            finish_job(session, job.id, "failed", error=f"{reason}; gave up after {job.attempts} attempts")
        else:
            requeue_job(session, job.id, reason)
        handled.append(job)
    return handled


def get_job(session: Session, job_id: str) -> Job:
    """The job with this id; raises :class:`NotFoundError`."""
    job = session.get(Job, job_id)
    if job is None:
        raise NotFoundError(f"job {job_id} does not exist")
    return job


def list_jobs(
    session: Session,
    *,
    status: str | None = None,
    integration_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Job], int]:
    """Jobs, newest first, filtered by status and integration; returns (page, total)."""
    conditions = []
    if status is not None:
        conditions.append(Job.status == status)
    if integration_id is not None:
        conditions.append(Job.integration_id == integration_id)
    total = session.scalar(sa.select(sa.func.count()).select_from(Job).where(*conditions)) or 0
    page = session.scalars(
        sa.select(Job).where(*conditions).order_by(Job.created_at.desc(), Job.id).limit(limit).offset(offset)
    ).all()
    return list(page), int(total)


def job_events(session: Session, job_id: str, after_id: int = 0, limit: int = 1000) -> list[JobEvent]:
    """The job's log lines after ``after_id``, oldest first (raises :class:`NotFoundError`)."""
    get_job(session, job_id)
    return list(
        session.scalars(
            sa.select(JobEvent)
            .where(JobEvent.job_id == job_id, JobEvent.id > after_id)
            .order_by(JobEvent.id)
            .limit(limit)
        ).all()
    )


def last_finished_job(session: Session, integration_id: int) -> Job | None:
    """The integration's most recently finished job (for health and the admin page)."""
    return session.scalars(
        sa.select(Job)
        .where(Job.integration_id == integration_id, Job.status.in_(FINISHED_STATUSES))
        .order_by(Job.finished_at.desc())
        .limit(1)
    ).first()
