"""The worker: claims, runs and finishes jobs; a worker that lost its job stops without finishing it."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from app.core.database import session_scope
from app.jobs import jira_job
from app.jobs.worker import JobWorker
from app.models.unified_models import Job
from tests.test_jobs.conftest import add_integration, make_settings


@pytest.fixture
def world(meta_engine, db_url, tmp_path, sim_factory):
    sim = sim_factory(issues=40, seed=11)
    settings = make_settings(db_url, tmp_path)
    integration = add_integration(meta_engine, settings.encryption_key_value, base_url=sim.base_url)
    return meta_engine, settings, integration


def test_worker_claims_runs_and_records_the_outcome(world):
    engine, settings, integration = world
    with session_scope(engine) as s:
        job_id = jira_job.enqueue_job(s, integration_id=integration, mode="full", trigger="api").id
    worker = JobWorker(engine, settings, worker_id="w-1")
    assert asyncio.run(worker.run_next()) is True
    with session_scope(engine) as s:
        job = jira_job.get_job(s, job_id)
        assert job.status == "succeeded" and job.worker_id == "w-1" and job.finished_at is not None
        assert job.stats["rows"]["issues"] == 40 and job.progress["batches"] >= 2
    assert asyncio.run(worker.run_next()) is False  # the queue is empty


def test_worker_that_lost_its_job_to_another_worker_stops_without_finishing_it(world):
    engine, settings, integration = world
    with session_scope(engine) as s:
        job_id = jira_job.enqueue_job(
            s, integration_id=integration, mode="full", trigger="api", worker_id="old"
        ).id
    # The job was re-queued as stale and claimed by another worker while "old" was still running it.
    with session_scope(engine) as s:
        s.execute(sa.update(Job).where(Job.id == job_id).values(worker_id="new"))
    status = asyncio.run(JobWorker(engine, settings, worker_id="old").run_job(job_id))
    assert status == "lost"
    with session_scope(engine) as s:
        job = jira_job.get_job(s, job_id)
        assert job.status == "running" and job.worker_id == "new" and job.finished_at is None
