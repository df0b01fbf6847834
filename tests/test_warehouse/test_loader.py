"""Loader behaviour on DuckDB and on Snowflake through fakesnow (the `warehouse` fixture is parametrised)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.core.errors import PayloadError, WarehouseError
from app.pipeline.validate import validate
from app.warehouse.sql_warehouse import SqlWarehouse
from tests.test_warehouse.conftest import column, snapshot
from tests.test_warehouse.payloads import issue, rows

T1 = "2025-03-01T10:00:00.000+0000"
T2 = "2025-03-02T10:00:00.000+0000"


def load(wh: SqlWarehouse, batch, batch_no: int = 1, job_id: str = "job-1"):
    return wh.load(batch, job_id=job_id, batch_no=batch_no)


def test_same_batch_twice_gives_the_same_tables(warehouse: SqlWarehouse) -> None:
    batch = rows(
        issue(
            1,
            T1,
            comments=(11, 12),
            worklogs=(21,),
            links_to=((31, 2),),
            sprints=(5,),
            histories=2,
            commits=2,
        ),
        issue(2, T1, comments=(13,)),
    )
    first = load(warehouse, batch)
    before = snapshot(warehouse)
    second = load(warehouse, batch)
    assert snapshot(warehouse) == before
    assert first["issues"]["inserted"] == 2 and second["issues"]["inserted"] == 0
    assert second["issues"]["updated"] == 2  # equal versions are re-applied (dev data can change alone)
    assert warehouse.table_counts()["comments"] == 3
    assert warehouse.table_counts()["dev_commits"] == 2
    assert column(warehouse, "dev_commits", "lines_added") == [3, 3]
    assert warehouse.fetch_keys("issue_links") == ["31"]
    assert warehouse.fetch_keys("issue_sprints") == ["1|5"]
    assert warehouse.fetch_keys("issue_changelog") == ["10|0", "11|0", "20|0"]


def test_an_older_version_never_overwrites_a_newer_one(warehouse: SqlWarehouse) -> None:
    load(warehouse, rows(issue(1, T2, summary="new title", comments=(11,))))
    result = load(warehouse, rows(issue(1, T1, summary="old title", comments=(11, 12, 13))), batch_no=2)
    assert column(warehouse, "issues", "summary") == ["new title"]
    # The stale batch replaced no children either.
    assert warehouse.fetch_keys("comments") == ["11"]
    assert result["issues"]["updated"] == 0
    assert result.get("comments", {}).get("inserted", 0) == 0


def test_child_replacement_removes_deleted_children(warehouse: SqlWarehouse) -> None:
    load(warehouse, rows(issue(1, T1, comments=(11, 12), worklogs=(21, 22), links_to=((31, 2), (32, 3)))))
    result = load(
        warehouse, rows(issue(1, T2, comments=(12,), worklogs=(22,), links_to=((32, 3),))), batch_no=2
    )
    assert warehouse.fetch_keys("comments") == ["12"]
    assert warehouse.fetch_keys("worklogs") == ["22"]
    assert warehouse.fetch_keys("issue_links") == ["32"]
    assert result["comments"] == {"rows_in": 1, "inserted": 1, "updated": 0, "deleted": 2}


def test_an_issue_whose_children_all_disappeared_keeps_none(warehouse: SqlWarehouse) -> None:
    load(warehouse, rows(issue(1, T1, comments=(11, 12))))
    load(warehouse, rows(issue(1, T2)), batch_no=2)
    assert warehouse.fetch_keys("comments") == []


def test_a_link_removed_on_the_other_side_disappears(warehouse: SqlWarehouse) -> None:
    # Link 31 was loaded from issue 1; issue 2 (its target) is re-read without it: the link was deleted.
    load(warehouse, rows(issue(1, T1, links_to=((31, 2),)), issue(2, T1)))
    load(warehouse, rows(issue(2, T2)), batch_no=2)
    assert warehouse.fetch_keys("issue_links") == []


def test_duplicate_keys_in_one_batch_keep_the_newest(warehouse: SqlWarehouse) -> None:
    batch = rows(issue(1, T1, summary="old"))
    batch["issues"] += rows(issue(1, T2, summary="new"))["issues"]
    batch["issues"].reverse()
    load(warehouse, batch)
    assert column(warehouse, "issues", "summary") == ["new"]


def test_timestamps_are_stored_as_the_same_utc_instant(warehouse: SqlWarehouse) -> None:
    load(warehouse, rows(issue(1, "2025-03-01T15:30:00.000+05:30")))
    (stored,) = column(warehouse, "issues", "updated_at")
    assert stored == datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


def test_reload_after_a_failed_batch_is_clean(warehouse: SqlWarehouse) -> None:
    bad = rows(issue(1, T1, comments=(11,)))
    bad["comments"][0]["created_at"] = "not a time"
    with pytest.raises(PayloadError):
        load(warehouse, bad)
    load(warehouse, rows(issue(1, T1, comments=(11,))))
    assert warehouse.fetch_keys("comments") == ["11"]


def test_a_type_violation_mid_batch_leaves_no_trace_and_the_checkpoint_unchanged(
    warehouse: SqlWarehouse,
) -> None:
    load(warehouse, rows(issue(1, T1, summary="kept", comments=(11,))))
    before = snapshot(warehouse)
    batch = rows(issue(1, T2, summary="lost", comments=(12,)), issue(2, T2))
    batch["worklogs"] = [dict(issue_id="2", worklog_id="w1", time_spent_seconds="an hour")]
    checkpoints: list[int] = []
    with pytest.raises(PayloadError, match=r"worklogs\.time_spent_seconds"):
        load(warehouse, batch, batch_no=2)
        checkpoints.append(2)  # what a caller does only after load() returns
    assert checkpoints == []
    assert snapshot(warehouse) == before


def test_quarantine_and_dq_results_are_loaded_with_the_batch(warehouse: SqlWarehouse) -> None:
    batch = rows(issue(1, T1), issue(2, T2, created=T2))
    batch["issues"][1]["created_at"] = datetime(2026, 1, 1, tzinfo=UTC)  # after updated
    checked = validate(batch, job_id="job-1", max_failure_ratio=1.0)
    load_result = warehouse.load(
        checked.rows, job_id="job-1", batch_no=1, quarantine=checked.quarantine, dq_results=checked.dq_results
    )
    assert warehouse.fetch_keys("issues") == ["1"]
    # The quarantined issue takes its children along (they cannot be placed without it).
    assert warehouse.fetch_keys("quarantine") == ["job-1|issue_changelog|20|0", "job-1|issues|2"]
    assert "job-1|created_le_updated|issues" in warehouse.fetch_keys("dq_results")
    assert load_result["quarantine"]["inserted"] == 2
    audit = warehouse.fetch_keys("load_audit")
    assert "job-1|issues|1" in audit


def test_mark_deleted_hides_the_issue_and_its_children(warehouse: SqlWarehouse) -> None:
    load(warehouse, rows(issue(1, T1, comments=(11,)), issue(2, T1, comments=(12,))))
    assert warehouse.mark_deleted(["2"], "job-2") == 1
    assert warehouse.issue_ids() == {"1"}
    assert warehouse.issue_ids("PAY") == {"1"}
    assert warehouse.issue_ids("OTHER") == set()
    assert warehouse.fetch_keys("issues") == ["1"]
    assert warehouse.fetch_keys("comments") == ["11"]
    # A later load of the issue (it came back) clears the flag.
    load(warehouse, rows(issue(2, T2)), batch_no=2)
    assert warehouse.issue_ids() == {"1", "2"}


def test_delete_children_removes_worklog_tombstones(warehouse: SqlWarehouse) -> None:
    load(warehouse, rows(issue(1, T1, worklogs=(21, 22, 23))))
    assert warehouse.delete_children("worklogs", ["21", "23", "99"]) == 2
    assert warehouse.fetch_keys("worklogs") == ["22"]
    with pytest.raises(WarehouseError):
        warehouse.delete_children("issue_sprints", ["1"])


def test_ensure_schema_is_repeatable(warehouse: SqlWarehouse) -> None:
    load(warehouse, rows(issue(1, T1)))
    warehouse.ensure_schema()
    assert warehouse.fetch_keys("issues") == ["1"]


def test_children_without_their_issue_in_the_batch_are_not_loaded(warehouse: SqlWarehouse) -> None:
    batch = rows(issue(1, T1, comments=(11,)))
    result = load(warehouse, {"comments": batch["comments"]})
    assert result["comments"] == {"rows_in": 1, "inserted": 0, "updated": 0, "deleted": 0}
    assert warehouse.fetch_keys("comments") == []
