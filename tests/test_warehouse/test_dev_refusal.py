"""A dev-status refusal (403/404) says nothing about an issue's development data: the stored rows stay."""

from __future__ import annotations

from typing import Any

import pytest

from app.warehouse.sql_warehouse import SqlWarehouse
from tests.test_warehouse.payloads import issue, rows

T1 = "2025-03-01T10:00:00.000+0000"
T2 = "2025-03-02T10:00:00.000+0000"
T3 = "2025-03-03T10:00:00.000+0000"


def _refused(payload: dict[str, Any], status: str) -> dict[str, Any]:
    payload["devStatus"] = {"status": status, "details": [], "errors": []}
    return payload


@pytest.mark.parametrize("refusal", ["forbidden", "absent"])
def test_a_refused_dev_status_keeps_the_stored_dev_rows_and_says_so(
    warehouse: SqlWarehouse, refusal: str
) -> None:
    warehouse.load(
        rows(issue(1, T1, commits=2, comments=(11,)), issue(2, T1, commits=1)), job_id="j", batch_no=1
    )
    stored = warehouse.fetch_keys("dev_commits")
    assert len(stored) == 3
    # Both issues change; issue 1's dev-status is refused this time, issue 2's answers (no commits now).
    warehouse.load(rows(_refused(issue(1, T2), refusal), issue(2, T2)), job_id="j", batch_no=2)
    assert warehouse.fetch_keys("dev_commits") == [k for k in stored if k.startswith("1|")]
    assert warehouse.fetch_keys("comments") == []  # the issue's other children are replaced as usual
    found = warehouse._query(f"SELECT issue_id, dev_status FROM {warehouse.schema}.issues")
    assert dict(found) == {"1": refusal, "2": "none"}
    # The next answer is the truth again: no commits any more.
    warehouse.load(rows(issue(1, T3)), job_id="j", batch_no=3)
    assert warehouse.fetch_keys("dev_commits") == []
