"""Issue pages are buffered raw and counted by the rows they will make at least (BATCH_ROWS caps them)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from app.pipeline.state import RowBuffer
from app.pipeline.transform import build_field_map, estimated_rows, transform_issues

GOLDEN = Path(__file__).parent / "golden"


def _issues():
    return json.loads((GOLDEN / "cloud_issues.json").read_text(encoding="utf-8"))


def test_the_estimate_counts_issues_items_comments_and_worklogs_and_never_exceeds_the_rows() -> None:
    issues = _issues()
    fields = json.loads((GOLDEN / "cloud_fields.json").read_text(encoding="utf-8"))
    rows = transform_issues(issues, build_field_map(fields))
    core = sum(len(rows[t]) for t in ("issues", "issue_changelog", "comments", "worklogs"))
    assert estimated_rows(issues) == core
    assert core <= sum(len(r) for r in rows.values())


def test_malformed_containers_count_nothing() -> None:
    fields = {"comment": {"comments": "none"}, "worklog": None}
    odd = {"id": "1", "fields": fields, "changelog": {"histories": 3}}
    assert estimated_rows([odd]) == 1


def test_add_issues_buffers_raw_pages_with_their_size_and_position() -> None:
    issues = _issues()
    buffer = RowBuffer()
    when = datetime(2025, 3, 1, tzinfo=UTC)
    buffer.add_issues(issues[:2], stream="issues:PAY", position=when)
    buffer.add_issues(issues[2:], stream="issues:PAY", position=datetime(2025, 2, 1, tzinfo=UTC))
    assert buffer.issues == len(issues) and buffer.size == estimated_rows(issues)
    rows, raw, positions = buffer.take()
    assert rows == {} and raw == issues and positions == {"issues:PAY": when}
    assert buffer.empty()
