"""The service's detailed health and the "test connection" check, as plain functions.

Both the API (``app/api/ops_routes.py``) and the admin pages (``app/admin/``) call these; neither calls
the other's route functions. The warehouse probe only reads: a fresh install whose warehouse has no schema
yet is healthy ("empty: not synced yet"), since creating the tables is what the first job does.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.engine import Engine

from app.core.cache import Cache
from app.core.config import Settings
from app.core.database import check_database, session_scope
from app.core.errors import JiraError, KairusError
from app.jira.client import JiraClient
from app.jira.retry import RetryPolicy
from app.jobs import jira_job
from app.jobs.sites import open_settings_warehouse, site_for
from app.models.unified_models import Integration, Job
from app.schemas.job_schemas import AdminHealth, ComponentHealth, IntegrationHealth, IntegrationTestResult

HEALTH_TTL = 30.0
WAREHOUSE_KEY = "health:warehouse"
NOT_SYNCED = "empty: not synced yet"


class IntegrationNotFoundError(LookupError):
    """The integration to check does not exist."""


async def check_integration(engine: Engine, settings: Settings, integration_id: int) -> IntegrationTestResult:
    """Check an integration's credentials against Jira's ``/myself`` (account, time zone, or the error).

    Raises :class:`IntegrationNotFoundError` when there is no such integration; every other failure is
    the answer (``ok=False`` with the error), not an exception.
    """

    def load() -> Integration | None:
        with session_scope(engine) as session:
            return session.get(Integration, integration_id)

    integration = await asyncio.to_thread(load)
    if integration is None:
        raise IntegrationNotFoundError(f"integration {integration_id} not found")
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


def _is_missing_schema(exc: Exception) -> bool:
    # DuckDB: "Catalog Error: Schema with name jira does not exist!" / "Table with name issues does not
    # exist!"; Snowflake: "Schema 'DB.JIRA' does not exist or not authorized." Both mean "never synced".
    return "does not exist" in str(exc).lower()


def warehouse_probe(settings: Settings) -> dict[str, Any]:
    """Open the configured warehouse and count its rows, without creating anything in it.

    A warehouse that opens but has no schema (or not all tables) yet reports ``state`` "empty: not synced
    yet"; any other failure (locked file, bad credentials, unreachable) raises.
    """
    kind = "snowflake" if settings.snowflake_config() else "duckdb"
    detail: dict[str, Any] = {"kind": kind}
    if kind == "duckdb":
        detail["path"] = str(settings.duckdb_path)
    warehouse = open_settings_warehouse(settings)
    try:
        counts = warehouse.table_counts()
    except Exception as exc:
        if not _is_missing_schema(exc):
            raise
        return {**detail, "state": NOT_SYNCED, "issues": 0, "tables": 0}
    finally:
        warehouse.close()
    return {**detail, "state": "ready", "issues": counts.get("issues", 0), "tables": len(counts)}


async def warehouse_health(cache: Cache, settings: Settings) -> ComponentHealth:
    """The warehouse probe's answer, cached for ``HEALTH_TTL`` seconds (opening it is not free)."""
    cached = await cache.get(WAREHOUSE_KEY)
    if cached is not None:
        return ComponentHealth.model_validate(cached)
    try:
        health = ComponentHealth(ok=True, detail=await asyncio.to_thread(warehouse_probe, settings))
    except Exception as exc:  # any failure is the answer here, not an error of the caller
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


def integration_runs(engine: Engine) -> list[IntegrationHealth]:
    """Each integration with its last finished run and its active job (the next run is the scheduler's)."""
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


async def service_health(*, engine: Engine, cache: Cache, settings: Settings, scheduler: Any) -> AdminHealth:
    """Database, cache, warehouse and scheduler state, and each integration's last and next run.

    ``scheduler`` is the running scheduler (``app.state.scheduler``) or None when it is switched off.
    """
    started = time.monotonic()
    try:
        await asyncio.to_thread(check_database, engine)
        database = ComponentHealth(ok=True, detail={"backend": engine.dialect.name})
        integrations = await asyncio.to_thread(integration_runs, engine)
    except Exception as exc:
        database = ComponentHealth(ok=False, error=str(exc) or type(exc).__name__)
        integrations = []
    database.detail["seconds"] = round(time.monotonic() - started, 4)
    try:
        cache_health = ComponentHealth(ok=bool(await cache.ping()))
    except Exception as exc:
        cache_health = ComponentHealth(ok=False, error=str(exc) or type(exc).__name__)
    cache_health.detail["backend"] = "redis" if settings.redis_url else "memory"
    warehouse = await warehouse_health(cache, settings)
    if scheduler is None:
        scheduler_health = ComponentHealth(ok=not settings.scheduler_enabled, detail={"running": False})
    else:
        scheduler_health = ComponentHealth(ok=bool(scheduler.running), detail=scheduler.describe())
        for entry in integrations:
            entry.next_run = scheduler.next_run(entry.id)
    healthy = database.ok and cache_health.ok and warehouse.ok and scheduler_health.ok
    return AdminHealth(
        status="ok" if healthy else "degraded",
        database=database,
        cache=cache_health,
        warehouse=warehouse,
        scheduler=scheduler_health,
        integrations=integrations,
    )
