"""A job's quality record in the warehouse: dq_results summed over its batches, quarantine_rows readable.

Runs on DuckDB and on Snowflake through fakesnow (the ``warehouse`` fixture is parametrised).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.pipeline.validate import validate
from app.warehouse.base import Warehouse
from app.warehouse.sql_warehouse import SqlWarehouse
from tests.test_warehouse.payloads import issue, rows

T1 = "2025-03-01T10:00:00.000+0000"
T2 = "2025-03-02T10:00:00.000+0000"


def _bad_batch(*ids: int, good: int) -> dict[str, list[dict[str, Any]]]:
    """Issues ``ids`` with created after updated (quarantined) plus one good issue ``good``."""
    batch = rows(issue(good, T1), *(issue(i, T2, created=T2) for i in ids))
    for row in batch["issues"][1:]:
        row["created_at"] = datetime(2026, 1, 1, tzinfo=UTC)
    return batch


def _load_checked(wh: SqlWarehouse, batch: dict[str, list[dict[str, Any]]], job_id: str, batch_no: int):
    checked = validate(batch, job_id=job_id, max_failure_ratio=1.0)
    return wh.load(
        checked.rows,
        job_id=job_id,
        batch_no=batch_no,
        quarantine=checked.quarantine,
        dq_results=checked.dq_results,
    )


def _dq(wh: SqlWarehouse, job_id: str) -> dict[tuple[str, str], tuple[str, int, int]]:
    found = wh._query(
        f"SELECT check_name, table_name, status, failing_rows, checked_rows FROM {wh.schema}.dq_results "
        f"WHERE job_id = '{job_id}'"
    )
    return {(c, t): (s, int(f), int(n)) for c, t, s, f, n in found}


def test_dq_results_accumulate_over_a_jobs_batches_and_a_replay_counts_once(warehouse: SqlWarehouse) -> None:
    _load_checked(warehouse, _bad_batch(2, 3, good=1), "job-1", 1)  # two issues fail created<=updated
    _load_checked(warehouse, rows(issue(4, T1), issue(5, T1)), "job-1", 2)  # all pass
    _load_checked(warehouse, _bad_batch(7, good=6), "job-1", 3)  # one fails
    dq = _dq(warehouse, "job-1")
    # Failing rows summed, checked rows summed, the worst status kept (batch 2 passed).
    assert dq[("created_le_updated", "issues")] == ("fail", 3, 7)
    assert dq[("required_keys", "issues")] == ("pass", 0, 7)
    # Replaying batch 3 (a resumed job) replaces its own results instead of adding them again.
    _load_checked(warehouse, _bad_batch(7, good=6), "job-1", 3)
    assert _dq(warehouse, "job-1") == dq
    # Another job's record is its own.
    _load_checked(warehouse, rows(issue(8, T1)), "job-2", 1)
    assert _dq(warehouse, "job-2")[("created_le_updated", "issues")] == ("pass", 0, 1)
    assert _dq(warehouse, "job-1") == dq


def test_dq_details_come_from_the_latest_failing_batch(warehouse: SqlWarehouse) -> None:
    batch = rows(issue(1, T1))
    checks = [
        {"job_id": "job-1", "check_name": "counts_reconcile", "table_name": "comments", "status": "fail",
         "failing_rows": 1, "checked_rows": 1, "details": {"missing": ["1"]}},
    ]  # fmt: skip
    warehouse.load(batch, job_id="job-1", batch_no=1, dq_results=checks)
    passed = [{**checks[0], "status": "pass", "failing_rows": 0, "details": None}]
    warehouse.load(rows(issue(2, T1)), job_id="job-1", batch_no=2, dq_results=passed)
    found = warehouse._query(
        f"SELECT status, failing_rows, checked_rows, details FROM {warehouse.schema}.dq_results"
    )
    assert len(found) == 1
    status, failing, checked, details = found[0]
    assert (status, int(failing), int(checked)) == ("fail", 1, 2)
    assert '"missing"' in str(details) and '"1"' in str(details)


def test_quarantine_rows_returns_the_jobs_rows_with_raw_json(warehouse: SqlWarehouse) -> None:
    assert isinstance(warehouse, Warehouse)  # the protocol includes quarantine_rows
    _load_checked(warehouse, _bad_batch(2, 3, good=1), "job-1", 1)
    _load_checked(warehouse, _bad_batch(9, good=8), "job-2", 1)
    found = warehouse.quarantine_rows("job-1")
    issues = [r for r in found if r["entity"] == "issues"]
    assert [r["entity_id"] for r in issues] == ["2", "3"]
    assert all(set(r) == {"entity", "entity_id", "reason", "raw"} for r in found)
    assert "created_at" in issues[0]["reason"] and "after updated_at" in issues[0]["reason"]
    assert isinstance(issues[0]["raw"], dict) and issues[0]["raw"]["issue_key"] == "PAY-2"
    assert len(warehouse.quarantine_rows("job-1", limit=1)) == 1
    assert {r["entity_id"] for r in warehouse.quarantine_rows("job-2") if r["entity"] == "issues"} == {"9"}
    assert warehouse.quarantine_rows("job-none") == []
