"""The state of a run: its checkpoints (persisted) and its progress and row buffer (in memory).

Checkpoints are watermarks and cursors per stream, kept in the metadata database.

A stream is ``issues:<PROJECT>`` (watermark = the largest ``updated`` of that project's issues that the
warehouse has *committed*), ``worklogs_deleted`` (cursor ``{"since_ms": n}``) or ``reference``.
The issue cursors also remember which job wrote them, so that a full job that is resumed after a crash
continues from its own checkpoints instead of starting over.

The store is blocking (SQLAlchemy sessions); the pipeline calls it through ``asyncio.to_thread``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.unified_models import SyncState
from app.pipeline.transform import estimated_rows

Rows = dict[str, list[dict[str, Any]]]

ISSUES_PREFIX = "issues:"
WORKLOGS_DELETED = "worklogs_deleted"
REFERENCE = "reference"


def issue_stream(project_key: str) -> str:
    """Name of the checkpoint stream of one project's issues."""
    return f"{ISSUES_PREFIX}{project_key}"


def as_utc(value: datetime | None) -> datetime | None:
    """Return ``value`` as an aware UTC datetime (SQLite hands back naive ones, stored as UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@dataclass(frozen=True)
class Checkpoint:
    """One stream's saved position."""

    stream: str
    watermark: datetime | None
    cursor: dict[str, Any]


class SyncStateStore:
    """Reads and advances the checkpoints of one integration.

    ``session_factory`` returns a new ``Session`` (a ``sessionmaker``); each call uses its own short
    transaction so a checkpoint is durable as soon as the method returns.
    """

    def __init__(self, session_factory: Callable[[], Session], integration_id: int) -> None:
        self._session_factory = session_factory
        self.integration_id = integration_id

    @property
    def session_factory(self) -> Callable[[], Session]:
        """The factory of the store's sessions (other per-integration stores share it)."""
        return self._session_factory

    def all(self) -> dict[str, Checkpoint]:
        """Every checkpoint of the integration, by stream name."""
        with self._session_factory() as session:
            rows = session.scalars(
                select(SyncState).where(SyncState.integration_id == self.integration_id)
            ).all()
            return {
                row.stream: Checkpoint(row.stream, as_utc(row.watermark), dict(row.cursor or {}))
                for row in rows
            }

    def get(self, stream: str) -> Checkpoint | None:
        """One stream's checkpoint, or None when the stream never completed a batch."""
        return self.all().get(stream)

    def save(
        self, stream: str, *, watermark: datetime | None = None, cursor: dict[str, Any] | None = None
    ) -> None:
        """Create or advance a checkpoint.

        The watermark never moves backwards: re-reading an overlap window or replaying a batch can only
        confirm a position already reached. ``cursor`` replaces the stored cursor when given.
        """
        watermark = as_utc(watermark)
        now = datetime.now(UTC)
        with self._session_factory() as session, session.begin():
            row = session.get(SyncState, (self.integration_id, stream))
            if row is None:
                row = SyncState(integration_id=self.integration_id, stream=stream)
                row.watermark = watermark
                row.cursor = dict(cursor or {})
                session.add(row)
            else:
                current = as_utc(row.watermark)
                if watermark is not None and (current is None or watermark > current):
                    row.watermark = watermark
                if cursor is not None:
                    row.cursor = dict(cursor)
            row.updated_at = now

    def save_many(self, checkpoints: dict[str, tuple[datetime | None, dict[str, Any]]]) -> None:
        """Advance several streams in one transaction (after one warehouse batch)."""
        if not checkpoints:
            return
        now = datetime.now(UTC)
        with self._session_factory() as session, session.begin():
            for stream, (watermark, cursor) in checkpoints.items():
                wm = as_utc(watermark)
                row = session.get(SyncState, (self.integration_id, stream))
                if row is None:
                    session.add(
                        SyncState(
                            integration_id=self.integration_id,
                            stream=stream,
                            watermark=wm,
                            cursor=dict(cursor),
                            updated_at=now,
                        )
                    )
                    continue
                current = as_utc(row.watermark)
                if wm is not None and (current is None or wm > current):
                    row.watermark = wm
                row.cursor = dict(cursor)
                row.updated_at = now

    def clear(self) -> None:
        """Forget every checkpoint of the integration (the next run is a full one)."""
        with self._session_factory() as session, session.begin():
            for row in session.scalars(
                select(SyncState).where(SyncState.integration_id == self.integration_id)
            ).all():
                session.delete(row)


# --- in-memory state of one run ------------------------------------------------------------------


@dataclass
class RunProgress:
    """The contract's ``Job.progress``: pages and records per stream, rows loaded per table, batches.

    ``requests`` and ``responses_429`` mirror the client's counters so a running job shows them too.
    """

    streams: dict[str, dict[str, int]] = field(default_factory=dict)
    tables: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    requests: int = 0
    responses_429: int = 0

    def add_page(self, stream: str, records: int) -> None:
        """Count one page of ``records`` records read from ``stream``."""
        entry = self.streams.setdefault(stream, {"pages": 0, "records": 0})
        entry["pages"] += 1
        entry["records"] += records

    def add_rows(self, table: str, rows: int) -> None:
        """Count rows committed to ``table``."""
        self.tables[table] = self.tables.get(table, 0) + rows

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready copy."""
        return {
            "streams": {name: dict(entry) for name, entry in self.streams.items()},
            "tables": dict(self.tables),
            "batches": self.batches,
            "requests": self.requests,
            "responses_429": self.responses_429,
        }


class RowBuffer:
    """Rows waiting for the next batch, per table, with the positions they will let the checkpoints reach.

    ``size`` counts rows of all tables, ``issues`` the raw issues they came from.
    """

    def __init__(self) -> None:
        self.rows: Rows = {}
        self.raw_issues: list[dict[str, Any]] = []
        self.positions: dict[str, datetime] = {}
        self.size = 0
        self.issues = 0

    def empty(self) -> bool:
        """True when nothing waits."""
        return self.size == 0 and not self.positions

    def add(
        self,
        rows: Rows,
        *,
        raw_issues: list[dict[str, Any]] | None = None,
        stream: str | None = None,
        position: datetime | None = None,
    ) -> None:
        """Buffer one page's rows; ``position`` is the largest ``updated`` of the page's issues."""
        for table, table_rows in rows.items():
            if table_rows:
                self.rows.setdefault(table, []).extend(table_rows)
                self.size += len(table_rows)
        if raw_issues:
            self.raw_issues.extend(raw_issues)
            self.issues += len(raw_issues)
        if stream is not None and position is not None:
            position = as_utc(position)
            assert position is not None
            current = self.positions.get(stream)
            if current is None or position > current:
                self.positions[stream] = position

    def add_issues(
        self, raw_issues: list[dict[str, Any]], *, stream: str | None = None, position: datetime | None = None
    ) -> None:
        """Buffer one page of issues, transformed when the batch is flushed (once for the whole batch).

        ``size`` grows by the rows the issues will make at least (see ``estimated_rows``), so
        ``BATCH_ROWS`` still caps a batch before it is transformed.
        """
        self.add({}, raw_issues=raw_issues, stream=stream, position=position)
        self.size += estimated_rows(raw_issues)

    def take(self) -> tuple[Rows, list[dict[str, Any]], dict[str, datetime]]:
        """Hand over and forget everything buffered."""
        taken = (self.rows, self.raw_issues, self.positions)
        self.rows, self.raw_issues, self.positions, self.size, self.issues = {}, [], {}, 0, 0
        return taken


def merge_dq(totals: dict[tuple[str, str], dict[str, Any]], results: list[dict[str, Any]]) -> None:
    """Fold one batch's data-quality results into the run's totals (failing rows add up, worst status)."""
    rank = {"pass": 0, "passed": 0, "ok": 0, "warn": 1, "warning": 1, "fail": 2, "failed": 2}
    for result in results:
        key = (str(result.get("check_name", "?")), str(result.get("table_name", "?")))
        entry = totals.get(key)
        if entry is None:
            totals[key] = {
                "check_name": key[0],
                "table_name": key[1],
                "status": result.get("status"),
                "failing_rows": int(result.get("failing_rows") or 0),
            }
            continue
        entry["failing_rows"] += int(result.get("failing_rows") or 0)
        if rank.get(str(result.get("status")), 0) > rank.get(str(entry["status"]), 0):
            entry["status"] = result.get("status")
