"""The scheduler: schedules follow the integrations without a restart; one leader on PostgreSQL."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from cryptography.fernet import Fernet

from app.core.database import session_scope
from app.jobs import jira_job
from app.jobs.scheduler import JobScheduler
from app.models.unified_models import Integration, Job
from tests.test_jobs.conftest import add_integration, make_settings


async def wait_for(predicate, limit: float = 20.0) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while loop.time() < deadline:
        if await asyncio.to_thread(predicate):
            return True
        await asyncio.sleep(0.1)
    return False


def scheduled_jobs(engine) -> list[Job]:
    with session_scope(engine) as s:
        return list(s.scalars(sa.select(Job).where(Job.trigger == "schedule")).all())


async def test_new_integration_gets_scheduled_and_disabling_it_removes_the_schedule(
    meta_engine, db_url, tmp_path
):
    settings = make_settings(db_url, tmp_path, scheduler_enabled=True)
    scheduler = JobScheduler(meta_engine, settings, resync_seconds=0.3)
    await scheduler.start()
    try:
        # Created after start-up: picked up by the periodic re-sync, then fires on its (2 s) interval.
        integration = add_integration(meta_engine, Fernet.generate_key().decode(), interval_hours=2 / 3600)
        assert await wait_for(lambda: scheduler.next_run(integration) is not None)
        assert await wait_for(lambda: len(scheduled_jobs(meta_engine)) == 1)
        job = scheduled_jobs(meta_engine)[0]
        assert job.integration_id == integration and job.mode == "incremental" and job.status == "queued"
        # While that job is queued the next firing is skipped, not stacked.
        await asyncio.sleep(2.5)
        assert len(scheduled_jobs(meta_engine)) == 1
        with session_scope(meta_engine) as s:
            s.execute(sa.update(Integration).where(Integration.id == integration).values(enabled=False))
        assert await wait_for(lambda: scheduler.next_run(integration) is None)
    finally:
        await scheduler.stop()


async def test_cron_schedule_and_default_interval_from_settings(meta_engine, db_url, tmp_path):
    settings = make_settings(db_url, tmp_path, scheduler_enabled=True, jira_job_interval_hours=6)
    key = Fernet.generate_key().decode()
    cron = add_integration(meta_engine, key, name="cron", cron="15 3 * * *")
    default = add_integration(meta_engine, key, name="default")
    scheduler = JobScheduler(meta_engine, settings, resync_seconds=0.3)
    await scheduler.start()
    try:
        assert await wait_for(lambda: scheduler.next_run(cron) is not None)
        nxt = scheduler.next_run(cron)
        assert nxt is not None
        assert (nxt.hour, nxt.minute) == (3, 15)
        assert scheduler.next_run(default) is not None
        assert scheduler.describe()["schedules"] == 2 and scheduler.describe()["leader"] is True
    finally:
        await scheduler.stop()


async def test_only_one_replica_schedules_on_postgresql(meta_engine, db_url, tmp_path):
    if meta_engine.dialect.name != "postgresql":
        return  # SQLite runs a single service process by construction
    settings = make_settings(db_url, tmp_path, scheduler_enabled=True)
    add_integration(meta_engine, Fernet.generate_key().decode(), interval_hours=1)
    first = JobScheduler(meta_engine, settings, resync_seconds=0.3)
    second = JobScheduler(meta_engine, settings, resync_seconds=0.3)
    await first.start()
    await second.start()
    try:
        assert await wait_for(lambda: first.describe()["schedules"] + second.describe()["schedules"] == 1)
        assert [first.is_leader, second.is_leader].count(True) == 1
        leader, follower = (first, second) if first.is_leader else (second, first)
        await leader.stop()
        # The lock is released with the leader: the other replica takes over.
        assert await wait_for(lambda: follower.is_leader and follower.describe()["schedules"] == 1)
    finally:
        await first.stop()
        await second.stop()


def test_fire_skips_when_a_job_is_active(meta_engine, db_url, tmp_path):
    settings = make_settings(db_url, tmp_path)
    integration = add_integration(meta_engine, Fernet.generate_key().decode())
    with session_scope(meta_engine) as s:
        running = jira_job.enqueue_job(s, integration_id=integration, mode="full", trigger="api").id
    scheduler = JobScheduler(meta_engine, settings)
    assert asyncio.run(scheduler.fire(integration)) is None
    with session_scope(meta_engine) as s:
        jira_job.request_cancel(s, running)
    assert asyncio.run(scheduler.fire(integration)) is not None
