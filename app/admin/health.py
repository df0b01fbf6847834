"""The health page: database, cache, warehouse and scheduler, and each integration's last and next run."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.engine import Engine

from app.admin.render import render, ts
from app.admin.session import PageUser, SettingsDep
from app.admin.views import job_view
from app.core.database import session_scope
from app.jobs import health
from app.models.unified_models import Job
from app.schemas.job_schemas import AdminHealth, ComponentHealth

router = APIRouter()


def _component(name: str, component: ComponentHealth) -> dict[str, Any]:
    status_text = "ok" if component.ok else "down"
    if name == "scheduler" and component.ok and not component.detail.get("running", True):
        status_text = "disabled"
    details = [(str(k).replace("_", " "), v) for k, v in component.detail.items() if v is not None]
    return {"name": name, "status": status_text, "error": component.error, "details": details}


def _health_integrations(engine: Engine, report: AdminHealth) -> list[dict[str, Any]]:
    with session_scope(engine) as session:
        views = []
        for entry in report.integrations:
            last_id = (entry.active_job or entry.last_run or {}).get("job_id")
            last = session.get(Job, last_id) if last_id else None
            views.append(
                {
                    "name": entry.name,
                    "enabled": entry.enabled,
                    "last_job": job_view(last, entry.name) if last else None,
                    "next_run_text": ts(entry.next_run),
                }
            )
        return views


@router.get("/health", response_class=HTMLResponse)
async def health_page(request: Request, user: PageUser, settings: SettingsDep) -> HTMLResponse:
    """Database, cache, warehouse and scheduler (the API's health report), and each integration's runs."""
    report = await health.service_health(
        engine=request.app.state.engine,
        cache=request.app.state.cache,
        settings=settings,
        scheduler=getattr(request.app.state, "scheduler", None),
    )
    components = [
        _component(name, getattr(report, name)) for name in ("database", "cache", "warehouse", "scheduler")
    ]
    integrations = await asyncio.to_thread(_health_integrations, request.app.state.engine, report)
    return render(
        request,
        "admin/health.html",
        user,
        settings,
        section="health",
        components=components,
        integrations=integrations,
        overall=report.status,
    )
