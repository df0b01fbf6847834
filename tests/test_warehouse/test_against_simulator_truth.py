"""The whole path (complete issues -> transform -> validate -> load) lands exactly the simulator's truth.

Issues come from ``Site.complete_issue`` in several batches (links cross batches), then the site is mutated
(updates, deleted comments and worklogs, deleted issues, new dev data) and the changed issues are loaded
again, as an incremental run would.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.pipeline.transform import build_field_map, transform_issues, transform_reference
from app.pipeline.validate import validate
from app.warehouse.sql_warehouse import SqlWarehouse
from simulator import SimConfig, create_app
from simulator.data.children import CHILD_ID_FACTOR
from simulator.mutate import mutate
from simulator.routes.agile import board_json, sprint_json
from simulator.truth import truth

REFERENCE = {
    "projects": "projects",
    "users": "users",
    "fields": "fields",
    "statuses": "statuses",
    "status_categories": "status_categories",
    "priorities": "priorities",
    "issue_types": "issue_types",
    "resolutions": "resolutions",
    "issue_link_types": "link_types",
}


def _load_issues(wh: SqlWarehouse, site: Any, ids: list[str], job: str, batch: int = 15) -> None:
    fmap = build_field_map(site.ref.fields)
    for n, start in enumerate(range(0, len(ids), batch), start=1):
        raw = [site.complete_issue(i) for i in ids[start : start + batch]]
        checked = validate(
            transform_issues(raw, fmap, deployment=site.config.mode), job_id=job, raw_issues=raw
        )
        assert checked.quarantine == []
        wh.load(
            checked.rows, job_id=job, batch_no=n, quarantine=checked.quarantine, dq_results=checked.dq_results
        )


def _assert_matches(wh: SqlWarehouse, site: Any) -> None:
    expected = truth(site)
    for table, keys in expected.items():
        assert wh.fetch_keys(table) == sorted(keys), table


@pytest.mark.parametrize("mode", ["cloud", "server"])
def test_loaded_warehouse_equals_the_simulator_truth_before_and_after_changes(
    warehouse: SqlWarehouse, mode: str
) -> None:
    if mode == "server" and not warehouse.transactional:
        pytest.skip("one mode suffices on fakesnow (slow); the transform is the same")
    site = create_app(SimConfig(issues=40, seed=11, mode=mode)).state.sim  # type: ignore[arg-type]
    ref: dict[str, list[dict[str, Any]]] = {}
    for stream, attr in REFERENCE.items():
        ref.update(transform_reference(stream, getattr(site.ref, attr)))
    ref.update(transform_reference("boards", [board_json(site, b) for b in site.boards]))
    sprints = [dict(sprint_json(site, s), _boardId=b.id) for b in site.boards for s in b.sprints]
    ref.update(transform_reference("sprints", sprints))
    warehouse.load(ref, job_id="full", batch_no=0)
    _load_issues(warehouse, site, site.issue_ids(), "full")
    _assert_matches(warehouse, site)

    changed = mutate(
        site,
        {
            "seed": 3,
            "update": 5,
            "delete_comments": 4,
            "delete_worklogs": 3,
            "add_comments": 3,
            "add_dev": 3,
            "move": 1,
            "delete": 2,
            "create": 2,
        },
    )
    # Child ids are issue id * CHILD_ID_FACTOR + n in the simulator; an extractor finds these issues by
    # their bumped `updated` (dev-only changes by its dev refresh policy).
    children = [*changed["comments_added"], *changed["comments_deleted"], *changed["worklogs_deleted"]]
    touched = sorted(
        {
            *changed["updated"],
            *changed["created"],
            *changed["moved"],
            *changed["dev_added"],
            *(str(int(c) // CHILD_ID_FACTOR) for c in children),
        }
        & set(site.issue_ids())
    )
    # What an incremental run does: reload changed issues, apply worklog tombstones, mark deletions.
    _load_issues(warehouse, site, touched, "incr")
    warehouse.delete_children("worklogs", changed["worklogs_deleted"])
    warehouse.mark_deleted(changed["deleted"], "incr")
    _assert_matches(warehouse, site)
