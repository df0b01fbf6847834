"""The metadata database: integrations, jobs, their events, the sync state and dev-data fingerprints.

Deleting an integration deletes its jobs, events and sync state (``ON DELETE CASCADE``); the API refuses
the delete while a job is queued or running.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.models.types import UTCDateTime, new_uuid, utcnow

# Deterministic constraint names so Alembic can alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JOB_MODES = ("full", "incremental", "reconcile")
JOB_TRIGGERS = ("manual", "schedule", "api", "cli", "resume")
JOB_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
ACTIVE_JOB_STATUSES = ("queued", "running")


class Base(DeclarativeBase):
    """Declarative base carrying the naming convention."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: sa.JSON(), list[str]: sa.JSON()}


class Integration(Base):
    """A Jira site to extract, with its (encrypted) credentials and schedule."""

    __tablename__ = "integrations"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    base_url: Mapped[str] = mapped_column(sa.String(500))
    deployment_type: Mapped[str] = mapped_column(sa.String(10), default="cloud")
    auth_type: Mapped[str] = mapped_column(sa.String(10), default="basic")
    username: Mapped[str | None] = mapped_column(sa.String(255))
    token_encrypted: Mapped[str | None] = mapped_column(sa.Text)
    projects: Mapped[list[str]] = mapped_column(default=list)
    jql_filter: Mapped[str | None] = mapped_column(sa.Text)
    interval_hours: Mapped[float | None] = mapped_column(sa.Float)
    cron: Mapped[str | None] = mapped_column(sa.String(100))
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint("deployment_type IN ('cloud', 'server')", name="deployment_type"),
        sa.CheckConstraint("auth_type IN ('basic', 'bearer')", name="auth_type"),
    )


class Job(Base):
    """One extraction run of an integration: queued, claimed by a worker, heartbeating, finished."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_uuid)
    integration_id: Mapped[int] = mapped_column(sa.ForeignKey("integrations.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(sa.String(20))
    trigger: Mapped[str] = mapped_column(sa.String(20), default="manual")
    status: Mapped[str] = mapped_column(sa.String(20), default="queued")
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    progress: Mapped[dict[str, Any]] = mapped_column(default=dict)
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(sa.Text)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    worker_id: Mapped[str | None] = mapped_column(sa.String(100))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    heartbeat_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (
        sa.Index("ix_jobs_integration_status", "integration_id", "status"),
        sa.Index("ix_jobs_status_created", "status", "created_at"),
        sa.Index("ix_jobs_created_at", "created_at"),
        sa.CheckConstraint("mode IN ('full', 'incremental', 'reconcile')", name="mode"),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')", name="status"
        ),
    )


class JobEvent(Base):
    """A log line of a job, shown by the API and the admin page."""

    __tablename__ = "job_events"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    job_id: Mapped[str] = mapped_column(sa.ForeignKey("jobs.id", ondelete="CASCADE"))
    ts: Mapped[datetime] = mapped_column(default=utcnow)
    level: Mapped[str] = mapped_column(sa.String(10), default="info")
    message: Mapped[str] = mapped_column(sa.Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)

    __table_args__ = (sa.Index("ix_job_events_job_id_id", "job_id", "id"),)


class SyncState(Base):
    """Where an integration's stream stopped: ``issues:<PROJECT>``, ``worklogs_deleted``, ``reference``."""

    __tablename__ = "sync_state"

    integration_id: Mapped[int] = mapped_column(
        sa.ForeignKey("integrations.id", ondelete="CASCADE"), primary_key=True
    )
    stream: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    watermark: Mapped[datetime | None] = mapped_column()
    cursor: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DevFingerprint(Base):
    """The fingerprint of an issue's Development field as last loaded, so unchanged dev data is not re-read.

    Linking commits or pull requests does not bump ``updated``; comparing this hash of the field's summary
    tells which issues' development data actually changed since the warehouse last received it.
    """

    __tablename__ = "dev_fingerprints"

    integration_id: Mapped[int] = mapped_column(
        sa.ForeignKey("integrations.id", ondelete="CASCADE"), primary_key=True
    )
    issue_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
