"""Request and response models of the ETL jobs API and the ops endpoints (test, health)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.core.config_checks import check_project_keys

Mode = Literal["full", "incremental", "reconcile"]
Status = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class ExtractRequest(BaseModel):
    """Start a sync. Without ``integration_id`` the ``JIRA_*`` variables define the site."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    integration_id: int | None = Field(default=None, ge=1)
    mode: Mode = Field(
        default="incremental",
        description="incremental (default; a full scan for projects without a watermark), full or reconcile",
    )
    projects: list[str] | None = Field(default=None, max_length=200, description="project keys to limit to")
    jql: str | None = Field(default=None, max_length=2000, description="extra JQL, ANDed with the scan's")

    @field_validator("projects")
    @classmethod
    def _projects(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else check_project_keys(value)


class ExtractAccepted(BaseModel):
    """The queued job."""

    job_id: str
    integration_id: int
    status: Status
    mode: Mode


class JobOut(BaseModel):
    """A job: status, progress per stream, rows per table, request statistics, error."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    integration_id: int
    mode: Mode
    trigger: str
    status: Status
    params: dict[str, Any] = Field(default_factory=dict)
    progress: dict[str, Any] = Field(default_factory=dict)
    stats: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    cancel_requested: bool = False
    worker_id: str | None = None
    attempts: int = 0
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    heartbeat_at: datetime | None = None


class JobList(BaseModel):
    """One page of jobs, newest first."""

    items: list[JobOut]
    total: int
    limit: int
    offset: int


class JobEventOut(BaseModel):
    """One log line of a job."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    ts: datetime
    level: str
    message: str
    data: dict[str, Any] | None = None


class JobEventList(BaseModel):
    """Log lines after ``after_id``; pass ``next_after`` back to follow the log."""

    items: list[JobEventOut]
    next_after: int


class IntegrationTestResult(BaseModel):
    """Outcome of checking an integration's credentials against ``/myself``."""

    ok: bool
    integration_id: int
    account_id: str | None = None
    display_name: str | None = None
    email: str | None = None
    time_zone: str | None = None
    status: int | None = Field(default=None, description="Jira's HTTP status when the check failed")
    error: str | None = None


class ComponentHealth(BaseModel):
    """One dependency's state."""

    ok: bool
    detail: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None


class IntegrationHealth(BaseModel):
    """An integration's last finished run, active job and next scheduled run."""

    id: int
    name: str
    enabled: bool
    last_run: dict[str, Any] | None = None
    active_job: dict[str, Any] | None = None
    next_run: datetime | None = None


class AdminHealth(BaseModel):
    """Database, cache, warehouse and scheduler, and each integration's runs."""

    status: Literal["ok", "degraded"]
    database: ComponentHealth
    cache: ComponentHealth
    warehouse: ComponentHealth
    scheduler: ComponentHealth
    integrations: list[IntegrationHealth]
