"""The vocabulary of a pipeline run: what to run (:class:`RunRequest`), where it reports, what it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from app.jira.client import JiraSite

Mode = Literal["full", "incremental", "reconcile"]
MODES: tuple[str, ...] = ("full", "incremental", "reconcile")
# Which issues incremental runs re-check for development data that changed without ``updated`` moving:
# those with open pull requests, every issue with dev data, or none. Reconcile runs always check all.
DevRefresh = Literal["open", "all", "none"]
DEV_REFRESH_CHOICES: tuple[str, ...] = ("open", "all", "none")


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
    """What to run. ``projects``/``jql`` narrow the integration's own filter when given.

    A batch is loaded when it holds ``batch_issues`` issues (the loader's cost per issue falls with the
    batch size), or ``batch_rows`` rows of all tables together (a memory cap for issues with very many
    children), or when ``batch_seconds`` passed since the last load.
    """

    job_id: str
    site: JiraSite
    mode: Mode = "incremental"
    projects: tuple[str, ...] = ()
    jql: str | None = None
    batch_issues: int = 2000
    batch_rows: int = 50_000
    batch_seconds: float = 30.0
    max_in_flight: int = 8
    timeout: float = 30.0
    overlap_minutes: int = 5
    max_failure_ratio: float = 0.01
    dev_refresh: DevRefresh = "open"


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
