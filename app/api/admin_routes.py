"""Integrations CRUD: ``/api/v1/admin/integrations``. Viewers read; admins create, change and delete.

Routes are plain ``def``: FastAPI runs them in its threadpool, so the blocking database calls never stall
the event loop.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import structlog
from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.api.deps import AdminUser, CurrentUser, SessionDep, SettingsDep
from app.core.security import encrypt_secret
from app.models.unified_models import ACTIVE_JOB_STATUSES, Integration, Job
from app.schemas.api_schemas import IntegrationCreate, IntegrationList, IntegrationOut, IntegrationUpdate

router = APIRouter(prefix="/api/v1/admin/integrations", tags=["integrations"])
log = structlog.get_logger("app.integrations")


def to_out(integration: Integration) -> IntegrationOut:
    """The public view of an integration (``has_token`` instead of the token)."""
    return IntegrationOut(
        id=integration.id,
        name=integration.name,
        base_url=integration.base_url,
        deployment_type=integration.deployment_type,  # type: ignore[arg-type]
        auth_type=integration.auth_type,  # type: ignore[arg-type]
        username=integration.username,
        has_token=bool(integration.token_encrypted),
        projects=list(integration.projects or []),
        jql_filter=integration.jql_filter,
        interval_hours=integration.interval_hours,
        cron=integration.cron,
        enabled=integration.enabled,
        created_at=integration.created_at,
        updated_at=integration.updated_at,
    )


def _get_or_404(session: Session, integration_id: int) -> Integration:
    integration = session.get(Integration, integration_id)
    if integration is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Integration {integration_id} not found")
    return integration


def _conflict(name: str) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, f"An integration named {name!r} already exists")


def _name_taken(session: Session, name: str, exclude_id: int | None = None) -> bool:
    query = sa.select(Integration.id).where(Integration.name == name)
    if exclude_id is not None:
        query = query.where(Integration.id != exclude_id)
    return session.scalars(query).first() is not None


def _schedules_changed(request: Request) -> None:
    """Have the scheduler follow an integration change now rather than at its next periodic re-sync."""
    scheduler = getattr(request.app.state, "scheduler", None)
    if scheduler is None:
        return
    try:
        scheduler.request_sync()
    except Exception:  # the change is committed; the periodic re-sync still applies it
        log.warning("scheduler_sync_request_failed", exc_info=True)


def _flush(session: Session, name: str) -> None:
    # The check above is a courtesy; the unique constraint is the real guard against a concurrent twin.
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise _conflict(name) from None


@router.get("", response_model=IntegrationList)
def list_integrations(
    session: SessionDep,
    _user: CurrentUser,
    limit: int = Query(default=100, ge=1, le=500),
    offset: int = Query(default=0, ge=0),
) -> IntegrationList:
    """List integrations (by name)."""
    total = session.scalar(sa.select(sa.func.count()).select_from(Integration)) or 0
    rows = session.scalars(sa.select(Integration).order_by(Integration.name).limit(limit).offset(offset))
    return IntegrationList(items=[to_out(row) for row in rows], total=total)


@router.post("", response_model=IntegrationOut, status_code=status.HTTP_201_CREATED)
def create_integration(
    body: IntegrationCreate, request: Request, session: SessionDep, settings: SettingsDep, user: AdminUser
) -> IntegrationOut:
    """Create an integration; the token is encrypted at rest and never returned."""
    if _name_taken(session, body.name):
        raise _conflict(body.name)
    values = body.model_dump(exclude={"token"})
    integration = Integration(
        **values, token_encrypted=encrypt_secret(body.token.get_secret_value(), settings.encryption_key_value)
    )
    session.add(integration)
    _flush(session, body.name)
    # Commit before answering: a client acting on the 201 at once must find the row.
    session.commit()
    log.info("integration_created", integration_id=integration.id, name=integration.name, by=user.subject)
    _schedules_changed(request)
    return to_out(integration)


@router.get("/{integration_id}", response_model=IntegrationOut)
def get_integration(integration_id: int, session: SessionDep, _user: CurrentUser) -> IntegrationOut:
    """One integration."""
    return to_out(_get_or_404(session, integration_id))


@router.patch("/{integration_id}", response_model=IntegrationOut)
def update_integration(
    integration_id: int,
    body: IntegrationUpdate,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: AdminUser,
) -> IntegrationOut:
    """Change the fields sent; sending ``token`` replaces the stored token."""
    integration = _get_or_404(session, integration_id)
    changes: dict[str, Any] = body.model_dump(exclude_unset=True, exclude={"token"})
    for field in ("name", "base_url", "deployment_type", "auth_type", "projects", "enabled"):
        if field in changes and changes[field] is None:
            raise HTTPException(422, f"{field} cannot be null")
    if "name" in changes and _name_taken(session, changes["name"], exclude_id=integration_id):
        raise _conflict(changes["name"])
    for field, value in changes.items():
        setattr(integration, field, value)
    if body.token is not None:
        integration.token_encrypted = encrypt_secret(
            body.token.get_secret_value(), settings.encryption_key_value
        )
    if integration.interval_hours is not None and integration.cron:
        raise HTTPException(422, "Set interval_hours or cron, not both")
    if integration.auth_type == "basic" and not integration.username:
        raise HTTPException(422, "username is required with auth_type 'basic'")
    _flush(session, integration.name)
    session.commit()
    log.info(
        "integration_updated",
        integration_id=integration.id,
        fields=sorted(changes) + (["token"] if body.token is not None else []),
        by=user.subject,
    )
    _schedules_changed(request)
    return to_out(integration)


@router.delete("/{integration_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_integration(
    integration_id: int, request: Request, session: SessionDep, user: AdminUser
) -> Response:
    """Delete an integration with its jobs and sync state (409 while one of its jobs is active)."""
    integration = _get_or_404(session, integration_id)
    active = session.scalars(
        sa.select(Job.id).where(Job.integration_id == integration_id, Job.status.in_(ACTIVE_JOB_STATUSES))
    ).first()
    if active is not None:
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"Job {active} is still queued or running; cancel it first"
        )
    session.delete(integration)
    session.commit()
    log.info("integration_deleted", integration_id=integration_id, by=user.subject)
    _schedules_changed(request)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
