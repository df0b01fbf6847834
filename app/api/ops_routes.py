"""Operations endpoints: check an integration's credentials, and the detailed health of the service.

``GET /admin/health`` (viewers may read) reports the metadata database, the cache, the warehouse, the
scheduler and each integration's last run, active job and next scheduled run. The warehouse probe opens
the warehouse briefly, so its result is cached for ``HEALTH_TTL`` seconds.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from fastapi import APIRouter, HTTPException, Request, status
from sqlalchemy import select
from sqlalchemy.engine import Engine

from app.api.deps import AdminUser, CurrentUser, SettingsDep
from app.core.config import Settings
from app.core.database import check_database, session_scope
from app.core.errors import JiraError, KairusError
from app.jira.client import JiraClient
from app.jira.retry import RetryPolicy
from app.jobs import jira_job
from app.jobs.sites import open_settings_warehouse, site_for
from app.models.unified_models import Integration, Job
from app.schemas.job_schemas import AdminHealth, ComponentHealth, IntegrationHealth, IntegrationTestResult

router = APIRouter(prefix="/admin", tags=["ops"])

HEALTH_TTL = 30.0
WAREHOUSE_KEY = "health:warehouse"


@router.post("/integrations/{integration_id}/test", response_model=IntegrationTestResult)
async def test_integration(
    integration_id: int, request: Request, settings: SettingsDep, _user: AdminUser
) -> IntegrationTestResult:
    """Check the integration's credentials against Jira's ``/myself`` (account, time zone, or the error)."""
    engine: Engine = request.app.state.engine

    def load() -> Integration | None:
        with session_scope(engine) as session:
            return session.get(Integration, integration_id)

    integration = await asyncio.to_thread(load)
    if integration is None:
        raise HTTPException(
            status_code=status.HTTP_404_NOT_FOUND, detail=f"integration {integration_id} not found"
        )
    result = IntegrationTestResult(ok=False, integration_id=integration_id)
    try:
        site = site_for(integration, settings.encryption_key_value)
        # An interactive check: one quick retry, not the pipeline's patient backoff.
        quick = RetryPolicy(max_attempts=2, base_delay=0.5, max_delay=2.0)
        timeout = min(settings.jira_timeout_seconds, 15.0)
        async with JiraClient(site, timeout=timeout, retry=quick) as client:
            me = await client.get_json(f"{site.api}/myself")
    except JiraError as exc:
        result.error, result.status = str(exc), exc.status
        return result
    except (KairusError, httpx.HTTPError) as exc:
        result.error = str(exc) or type(exc).__name__
        return result
    result.ok = True
    result.account_id = me.get("accountId") or me.get("key") or me.get("name")
    result.display_name = me.get("displayName")
    result.email = me.get("emailAddress")
    result.time_zone = me.get("timeZone")
    return result


def _warehouse_probe(settings: Settings) -> dict[str, Any]:
    warehouse = open_settings_warehouse(settings)
    try:
        # A fresh warehouse has no tables yet; creating them is what the first job does anyway.
        warehouse.ensure_schema()
        counts = warehouse.table_counts()
    finally:
        warehouse.close()
    kind = "snowflake" if settings.snowflake_config() else "duckdb"
    detail: dict[str, Any] = {"kind": kind, "issues": counts.get("issues", 0), "tables": len(counts)}
    if kind == "duckdb":
        detail["path"] = str(settings.duckdb_path)
    return detail


async def _warehouse_health(request: Request, settings: Settings) -> ComponentHealth:
    cache = request.app.state.cache
    cached = await cache.get(WAREHOUSE_KEY)
    if cached is not None:
        return ComponentHealth.model_validate(cached)
    try:
        health = ComponentHealth(ok=True, detail=await asyncio.to_thread(_warehouse_probe, settings))
    except Exception as exc:  # any failure is the answer here, not an error of the endpoint
        health = ComponentHealth(ok=False, error=str(exc) or type(exc).__name__)
    await cache.set(WAREHOUSE_KEY, health.model_dump(mode="json"), ttl=HEALTH_TTL)
    return health


def _job_summary(job: Job | None) -> dict[str, Any] | None:
    if job is None:
        return None
    return {
        "job_id": job.id,
        "mode": job.mode,
        "status": job.status,
        "trigger": job.trigger,
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "error": job.error,
    }


def _integrations(engine: Engine) -> list[IntegrationHealth]:
    with session_scope(engine) as session:
        found = []
        for integration in session.scalars(select(Integration).order_by(Integration.id)).all():
            found.append(
                IntegrationHealth(
                    id=integration.id,
                    name=integration.name,
                    enabled=integration.enabled,
                    last_run=_job_summary(jira_job.last_finished_job(session, integration.id)),
                    active_job=_job_summary(jira_job.active_job(session, integration.id)),
                )
            )
        return found


@router.get("/health", response_model=AdminHealth)
async def admin_health(request: Request, settings: SettingsDep, _user: CurrentUser) -> AdminHealth:
    """Database, cache, warehouse and scheduler state, and each integration's last and next run."""
    engine: Engine = request.app.state.engine
    started = time.monotonic()
    try:
        await asyncio.to_thread(check_database, engine)
        database = ComponentHealth(ok=True, detail={"backend": engine.dialect.name})
        integrations = await asyncio.to_thread(_integrations, engine)
    except Exception as exc:
        database = ComponentHealth(ok=False, error=str(exc) or type(exc).__name__)
        integrations = []
    database.detail["seconds"] = round(time.monotonic() - started, 4)
    try:
        cache = ComponentHealth(ok=bool(await request.app.state.cache.ping()))
    except Exception as exc:
        cache = ComponentHealth(ok=False, error=str(exc) or type(exc).__name__)
    cache.detail["backend"] = "redis" if settings.redis_url else "memory"
    warehouse = await _warehouse_health(request, settings)
    scheduler_obj = getattr(request.app.state, "scheduler", None)
    if scheduler_obj is None:
        scheduler = ComponentHealth(ok=not settings.scheduler_enabled, detail={"running": False})
    else:
        scheduler = ComponentHealth(ok=bool(scheduler_obj.running), detail=scheduler_obj.describe())
        for entry in integrations:
            entry.next_run = scheduler_obj.next_run(entry.id)
    healthy = database.ok and cache.ok and warehouse.ok and scheduler.ok
    return AdminHealth(
        status="ok" if healthy else "degraded",
        database=database,
        cache=cache,
        warehouse=warehouse,
        scheduler=scheduler,
        integrations=integrations,
    )
