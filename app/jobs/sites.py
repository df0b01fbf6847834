"""From the metadata database and settings to what a run needs: a ``JiraSite`` and a ``Warehouse``.

The integration named ``env-default`` mirrors the ``JIRA_*`` variables; the API and the CLI create or
update it when a request names no integration, so env-configured installs get job history and watermarks
like any other integration.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.errors import ConfigError
from app.core.security import decrypt_secret, encrypt_secret
from app.jira.client import JiraSite
from app.models.unified_models import Integration
from app.warehouse.base import Warehouse
from app.warehouse.factory import open_warehouse

ENV_DEFAULT = "env-default"


def site_for(integration: Integration, key: str | None = None) -> JiraSite:
    """The ``JiraSite`` of an integration, its token decrypted with ``key`` (default ``ENCRYPTION_KEY``).

    Raises ``ConfigError`` when the token cannot be decrypted (the key changed).
    """
    token = decrypt_secret(integration.token_encrypted, key) if integration.token_encrypted else ""
    deployment: Literal["cloud", "server"] = "server" if integration.deployment_type == "server" else "cloud"
    auth: Literal["basic", "bearer"] = "bearer" if integration.auth_type == "bearer" else "basic"
    return JiraSite(
        base_url=integration.base_url.rstrip("/"),
        deployment=deployment,
        auth=auth,
        username=integration.username or "",
        token=token,
        projects=tuple(integration.projects or ()),
        jql=integration.jql_filter or None,
        name=integration.name,
    )


def env_site(settings: Settings) -> JiraSite:
    """The site defined by the ``JIRA_*`` variables (raises :class:`ConfigError` when incomplete)."""
    if not settings.jira_configured():
        raise ConfigError(
            "No Jira integration given and the JIRA_* variables are incomplete: set JIRA_URL, "
            "JIRA_USERNAME (Basic auth) and JIRA_TOKEN, or name an integration."
        )
    assert settings.jira_url is not None and settings.jira_token is not None
    return JiraSite(
        base_url=settings.jira_url.rstrip("/"),
        deployment=settings.jira_deployment,
        auth=settings.jira_auth,
        username=settings.jira_username or "",
        token=settings.jira_token.get_secret_value(),
        projects=tuple(settings.jira_projects),
        jql=settings.jira_jql,
        name=ENV_DEFAULT,
    )


def ensure_env_integration(session: Session, settings: Settings) -> Integration:
    """Create or update the ``env-default`` integration from the ``JIRA_*`` variables."""
    site = env_site(settings)
    integration = session.scalars(select(Integration).where(Integration.name == ENV_DEFAULT)).first()
    if integration is None:
        integration = Integration(name=ENV_DEFAULT, enabled=True)
        session.add(integration)
    integration.base_url = site.base_url
    integration.deployment_type = site.deployment
    integration.auth_type = site.auth
    integration.username = site.username or None
    key = settings.encryption_key_value
    if _stored_token(integration, key) != site.token:
        integration.token_encrypted = encrypt_secret(site.token, key)
    integration.projects = list(site.projects)
    integration.jql_filter = site.jql
    integration.interval_hours = settings.jira_job_interval_hours
    integration.cron = settings.jira_cron
    session.flush()
    return integration


def _stored_token(integration: Integration, key: str) -> str | None:
    if not integration.token_encrypted:
        return None
    try:
        return decrypt_secret(integration.token_encrypted, key)
    except ConfigError:  # encrypted with an older key: the env's token replaces it
        return None


def find_integration(session: Session, name_or_id: str | int) -> Integration | None:
    """An integration by id (int or digits) or by name."""
    if isinstance(name_or_id, int) or str(name_or_id).isdigit():
        found = session.get(Integration, int(name_or_id))
        if found is not None:
            return found
    return session.scalars(select(Integration).where(Integration.name == str(name_or_id))).first()


def open_settings_warehouse(settings: Settings) -> Warehouse:
    """The warehouse the settings point at: Snowflake when configured, else the DuckDB file.

    Blocking; raises ``WarehouseLockedError`` when another process holds the DuckDB file.
    """
    return open_warehouse(
        duckdb_path=settings.duckdb_path,
        schema=settings.warehouse_schema,
        snowflake=settings.snowflake_config(),
    )
