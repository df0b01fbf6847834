"""The service's one settings object, read from the environment (and `.env`).

Every variable keeps the seed's upper-case name (``SECRET_KEY``, ``JIRA_URL`` ...); attributes are the
lower-case spelling (``settings.secret_key``). Secrets are ``SecretStr``: never shown in a repr or a log.

Invalid values fail at start-up with a :class:`~app.core.errors.ConfigError` naming each bad variable and
how to fix it. With ``DEBUG=false`` missing or placeholder secrets refuse to start; with ``DEBUG=true`` a
random development value is generated (with a warning).

``.env`` is read from the working directory; ``KAIRUS_ENV_FILE`` points elsewhere, and ``KAIRUS_ENV_FILE=""``
disables it (tests build ``Settings(_env_file=None, ...)`` directly).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.core.config_checks import (
    check_cron,
    check_database_url,
    check_fernet_key,
    check_project_keys,
    check_rate_limit,
    check_url,
    resolve_secrets,
    split_csv,
)
from app.core.errors import ConfigError

Deployment = Literal["cloud", "server"]
JiraAuth = Literal["basic", "bearer"]
DevRefresh = Literal["open", "all", "none"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


def _env_file() -> str | None:
    """The dotenv file to read: ``KAIRUS_ENV_FILE`` if set (empty = none), else ``.env``."""
    value = os.environ.get("KAIRUS_ENV_FILE")
    if value is None:
        return ".env"
    return value or None


class Settings(BaseSettings):
    """All configuration of the service; build it with :func:`load_settings` to get readable errors."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        # `NAME=` (as in .env.example) means "not set": use the default instead of an empty value.
        env_ignore_empty=True,
    )

    # --- service ---------------------------------------------------------------------------------
    debug: bool = False
    log_level: LogLevel = "INFO"
    host: str = "0.0.0.0"  # noqa: S104 - a service in a container listens on every interface
    port: int = Field(default=8000, ge=1, le=65535)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    rate_limit: str = "120/minute"
    login_rate_limit: str = "10/minute"
    run_migrations_at_start: bool = True

    # --- secrets and auth ------------------------------------------------------------------------
    secret_key: SecretStr | None = None
    encryption_key: SecretStr | None = None
    admin_username: str = "admin"
    admin_password: SecretStr | None = None
    viewer_username: str | None = None
    viewer_password: SecretStr | None = None
    jwt_expire_minutes: int = Field(default=60, ge=1, le=60 * 24 * 30)

    # --- storage ---------------------------------------------------------------------------------
    database_url: str = "sqlite:///data/kairus.db"
    redis_url: str | None = None
    duckdb_path: Path = Path("data/warehouse.duckdb")
    warehouse_schema: str = Field(default="jira", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

    # --- Snowflake (used when account and user are set; else DuckDB) ------------------------------
    snowflake_account: str | None = None
    snowflake_user: str | None = None
    snowflake_password: SecretStr | None = None
    snowflake_database: str | None = None
    snowflake_schema: str | None = None
    snowflake_warehouse: str | None = None
    snowflake_role: str | None = None
    snowflake_private_key_path: Path | None = None
    snowflake_private_key_passphrase: SecretStr | None = None

    # --- the env-configured default Jira integration ----------------------------------------------
    jira_url: str | None = None
    jira_username: str | None = None
    jira_token: SecretStr | None = None
    jira_deployment: Deployment = "cloud"
    jira_auth: JiraAuth = "basic"
    jira_projects: Annotated[list[str], NoDecode] = Field(default_factory=list)
    jira_jql: str | None = None
    jira_job_interval_hours: float | None = Field(default=None, gt=0)
    jira_cron: str | None = None

    # --- pipeline knobs --------------------------------------------------------------------------
    # A batch is loaded at ``batch_issues`` issues; ``batch_rows`` (all tables) caps its memory.
    batch_issues: int = Field(default=2000, ge=1)
    batch_rows: int = Field(default=50_000, ge=1)
    batch_seconds: float = Field(default=30.0, gt=0)
    dq_max_failure_ratio: float = Field(default=0.01, ge=0, le=1)
    jira_max_in_flight: int = Field(default=8, ge=1, le=256)
    jira_timeout_seconds: float = Field(default=30.0, gt=0)
    overlap_minutes: int = Field(default=5, ge=0)
    dev_refresh: DevRefresh = "open"
    scheduler_enabled: bool = True
    worker_enabled: bool = True
    worker_count: int = Field(default=1, ge=1, le=32)
    # Short values (down to 2 s) keep crash tests fast; production wants minutes.
    heartbeat_stale_seconds: int = Field(default=120, ge=2)
    scheduler_resync_seconds: float = Field(default=30.0, gt=0)

    # --- validators ------------------------------------------------------------------------------
    @field_validator("cors_origins", "jira_projects", mode="before")
    @classmethod
    def _split_lists(cls, value: Any) -> Any:
        return split_csv(value)

    @field_validator("jira_projects")
    @classmethod
    def _check_projects(cls, value: list[str]) -> list[str]:
        return check_project_keys(value)

    @field_validator("rate_limit", "login_rate_limit")
    @classmethod
    def _check_rate_limit(cls, value: str) -> str:
        return check_rate_limit(value)

    @field_validator("jira_url")
    @classmethod
    def _check_jira_url(cls, value: str | None) -> str | None:
        return None if not value else check_url(value)

    @field_validator("jira_cron")
    @classmethod
    def _check_cron(cls, value: str | None) -> str | None:
        return None if not value else check_cron(value)

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        return check_database_url(value)

    @field_validator("encryption_key")
    @classmethod
    def _check_encryption_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value() or value.get_secret_value().startswith("change"):
            return value  # missing/placeholder: handled by the secrets check below
        check_fernet_key(value.get_secret_value())
        return value

    @field_validator("redis_url", "jira_username", "jira_jql", "snowflake_account", "snowflake_user")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _check_secrets(self) -> Settings:
        self.generated_secrets = resolve_secrets(self)
        return self

    # --- derived views ---------------------------------------------------------------------------
    generated_secrets: tuple[str, ...] = Field(default=(), exclude=True)

    @property
    def secret_key_value(self) -> str:
        """The JWT signing key (always set after validation)."""
        assert self.secret_key is not None
        return self.secret_key.get_secret_value()

    @property
    def encryption_key_value(self) -> str:
        """The Fernet key for secrets at rest (always set after validation)."""
        assert self.encryption_key is not None
        return self.encryption_key.get_secret_value()

    def snowflake_config(self) -> dict[str, Any] | None:
        """Connection arguments for Snowflake, or None when no Snowflake account is configured."""
        if not (self.snowflake_account and self.snowflake_user):
            return None
        config: dict[str, Any] = {
            "account": self.snowflake_account,
            "user": self.snowflake_user,
            "database": self.snowflake_database,
            "schema": self.snowflake_schema or self.warehouse_schema,
            "warehouse": self.snowflake_warehouse,
            "role": self.snowflake_role,
        }
        if self.snowflake_password is not None:
            config["password"] = self.snowflake_password.get_secret_value()
        if self.snowflake_private_key_path is not None:
            config["private_key_file"] = str(self.snowflake_private_key_path)
            if self.snowflake_private_key_passphrase is not None:
                config["private_key_file_pwd"] = self.snowflake_private_key_passphrase.get_secret_value()
        return {key: value for key, value in config.items() if value is not None}

    def jira_configured(self) -> bool:
        """True when the env-configured default Jira integration is complete."""
        return bool(self.jira_url and self.jira_token and (self.jira_auth == "bearer" or self.jira_username))


def load_settings(**overrides: Any) -> Settings:
    """Build :class:`Settings` from the environment; validation errors become one readable ConfigError."""
    overrides.setdefault("_env_file", _env_file())
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            variable = "_".join(str(part) for part in err["loc"]).upper()
            message = str(err["msg"]).removeprefix("Value error, ")
            lines.append(f"  {variable}: {message}" if variable else f"  {message}")
        raise ConfigError("Invalid configuration:\n" + "\n".join(lines)) from None


_active: Settings | None = None


def activate_settings(settings: Settings | None) -> None:
    """Make ``settings`` what :func:`get_settings` returns (``create_app`` does this; None resets)."""
    global _active
    _active = settings


@lru_cache(maxsize=1)
def _from_environment() -> Settings:
    return load_settings()


def get_settings() -> Settings:
    """The process-wide settings: the running app's, else read once from the environment."""
    return _active if _active is not None else _from_environment()


def reset_settings() -> None:
    """Forget the active and cached settings (the next call re-reads the environment)."""
    activate_settings(None)
    _from_environment.cache_clear()


# Compatibility with callers that clear the cache the lru_cache way.
get_settings.cache_clear = reset_settings  # type: ignore[attr-defined]
