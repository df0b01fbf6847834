"""Operations endpoints: check an integration's credentials, and the detailed health of the service.

``GET /admin/health`` (viewers may read) reports the metadata database, the cache, the warehouse, the
scheduler and each integration's last run, active job and next scheduled run. The logic lives in
``app/jobs/health.py`` (shared with the admin pages); the warehouse probe's result is cached for
``HEALTH_TTL`` seconds.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status

from app.api.deps import AdminUser, CurrentUser, SettingsDep
from app.jobs import health
from app.schemas.job_schemas import AdminHealth, IntegrationTestResult

router = APIRouter(prefix="/admin", tags=["ops"])

HEALTH_TTL = health.HEALTH_TTL
WAREHOUSE_KEY = health.WAREHOUSE_KEY


@router.post("/integrations/{integration_id}/test", response_model=IntegrationTestResult)
async def test_integration(
    integration_id: int, request: Request, settings: SettingsDep, _user: AdminUser
) -> IntegrationTestResult:
    """Check the integration's credentials against Jira's ``/myself`` (account, time zone, or the error)."""
    try:
        return await health.check_integration(request.app.state.engine, settings, integration_id)
    except health.IntegrationNotFoundError as exc:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc


@router.get("/health", response_model=AdminHealth)
async def admin_health(request: Request, settings: SettingsDep, _user: CurrentUser) -> AdminHealth:
    """Database, cache, warehouse and scheduler state, and each integration's last and next run."""
    return await health.service_health(
        engine=request.app.state.engine,
        cache=request.app.state.cache,
        settings=settings,
        scheduler=getattr(request.app.state, "scheduler", None),
    )
