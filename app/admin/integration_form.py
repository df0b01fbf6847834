"""The integration form: what it posts, how it is filled from a row, validated and saved."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.security import encrypt_secret
from app.models.unified_models import Integration
from app.schemas.api_schemas import IntegrationCreate


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


def form_values(integ: Integration | None) -> dict[str, Any]:
    """The form's fields for an existing integration, or a new one's defaults (never the token)."""
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


def save_values(session: Session, integ: Integration, values: dict[str, Any], settings: Settings) -> None:
    """Copy validated form values onto ``integ`` (the token only when one was given, encrypted)."""
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
