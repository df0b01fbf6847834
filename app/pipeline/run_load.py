"""Loading one run's batches: validate, load, then advance the checkpoints and dev-data fingerprints.

A batch is closed by issue count (the loader's cost per issue falls with the batch size), by a row cap
(memory: a few issues may carry very many children) or by age. Only *after* the warehouse committed a
batch do the checkpoints and fingerprints move, so a crash replays at most one idempotent batch.

A batch whose quarantined share exceeds the threshold is not loaded; its quarantine and data-quality rows
are still written (they explain the failure) and the run fails with :class:`DataQualityError`.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from app.core import metrics
from app.core.errors import DataQualityError
from app.pipeline.fingerprints import DevFingerprintStore, loaded_fingerprints
from app.pipeline.run_support import blocking
from app.pipeline.run_types import RunRequest, RunSink
from app.pipeline.state import RowBuffer, RunProgress, SyncStateStore, merge_dq
from app.pipeline.transform import FieldMap, transform_issues
from app.pipeline.validate import BatchQualityError, Validated, validate
from app.warehouse.base import Warehouse


class BatchLoader:
    """The run's row buffer and everything that happens when it is flushed."""

    def __init__(
        self,
        request: RunRequest,
        warehouse: Warehouse,
        state: SyncStateStore,
        sink: RunSink,
        progress: RunProgress,
    ) -> None:
        self.request = request
        self.warehouse = warehouse
        self.state = state
        self.sink = sink
        self.progress = progress
        self.buffer = RowBuffer()
        self.fingerprints = DevFingerprintStore(state.session_factory, state.integration_id)
        self.dev_field: str | None = None  # the Development field's id, once the fields are known
        self.fmap = FieldMap()  # the run's custom fields, set before the issue pages arrive
        self.dq: dict[tuple[str, str], dict[str, Any]] = {}
        self.quarantined = 0
        self.last_flush = time.monotonic()

    def due(self) -> bool:
        """True when the buffer should be flushed now (issues, rows or age)."""
        if self.buffer.empty():
            return False
        if self.buffer.issues >= self.request.batch_issues or self.buffer.size >= self.request.batch_rows:
            return True
        return time.monotonic() - self.last_flush >= self.request.batch_seconds

    async def flush(self) -> None:
        """Validate and load the buffer, then advance the checkpoints of the partitions it held."""
        if self.buffer.empty():
            return
        rows, raw_issues, positions = self.buffer.take()
        if raw_issues:
            issue_rows = transform_issues(raw_issues, self.fmap, deployment=self.request.site.deployment)
            for table, table_rows in issue_rows.items():
                if table_rows:
                    rows.setdefault(table, []).extend(table_rows)
        self.progress.batches += 1
        batch_no = self.progress.batches
        job_id = self.request.job_id
        try:
            checked = validate(
                rows,
                job_id=job_id,
                raw_issues=raw_issues or None,
                max_failure_ratio=self.request.max_failure_ratio,
            )
        except BatchQualityError as exc:
            raise await self._reject(exc, batch_no, sum(len(r) for r in rows.values())) from exc
        started = time.monotonic()
        counts = await blocking(
            self.warehouse.load,
            checked.rows,
            job_id=job_id,
            batch_no=batch_no,
            quarantine=checked.quarantine,
            dq_results=checked.dq_results,
            frames=checked.frames,
        )
        elapsed = time.monotonic() - started
        # The warehouse has committed the batch: only now may the checkpoints and fingerprints move.
        if positions:
            checkpoints: dict[str, tuple[datetime | None, dict[str, Any]]] = {
                stream: (position, {"job_id": job_id, "position": position.isoformat()})
                for stream, position in positions.items()
            }
            await blocking(self.state.save_many, checkpoints)
        loaded_ids = {str(r.get("issue_id")) for r in checked.rows.get("issues", [])}
        fingerprints, cleared = loaded_fingerprints(raw_issues, self.dev_field, loaded_ids)
        if fingerprints:
            await blocking(self.fingerprints.save_many, fingerprints)
        if cleared:
            await blocking(self.fingerprints.delete_many, cleared)
        for table, table_counts in counts.items():
            loaded = int(table_counts.get("rows_in", 0))
            self.progress.add_rows(table, loaded)
            metrics.ROWS_LOADED.labels(table=table).inc(loaded)
            metrics.BATCHES_LOADED.labels(table=table).inc()
            metrics.LOAD_LATENCY.labels(table=table).observe(elapsed)
        self._record_quality(checked)
        self.last_flush = time.monotonic()
        batch_rows = {table: int(c["rows_in"]) for table, c in counts.items() if c.get("rows_in")}
        await self.sink.event(
            "info",
            f"batch {batch_no} committed: {sum(batch_rows.values())} rows",
            {"batch": batch_no, "tables": batch_rows, "seconds": round(elapsed, 3)},
        )

    def _record_quality(self, checked: Validated) -> None:
        for row in checked.quarantine:
            metrics.ROWS_QUARANTINED.labels(entity=str(row.get("entity", "?"))).inc()
        self.quarantined += len(checked.quarantine)
        merge_dq(self.dq, checked.dq_results)

    async def _reject(self, exc: BatchQualityError, batch_no: int, total: int) -> DataQualityError:
        """Keep the failed batch's quarantine and checks in the warehouse; returns the run's error."""
        bad = exc.validated
        # No data row of the batch is loaded; the quarantine and dq_results rows say why.
        await blocking(
            self.warehouse.load,
            {},
            job_id=self.request.job_id,
            batch_no=batch_no,
            quarantine=bad.quarantine,
            dq_results=bad.dq_results,
        )
        self._record_quality(bad)
        failing = sorted(
            {
                f"{r.get('table_name')}.{r.get('check_name')}"
                for r in bad.dq_results
                if r.get("status") == "fail"
            }
        )
        message = (
            f"batch {batch_no} failed data quality: {len(bad.quarantine)} of {total} rows quarantined, "
            f"above the allowed {self.request.max_failure_ratio:.1%} (DQ_MAX_FAILURE_RATIO); nothing of "
            f"this batch was loaded and checkpoints did not move. Failing checks: "
            f"{', '.join(failing) or 'see dq_results'}; the rows are in the warehouse's quarantine table."
        )
        await self.sink.event(
            "error", message, {"batch": batch_no, "quarantined": len(bad.quarantine), "checks": failing}
        )
        return DataQualityError(message)
