"""The Arrow frames ``validate`` hands the loader: the checked rows, converted once, loaded the same."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from app.core.errors import PayloadError
from app.pipeline.frames import UNIQUE_KEYS, all_aware, data_frame, keys_unique, ts_array
from app.pipeline.schema import JOB_ID, SYNCED_AT, TABLES
from app.pipeline.transform import build_field_map, transform_issues
from app.pipeline.validate import validate
from app.warehouse.duckdb import DuckDBWarehouse
from tests.test_warehouse.conftest import snapshot

GOLDEN = Path(__file__).parent / "golden"


def _issues() -> list[dict[str, Any]]:
    return json.loads((GOLDEN / "cloud_issues.json").read_text(encoding="utf-8"))


def _rows(issues: list[dict[str, Any]]):
    fields = json.loads((GOLDEN / "cloud_fields.json").read_text(encoding="utf-8"))
    return transform_issues(issues, build_field_map(fields))


def test_every_checked_table_gets_a_frame_of_its_rows_marked_unique() -> None:
    issues = _issues()
    result = validate(_rows(issues), job_id="j", raw_issues=issues)
    assert set(result.frames) == set(result.rows)
    for name, frame in result.frames.items():
        table = TABLES[name]
        assert frame.num_rows == len(result.rows[name]), name
        expected = [c.name for c in table.stage_columns if c.name not in (SYNCED_AT, JOB_ID)]
        assert frame.column_names == expected, name
        assert frame.schema.metadata[UNIQUE_KEYS] == b"1"
    first = result.rows["issue_changelog"][0]
    frame = result.frames["issue_changelog"]
    assert frame.column("history_id")[0].as_py() == first["history_id"]
    assert frame.column("changed_at")[0].as_py() == first["changed_at"]


def test_loading_the_frames_gives_the_same_warehouse_as_loading_the_rows(tmp_path: Path) -> None:
    issues = _issues()
    result = validate(_rows(issues), job_id="j", raw_issues=issues)
    stores = []
    for name, frames in (("rows", None), ("frames", result.frames)):
        wh = DuckDBWarehouse(tmp_path / f"{name}.duckdb")
        wh.ensure_schema()
        wh.load(result.rows, job_id="j", batch_no=1, frames=frames)
        stores.append(snapshot(wh))
        wh.close()
    assert stores[0] == stores[1]


def test_a_value_of_the_wrong_type_leaves_it_out_of_the_frame_with_its_row() -> None:
    issues = _issues()
    rows = _rows(issues)
    bad = rows["comments"][0]
    bad["body_text"] = 42  # an int where text belongs: Arrow refuses it, the row is quarantined
    result = validate(rows, job_id="j", raw_issues=issues, max_failure_ratio=1.0)
    reasons = {(q["entity"], q["entity_id"]): q["reason"] for q in result.quarantine}
    assert reasons[("comments", bad["comment_id"])] == "body_text: 42 is not a valid string"
    frame = result.frames["comments"]
    assert frame.num_rows == len(rows["comments"]) - 1 == len(result.rows["comments"])
    assert bad["comment_id"] not in frame.column("comment_id").to_pylist()


def test_a_missing_required_string_is_found_through_the_arrow_null_count() -> None:
    issues = _issues()
    rows = _rows(issues)
    rows["issue_changelog"][3]["issue_id"] = None
    result = validate(rows, job_id="j", raw_issues=issues, max_failure_ratio=1.0)
    (q,) = [q for q in result.quarantine if q["entity"] == "issue_changelog"]
    assert "missing issue_id" in q["reason"]
    assert result.frames["issue_changelog"].column("issue_id").null_count == 0


def test_an_int_too_large_for_the_warehouse_gets_no_frame_and_the_load_names_it(tmp_path: Path) -> None:
    issues = _issues()
    rows = _rows(issues)
    rows["worklogs"][0]["time_spent_seconds"] = 2**70  # an int, so no check fails; 64 bits cannot hold it
    result = validate(rows, job_id="j", raw_issues=issues)
    assert "worklogs" not in result.frames and "comments" in result.frames
    wh = DuckDBWarehouse(tmp_path / "w.duckdb")
    wh.ensure_schema()
    with pytest.raises(PayloadError, match=r"worklogs\.time_spent_seconds"):
        wh.load(result.rows, job_id="j", batch_no=1, frames=result.frames)
    assert wh.table_counts()["issues"] == 0
    wh.close()


def test_an_unmarked_frame_is_counted_and_a_marked_one_trusted() -> None:
    issues = _issues()
    result = validate(_rows(issues), job_id="j", raw_issues=issues)
    table = TABLES["issue_changelog"]
    frame = result.frames["issue_changelog"]
    doubled = frame.replace_schema_metadata(None)
    doubled = pa.concat_tables([doubled, doubled])
    assert not keys_unique(table, doubled)
    assert keys_unique(table, frame.replace_schema_metadata(None))


def test_json_columns_hold_each_document_as_text_whatever_mix_of_values() -> None:
    docs: list[Any] = [{"a": "é", "n": 1}, [1, 2], "plain", {"when": datetime(2025, 1, 2, tzinfo=UTC)}, None]
    rows = [{"issue_id": str(i), "raw": doc} for i, doc in enumerate(docs)]
    for chosen in (rows[:3], rows):  # documents only (one joined buffer), and with a datetime and a null
        frame = data_frame(TABLES["issues"], chosen)
        column = frame.column("raw")
        assert column.type == pa.string()
        texts = column.to_pylist()
        assert [None if t is None else json.loads(t) for t in texts[:3]] == docs[:3]
        if len(chosen) == len(docs):
            assert json.loads(texts[3]) == {"when": "2025-01-02 00:00:00+00:00"}
            assert texts[4] is None


_AWARE = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


@pytest.mark.parametrize(
    "values",
    [
        [_AWARE, None],
        [None, None],
        [],
        [datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC)],  # beyond pandas' range
        [_AWARE.astimezone(timezone(timedelta(hours=2))), _AWARE],  # zones mixed
        [_AWARE.astimezone(timezone(timedelta(hours=-5)))],
    ],
)
def test_timestamp_columns_hold_the_same_instants_whichever_way_they_convert(values: list[Any]) -> None:
    converted = ts_array(values)
    assert converted.type == pa.timestamp("us", tz="UTC")
    assert converted.to_pylist() == values
    assert converted.equals(pa.array(values, type=pa.timestamp("us", tz="UTC")))


def test_only_aware_datetimes_and_nulls_count_as_aware() -> None:
    assert all_aware([_AWARE, None]) and all_aware([]) and all_aware([None])
    assert not all_aware([_AWARE, _AWARE.replace(tzinfo=None)])
    assert not all_aware([_AWARE, "2025-01-02T03:04:05Z"])
