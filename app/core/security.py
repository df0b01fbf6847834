"""Passwords, JWT access tokens and secrets at rest.

- Passwords: pwdlib's recommended hasher (argon2id).
- Tokens: PyJWT, HS256 signed with ``SECRET_KEY``; only HS256 is accepted on decode, so ``alg=none`` and
  algorithm-confusion tokens are refused; ``exp``, ``iat``, ``sub``, ``iss`` and ``role`` are required.
- Secrets at rest (Jira tokens): Fernet with ``ENCRYPTION_KEY``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import jwt
from cryptography.fernet import Fernet, InvalidToken
from pwdlib import PasswordHash

from app.core.errors import ConfigError

if TYPE_CHECKING:
    from app.core.config import Settings

JWT_ALGORITHM = "HS256"
# Tokens name their issuer: another service sharing the key by mistake cannot mint ours.
JWT_ISSUER = "kairus-etl"
ROLES = ("admin", "viewer")


class AuthError(Exception):
    """A token or a login was rejected; the message is safe to show to the client."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's subject and role."""

    subject: str
    role: str

    @property
    def is_admin(self) -> bool:
        """Admins may mutate; viewers only read."""
        return self.role == "admin"


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """True when ``password`` matches; with no hash, still spends the time so timing reveals nothing."""
    if password_hash is None:
        _hasher().hash(password)
        return False
    return _hasher().verify(password, password_hash)


def _settings(settings: Settings | None) -> Settings:
    if settings is not None:
        return settings
    from app.core.config import get_settings

    return get_settings()


def create_access_token(
    sub: str, role: str, *, minutes: int | None = None, settings: Settings | None = None
) -> str:
    """A signed JWT for ``sub`` with ``role``, valid ``minutes`` (default ``JWT_EXPIRE_MINUTES``)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; use one of {ROLES}")
    cfg = _settings(settings)
    now = datetime.now(UTC)
    lifetime = timedelta(minutes=minutes if minutes is not None else cfg.jwt_expire_minutes)
    claims = {"iss": JWT_ISSUER, "sub": sub, "role": role, "iat": now, "nbf": now, "exp": now + lifetime}
    return jwt.encode(claims, cfg.secret_key_value, algorithm=JWT_ALGORITHM)


def decode_access_token(token: str, settings: Settings | None = None) -> dict[str, Any]:
    """The verified claims of ``token``; raises :class:`AuthError` when it is malformed, forged or expired."""
    cfg = _settings(settings)
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            cfg.secret_key_value,
            algorithms=[JWT_ALGORITHM],
            issuer=JWT_ISSUER,
            options={"require": ["exp", "iat", "sub", "iss"]},
        )
    except jwt.ExpiredSignatureError:
        raise AuthError("Token expired") from None
    except jwt.InvalidTokenError:
        raise AuthError("Invalid token") from None
    if claims.get("role") not in ROLES:
        raise AuthError("Invalid token")
    return claims


def principal_from_token(token: str, settings: Settings | None = None) -> Principal:
    """The caller behind a bearer token (see :func:`decode_access_token` for the errors)."""
    claims = decode_access_token(token, settings)
    return Principal(subject=str(claims["sub"]), role=str(claims["role"]))


def _fernet(key: str | None) -> Fernet:
    if key is None:
        key = _settings(None).encryption_key_value
    try:
        return Fernet(key.encode())
    except (ValueError, TypeError):
        raise ConfigError("ENCRYPTION_KEY is not a valid Fernet key") from None


def encrypt_secret(plain: str, key: str | None = None) -> str:
    """Encrypt ``plain`` with Fernet (``key`` defaults to ``ENCRYPTION_KEY``); returns ASCII text."""
    return _fernet(key).encrypt(plain.encode()).decode()


def decrypt_secret(token: str, key: str | None = None) -> str:
    """Decrypt a value made by :func:`encrypt_secret`.

    Raises ConfigError when the key does not match (ENCRYPTION_KEY changed since it was stored).
    """
    try:
        return _fernet(key).decrypt(token.encode()).decode()
    except InvalidToken:
        raise ConfigError(
            "a stored secret cannot be decrypted with the current ENCRYPTION_KEY "
            "(was the key changed?); re-enter the integration's token"
        ) from None
