"""The integrations pages: list, create, edit, delete, and "test connection" with its answer shown."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from app.admin.integration_form import IntegrationFormIn, form_values, parse_integration_form, save_values
from app.admin.render import not_found, render
from app.admin.session import FormAdmin, PageUser, SettingsDep
from app.admin.views import job_view
from app.core.database import SessionDep, session_scope
from app.jobs import health
from app.jobs.jira_job import active_job
from app.models.unified_models import Integration, Job

router = APIRouter()


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
def newform_values(request: Request, user: PageUser, settings: SettingsDep) -> HTMLResponse:
    """The form to connect a Jira site."""
    return render(
        request,
        "admin/integration_form.html",
        user,
        settings,
        section="integrations",
        form=form_values(None),
        integ_id=None,
        errors=[],
    )


@router.get("/integrations/{integ_id}/edit", response_class=HTMLResponse)
def editform_values(
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
        form=form_values(integ),
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
    save_values(session, integ, values, settings)
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
    try:
        result = await health.check_integration(request.app.state.engine, settings, integ_id)
    except health.IntegrationNotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
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
