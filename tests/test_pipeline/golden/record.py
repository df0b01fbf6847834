"""Regenerate the golden transform files from the simulator.

    PYTHONPATH=. .venv/bin/python -m tests.test_pipeline.golden.record

For each mode (cloud, server) it writes ``<mode>_fields.json`` (the ``/field`` list),
``<mode>_issues.json`` (complete issues, contract section 2, from ``Site.complete_issue``) and
``<mode>_rows.json`` (what ``transform_issues`` makes of them, timestamps as ISO strings). Review the diff of
``*_rows.json`` by hand before committing: it is the expected output of the golden test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.pipeline.transform import build_field_map, transform_issues
from simulator import SimConfig, create_app

HERE = Path(__file__).parent
# Picked from a 30-issue site (seed 7) for coverage: links and worklogs (10001); sprints, builds and
# deployments (10002); 133 histories and dev data (10003); 25 worklogs (10005); 5 comments (10009); two
# GitHub instance types (10012); a Bitbucket DC error object and a sprint (10017); an inward link (10021).
ISSUE_IDS = ["10001", "10002", "10003", "10005", "10009", "10012", "10017", "10021"]


def jsonable(value: Any) -> Any:
    """Rows with datetimes/dates as ISO strings (stable, diffable)."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def expected_rows(rows: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The golden form of transform output: JSON-able, ``raw`` left out (it is the input, checked apart)."""
    out = []
    for table, table_rows in rows.items():
        out.append(
            {
                "table": table,
                "rows": [jsonable({k: v for k, v in r.items() if k != "raw"}) for r in table_rows],
            }
        )
    return out


def _dump(path: Path, data: list[Any]) -> None:
    # One record a line: compact, yet a diff shows which record changed.
    lines = (json.dumps(item, ensure_ascii=False, sort_keys=True) for item in data)
    path.write_text("[\n" + ",\n".join(lines) + "\n]\n", encoding="utf-8")


def record() -> None:
    """Write the golden inputs and expected rows for both deployment modes."""
    for mode in ("cloud", "server"):
        site = create_app(SimConfig(issues=30, seed=7, mode=mode)).state.sim
        fields = site.ref.fields
        issues = [site.complete_issue(i) for i in ISSUE_IDS]
        rows = transform_issues(issues, build_field_map(fields), deployment=mode)
        _dump(HERE / f"{mode}_fields.json", fields)
        _dump(HERE / f"{mode}_issues.json", issues)
        _dump(HERE / f"{mode}_rows.json", expected_rows(rows))


if __name__ == "__main__":
    record()
