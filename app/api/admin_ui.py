"""The operator's admin pages at ``/admin``: server-rendered Jinja2 plus a little JS of our own.

Sign-in uses the API's users, roles and JWT: the token lives in an HttpOnly, SameSite=Strict cookie and every
form carries a CSRF token derived from it (HMAC with ``SECRET_KEY``). Viewers see everything; only admins
act, and the server refuses a viewer's POST with 403 whatever the page showed. Page routes are plain ``def``
so FastAPI runs their blocking database work in its threadpool.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.orm import Session

from app.api import ops_routes
from app.api.auth_routes import authenticate
from app.api.deps import get_app_settings
from app.core.config import Settings
from app.core.database import SessionDep, session_scope
from app.core.errors import JobConflictError
from app.core.security import Principal, create_access_token, decode_access_token, encrypt_secret
from app.jobs.jira_job import (
    JobStateError,
    active_job,
    enqueue_job,
    list_jobs,
    request_cancel,
)
from app.jobs.sites import open_settings_warehouse
from app.models.unified_models import ACTIVE_JOB_STATUSES, JOB_STATUSES, Integration, Job, JobEvent
from app.schemas.api_schemas import IntegrationCreate
from app.schemas.job_schemas import AdminHealth, ComponentHealth

router = APIRouter(include_in_schema=False)

_APP_DIR = Path(__file__).resolve().parents[1]
STATIC_DIR = _APP_DIR / "static"
STATIC_FILES = {"admin.css": "text/css", "admin.js": "text/javascript"}
SESSION_COOKIE = "kairus_admin"
LOGIN_COOKIE = "kairus_admin_login"
FINAL_STATUSES = ("succeeded", "failed", "cancelled")

templates = Jinja2Templates(directory=str(_APP_DIR / "templates"))


# --- formatting used by the templates -------------------------------------------------------------------
def _num(value: Any) -> str:
    return "" if value is None or value == "" else f"{int(value):,}"


def _duration(seconds: Any) -> str:
    if seconds is None:
        return ""
    total = round(float(seconds))
    if total < 60:
        return f"{total} s"
    minutes, sec = divmod(total, 60)
    return f"{minutes} min {sec} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


def _static_url(name: str) -> str:
    # The file's mtime busts browser caches after an upgrade without a build step.
    version = int((STATIC_DIR / name).stat().st_mtime)
    return f"/admin/static/{name}?v={version}"


templates.env.filters["num"] = _num
templates.env.filters["duration"] = _duration
templates.env.globals["static_url"] = _static_url


def _ts(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if value else ""


# --- view models ---------------------------------------------------------------------------------------
def _rows_per_table(job: Job) -> dict[str, int]:
    """Rows loaded per table: the final statistics when the job finished, else its live progress."""
    rows = (job.stats or {}).get("rows") or (job.progress or {}).get("tables") or {}
    return {str(table): int(count or 0) for table, count in rows.items()}


def job_view(job: Job, integration: str) -> dict[str, Any]:
    """What the list, the job page and the JSON poll show about one job."""
    duration = None
    if job.started_at is not None:
        duration = ((job.finished_at or datetime.now(UTC)) - job.started_at).total_seconds()
    error = job.error or ""
    return {
        "id": job.id,
        "url": f"/admin/jobs/{job.id}",
        "cancel_url": f"/admin/jobs/{job.id}/cancel",
        "integration": integration,
        "integration_id": job.integration_id,
        "status": job.status,
        "mode": job.mode,
        "trigger": job.trigger,
        "params": job.params or {},
        "created_at": job.created_at.isoformat() if job.created_at else None,
        "created_at_text": _ts(job.created_at),
        "started_at_text": _ts(job.started_at),
        "finished_at_text": _ts(job.finished_at),
        "duration_s": duration,
        "rows": sum(_rows_per_table(job).values()),
        "error": error,
        "error_short": error if len(error) <= 120 else error[:117] + "...",
        "can_cancel": job.status in ACTIVE_JOB_STATUSES and not job.cancel_requested,
    }


def _endpoint_rows(by_endpoint: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for endpoint, statuses in sorted(by_endpoint.items()):
        counts = statuses if isinstance(statuses, dict) else {"all": statuses}
        text = "  ".join(f"{status}: {count}" for status, count in sorted(counts.items()))
        rows.append({"endpoint": endpoint, "statuses": text, "total": sum(int(c) for c in counts.values())})
    return rows


_DQ_RANK = {"pass": 0, "ok": 0, "passed": 0, "skipped": 0, "warn": 1, "warning": 1, "fail": 2, "error": 2}


def dq_summary(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per (check, table) over all batches: worst status, failing rows summed; failures first."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for row in results:
        key = (str(row.get("check_name", "")), str(row.get("table_name", "")))
        line = merged.setdefault(
            key,
            {
                "check_name": key[0],
                "table_name": key[1],
                "status": "pass",
                "failing_rows": 0,
                "details": "",
                "batches": 0,
            },
        )
        line["batches"] += 1
        line["failing_rows"] += int(row.get("failing_rows") or 0)
        status_text = str(row.get("status", "pass")).lower()
        if _DQ_RANK.get(status_text, 2) > _DQ_RANK.get(line["status"], 2):
            line["status"] = status_text
        if row.get("details") and not line["details"] and status_text not in ("pass", "ok", "passed"):
            details = row["details"]
            line["details"] = (details if isinstance(details, str) else json.dumps(details, default=str))[
                :300
            ]
    return sorted(
        merged.values(), key=lambda r: (-_DQ_RANK.get(r["status"], 2), r["table_name"], r["check_name"])
    )


def job_detail(job: Job, quarantine: list[dict[str, Any]] | None) -> dict[str, Any]:
    """Progress per stream, rows per table, request statistics, data quality and quarantine of a job."""
    stats, progress = job.stats or {}, job.progress or {}
    from_stats = stats.get("quarantine") or stats.get("quarantine_rows") or []
    return {
        "streams": progress.get("streams") or {},
        "tables": _rows_per_table(job),
        "batches": progress.get("batches"),
        "requests": {
            "total": stats.get("requests"),
            "responses_429": stats.get("responses_429"),
            "retries": stats.get("retries"),
            "seconds": stats.get("seconds"),
            "by_endpoint": _endpoint_rows(stats.get("by_endpoint") or {}),
        },
        "dq": dq_summary(stats.get("dq") or []),
        "quarantined": stats.get("quarantined"),
        "quarantine": quarantine if quarantine is not None else from_stats,
        "quarantine_source": "warehouse quarantine table" if quarantine is not None else "job statistics",
    }


def chart_runs(session: Session, integration_id: int | None = None, limit: int = 30) -> list[dict[str, Any]]:
    """The last finished runs (of one integration, or all), oldest first: rows loaded and seconds."""
    query = sa.select(Job).where(Job.status.in_(FINAL_STATUSES))
    if integration_id is not None:
        query = query.where(Job.integration_id == integration_id)
    jobs = session.scalars(query.order_by(Job.created_at.desc()).limit(limit)).all()
    runs = []
    for job in reversed(jobs):
        # Wall time from start to finish, as the list shows; the run's own measure when that is missing.
        seconds = (job.stats or {}).get("seconds")
        if job.started_at and job.finished_at:
            seconds = (job.finished_at - job.started_at).total_seconds()
        label = job.created_at.astimezone(UTC).strftime("%m-%d %H:%M") if job.created_at else ""
        rows = sum(_rows_per_table(job).values())
        runs.append({"label": label, "rows": rows, "seconds": seconds or 0, "status": job.status})
    return runs


def _integration_names(session: Session) -> dict[int, str]:
    return dict(session.execute(sa.select(Integration.id, Integration.name)).tuples().all())


# --- session, roles and CSRF ---------------------------------------------------------------------------
@dataclass(frozen=True)
class WebUser:
    """The signed-in operator, from the API JWT kept in the session cookie."""

    username: str
    role: str
    token: str

    @property
    def can_act(self) -> bool:
        """Admins act (start, cancel, edit); viewers only see."""
        return self.role == "admin"


def warehouse_quarantine(settings: Settings, job: Job) -> list[dict[str, Any]] | None:
    """The finished job's rows of the warehouse ``quarantine`` table; None when the warehouse cannot tell.

    Only asked when the job quarantined something and has finished (the table is final then), and only
    from a warehouse that offers ``quarantine_rows(job_id, limit=)``; otherwise the page falls back to
    the job's statistics.
    """
    if job.status not in FINAL_STATUSES or not (job.stats or {}).get("quarantined"):
        return None
    try:
        warehouse = open_settings_warehouse(settings)
    except Exception:  # busy, locked or down: the job page must still render
        return None
    try:
        reader = getattr(warehouse, "quarantine_rows", None)
        return None if reader is None else [dict(row) for row in reader(job.id, limit=200)]
    except Exception:  # same: fall back to the statistics
        return None
    finally:
        warehouse.close()


def csrf_for(token: str, settings: Settings) -> str:
    """The CSRF token of a session: an HMAC of its JWT, so it changes with every sign-in."""
    key = settings.secret_key_value.encode()
    return hmac.new(key, b"admin-csrf:" + token.encode(), hashlib.sha256).hexdigest()


def _user_from_cookie(request: Request, settings: Settings) -> WebUser | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        claims = decode_access_token(token, settings)
    except Exception:  # any bad, expired or forged token simply means "signed out"
        return None
    sub, role = claims.get("sub"), claims.get("role")
    if not sub or role not in ("admin", "viewer"):
        return None
    return WebUser(username=str(sub), role=str(role), token=token)


class _Redirect(Exception):
    def __init__(self, location: str) -> None:
        self.location = location


def page_user(request: Request, settings: Annotated[Settings, Depends(get_app_settings)]) -> WebUser:
    """Dependency of every page: the signed-in user, or a redirect to the sign-in form."""
    user = _user_from_cookie(request, settings)
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise HTTPException(status.HTTP_303_SEE_OTHER, headers={"Location": _login_url(target)})
    return user


def form_admin(
    request: Request,
    settings: Annotated[Settings, Depends(get_app_settings)],
    csrf_token: Annotated[str, Form()] = "",
) -> WebUser:
    """Dependency of every action: a signed-in *admin* whose form carries the session's CSRF token."""
    user = _user_from_cookie(request, settings)
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Sign in first")
    if not hmac.compare_digest(csrf_token, csrf_for(user.token, settings)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Invalid or missing CSRF token; reload the page")
    if not user.can_act:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Only an admin can do this")
    return user


PageUser = Annotated[WebUser, Depends(page_user)]
FormAdmin = Annotated[WebUser, Depends(form_admin)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def _login_url(next_path: str) -> str:
    return "/admin/login?next=" + quote(next_path, safe="")


def _safe_next(value: str | None) -> str:
    # Only local admin paths: an open redirect after sign-in would be a phishing aid.
    if value and value.startswith("/admin") and not value.startswith("//") and "\\" not in value:
        return value
    return "/admin/jobs"


def render(
    request: Request,
    name: str,
    user: WebUser | None,
    settings: Settings,
    status_code: int = 200,
    **ctx: Any,
) -> HTMLResponse:
    """Render a page with the user, role and CSRF token every layout needs."""
    context = {
        "user": user,
        "can_act": bool(user and user.can_act),
        "csrf_token": csrf_for(user.token, settings) if user else "",
        **ctx,
    }
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def not_found(request: Request, user: WebUser, settings: Settings, detail: str) -> HTMLResponse:
    """A 404 page in the admin layout (a browser user should not land on raw JSON)."""
    return render(
        request,
        "admin/error.html",
        user,
        settings,
        status_code=404,
        code=404,
        title="Not found",
        detail=detail,
    )


# --- sign-in -------------------------------------------------------------------------------------------
@router.get("/static/{name}")
def static_file(name: str) -> FileResponse:
    """Our own CSS and JS (a fixed list: no path from the URL ever reaches the file system)."""
    if name not in STATIC_FILES:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such file")
    return FileResponse(STATIC_DIR / name, media_type=STATIC_FILES[name])


@router.get("/")
def admin_home() -> RedirectResponse:
    """The admin entry point: the jobs list."""
    return RedirectResponse("/admin/jobs", status.HTTP_303_SEE_OTHER)


def _login_page(
    request: Request,
    settings: Settings,
    *,
    next_url: str,
    error: str = "",
    username: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    # Double-submit token: the sign-in form is posted before any session exists.
    login_csrf = secrets.token_urlsafe(24)
    response = render(
        request,
        "admin/login.html",
        None,
        settings,
        status_code=status_code,
        login_csrf=login_csrf,
        next_url=next_url,
        error=error,
        username=username,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        login_csrf,
        httponly=True,
        samesite="strict",
        path="/admin",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, settings: SettingsDep, next: str | None = None) -> HTMLResponse:
    """The sign-in form."""
    return _login_page(request, settings, next_url=_safe_next(next))


@router.post("/login", response_model=None)
def login(
    request: Request,
    settings: SettingsDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """Check the credentials like ``POST /api/v1/auth/token`` and keep the same JWT in a cookie."""
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(csrf_token, expected):
        return _login_page(
            request,
            settings,
            next_url=_safe_next(next),
            username=username,
            error="The form expired; please sign in again.",
            status_code=403,
        )
    account = authenticate(request, username, password)
    if account is None:
        return _login_page(
            request,
            settings,
            next_url=_safe_next(next),
            username=username,
            error="Wrong user name or password.",
            status_code=401,
        )
    token = create_access_token(account.username, account.role, settings=settings)
    response = RedirectResponse(_safe_next(next), status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        path="/admin",
        max_age=settings.jwt_expire_minutes * 60,
        secure=request.url.scheme == "https",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/admin")
    return response


@router.post("/logout")
def logout(
    request: Request, settings: SettingsDep, csrf_token: Annotated[str, Form()] = ""
) -> RedirectResponse:
    """Sign out (CSRF-checked, so another site cannot sign the operator out)."""
    user = _user_from_cookie(request, settings)
    if user is not None and not hmac.compare_digest(csrf_token, csrf_for(user.token, settings)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Invalid or missing CSRF token")
    response = RedirectResponse("/admin/login", status.HTTP_303_SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE, path="/admin")
    return response


# --- jobs ----------------------------------------------------------------------------------------------
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
    names = _integration_names(session)
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
    if _user_from_cookie(request, settings) is None:
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
    names = _integration_names(session)
    events = session.scalars(
        sa.select(JobEvent).where(JobEvent.job_id == job.id).order_by(JobEvent.id.desc()).limit(200)
    ).all()
    event_views = [
        {
            "ts_text": _ts(ev.ts),
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


# --- integrations --------------------------------------------------------------------------------------
class IntegrationFormIn(BaseModel):
    """The integration form as posted (strings; :func:`parse_integration_form` validates them)."""

    model_config = ConfigDict(extra="ignore")

    csrf_token: str = ""
    name: str = ""
    base_url: str = ""
    deployment_type: str = "cloud"
    auth_type: str = "basic"
    username: str = ""
    token: str = ""
    projects: str = ""
    jql_filter: str = ""
    interval_hours: str = ""
    cron: str = ""
    enabled: str = ""


def _integration_form(integ: Integration | None) -> dict[str, Any]:
    if integ is None:
        return {"deployment_type": "cloud", "auth_type": "basic", "enabled": True}
    return {
        "name": integ.name,
        "base_url": integ.base_url,
        "deployment_type": integ.deployment_type,
        "auth_type": integ.auth_type,
        "username": integ.username or "",
        "projects": ", ".join(integ.projects or []),
        "jql_filter": integ.jql_filter or "",
        "interval_hours": "" if integ.interval_hours is None else integ.interval_hours,
        "cron": integ.cron or "",
        "enabled": integ.enabled,
    }


def parse_integration_form(form: dict[str, str], *, creating: bool) -> tuple[dict[str, Any], list[str]]:
    """Validate the form with the API's own schema (same rules as ``POST /admin/integrations``).

    Returns (values, errors); ``values["token"]`` is None when an edit leaves the stored token alone.
    """
    raw: dict[str, Any] = {
        key: form.get(key, "").strip() or None
        for key in ("name", "base_url", "deployment_type", "auth_type", "username", "jql_filter", "cron")
    }
    raw["projects"] = [p.strip().upper() for p in form.get("projects", "").split(",") if p.strip()]
    raw["interval_hours"] = form.get("interval_hours", "").strip() or None
    raw["enabled"] = form.get("enabled") == "1"
    token = form.get("token", "")
    # An edit without a token keeps the stored one; a stand-in lets the schema check everything else.
    raw["token"] = token or ("unchanged" if not creating else None)
    try:
        body = IntegrationCreate.model_validate({k: v for k, v in raw.items() if v is not None})
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            where = ".".join(str(part) for part in err["loc"]) or "form"
            errors.append(
                f"{where.replace('_', ' ').capitalize()}: {err['msg'].removeprefix('Value error, ')}"
            )
        return {}, errors
    values = body.model_dump(exclude={"token"})
    values["token"] = token or None
    return values, []


def _save_integration(
    session: Session, integ: Integration, values: dict[str, Any], settings: Settings
) -> None:
    for field in (
        "name",
        "base_url",
        "deployment_type",
        "auth_type",
        "username",
        "projects",
        "jql_filter",
        "interval_hours",
        "cron",
        "enabled",
    ):
        setattr(integ, field, values[field])
    if values["token"]:
        integ.token_encrypted = encrypt_secret(values["token"], settings.encryption_key_value)
    session.add(integ)
    session.flush()


def _resync_schedules(request: Request) -> None:
    # The scheduler re-reads integrations periodically; asking now makes a new schedule show at once.
    scheduler = getattr(request.app.state, "scheduler", None)
    if scheduler is not None:
        scheduler.request_sync()


def _name_taken(session: Session, name: str, own_id: int | None) -> bool:
    other = session.scalar(sa.select(Integration.id).where(Integration.name == name))
    return other is not None and other != own_id


def _integration_views(session: Session) -> list[dict[str, Any]]:
    integrations = session.scalars(sa.select(Integration).order_by(Integration.name)).all()
    views = []
    for integ in integrations:
        last = session.scalars(
            sa.select(Job).where(Job.integration_id == integ.id).order_by(Job.created_at.desc()).limit(1)
        ).first()
        schedule = (
            f"cron {integ.cron}"
            if integ.cron
            else (f"every {integ.interval_hours:g} h" if integ.interval_hours else "manual only")
        )
        views.append(
            {
                "id": integ.id,
                "name": integ.name,
                "base_url": integ.base_url,
                "deployment_type": integ.deployment_type,
                "auth_type": integ.auth_type,
                "projects_text": ", ".join(integ.projects or []),
                "jql_filter": integ.jql_filter,
                "schedule_text": schedule,
                "enabled": integ.enabled,
                "last_job": job_view(last, integ.name) if last else None,
            }
        )
    return views


_DONE = {
    "created": "Integration saved.",
    "updated": "Integration updated.",
    "deleted": "Integration deleted.",
}


@router.get("/integrations", response_class=HTMLResponse)
def integrations_page(
    request: Request, session: SessionDep, user: PageUser, settings: SettingsDep, done: str | None = None
) -> HTMLResponse:
    """The Jira sites the service extracts, with their last run."""
    flash = {"kind": "ok", "text": _DONE[done]} if done in _DONE else None
    return render(
        request,
        "admin/integrations.html",
        user,
        settings,
        section="integrations",
        integrations=_integration_views(session),
        flash=flash,
    )


@router.get("/integrations/new", response_class=HTMLResponse)
def new_integration_form(request: Request, user: PageUser, settings: SettingsDep) -> HTMLResponse:
    """The form to connect a Jira site."""
    return render(
        request,
        "admin/integration_form.html",
        user,
        settings,
        section="integrations",
        form=_integration_form(None),
        integ_id=None,
        errors=[],
    )


@router.get("/integrations/{integ_id}/edit", response_class=HTMLResponse)
def edit_integration_form(
    request: Request, integ_id: int, session: SessionDep, user: PageUser, settings: SettingsDep
) -> HTMLResponse:
    """The form to change an integration (the stored token is never shown)."""
    integ = session.get(Integration, integ_id)
    if integ is None:
        return not_found(request, user, settings, f"There is no integration {integ_id}.")
    return render(
        request,
        "admin/integration_form.html",
        user,
        settings,
        section="integrations",
        form=_integration_form(integ),
        integ_id=integ_id,
        errors=[],
    )


@router.post("/integrations/new", response_model=None)
@router.post("/integrations/{integ_id}/edit", response_model=None)
def save_integration(
    request: Request,
    session: SessionDep,
    user: FormAdmin,
    settings: SettingsDep,
    data: Annotated[IntegrationFormIn, Form()],
    integ_id: int | None = None,
) -> Response:
    """Create or update an integration from the form; shows the errors next to the form."""
    form = data.model_dump()
    values, errors = parse_integration_form(form, creating=integ_id is None)
    integ = Integration() if integ_id is None else session.get(Integration, integ_id)
    if integ is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such integration")
    if not errors and _name_taken(session, values["name"], integ_id):
        errors.append(f"Name: an integration called {values['name']!r} already exists.")
    if errors:
        shown = {**form, "enabled": form.get("enabled") == "1"}
        return render(
            request,
            "admin/integration_form.html",
            user,
            settings,
            status_code=422,
            section="integrations",
            form=shown,
            integ_id=integ_id,
            errors=errors,
        )
    _save_integration(session, integ, values, settings)
    session.commit()
    _resync_schedules(request)
    return RedirectResponse(
        f"/admin/integrations?done={'created' if integ_id is None else 'updated'}", status.HTTP_303_SEE_OTHER
    )


@router.post("/integrations/{integ_id}/delete")
def delete_integration(
    request: Request, integ_id: int, session: SessionDep, user: FormAdmin, settings: SettingsDep
) -> Response:
    """Delete an integration with its jobs and state (refused while one of its jobs is active)."""
    integ = session.get(Integration, integ_id)
    if integ is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such integration")
    running = active_job(session, integ_id)
    if running is not None:
        flash = {"kind": "error", "text": f"{integ.name} has an active job ({running.id}); cancel it first."}
        return render(
            request,
            "admin/integrations.html",
            user,
            settings,
            status_code=409,
            section="integrations",
            integrations=_integration_views(session),
            flash=flash,
        )
    session.delete(integ)
    session.commit()
    _resync_schedules(request)
    return RedirectResponse("/admin/integrations?done=deleted", status.HTTP_303_SEE_OTHER)


@router.post("/integrations/{integ_id}/test", response_class=HTMLResponse)
async def test_integration(
    request: Request, integ_id: int, user: FormAdmin, settings: SettingsDep
) -> HTMLResponse:
    """Check the credentials against Jira's ``/myself`` (the API's own check) and show the answer."""
    result = await ops_routes.test_integration(integ_id, request, settings, _principal(user))
    if result.ok:
        who = result.display_name or result.account_id or "?"
        extra = ", ".join(
            x for x in (result.email, result.time_zone and f"time zone {result.time_zone}") if x
        )
        text = f"Connected as {who}" + (f" ({extra})." if extra else ".")
    else:
        status_text = f"HTTP {result.status}: " if result.status else ""
        text = f"Failed: {status_text}{result.error}"

    def views() -> list[dict[str, Any]]:
        with session_scope(request.app.state.engine) as session:
            return _integration_views(session)

    integrations = await asyncio.to_thread(views)
    name = next((i["name"] for i in integrations if i["id"] == integ_id), f"#{integ_id}")
    return render(
        request,
        "admin/integrations.html",
        user,
        settings,
        section="integrations",
        integrations=integrations,
        test_result={"ok": result.ok, "name": name, "text": text},
    )


# --- health --------------------------------------------------------------------------------------------
def _principal(user: WebUser) -> Principal:
    return Principal(subject=user.username, role=user.role)


def _component(name: str, health: ComponentHealth) -> dict[str, Any]:
    status_text = "ok" if health.ok else "down"
    if name == "scheduler" and health.ok and not health.detail.get("running", True):
        status_text = "disabled"
    details = [(str(k).replace("_", " "), v) for k, v in health.detail.items() if v is not None]
    return {"name": name, "status": status_text, "error": health.error, "details": details}


def _health_integrations(engine: Any, report: AdminHealth) -> list[dict[str, Any]]:
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
                    "next_run_text": _ts(entry.next_run),
                }
            )
        return views


@router.get("/health", response_class=HTMLResponse)
async def health_page(request: Request, user: PageUser, settings: SettingsDep) -> HTMLResponse:
    """Database, cache, warehouse and scheduler (the API's health report), and each integration's runs."""
    report = await ops_routes.admin_health(request, settings, _principal(user))
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
