"""Request and response models of the auth, health and integrations API.

Validation reuses the rules of the settings (``app.core.config_checks``) so a bad URL, project key or
cron expression gets the same explanation in a 422 as at start-up. The Jira token is write-only: requests
may carry it, responses only say ``has_token``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from app.core.config_checks import check_cron, check_project_keys, check_url

Deployment = Literal["cloud", "server"]
JiraAuth = Literal["basic", "bearer"]
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 ._\-]{0,99}$"


class TokenOut(BaseModel):
    """An OAuth2 bearer token (what ``/docs`` Authorize expects)."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type
    expires_in: int = Field(description="Seconds until the token expires")
    role: str


class HealthOut(BaseModel):
    """Liveness plus the metadata database check."""

    status: Literal["ok", "error"]
    database: Literal["ok", "error"]
    version: str
    detail: str | None = None


class _IntegrationFields(BaseModel):
    """Validators shared by create and update (each runs only on fields that are present)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("base_url", check_fields=False)
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value)

    @field_validator("projects", check_fields=False)
    @classmethod
    def _projects(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else check_project_keys(value)

    @field_validator("cron", check_fields=False)
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        return None if not value else check_cron(value)


class IntegrationCreate(_IntegrationFields):
    """A new Jira integration. ``interval_hours`` or ``cron`` schedules it (neither: manual only)."""

    name: str = Field(pattern=NAME_PATTERN, description="Unique name (letters, digits, space . _ -)")
    base_url: str = Field(max_length=500, description="https://your-site.atlassian.net")
    deployment_type: Deployment = "cloud"
    auth_type: JiraAuth = "basic"
    username: str | None = Field(default=None, max_length=255, description="E-mail for Basic auth")
    token: SecretStr = Field(min_length=1, max_length=4000, description="API token or PAT (write-only)")
    projects: list[str] = Field(default_factory=list, max_length=500)
    jql_filter: str | None = Field(default=None, max_length=2000)
    interval_hours: float | None = Field(default=None, gt=0, le=24 * 366)
    cron: str | None = Field(default=None, max_length=100)
    enabled: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.auth_type == "basic" and not self.username:
            raise ValueError("username is required with auth_type 'basic' (the Jira account's e-mail)")
        if self.interval_hours is not None and self.cron:
            raise ValueError("set interval_hours or cron, not both")
        return self


class IntegrationUpdate(_IntegrationFields):
    """A partial update: only the fields sent change (send ``token`` to replace the stored one)."""

    name: str | None = Field(default=None, pattern=NAME_PATTERN)
    base_url: str | None = Field(default=None, max_length=500)
    deployment_type: Deployment | None = None
    auth_type: JiraAuth | None = None
    username: str | None = Field(default=None, max_length=255)
    token: SecretStr | None = Field(default=None, min_length=1, max_length=4000)
    projects: list[str] | None = Field(default=None, max_length=500)
    jql_filter: str | None = Field(default=None, max_length=2000)
    interval_hours: float | None = Field(default=None, gt=0, le=24 * 366)
    cron: str | None = Field(default=None, max_length=100)
    enabled: bool | None = None


class IntegrationOut(BaseModel):
    """An integration as the API shows it: never the token, only whether one is stored."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    base_url: str
    deployment_type: Deployment
    auth_type: JiraAuth
    username: str | None
    has_token: bool
    projects: list[str]
    jql_filter: str | None
    interval_hours: float | None
    cron: str | None
    enabled: bool
    created_at: datetime
    updated_at: datetime


class IntegrationList(BaseModel):
    """A page of integrations."""

    items: list[IntegrationOut]
    total: int
