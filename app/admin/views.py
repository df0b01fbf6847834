"""View models of the admin pages: what the templates and the JSON poll show about jobs and runs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.admin.render import ts
from app.core.config import Settings
from app.jobs.sites import open_settings_warehouse
from app.models.unified_models import ACTIVE_JOB_STATUSES, Integration, Job

FINAL_STATUSES = ("succeeded", "failed", "cancelled")


def _rows_per_table(job: Job) -> dict[str, int]:
    """Rows loaded per table: the final statistics when the job finished, else its live progress."""
    rows = (job.stats or {}).get("rows") or (job.progress or {}).get("tables") or {}
    return {str(table): int(count or 0) for table, count in rows.items()}


def job_view(job: Job, integration: str) -> dict[str, Any]:
    """What the list, the job page and the JSON poll show about one job."""
    duration = None
    if job.started_at is not None:
        duration = ((job.finished_at or datetime.now(UTC)) - job.started_at).total_seconds()
    error = job.error or ""
    return {
        "id": job.id,
        "url": f"/admin/jobs/{job.id}",
        "cancel_url": f"/admin/jobs/{job.id}/cancel",
        "integration": integration,
        "integration_id": job.integration_id,
        "status": job.status,
        "mode": job.mode,
        "trigger": job.trigger,
        "params": job.params or {},
        "created_at": job.created_at.isoformat() if job.created_at else None,
        "created_at_text": ts(job.created_at),
        "started_at_text": ts(job.started_at),
        "finished_at_text": ts(job.finished_at),
        "duration_s": duration,
        "rows": sum(_rows_per_table(job).values()),
        "error": error,
        "error_short": error if len(error) <= 120 else error[:117] + "...",
        "can_cancel": job.status in ACTIVE_JOB_STATUSES and not job.cancel_requested,
    }


def _endpoint_rows(by_endpoint: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for endpoint, statuses in sorted(by_endpoint.items()):
        counts = statuses if isinstance(statuses, dict) else {"all": statuses}
        text = "  ".join(f"{status}: {count}" for status, count in sorted(counts.items()))
        rows.append({"endpoint": endpoint, "statuses": text, "total": sum(int(c) for c in counts.values())})
    return rows


_DQ_RANK = {"pass": 0, "ok": 0, "passed": 0, "skipped": 0, "warn": 1, "warning": 1, "fail": 2, "error": 2}


def dq_summary(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per (check, table) over all batches: worst status, failing rows summed; failures first."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for row in results:
        key = (str(row.get("check_name", "")), str(row.get("table_name", "")))
        line = merged.setdefault(
            key,
            {
                "check_name": key[0],
                "table_name": key[1],
                "status": "pass",
                "failing_rows": 0,
                "details": "",
                "batches": 0,
            },
        )
        line["batches"] += 1
        line["failing_rows"] += int(row.get("failing_rows") or 0)
        status_text = str(row.get("status", "pass")).lower()
        if _DQ_RANK.get(status_text, 2) > _DQ_RANK.get(line["status"], 2):
            line["status"] = status_text
        if row.get("details") and not line["details"] and status_text not in ("pass", "ok", "passed"):
            details = row["details"]
            line["details"] = (details if isinstance(details, str) else json.dumps(details, default=str))[
                :300
            ]
    return sorted(
        merged.values(), key=lambda r: (-_DQ_RANK.get(r["status"], 2), r["table_name"], r["check_name"])
    )


def job_detail(job: Job, quarantine: list[dict[str, Any]] | None) -> dict[str, Any]:
    """Progress per stream, rows per table, request statistics, data quality and quarantine of a job."""
    stats, progress = job.stats or {}, job.progress or {}
    from_stats = stats.get("quarantine") or stats.get("quarantine_rows") or []
    return {
        "streams": progress.get("streams") or {},
        "tables": _rows_per_table(job),
        "batches": progress.get("batches"),
        "requests": {
            "total": stats.get("requests"),
            "responses_429": stats.get("responses_429"),
            "retries": stats.get("retries"),
            "seconds": stats.get("seconds"),
            "by_endpoint": _endpoint_rows(stats.get("by_endpoint") or {}),
        },
        "dq": dq_summary(stats.get("dq") or []),
        "quarantined": stats.get("quarantined"),
        "quarantine": quarantine if quarantine is not None else from_stats,
        "quarantine_source": "warehouse quarantine table" if quarantine is not None else "job statistics",
    }


def chart_runs(session: Session, integration_id: int | None = None, limit: int = 30) -> list[dict[str, Any]]:
    """The last finished runs (of one integration, or all), oldest first: rows loaded and seconds."""
    query = sa.select(Job).where(Job.status.in_(FINAL_STATUSES))
    if integration_id is not None:
        query = query.where(Job.integration_id == integration_id)
    jobs = session.scalars(query.order_by(Job.created_at.desc()).limit(limit)).all()
    runs = []
    for job in reversed(jobs):
        # Wall time from start to finish, as the list shows; the run's own measure when that is missing.
        seconds = (job.stats or {}).get("seconds")
        if job.started_at and job.finished_at:
            seconds = (job.finished_at - job.started_at).total_seconds()
        label = job.created_at.astimezone(UTC).strftime("%m-%d %H:%M") if job.created_at else ""
        rows = sum(_rows_per_table(job).values())
        runs.append({"label": label, "rows": rows, "seconds": seconds or 0, "status": job.status})
    return runs


def integration_names(session: Session) -> dict[int, str]:
    """Integration names by id (a job shows its integration's name)."""
    return dict(session.execute(sa.select(Integration.id, Integration.name)).tuples().all())


def warehouse_quarantine(settings: Settings, job: Job) -> list[dict[str, Any]] | None:
    """The finished job's rows of the warehouse ``quarantine`` table; None when the warehouse cannot tell.

    Only asked when the job quarantined something and has finished (the table is final then), and only
    from a warehouse that offers ``quarantine_rows(job_id, limit=)``; otherwise the page falls back to
    the job's statistics.
    """
    if job.status not in FINAL_STATUSES or not (job.stats or {}).get("quarantined"):
        return None
    try:
        warehouse = open_settings_warehouse(settings)
    except Exception:  # busy, locked or down: the job page must still render
        return None
    try:
        reader = getattr(warehouse, "quarantine_rows", None)
        return None if reader is None else [dict(row) for row in reader(job.id, limit=200)]
    except Exception:  # same: fall back to the statistics
        return None
    finally:
        warehouse.close()
