"""The job lifecycle rules, on SQLite and PostgreSQL metadata."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from app.core.database import session_scope
from app.core.errors import JobConflictError
from app.jobs import jira_job
from app.models.unified_models import Job
from tests.test_jobs.conftest import add_integration


@pytest.fixture
def integration_id(meta_engine) -> int:
    return add_integration(meta_engine, Fernet.generate_key().decode())


def test_second_enqueue_for_same_integration_conflicts_naming_the_active_job(meta_engine, integration_id):
    with session_scope(meta_engine) as s:
        first = jira_job.enqueue_job(s, integration_id=integration_id, mode="full", trigger="api")
        first_id = first.id
    with pytest.raises(JobConflictError) as caught, session_scope(meta_engine) as s:
        jira_job.enqueue_job(s, integration_id=integration_id, mode="incremental", trigger="api")
    assert caught.value.running_job_id == first_id
    assert first_id in str(caught.value)


def test_unknown_integration_is_not_found(meta_engine):
    with pytest.raises(jira_job.NotFoundError), session_scope(meta_engine) as s:
        jira_job.enqueue_job(s, integration_id=999, mode="full", trigger="api")


def test_claim_runs_oldest_queued_once_then_queue_is_empty(meta_engine):
    key = Fernet.generate_key().decode()
    a = add_integration(meta_engine, key, name="a")
    b = add_integration(meta_engine, key, name="b")
    with session_scope(meta_engine) as s:
        job_a = jira_job.enqueue_job(s, integration_id=a, mode="full", trigger="api").id
    with session_scope(meta_engine) as s:
        job_b = jira_job.enqueue_job(s, integration_id=b, mode="full", trigger="api").id
    with session_scope(meta_engine) as s:
        claimed = jira_job.claim_next_job(s, "w1")
        assert claimed is not None and claimed.id == job_a
        assert claimed.status == "running" and claimed.worker_id == "w1" and claimed.attempts == 1
    with session_scope(meta_engine) as s:
        second = jira_job.claim_next_job(s, "w2")
        assert second is not None and second.id == job_b
    with session_scope(meta_engine) as s:
        assert jira_job.claim_next_job(s, "w3") is None


def test_concurrent_claims_never_hand_one_job_to_two_workers(meta_engine):
    key = Fernet.generate_key().decode()
    ids = [add_integration(meta_engine, key, name=f"i{n}") for n in range(6)]
    for integration in ids:
        with session_scope(meta_engine) as s:
            jira_job.enqueue_job(s, integration_id=integration, mode="full", trigger="api")
    claimed: list[str] = []
    lock = threading.Lock()

    def worker(name: str) -> None:
        while True:
            with session_scope(meta_engine) as s:
                job = jira_job.claim_next_job(s, name)
                if job is None:
                    return
                with lock:
                    claimed.append(job.id)

    threads = [threading.Thread(target=worker, args=(f"w{n}",)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(claimed) == 6
    assert len(set(claimed)) == 6


def test_cancel_queued_is_immediate_and_running_is_a_request(meta_engine, integration_id):
    with session_scope(meta_engine) as s:
        queued = jira_job.enqueue_job(s, integration_id=integration_id, mode="full", trigger="api").id
    with session_scope(meta_engine) as s:
        assert jira_job.request_cancel(s, queued).status == "cancelled"
    with session_scope(meta_engine) as s:
        running = jira_job.enqueue_job(
            s, integration_id=integration_id, mode="full", trigger="cli", worker_id="w"
        ).id
    with session_scope(meta_engine) as s:
        job = jira_job.request_cancel(s, running)
        assert job.status == "running" and job.cancel_requested
    with session_scope(meta_engine) as s:
        assert jira_job.heartbeat(s, running) is True
        jira_job.finish_job(s, running, "cancelled")
    with pytest.raises(jira_job.JobStateError), session_scope(meta_engine) as s:
        jira_job.request_cancel(s, running)


def test_stale_running_job_is_requeued_and_fresh_one_is_left_alone(meta_engine, integration_id):
    other = add_integration(meta_engine, Fernet.generate_key().decode(), name="other")
    with session_scope(meta_engine) as s:
        stale = jira_job.enqueue_job(
            s, integration_id=integration_id, mode="full", trigger="api", worker_id="dead"
        ).id
        fresh = jira_job.enqueue_job(
            s, integration_id=other, mode="full", trigger="api", worker_id="alive"
        ).id
    with session_scope(meta_engine) as s:
        s.execute(
            sa.update(Job)
            .where(Job.id == stale)
            .values(heartbeat_at=datetime.now(UTC) - timedelta(seconds=60))
        )
    with session_scope(meta_engine) as s:
        handled = [j.id for j in jira_job.recover_stale_jobs(s, stale_seconds=30)]
    assert handled == [stale]
    with session_scope(meta_engine) as s:
        assert jira_job.get_job(s, stale).status == "queued"
        assert jira_job.get_job(s, fresh).status == "running"
        messages = [e.message for e in jira_job.job_events(s, stale)]
    assert any("stopped heartbeating" in m for m in messages)


def test_list_jobs_filters_and_paginates_newest_first(meta_engine):
    key = Fernet.generate_key().decode()
    a = add_integration(meta_engine, key, name="a")
    b = add_integration(meta_engine, key, name="b")
    made = []
    for n in range(3):
        with session_scope(meta_engine) as s:
            job = jira_job.enqueue_job(s, integration_id=a, mode="full", trigger="api", worker_id="w")
            jira_job.finish_job(
                s, job.id, "succeeded" if n != 1 else "failed", error="boom" if n == 1 else None
            )
            made.append(job.id)
    with session_scope(meta_engine) as s:
        jira_job.enqueue_job(s, integration_id=b, mode="full", trigger="api")
    with session_scope(meta_engine) as s:
        page, total = jira_job.list_jobs(s, integration_id=a, limit=2)
        assert total == 3 and [j.id for j in page] == [made[2], made[1]]
        page, total = jira_job.list_jobs(s, integration_id=a, limit=2, offset=2)
        assert [j.id for j in page] == [made[0]]
        failed, total = jira_job.list_jobs(s, status="failed")
        assert total == 1 and failed[0].error == "boom"
        _, everything = jira_job.list_jobs(s)
        assert everything == 4


def test_heartbeat_of_a_worker_that_no_longer_owns_the_job_raises_job_lost(meta_engine, integration_id):
    with session_scope(meta_engine) as s:
        job_id = jira_job.enqueue_job(
            s, integration_id=integration_id, mode="full", trigger="api", worker_id="a"
        ).id
    with session_scope(meta_engine) as s:
        assert jira_job.heartbeat(s, job_id, worker_id="a") is False
    with session_scope(meta_engine) as s:
        jira_job.requeue_job(s, job_id, "test")
        assert jira_job.claim_next_job(s, "b") is not None
    with pytest.raises(jira_job.JobLostError), session_scope(meta_engine) as s:
        jira_job.heartbeat(s, job_id, worker_id="a")
    with session_scope(meta_engine) as s:
        assert jira_job.heartbeat(s, job_id, worker_id="b") is False
