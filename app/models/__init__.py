"""SQLAlchemy models of the metadata database."""

from app.models.unified_models import (
    ACTIVE_JOB_STATUSES,
    JOB_MODES,
    JOB_STATUSES,
    JOB_TRIGGERS,
    Base,
    DevFingerprint,
    Integration,
    Job,
    JobEvent,
    SyncState,
)

__all__ = [
    "ACTIVE_JOB_STATUSES",
    "JOB_MODES",
    "JOB_STATUSES",
    "JOB_TRIGGERS",
    "Base",
    "DevFingerprint",
    "Integration",
    "Job",
    "JobEvent",
    "SyncState",
]
