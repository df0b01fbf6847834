"""Batch validation on recorded simulator issues with injected defects."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from app.core.errors import DataQualityError
from app.pipeline.transform import build_field_map, transform_issues
from app.pipeline.validate import BatchQualityError, validate

GOLDEN = Path(__file__).parent / "golden"


def _issues() -> list[dict[str, Any]]:
    return json.loads((GOLDEN / "cloud_issues.json").read_text(encoding="utf-8"))


def _fmap():
    return build_field_map(json.loads((GOLDEN / "cloud_fields.json").read_text(encoding="utf-8")))


def _check(result, check: str, table: str) -> dict[str, Any]:
    (row,) = [r for r in result.dq_results if r["check_name"] == check and r["table_name"] == table]
    return row


def test_a_clean_batch_passes_every_check_and_keeps_every_row() -> None:
    issues = _issues()
    rows = transform_issues(issues, _fmap())
    result = validate(rows, job_id="j", raw_issues=issues)
    assert result.quarantine == []
    assert {r["status"] for r in result.dq_results} == {"pass"}
    assert all(r["details"] is None for r in result.dq_results)
    assert {t: len(r) for t, r in result.rows.items()} == {t: len(r) for t, r in rows.items() if r}
    checks = {r["check_name"] for r in result.dq_results}
    assert checks == {
        "required_keys",
        "types",
        "created_le_updated",
        "unique_keys",
        "children_known",
        "counts_reconcile",
    }


def test_an_issue_missing_its_key_is_quarantined_with_its_raw_json_and_its_children() -> None:
    issues = _issues()
    rows = transform_issues(issues, _fmap())
    rows["issues"][0]["issue_key"] = None
    result = validate(rows, job_id="j", raw_issues=issues, max_failure_ratio=1.0)
    bad = {(q["entity"], q["entity_id"]): q for q in result.quarantine}
    q = bad[("issues", "10001")]
    assert "missing issue_key" in q["reason"] and q["raw"] == issues[0] and q["job_id"] == "j"
    assert all(r["issue_id"] != "10001" for r in result.rows["comments"])
    orphaned = [q for (entity, _), q in bad.items() if entity == "comments"]
    assert orphaned and all("not loaded in this batch" in q["reason"] for q in orphaned)
    assert _check(result, "required_keys", "issues")["status"] == "fail"


def test_unparseable_values_and_created_after_updated_are_quarantined() -> None:
    issues = _issues()
    issues[1]["fields"]["comment"]["comments"] = copy.deepcopy(issues[0]["fields"]["comment"]["comments"][:1])
    issues[1]["fields"]["comment"]["comments"][0]["created"] = "yesterday"
    issues[1]["fields"]["comment"]["comments"][0]["id"] = "777"
    issues[1]["fields"]["comment"]["total"] = 1
    issues[2]["fields"]["created"] = "2030-01-01T00:00:00.000+0000"
    rows = transform_issues(issues, _fmap())
    result = validate(rows, job_id="j", raw_issues=issues, max_failure_ratio=1.0)
    reasons = {(q["entity"], q["entity_id"]): q["reason"] for q in result.quarantine}
    assert "created_at: 'yesterday' is not a valid ts" in reasons[("comments", "777")]
    assert "is after updated_at" in reasons[("issues", issues[2]["id"])]
    assert _check(result, "types", "comments")["failing_rows"] == 1
    assert _check(result, "created_le_updated", "issues")["failing_rows"] == 1


def test_duplicates_keep_the_newest_and_are_reported_not_quarantined() -> None:
    issues = _issues()
    rows = transform_issues(issues, _fmap())
    newer = dict(rows["comments"][0], body_text="edited")
    newer["updated_at"] = rows["comments"][0]["updated_at"].replace(year=2030)
    rows["comments"].insert(0, newer)
    result = validate(rows, job_id="j", raw_issues=[*issues, issues[0]])
    dup = _check(result, "unique_keys", "comments")
    assert (dup["status"], dup["failing_rows"]) == ("warn", 1)
    assert _check(result, "unique_keys", "issues")["failing_rows"] == 1  # the issue listed twice
    kept = [r for r in result.rows["comments"] if r["comment_id"] == newer["comment_id"]]
    assert [r["body_text"] for r in kept] == ["edited"]
    assert result.quarantine == []


def test_children_of_an_issue_not_in_the_batch_are_quarantined() -> None:
    issues = _issues()
    rows = transform_issues(issues, _fmap())
    rows["worklogs"].append(dict(rows["worklogs"][0], worklog_id="999", issue_id="424242"))
    result = validate(rows, job_id="j", max_failure_ratio=1.0)
    assert [(q["entity"], q["entity_id"]) for q in result.quarantine] == [("worklogs", "999")]
    assert _check(result, "children_known", "worklogs")["failing_rows"] == 1


def test_counts_that_do_not_reconcile_with_jira_totals_are_reported() -> None:
    issues = _issues()
    issues[0]["fields"]["comment"]["total"] += 3  # Jira said more comments than we got
    issues[1]["changelog"]["total"] = 0  # more histories than reported: raced, not missing
    rows = transform_issues(issues, _fmap())
    result = validate(rows, job_id="j", raw_issues=issues)
    comments = _check(result, "counts_reconcile", "comments")
    assert (comments["status"], comments["details"]) == ("fail", {"missing": ["10001"]})
    changelog = _check(result, "counts_reconcile", "issue_changelog")
    assert (changelog["status"], changelog["details"]) == ("warn", {"extra": [issues[1]["id"]]})


def test_too_many_failures_raise_data_quality_error_carrying_the_result() -> None:
    issues = _issues()
    rows = transform_issues(issues, _fmap())
    for r in rows["issues"]:
        r["issue_key"] = None
    with pytest.raises(DataQualityError) as err:
        validate(rows, job_id="j", raw_issues=issues, max_failure_ratio=0.5)
    assert isinstance(err.value, BatchQualityError)
    assert len(err.value.validated.quarantine) > 0.5 * sum(len(r) for r in rows.values())
    # The same batch under a permissive ratio loads what is left (nothing of these issues).
    assert validate(rows, job_id="j", raw_issues=issues, max_failure_ratio=1.0).rows.get("issues") == []
