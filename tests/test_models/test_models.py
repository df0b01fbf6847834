"""The metadata models on SQLite and PostgreSQL: defaults, JSON, aware timestamps, constraints, cascades."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from app.core.database import create_db_engine, session_scope
from app.core.migrate import upgrade_head
from app.models import Integration, Job, JobEvent, SyncState


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    upgrade_head(db_url)
    engine = create_db_engine(db_url)
    yield engine
    engine.dispose()


def _integration(session: Session, name: str = "acme") -> Integration:
    integration = Integration(
        name=name, base_url="https://acme.atlassian.net", username="u", projects=["ENG"]
    )
    session.add(integration)
    session.flush()
    return integration


def test_defaults_and_json_round_trip(engine: sa.Engine) -> None:
    with session_scope(engine) as session:
        integration = _integration(session)
        job = Job(integration_id=integration.id, mode="full", params={"projects": ["ENG"], "jql": None})
        session.add(job)
        session.flush()
        job_id, integration_id = job.id, integration.id
    with Session(engine) as session:
        job = session.get_one(Job, job_id)
        assert len(job.id) == 36
        assert job.status == "queued"
        assert job.trigger == "manual"
        assert job.cancel_requested is False
        assert job.params == {"projects": ["ENG"], "jql": None}
        assert job.progress == {}
        assert job.created_at.tzinfo is not None
        integration = session.get_one(Integration, integration_id)
        assert integration.projects == ["ENG"]
        assert integration.deployment_type == "cloud"
        assert integration.enabled is True


def test_watermark_keeps_the_instant_in_utc(engine: sa.Engine) -> None:
    pacific = timezone(timedelta(hours=-8))
    instant = datetime(2026, 1, 15, 4, 30, 15, 123000, tzinfo=pacific)
    with session_scope(engine) as session:
        integration = _integration(session)
        session.add(
            SyncState(integration_id=integration.id, stream="issues:ENG", watermark=instant, cursor={"p": 1})
        )
    with Session(engine) as session:
        state = session.scalars(sa.select(SyncState)).one()
        assert state.watermark == instant
        assert state.watermark is not None and state.watermark.utcoffset() == timedelta(0)
        assert state.cursor == {"p": 1}


def test_naive_datetimes_are_refused(engine: sa.Engine) -> None:
    with pytest.raises(StatementError, match="naive datetime"), session_scope(engine) as session:
        integration = _integration(session)
        session.add(SyncState(integration_id=integration.id, stream="s", watermark=datetime(2026, 1, 1)))
        session.flush()


def test_unique_name_and_check_constraints(engine: sa.Engine) -> None:
    with session_scope(engine) as session:
        _integration(session)
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        _integration(session)
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        integration = _integration(session, "other")
        session.add(Job(integration_id=integration.id, mode="full", status="exploded"))
        session.flush()
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(Integration(name="bad", base_url="https://x", deployment_type="onprem"))
        session.flush()


def test_deleting_an_integration_cascades(engine: sa.Engine) -> None:
    with session_scope(engine) as session:
        integration = _integration(session)
        job = Job(integration_id=integration.id, mode="incremental", trigger="schedule")
        session.add(job)
        session.flush()
        session.add_all(
            [
                JobEvent(job_id=job.id, message="started", data={"n": 1}),
                JobEvent(job_id=job.id, level="warning", message="slow"),
                SyncState(integration_id=integration.id, stream="reference", watermark=datetime.now(UTC)),
            ]
        )
        integration_id = integration.id
    with session_scope(engine) as session:
        events = session.scalars(sa.select(JobEvent).order_by(JobEvent.id)).all()
        assert [event.message for event in events] == ["started", "slow"]
        session.delete(session.get_one(Integration, integration_id))
    with Session(engine) as session:
        for model in (Job, JobEvent, SyncState):
            assert session.scalar(sa.select(sa.func.count()).select_from(model)) == 0


def test_job_requires_an_existing_integration(engine: sa.Engine) -> None:
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(Job(integration_id=12345, mode="full"))
        session.flush()
