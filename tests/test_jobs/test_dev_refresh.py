"""The cheap development-data refresh: only issues whose Development field changed are re-read.

Against the simulator over real HTTP: dev data added without ``updated`` moving reaches the warehouse with
the next incremental run, and an incremental run without dev changes makes no dev-status detail request
beyond those of its own ``updated`` window.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from app.core.database import session_factory
from app.jira.client import JiraSite
from app.jira.dev_status import REFUSALS_TO_DISABLE
from app.models.unified_models import DevFingerprint
from app.pipeline.run import RunRequest, run_pipeline
from app.pipeline.schema import DEV_CHILD_TABLES
from app.pipeline.state import SyncStateStore
from app.warehouse.factory import open_warehouse
from tests.test_jobs.conftest import add_integration
from tests.test_jobs.helpers import RecordingSink, differences, search_ids

DETAIL = "GET /rest/dev-status/latest/issue/detail"


@pytest.fixture
def world(meta_engine, sim_factory, tmp_path):
    def make(**config):
        sim = sim_factory(issues=90, seed=4, **config)
        integration = add_integration(meta_engine, Fernet.generate_key().decode(), base_url=sim.base_url)
        state = SyncStateStore(session_factory(meta_engine), integration)
        site = JiraSite(base_url=sim.base_url, username=sim.config.email, token=sim.config.token)
        warehouse = open_warehouse(duckdb_path=tmp_path / "wh.duckdb", schema="jira", snowflake=None)
        opened.append(warehouse)
        return sim, state, site, warehouse, integration

    opened: list = []
    yield make
    for warehouse in opened:
        warehouse.close()


def run(site, warehouse, state, job_id, mode, dev_refresh="open", sink=None):
    request = RunRequest(job_id=job_id, site=site, mode=mode, dev_refresh=dev_refresh)
    sink = sink or RecordingSink()
    return asyncio.run(run_pipeline(request, warehouse=warehouse, state=state, sink=sink)), sink


def detail_calls(sim) -> int:
    return sum(sim.stats()["by_endpoint"].get(DETAIL, {}).values())


def refreshed(sink: RecordingSink) -> int:
    streams = sink.last_progress.get("streams", {})
    return sum(v["records"] for k, v in streams.items() if k.startswith("dev_refresh:"))


def stored_fingerprints(engine, integration) -> set[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(DevFingerprint.issue_id).where(DevFingerprint.integration_id == integration)
        ).all()
    return {str(r[0]) for r in rows}


def test_full_run_fingerprints_every_issue_with_dev_data(world, meta_engine):
    sim, state, site, warehouse, integration = world()
    run(site, warehouse, state, "job-full", "full")
    truth = sim.truth()
    with_dev = {key.split("|")[0] for table in DEV_CHILD_TABLES for key in truth[table]}
    stored = stored_fingerprints(meta_engine, integration)
    assert with_dev and with_dev <= stored <= set(truth["issues"])


def test_incremental_without_dev_changes_fetches_no_dev_detail_for_the_refresh(world):
    sim, state, site, warehouse, _ = world()
    run(site, warehouse, state, "job-full", "full")
    sim.clock(advance_s=600)
    # Control: the same incremental without any refresh; its updated-window alone costs this many.
    sim.reset_stats()
    run(site, warehouse, state, "job-control", "incremental", dev_refresh="none")
    window_details = detail_calls(sim)
    sim.reset_stats()
    _, sink = run(site, warehouse, state, "job-incr", "incremental", dev_refresh="open")
    assert detail_calls(sim) == window_details
    assert refreshed(sink) == 0
    # The refresh did list the issues with open pull requests; none of them had changed.
    listed = [d for _, m, d in sink.events if m.startswith("development data changed for")]
    assert listed and listed[0]["changed"] == 0
    assert listed[0]["listed"] == len(search_ids(sim, "development[pullrequests].open > 0"))
    assert differences(warehouse, sim.truth()) == {}


def updated_window(sim, watermarks) -> set[str]:
    """Issues an incremental's own scan re-reads: updated within the 5-minute overlap of the watermark."""
    window = set()
    for issue_id, issue in sim.truth("issues").items():
        mark = watermarks.get(f"issues:{issue['project_key']}")
        updated = datetime.fromisoformat(issue["updated"].replace("Z", "+00:00"))
        if mark is None or updated >= mark - timedelta(minutes=5):
            window.add(issue_id)
    return window


def test_dev_data_added_without_updated_is_picked_up_by_the_next_incremental(world):
    sim, state, site, warehouse, _ = world()
    run(site, warehouse, state, "job-full", "full")
    sim.clock(advance_s=600)
    changed = set(sim.mutate(seed=21, add_dev=12)["dev_added"])
    assert len(changed) == 12
    watermarks = {k: v.watermark for k, v in state.all().items()}
    window = updated_window(sim, watermarks)
    open_prs = search_ids(sim, "development[pullrequests].open > 0")
    expected = (changed & open_prs) - window
    assert expected  # some changed issues with open pull requests lie outside the updated window
    sim.reset_stats()
    _, sink = run(site, warehouse, state, "job-incr", "incremental")
    # Exactly the window and the changed issues with open pull requests were re-read...
    rows = warehouse._query("SELECT issue_id, _job_id FROM jira.issues")
    reread = {str(r[0]) for r in rows if r[1] == "job-incr"}
    assert reread == window | (changed & open_prs)
    assert refreshed(sink) == len(expected)
    # ... so their new pull requests and commits are in the warehouse.
    truth = sim.truth()
    for table in ("dev_pull_requests", "dev_commits"):
        have = set(warehouse.fetch_keys(table))
        missing = {key.split("|")[0] for key in truth[table] if key not in have}
        assert not missing & open_prs, table
    assert {k: v.watermark for k, v in state.all().items()} == watermarks
    # The next incremental finds nothing changed and re-reads nothing.
    _, again = run(site, warehouse, state, "job-incr-2", "incremental")
    assert refreshed(again) == 0
    # Reconcile covers every issue with dev data: additions without open pull requests arrive too.
    _, rec = run(site, warehouse, state, "job-rec", "reconcile")
    assert refreshed(rec) <= len(changed - open_prs)
    assert differences(warehouse, sim.truth()) == {}


def test_refused_dev_status_costs_a_few_dev_status_requests_per_incremental(world):
    sim, state, site, warehouse, _ = world(dev_status="forbidden")
    result, _ = run(site, warehouse, state, "job-full", "full")
    assert any("View development tools" in n for n in result.stats["notices"])
    sim.clock(advance_s=600)
    sim.mutate(seed=3, add_dev=5)
    sim.reset_stats()
    result, sink = run(site, warehouse, state, "job-incr", "incremental")
    by_endpoint = sim.stats()["by_endpoint"]
    dev_requests = sum(n for ep, per in by_endpoint.items() if "dev-status" in ep for n in per.values())
    assert dev_requests <= REFUSALS_TO_DISABLE  # refusals in a row before it is switched off
    assert any("View development tools" in n for n in result.stats["notices"])
    assert refreshed(sink) <= 200  # at most one chunk is re-read before the refusal stops the refresh


class DevDataRemoved(httpx.AsyncBaseTransport):
    """Real HTTP to the simulator, answering ``"{}"`` as the Development field of ``issue_id``."""

    def __init__(self, issue_id: str) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.issue_id = issue_id

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method != "POST" or not request.url.path.endswith("/search/jql"):
            return response
        await response.aread()
        if response.status_code != 200:
            return response
        body = json.loads(response.content)
        for issue in body.get("issues", []):
            if str(issue["id"]) == self.issue_id:
                fields = issue.get("fields") or {}
                for name, value in fields.items():
                    if isinstance(value, str) and "json=" in value and "cachedValue" in value:
                        fields[name] = "{}"
        return httpx.Response(200, json=body)

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_an_issue_whose_dev_data_is_gone_loses_its_fingerprint(world, meta_engine):
    _sim, state, site, warehouse, integration = world()
    run(site, warehouse, state, "job-1", "full")
    before = stored_fingerprints(meta_engine, integration)
    gone = sorted(before)[0]
    request = RunRequest(job_id="job-2", site=site, mode="full")
    sink = RecordingSink()
    coro = run_pipeline(request, warehouse=warehouse, state=state, sink=sink, transport=DevDataRemoved(gone))
    asyncio.run(coro)
    assert stored_fingerprints(meta_engine, integration) == before - {gone}
