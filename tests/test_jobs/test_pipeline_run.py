"""``run_pipeline`` against the simulator over real HTTP, into a DuckDB file, with SQLite/PG checkpoints."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from cryptography.fernet import Fernet

from app.core.database import session_factory
from app.core.errors import JobCancelled
from app.jira.client import JiraSite
from app.pipeline.run import RunRequest, run_pipeline
from app.pipeline.state import SyncStateStore
from app.warehouse.factory import open_warehouse
from tests.test_jobs.conftest import add_integration
from tests.test_jobs.helpers import RecordingSink, differences, search_ids


@pytest.fixture
def setup(meta_engine, sim_factory, tmp_path):
    sim = sim_factory(issues=80, seed=3)
    integration = add_integration(meta_engine, Fernet.generate_key().decode(), base_url=sim.base_url)
    state = SyncStateStore(session_factory(meta_engine), integration)
    site = JiraSite(base_url=sim.base_url, username=sim.config.email, token=sim.config.token)
    path = tmp_path / "wh.duckdb"
    warehouse = open_warehouse(duckdb_path=path, schema="jira", snowflake=None)
    yield sim, state, site, warehouse, path
    warehouse.close()


def run(site, warehouse, state, job_id, mode, sink=None, batch_rows=5000):
    request = RunRequest(job_id=job_id, site=site, mode=mode, batch_rows=batch_rows)
    return asyncio.run(run_pipeline(request, warehouse=warehouse, state=state, sink=sink or RecordingSink()))


def issue_job_ids(warehouse) -> dict[str, str]:
    rows = warehouse._query("SELECT issue_id, _job_id FROM jira.issues")
    return {str(r[0]): str(r[1]) for r in rows}


def test_full_sync_equals_truth_and_checkpoints_each_project_at_its_largest_updated(setup):
    sim, state, site, warehouse, _ = setup
    result = run(site, warehouse, state, "job-full", "full")
    assert differences(warehouse, sim.truth()) == {}
    assert result.stats["requests"] > 0 and result.stats["rows"]["issues"] == 80
    detail = sim.truth("issues")
    largest: dict[str, datetime] = {}
    for issue in detail.values():
        updated = datetime.fromisoformat(issue["updated"].replace("Z", "+00:00"))
        key = issue["project_key"]
        largest[key] = max(largest.get(key, updated), updated)
    saved = state.all()
    for key, updated in largest.items():
        assert saved[f"issues:{key}"].watermark == updated
    assert "since_ms" in saved["worklogs_deleted"].cursor


def test_incremental_after_mutations_rereads_only_the_changed_window_and_matches_truth(setup):
    sim, state, site, warehouse, _ = setup
    run(site, warehouse, state, "job-1", "full")
    before = {k: v.watermark for k, v in state.all().items() if k.startswith("issues:")}
    sim.clock(advance_s=3600)
    changed = sim.mutate(
        seed=5,
        update=6,
        add_comments=4,
        delete_comments=2,
        add_worklogs=3,
        delete_worklogs=2,
        move=1,
        create=3,
    )
    sim.clock(advance_s=120)
    sink = RecordingSink()
    result = run(site, warehouse, state, "job-2", "incremental", sink=sink)
    assert differences(warehouse, sim.truth()) == {}
    # Exactly the issues in each project's window (watermark minus the 5-minute overlap) were re-read.
    detail = sim.truth("issues")
    window = set()
    for issue_id, issue in detail.items():
        mark = before.get(f"issues:{issue['project_key']}")
        updated = datetime.fromisoformat(issue["updated"].replace("Z", "+00:00"))
        if mark is None or updated >= mark - timedelta(minutes=5):
            window.add(issue_id)
    touched = set(changed["updated"]) | set(changed["created"]) | set(changed["moved"])
    assert touched <= window
    assert len(window) < len(detail) / 2
    # No development data changed, so the dev refresh (open pull requests) re-read nothing more.
    assert search_ids(sim, "development[pullrequests].open > 0") - window
    reread = {i for i, job in issue_job_ids(warehouse).items() if job == "job-2"}
    assert reread == window
    assert sink.issue_records() == len(window)
    assert {k: v.watermark for k, v in state.all().items() if k.startswith("issues:")} != before
    assert result.stats["deleted_worklogs"] == len(changed["worklogs_deleted"])


def test_reconcile_marks_deleted_issues_and_only_those(setup):
    sim, state, site, warehouse, _path = setup
    run(site, warehouse, state, "job-1", "full")
    sim.clock(advance_s=600)
    deleted = set(sim.mutate(seed=9, delete=3)["deleted"])
    assert len(deleted) == 3
    run(site, warehouse, state, "job-incr", "incremental")
    assert set(warehouse.issue_ids()) >= deleted  # search never shows deletions
    result = run(site, warehouse, state, "job-rec", "reconcile")
    assert result.deleted_issues == 3
    flagged = {str(r[0]) for r in warehouse._query("SELECT issue_id FROM jira.issues WHERE is_deleted")}
    assert flagged == deleted
    assert differences(warehouse, sim.truth()) == {}


def test_cancel_keeps_whole_batches_and_a_resumed_full_job_continues_from_its_checkpoint(setup):
    sim, state, site, warehouse, _ = setup
    sink = RecordingSink(cancel_after_batches=2)  # the reference batch, then one batch of issues
    with pytest.raises(JobCancelled):
        run(site, warehouse, state, "job-x", "full", sink=sink, batch_rows=300)
    loaded = warehouse.issue_ids()
    truth_issues = set(sim.truth()["issues"])
    assert loaded and loaded < truth_issues
    # Children only of loaded issues: nothing half-written.
    orphans = warehouse._query(
        "SELECT count(*) FROM jira.comments c WHERE c.issue_id NOT IN (SELECT issue_id FROM jira.issues)"
    )
    assert orphans[0][0] == 0
    # The same job, resumed, starts from its own checkpoints rather than from scratch.
    resumed = RecordingSink()
    run(site, warehouse, state, "job-x", "full", sink=resumed, batch_rows=300)
    assert resumed.issue_records() < len(truth_issues)
    assert differences(warehouse, sim.truth()) == {}
    # A new full job ignores another job's checkpoints and reads everything.
    fresh = RecordingSink()
    run(site, warehouse, state, "job-y", "full", sink=fresh)
    assert fresh.issue_records() == len(truth_issues)
    assert differences(warehouse, sim.truth()) == {}


def test_dev_data_changes_without_updated_are_refreshed_by_incremental_and_reconcile(setup):
    sim, state, site, warehouse, _ = setup
    run(site, warehouse, state, "job-1", "full")
    sim.clock(advance_s=600)
    changed = sim.mutate(seed=21, add_dev=8)
    assert len(changed["dev_added"]) == 8 and not changed["updated"]
    before = {k: v.watermark for k, v in state.all().items()}
    stale = differences(warehouse, sim.truth())
    assert stale  # the new commits/pull requests are not in the warehouse yet
    run(site, warehouse, state, "job-2", "incremental")
    # Issues with open pull requests were re-read: none of their pull requests or commits is missing.
    open_prs = search_ids(sim, "development[pullrequests].open > 0")
    truth = sim.truth()
    for table in ("dev_pull_requests", "dev_commits"):
        have = set(warehouse.fetch_keys(table))
        missing = {key.split("|")[0] for key in truth[table] if key not in have}
        assert not missing & open_prs, table
    assert set(changed["dev_added"]) & open_prs
    run(site, warehouse, state, "job-3", "reconcile")
    assert differences(warehouse, sim.truth()) == {}
    after = {k: v.watermark for k, v in state.all().items()}
    assert after == before  # nothing new was updated: the refresh moved no watermark


def test_request_jql_narrows_the_integration_filter(setup):
    sim, state, site, warehouse, _ = setup
    key = sorted({i["project_key"] for i in sim.truth("issues").values()})[0]
    filtered = replace(site, jql="statusCategory = done")
    request = RunRequest(job_id="job-f", site=filtered, mode="full", jql=f'project = "{key}"')
    asyncio.run(run_pipeline(request, warehouse=warehouse, state=state, sink=RecordingSink()))
    expected = search_ids(sim, f'statusCategory = done AND project = "{key}"')
    assert expected and warehouse.issue_ids() == expected
