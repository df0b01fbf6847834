"""``POST /api/v1/auth/token``: the OAuth2 password flow (so ``/docs`` can authorize) for the bootstrap users.

The users come from ``ADMIN_USERNAME``/``ADMIN_PASSWORD`` (role admin) and the optional
``VIEWER_USERNAME``/``VIEWER_PASSWORD`` (role viewer); only their argon2 hashes are kept in memory.
"""

from __future__ import annotations

import threading
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


class UserStore:
    """The users defined by the settings; passwords are hashed once, on the first sign-in.

    Hashing lazily keeps start-up fast (argon2 is slow on purpose) while sign-ins still compare
    against argon2 hashes only.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._users: dict[str, BootstrapUser] | None = None
        self._lock = threading.Lock()

    def _load(self) -> dict[str, BootstrapUser]:
        with self._lock:
            if self._users is None:
                self._users = _hash_users(self._settings)
            return self._users

    def authenticate(self, username: str, password: str) -> BootstrapUser | None:
        """The user when ``password`` matches; unknown users cost the same time as wrong passwords."""
        user = self._load().get(username)
        if not verify_password(password, user.password_hash if user else None):
            return None
        return user


def _hash_users(settings: Settings) -> dict[str, BootstrapUser]:
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


def bootstrap_users(settings: Settings) -> UserStore:
    """The user store of an app (``app.state.users``)."""
    return UserStore(settings)


def authenticate(request: Request, username: str, password: str) -> BootstrapUser | None:
    """The user when ``password`` matches, else None (blocking: call from a threadpool route)."""
    store: UserStore = request.app.state.users
    return store.authenticate(username, password)


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
