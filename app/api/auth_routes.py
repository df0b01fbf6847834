"""``POST /api/v1/auth/token``: the OAuth2 password flow (so ``/docs`` can authorize) for the bootstrap users.

The users come from ``ADMIN_USERNAME``/``ADMIN_PASSWORD`` (role admin) and the optional
``VIEWER_USERNAME``/``VIEWER_PASSWORD`` (role viewer); only their argon2 hashes are kept in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from app.api.deps import CurrentUser, SettingsDep
from app.core.config import Settings
from app.core.security import create_access_token, hash_password, verify_password

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
log = structlog.get_logger("app.auth")


@dataclass(frozen=True)
class BootstrapUser:
    """A configured user: name, role and password hash (never the password)."""

    username: str
    role: str
    password_hash: str


def bootstrap_users(settings: Settings) -> dict[str, BootstrapUser]:
    """The users defined by the settings, with their passwords hashed once at start-up."""
    users: dict[str, BootstrapUser] = {}
    if settings.admin_password is not None:
        users[settings.admin_username] = BootstrapUser(
            settings.admin_username, "admin", hash_password(settings.admin_password.get_secret_value())
        )
    if settings.viewer_username and settings.viewer_password is not None:
        users[settings.viewer_username] = BootstrapUser(
            settings.viewer_username, "viewer", hash_password(settings.viewer_password.get_secret_value())
        )
    return users


def authenticate(request: Request, username: str, password: str) -> BootstrapUser | None:
    """The user when ``password`` matches, else None (unknown users cost the same time as wrong passwords)."""
    users: dict[str, BootstrapUser] = request.app.state.users
    user = users.get(username)
    if not verify_password(password, user.password_hash if user else None):
        return None
    return user


@router.post("/token")
def issue_token(
    request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()], settings: SettingsDep
) -> dict[str, str | int]:
    """Exchange a username and password for a bearer token."""
    user = authenticate(request, form.username, form.password)
    if user is None:
        log.warning("login_failed", username=form.username)
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "Incorrect username or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    token = create_access_token(user.username, user.role, settings=settings)
    log.info("login", username=user.username, role=user.role)
    return {
        "access_token": token,
        "token_type": "bearer",
        "expires_in": settings.jwt_expire_minutes * 60,
        "role": user.role,
    }


@router.get("/me")
def who_am_i(user: CurrentUser) -> dict[str, str]:
    """The caller's name and role."""
    return {"subject": user.subject, "role": user.role}
