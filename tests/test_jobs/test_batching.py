"""Batches close by issue count (BATCH_ISSUES), with a row cap (BATCH_ROWS) bounding memory."""

from __future__ import annotations

import asyncio

import pytest
from cryptography.fernet import Fernet

from app.core.database import create_db_engine, session_factory
from app.core.migrate import upgrade_head
from app.jira.client import JiraSite
from app.pipeline.run import RunRequest, run_pipeline
from app.pipeline.state import SyncStateStore
from app.warehouse.factory import open_warehouse
from tests.test_jobs.conftest import add_integration
from tests.test_jobs.helpers import RecordingSink, differences

PAGE = 10  # the simulated site's search page size: a batch grows page by page


@pytest.fixture
def meta_engine(tmp_path):
    """SQLite only: batching does not depend on the metadata database (the other tests cover both)."""
    url = f"sqlite:///{tmp_path / 'meta.db'}"
    upgrade_head(url)
    engine = create_db_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def setup(meta_engine, sim_factory, tmp_path):
    sim = sim_factory(issues=90, seed=8, page_cap=PAGE)
    integration = add_integration(meta_engine, Fernet.generate_key().decode(), base_url=sim.base_url)
    state = SyncStateStore(session_factory(meta_engine), integration)
    site = JiraSite(base_url=sim.base_url, username=sim.config.email, token=sim.config.token)
    warehouse = open_warehouse(duckdb_path=tmp_path / "wh.duckdb", schema="jira", snowflake=None)
    yield sim, state, site, warehouse
    warehouse.close()


def issue_batches(sink: RecordingSink) -> list[dict[str, int]]:
    """Per committed batch of issues, its rows per table (without the loader's own dq rows)."""
    out = []
    for _level, message, data in sink.events:
        if message.startswith("batch ") and data and "issues" in data["tables"]:
            out.append({t: n for t, n in data["tables"].items() if t not in ("dq_results", "quarantine")})
    return out


def run(setup, **knobs) -> RecordingSink:
    sim, state, site, warehouse = setup
    sink = RecordingSink()
    request = RunRequest(job_id="job", site=site, mode="full", batch_seconds=3600, **knobs)
    asyncio.run(run_pipeline(request, warehouse=warehouse, state=state, sink=sink))
    assert differences(warehouse, sim.truth()) == {}
    return sink


def test_batches_close_at_the_issue_count(setup):
    batches = issue_batches(run(setup, batch_issues=25, batch_rows=1_000_000))
    sizes = [b["issues"] for b in batches]
    assert sum(sizes) == 90
    # Every batch but the last reached 25 issues and overshot by less than one page.
    assert all(25 <= n < 25 + PAGE for n in sizes[:-1]) and 0 < sizes[-1] < 25 + PAGE
    assert len(sizes) < 90 / PAGE  # fewer batches than pages


def test_the_row_cap_closes_batches_before_the_issue_count(setup):
    batches = issue_batches(run(setup, batch_issues=1000, batch_rows=200))
    rows = [sum(b.values()) for b in batches]
    assert len(rows) > 1 and sum(b["issues"] for b in batches) == 90
    assert all(n >= 200 for n in rows[:-1])
    assert all(b["issues"] < 90 for b in batches)
