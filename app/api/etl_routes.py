"""ETL jobs API: start a sync, follow it, list jobs, cancel, read a job's log.

Viewers may read; starting and cancelling need an admin. Routes are plain ``def`` (FastAPI runs them in
its threadpool) because the metadata database is reached through synchronous SQLAlchemy sessions.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import JSONResponse

from app.api.deps import AdminUser, CurrentUser, SessionDep, SettingsDep
from app.core.errors import ConfigError, JobConflictError
from app.jobs import jira_job
from app.jobs.sites import ensure_env_integration
from app.models.unified_models import JOB_STATUSES
from app.schemas.job_schemas import (
    ExtractAccepted,
    ExtractRequest,
    JobEventList,
    JobEventOut,
    JobList,
    JobOut,
)

router = APIRouter(prefix="/etl", tags=["etl"])


def _not_found(exc: Exception) -> HTTPException:
    return HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=str(exc))


@router.post(
    "/jira/extract",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ExtractAccepted,
    responses={409: {"description": "A job of the integration is already queued or running"}},
)
def start_extract(
    body: ExtractRequest, session: SessionDep, settings: SettingsDep, _user: AdminUser
) -> JSONResponse:
    """Queue a sync of an integration (or of the JIRA_* configured site); answers 202 with the job id."""
    if body.integration_id is None:
        try:
            integration_id = ensure_env_integration(session, settings).id
        except ConfigError as exc:
            raise HTTPException(status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from None
    else:
        integration_id = body.integration_id
    try:
        job = jira_job.enqueue_job(
            session,
            integration_id=integration_id,
            mode=body.mode,
            trigger="api",
            projects=body.projects,
            jql=body.jql,
        )
    except jira_job.NotFoundError as exc:
        raise _not_found(exc) from None
    except JobConflictError as exc:
        # Nothing was written: release the integration row lock before answering.
        session.rollback()
        return JSONResponse(
            status_code=status.HTTP_409_CONFLICT,
            content={"detail": str(exc), "running_job_id": exc.running_job_id},
            headers={"Location": f"/api/v1/etl/jobs/{exc.running_job_id}"},
        )
    accepted = ExtractAccepted(job_id=job.id, integration_id=integration_id, status="queued", mode=body.mode)
    return JSONResponse(
        status_code=status.HTTP_202_ACCEPTED,
        content=accepted.model_dump(),
        headers={"Location": f"/api/v1/etl/jobs/{job.id}"},
    )


@router.get("/jobs", response_model=JobList)
def list_jobs(
    session: SessionDep,
    _user: CurrentUser,
    status_: Annotated[str | None, Query(alias="status", description="queued, running, succeeded...")] = None,
    integration_id: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> JobList:
    """Jobs, newest first, filtered by status and integration, paginated."""
    if status_ is not None and status_ not in JOB_STATUSES:
        raise HTTPException(
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=f"status must be one of {', '.join(JOB_STATUSES)}",
        )
    jobs, total = jira_job.list_jobs(
        session, status=status_, integration_id=integration_id, limit=limit, offset=offset
    )
    return JobList(items=[JobOut.model_validate(j) for j in jobs], total=total, limit=limit, offset=offset)


@router.get("/jobs/{job_id}", response_model=JobOut)
def get_job(job_id: str, session: SessionDep, _user: CurrentUser) -> JobOut:
    """A job: status, progress, rows per table, request statistics and error."""
    try:
        return JobOut.model_validate(jira_job.get_job(session, job_id))
    except jira_job.NotFoundError as exc:
        raise _not_found(exc) from None


@router.post("/jobs/{job_id}/cancel", response_model=JobOut, status_code=status.HTTP_202_ACCEPTED)
def cancel_job(job_id: str, session: SessionDep, _user: AdminUser) -> JobOut:
    """Cancel a job: at once when queued, at its next checkpoint when running (409 when finished)."""
    try:
        return JobOut.model_validate(jira_job.request_cancel(session, job_id))
    except jira_job.NotFoundError as exc:
        raise _not_found(exc) from None
    except jira_job.JobStateError as exc:
        raise HTTPException(status_code=status.HTTP_409_CONFLICT, detail=str(exc)) from None


@router.get("/jobs/{job_id}/events", response_model=JobEventList)
def job_events(
    job_id: str,
    session: SessionDep,
    _user: CurrentUser,
    after_id: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> JobEventList:
    """The job's log lines after ``after_id``, oldest first."""
    try:
        events = jira_job.job_events(session, job_id, after_id=after_id, limit=limit)
    except jira_job.NotFoundError as exc:
        raise _not_found(exc) from None
    items = [JobEventOut.model_validate(e) for e in events]
    return JobEventList(items=items, next_after=items[-1].id if items else after_id)
