"""FastAPI dependencies as ``Annotated`` aliases, so route signatures read as documentation.

``SettingsDep`` (the app's settings), ``SessionDep`` (a metadata DB session), ``CurrentUser`` (any valid
token), ``AdminUser`` (an admin token; viewers get 403). ``require_admin`` also works in
``dependencies=[Depends(require_admin)]``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer

from app.core.config import Settings
from app.core.database import SessionDep
from app.core.security import AuthError, Principal, principal_from_token

TOKEN_URL = "/api/v1/auth/token"  # noqa: S105 - a path, not a secret

# auto_error=False: we answer 401 ourselves, with the same body for every kind of bad token.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


def get_app_settings(request: Request) -> Settings:
    """The settings the running app was built with."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


def get_current_user(
    settings: SettingsDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    """The caller of a bearer token; 401 when missing, malformed, forged, expired or unsigned."""
    if not token:
        raise _unauthorized("Not authenticated")
    try:
        return principal_from_token(token, settings)
    except AuthError as exc:
        raise _unauthorized(str(exc)) from None


CurrentUser = Annotated[Principal, Depends(get_current_user)]


def require_admin(user: CurrentUser) -> Principal:
    """The caller, who must be an admin (403 for a viewer)."""
    if not user.is_admin:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="Admin role required")
    return user


AdminUser = Annotated[Principal, Depends(require_admin)]

__all__ = [
    "AdminUser",
    "CurrentUser",
    "SessionDep",
    "SettingsDep",
    "get_app_settings",
    "get_current_user",
    "oauth2_scheme",
    "require_admin",
]
