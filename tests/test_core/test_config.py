"""Settings: start-up validation names the variable and the fix; secrets refused outside DEBUG."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from app.core.config import load_settings
from app.core.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
FERNET_ONE_LINER = 'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
GOOD = {
    "secret_key": "k" * 48,
    "encryption_key": Fernet.generate_key().decode(),
    "admin_password": "a-long-admin-password",
}


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The developer's shell and .env must not leak in: run from an empty directory with no KAIRUS_/app vars.
    monkeypatch.chdir(tmp_path)
    for name in ("SECRET_KEY", "ENCRYPTION_KEY", "ADMIN_PASSWORD", "DEBUG", "DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KAIRUS_ENV_FILE", "")


def _error(**values: object) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(**values)
    return str(info.value)


def test_production_refuses_missing_secrets_and_says_how_to_make_them() -> None:
    message = _error()
    assert "SECRET_KEY is missing" in message
    assert "ENCRYPTION_KEY is missing" in message
    assert "ADMIN_PASSWORD is missing" in message
    assert FERNET_ONE_LINER in message
    assert "secrets.token_urlsafe" in message


@pytest.mark.parametrize("placeholder", ["change-me", "changeme", "secret", ""])
def test_production_refuses_placeholders(placeholder: str) -> None:
    message = _error(**{**GOOD, "secret_key": placeholder})
    assert "SECRET_KEY is missing or a placeholder" in message


def test_production_refuses_weak_values() -> None:
    assert "SECRET_KEY is shorter than 32" in _error(**{**GOOD, "secret_key": "short-but-not-empty"})
    assert "ADMIN_PASSWORD is shorter than 12" in _error(**{**GOOD, "admin_password": "hunter22"})


def test_invalid_encryption_key_names_the_variable_and_the_fix() -> None:
    message = _error(**{**GOOD, "encryption_key": "not-a-fernet-key"})
    assert "ENCRYPTION_KEY: not a valid Fernet key" in message
    assert FERNET_ONE_LINER in message


def test_debug_generates_development_secrets_with_a_warning() -> None:
    with pytest.warns(UserWarning, match="generated random development values"):
        settings = load_settings(debug=True)
    assert set(settings.generated_secrets) == {"SECRET_KEY", "ENCRYPTION_KEY", "ADMIN_PASSWORD"}
    Fernet(settings.encryption_key_value.encode())  # a usable key
    assert len(settings.secret_key_value) >= 32


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"rate_limit": "lots"}, "RATE_LIMIT: 'lots' is not a rate limit"),
        ({"jira_projects": "ENG,bad key"}, "JIRA_PROJECTS: invalid project key(s) ['bad key']"),
        ({"jira_cron": "every day"}, "JIRA_CRON: 'every day' is not a valid crontab expression"),
        ({"jira_url": "ftp://jira"}, "JIRA_URL: 'ftp://jira' is not an http:// or https:// URL"),
        ({"jira_deployment": "cluster"}, "JIRA_DEPLOYMENT"),
        ({"jira_auth": "oauth"}, "JIRA_AUTH"),
        ({"database_url": "mysql://x/y"}, "DATABASE_URL: unsupported database 'mysql'"),
        ({"port": 70000}, "PORT"),
        ({"dq_max_failure_ratio": 2}, "DQ_MAX_FAILURE_RATIO"),
        ({"jira_job_interval_hours": 0}, "JIRA_JOB_INTERVAL_HOURS"),
        ({"log_level": "LOUD"}, "LOG_LEVEL"),
        ({"warehouse_schema": "drop table;"}, "WAREHOUSE_SCHEMA"),
    ],
)
def test_invalid_values_name_the_variable(values: dict[str, object], expected: str) -> None:
    assert expected in _error(**{**GOOD, **values})


def test_environment_variables_use_the_seed_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", GOOD["secret_key"])
    monkeypatch.setenv("ENCRYPTION_KEY", GOOD["encryption_key"])
    monkeypatch.setenv("ADMIN_PASSWORD", GOOD["admin_password"])
    monkeypatch.setenv("JIRA_PROJECTS", "ENG, DATA")
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example,https://b.example")
    monkeypatch.setenv("SNOWFLAKE_PRIVATE_KEY_PATH", "")  # empty = unset, not Path(".")
    monkeypatch.setenv("JIRA_JOB_INTERVAL_HOURS", "2.5")
    settings = load_settings()
    assert settings.jira_projects == ["ENG", "DATA"]
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.snowflake_private_key_path is None
    assert settings.jira_job_interval_hours == 2.5
    assert settings.snowflake_config() is None
    assert "a-long-admin-password" not in repr(settings)


def test_env_file_is_read_and_can_be_disabled(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env = tmp_path / "custom.env"
    lines = [f"{name.upper()}={value}" for name, value in GOOD.items()] + ["BATCH_ROWS=42"]
    env.write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("KAIRUS_ENV_FILE", str(env))
    assert load_settings().batch_rows == 42
    (tmp_path / ".env").write_text(env.read_text())
    monkeypatch.setenv("KAIRUS_ENV_FILE", "")
    with pytest.raises(ConfigError):
        load_settings()  # ./.env ignored: the secrets are missing again


def test_snowflake_config_with_key_pair() -> None:
    settings = load_settings(
        **GOOD,
        snowflake_account="xy12345",
        snowflake_user="etl",
        snowflake_private_key_path="/keys/etl.p8",
        snowflake_private_key_passphrase="pp",
        snowflake_role="LOADER",
    )
    config = settings.snowflake_config()
    assert config == {
        "account": "xy12345",
        "user": "etl",
        "schema": "jira",
        "role": "LOADER",
        "private_key_file": "/keys/etl.p8",
        "private_key_file_pwd": "pp",
    }


def test_server_refuses_to_start_with_a_readable_message(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "KAIRUS_ENV_FILE": "", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", "import app.main; app.main.app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "Kairus ETL Service cannot start: Invalid configuration" in result.stderr
    assert "SECRET_KEY is missing" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_setting_is_documented_in_env_example() -> None:
    from app.core.config import Settings

    documented = set()
    for line in (ROOT / ".env.example").read_text().splitlines():
        text = line.lstrip("# ").strip()
        name, sep, _ = text.partition("=")
        if sep and name.isupper() and " " not in name:
            documented.add(name)
    # Excluded fields are derived at start-up (e.g. which secrets were generated), not variables.
    variables = {name.upper() for name, f in Settings.model_fields.items() if not f.exclude}
    missing = variables - documented
    assert not missing, f".env.example lacks {sorted(missing)}"


def test_pipeline_knobs_accept_short_heartbeats_and_dev_refresh_choices() -> None:
    settings = load_settings(
        _env_file=None,
        heartbeat_stale_seconds=2,
        scheduler_resync_seconds=0.5,
        dev_refresh="all",
        batch_issues=10,
        **GOOD,
    )
    assert settings.heartbeat_stale_seconds == 2 and settings.scheduler_resync_seconds == 0.5
    assert settings.dev_refresh == "all" and settings.batch_issues == 10
    assert settings.batch_rows == 50_000
    with pytest.raises(ConfigError, match="HEARTBEAT_STALE_SECONDS"):
        load_settings(_env_file=None, heartbeat_stale_seconds=1, **GOOD)
    with pytest.raises(ConfigError, match="DEV_REFRESH"):
        load_settings(_env_file=None, dev_refresh="sometimes", **GOOD)
