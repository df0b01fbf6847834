"""Checks behind :mod:`app.core.config`: each raises ``ValueError`` with a message that says how to fix it.

Kept apart from the settings class so the integrations API can reuse the same rules (URL scheme, project
key pattern, cron syntax) and answer with the same words.
"""

from __future__ import annotations

import re
import secrets
import warnings
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from pydantic import SecretStr

if TYPE_CHECKING:
    from app.core.config import Settings

PROJECT_KEY_RE = re.compile(r"^[A-Z][A-Z0-9_]{1,9}$")

FERNET_HINT = (
    'generate one with: python -c "from cryptography.fernet import Fernet; '
    'print(Fernet.generate_key().decode())"'
)
SECRET_HINT = 'generate one with: python -c "import secrets; print(secrets.token_urlsafe(48))"'  # noqa: S105
PASSWORD_HINT = "set a strong password (at least 12 characters), or run `python -m app init-env`"  # noqa: S105

# Values that mean "nobody filled this in": refused outside DEBUG.
PLACEHOLDERS = frozenset(
    {"", "change-me", "changeme", "change_me", "secret", "password", "admin", "please-change", "xxx", "todo"}
)
MIN_SECRET_KEY_LENGTH = 32
MIN_PASSWORD_LENGTH = 12


def split_csv(value: Any) -> Any:
    """Accept ``"a,b, c"`` (what an env var holds) as well as a real list; JSON lists pass through."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import json

            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


def check_project_keys(keys: list[str]) -> list[str]:
    """Every key must look like a Jira project key (``ABC``, ``DATA_2``)."""
    bad = [key for key in keys if not PROJECT_KEY_RE.match(key)]
    if bad:
        raise ValueError(
            f"invalid project key(s) {bad}: a key is 2-10 upper-case letters, digits or _, "
            "starting with a letter (e.g. PROJ)"
        )
    return keys


def check_url(value: str) -> str:
    """An absolute http(s) URL with a host; a trailing slash is removed."""
    parsed = urlparse(value)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        raise ValueError(
            f"{value!r} is not an http:// or https:// URL (e.g. https://your-site.atlassian.net)"
        )
    return value.rstrip("/")


def check_cron(value: str) -> str:
    """A five-field crontab expression that APScheduler accepts."""
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(value)
    except ValueError as exc:
        raise ValueError(
            f"{value!r} is not a valid crontab expression ({exc}); use five fields, e.g. '0 */2 * * *'"
        ) from None
    return value


def check_rate_limit(value: str) -> str:
    """A rate limit string the ``limits`` library parses, e.g. ``120/minute``."""
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError:
        raise ValueError(
            f"{value!r} is not a rate limit; use e.g. '120/minute' or '10/second;1000/hour'"
        ) from None
    return value


def check_database_url(value: str) -> str:
    """A SQLAlchemy URL for SQLite or PostgreSQL."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(value)
    except ArgumentError:
        raise ValueError(
            f"{value!r} is not a database URL; use e.g. sqlite:///data/kairus.db or "
            "postgresql+psycopg://user:password@host:5432/db"
        ) from None
    if url.get_backend_name() not in {"sqlite", "postgresql"}:
        raise ValueError(f"unsupported database {url.get_backend_name()!r}: use sqlite or postgresql")
    return value


def check_fernet_key(value: str) -> None:
    """A url-safe base64 32-byte Fernet key."""
    from cryptography.fernet import Fernet

    try:
        Fernet(value.encode())
    except (ValueError, TypeError):
        raise ValueError(
            f"not a valid Fernet key (32 url-safe base64-encoded bytes); {FERNET_HINT}"
        ) from None


def _missing(secret: SecretStr | None) -> bool:
    return secret is None or secret.get_secret_value().strip().lower() in PLACEHOLDERS


def resolve_secrets(settings: Settings) -> tuple[str, ...]:
    """Refuse missing/placeholder/weak secrets outside DEBUG; in DEBUG fill them with random dev values.

    Returns the names of the variables that were generated (the caller logs a warning).
    """
    from cryptography.fernet import Fernet

    problems: list[str] = []
    generated: list[str] = []
    if _missing(settings.secret_key):
        if settings.debug:
            settings.secret_key = SecretStr(secrets.token_urlsafe(48))
            generated.append("SECRET_KEY")
        else:
            problems.append(f"SECRET_KEY is missing or a placeholder; {SECRET_HINT}")
    elif len(settings.secret_key_value) < MIN_SECRET_KEY_LENGTH and not settings.debug:
        problems.append(f"SECRET_KEY is shorter than {MIN_SECRET_KEY_LENGTH} characters; {SECRET_HINT}")
    if _missing(settings.encryption_key):
        if settings.debug:
            settings.encryption_key = SecretStr(Fernet.generate_key().decode())
            generated.append("ENCRYPTION_KEY")
        else:
            problems.append(f"ENCRYPTION_KEY is missing or a placeholder; {FERNET_HINT}")
    if _missing(settings.admin_password):
        if settings.debug:
            settings.admin_password = SecretStr(secrets.token_urlsafe(12))
            generated.append("ADMIN_PASSWORD")
        else:
            problems.append(f"ADMIN_PASSWORD is missing or a placeholder; {PASSWORD_HINT}")
    elif (
        settings.admin_password is not None
        and not settings.debug
        and len(settings.admin_password.get_secret_value()) < MIN_PASSWORD_LENGTH
    ):
        problems.append(f"ADMIN_PASSWORD is shorter than {MIN_PASSWORD_LENGTH} characters; {PASSWORD_HINT}")
    if settings.viewer_username and _missing(settings.viewer_password):
        problems.append("VIEWER_PASSWORD must be set when VIEWER_USERNAME is; or leave both empty")
    if problems:
        raise ValueError(
            "\n  ".join(problems) + "\n  (with DEBUG=true, development values are generated instead)"
        )
    if generated:
        warnings.warn(
            f"DEBUG: generated random development values for {', '.join(generated)}; "
            "they change at every start (set them in .env to keep tokens and encrypted secrets valid)",
            stacklevel=2,
        )
    return tuple(generated)
