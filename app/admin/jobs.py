"""The jobs pages: the list (with its chart and JSON poll), starting and cancelling runs, and a job's page.

Page routes are plain ``def`` so FastAPI runs their blocking database work in its threadpool.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from app.admin.render import not_found, render, ts
from app.admin.session import FormAdmin, PageUser, SettingsDep, WebUser, user_from_cookie
from app.admin.views import chart_runs, integration_names, job_detail, job_view, warehouse_quarantine
from app.core.config import Settings
from app.core.database import SessionDep
from app.core.errors import JobConflictError
from app.jobs.jira_job import JobStateError, enqueue_job, list_jobs, request_cancel
from app.models.unified_models import ACTIVE_JOB_STATUSES, JOB_STATUSES, Integration, Job, JobEvent

router = APIRouter()

PAGE_SIZE = 50


@dataclass(frozen=True)
class JobFilter:
    """The jobs list's filter and page, from the query string (the JSON poll repeats it)."""

    integration_id: int | None = None
    status: str | None = None
    page: int = 1

    def query(self, page: int | None = None) -> str:
        """The query string selecting this filter (and ``page``)."""
        params = {"integration_id": self.integration_id, "status": self.status, "page": page or self.page}
        parts = [f"{key}={quote(str(value))}" for key, value in params.items() if value not in (None, 1)]
        return "?" + "&".join(parts) if parts else ""


def job_filter(integration_id: str = "", status: str = "", page: str = "1") -> JobFilter:
    """Dependency: the jobs list's filter; the form sends "" for "all", and anything unparsable is ignored."""
    return JobFilter(
        integration_id=int(integration_id) if integration_id.isdigit() else None,
        status=status if status in JOB_STATUSES else None,
        page=max(int(page), 1) if page.isdigit() else 1,
    )


JobFilterDep = Annotated[JobFilter, Depends(job_filter)]


def _jobs_page_data(session: Session, flt: JobFilter) -> dict[str, Any]:
    names = integration_names(session)
    jobs, total = list_jobs(
        session,
        status=flt.status,
        integration_id=flt.integration_id,
        limit=PAGE_SIZE,
        offset=(flt.page - 1) * PAGE_SIZE,
    )
    active = session.scalar(sa.select(sa.func.count()).where(Job.status.in_(ACTIVE_JOB_STATUSES))) or 0
    views = [job_view(job, names.get(job.integration_id, f"#{job.integration_id}")) for job in jobs]
    return {
        "jobs": views,
        "total": total,
        "active": active,
        "runs": chart_runs(session, flt.integration_id),
        "newer": flt.query(flt.page - 1) if flt.page > 1 else None,
        "older": flt.query(flt.page + 1) if flt.page * PAGE_SIZE < total else None,
    }


def _render_jobs(
    request: Request,
    session: Session,
    user: WebUser,
    settings: Settings,
    flt: JobFilter,
    **extra: Any,
) -> HTMLResponse:
    integrations = session.scalars(sa.select(Integration).order_by(Integration.name)).all()
    return render(
        request,
        "admin/jobs.html",
        user,
        settings,
        section="jobs",
        integrations=integrations,
        flt=flt,
        statuses=JOB_STATUSES,
        query=flt.query(),
        **_jobs_page_data(session, flt),
        **extra,
    )


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(
    request: Request, session: SessionDep, user: PageUser, settings: SettingsDep, flt: JobFilterDep
) -> HTMLResponse:
    """Jobs: start a run, the chart, and the list that refreshes itself while jobs run."""
    return _render_jobs(request, session, user, settings, flt)


@router.get("/jobs.json")
def jobs_json(
    request: Request, session: SessionDep, settings: SettingsDep, flt: JobFilterDep
) -> JSONResponse:
    """What the jobs page polls: the jobs of its filter and page, how many are active, the chart's runs."""
    if user_from_cookie(request, settings) is None:
        return JSONResponse({"detail": "Sign in first"}, status.HTTP_401_UNAUTHORIZED)
    return JSONResponse(_jobs_page_data(session, flt), headers={"Cache-Control": "no-store"})


@router.post("/jobs/start", response_model=None)
def start_job(
    request: Request,
    session: SessionDep,
    user: FormAdmin,
    settings: SettingsDep,
    integration_id: Annotated[int, Form()],
    mode: Annotated[str, Form()],
) -> Response:
    """Queue a full, incremental or reconcile run of an integration (409 when one is already active)."""
    if mode not in ("full", "incremental", "reconcile") or session.get(Integration, integration_id) is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "Unknown integration or mode")
    try:
        job = enqueue_job(session, integration_id=integration_id, mode=mode, trigger="manual")
    except JobConflictError as exc:
        flash = {
            "kind": "error",
            "text": f"A job is already active for this integration: {exc.running_job_id}",
        }
        flt = JobFilter(integration_id=integration_id)
        return _render_jobs(request, session, user, settings, flt, flash=flash, status_code=409)
    session.commit()
    return RedirectResponse(f"/admin/jobs/{job.id}", status.HTTP_303_SEE_OTHER)


def _job_or_404(session: Session, job_id: str) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such job")
    return job


def _job_context(request: Request, session: Session, job: Job) -> dict[str, Any]:
    names = integration_names(session)
    events = session.scalars(
        sa.select(JobEvent).where(JobEvent.job_id == job.id).order_by(JobEvent.id.desc()).limit(200)
    ).all()
    event_views = [
        {
            "ts_text": ts(ev.ts),
            "level": ev.level,
            "message": ev.message,
            "data_text": json.dumps(ev.data, default=str)[:300] if ev.data else "",
        }
        for ev in events
    ]
    return {
        "job": job_view(job, names.get(job.integration_id, f"#{job.integration_id}")),
        "detail": job_detail(job, warehouse_quarantine(request.app.state.settings, job)),
        "events": event_views,
    }


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(
    request: Request, job_id: str, session: SessionDep, user: PageUser, settings: SettingsDep
) -> HTMLResponse:
    """One job: streams, tables, requests, data quality, quarantine and events."""
    job = session.get(Job, job_id)
    if job is None:
        return not_found(request, user, settings, f"There is no job {job_id}.")
    return render(
        request,
        "admin/job_detail.html",
        user,
        settings,
        section="jobs",
        **_job_context(request, session, job),
    )


@router.get("/jobs/{job_id}/live", response_class=HTMLResponse)
def job_live(
    request: Request, job_id: str, session: SessionDep, user: PageUser, settings: SettingsDep
) -> HTMLResponse:
    """The live part of the job page, polled by our JS until the job finishes."""
    job = _job_or_404(session, job_id)
    response = render(request, "admin/_job_live.html", user, settings, **_job_context(request, session, job))
    response.headers["X-Job-Status"] = job.status
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/jobs/{job_id}/cancel")
def cancel_job(job_id: str, session: SessionDep, user: FormAdmin) -> RedirectResponse:
    """Ask a queued or running job to stop (cooperative: it stops at its next checkpoint)."""
    _job_or_404(session, job_id)
    with contextlib.suppress(JobStateError):  # it finished meanwhile: nothing left to stop
        request_cancel(session, job_id)
    session.commit()
    return RedirectResponse(f"/admin/jobs/{job_id}", status.HTTP_303_SEE_OTHER)
