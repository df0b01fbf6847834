"""The Warehouse protocol: what the pipeline asks of DuckDB and Snowflake alike.

Every method is **blocking** (the drivers are): async callers run them with ``asyncio.to_thread`` and use
one warehouse object from one thread at a time. Errors are :class:`~app.core.errors.WarehouseError`
(terminal; :class:`~app.core.errors.WarehouseLockedError` when DuckDB's file is held by another process) or
:class:`~app.core.errors.WarehouseTransientError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol, TypedDict, runtime_checkable

import pyarrow as pa

Rows = dict[str, list[dict[str, Any]]]


class TableResult(TypedDict):
    """What one batch did to one table."""

    rows_in: int
    inserted: int
    updated: int
    deleted: int


@runtime_checkable
class Warehouse(Protocol):
    """A destination for the tables of ``app/pipeline/schema.py`` (contract section 3)."""

    def ensure_schema(self) -> None:
        """Create the schema and every table if missing; add schema columns missing from existing tables."""
        ...

    def load(
        self,
        rows: Rows,
        *,
        job_id: str,
        batch_no: int,
        quarantine: Sequence[dict[str, Any]] = (),
        dq_results: Sequence[dict[str, Any]] = (),
        frames: Mapping[str, pa.Table] | None = None,
    ) -> dict[str, TableResult]:
        """Load one batch idempotently; return per-table counts.

        ``frames`` may hold the Arrow form of some tables' rows (``Validated.frames``, built while the
        rows were checked); a table with a frame of as many rows is staged from it, not converted again.

        Issues and reference rows are merged (newer or equal ``updated_at`` wins); the child rows of the
        batch's issues that are at least as new as the stored ones replace the stored children. The merge,
        the child replacement and the ``load_audit`` rows commit together where the warehouse allows it, so
        the caller advances its checkpoint only after this returns. Child rows must arrive in the same batch
        as their issue row (``validate`` quarantines the others); children of an issue not in the batch
        are ignored.
        """
        ...

    def delete_children(self, table: str, ids: Iterable[str]) -> int:
        """Delete rows of ``table`` by (single-column) primary key, e.g. worklog tombstones."""
        ...

    def mark_deleted(self, issue_ids: Iterable[str], job_id: str) -> int:
        """Set ``is_deleted = TRUE`` on these issues (soft delete: their rows and children stay)."""
        ...

    def issue_ids(self, project_key: str | None = None) -> set[str]:
        """Ids of the issues not marked deleted (of one project when ``project_key`` is given)."""
        ...

    def quarantine_rows(self, job_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """Up to ``limit`` quarantined rows of a job: ``entity, entity_id, reason, raw`` (raw JSON parsed)."""
        ...

    def table_counts(self) -> dict[str, int]:
        """Row count of every table of the schema."""
        ...

    def fetch_keys(self, table: str) -> list[str]:
        """Primary keys of the live rows of ``table`` joined by ``|`` (rows of deleted issues excluded)."""
        ...

    def close(self) -> None:
        """Release the connection (and DuckDB's file lock)."""
        ...
