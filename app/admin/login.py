"""Sign-in and sign-out of the admin pages: the API's users and JWT, a double-submit CSRF on the form."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.admin.render import render
from app.admin.session import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    SettingsDep,
    csrf_for,
    safe_next,
    user_from_cookie,
)
from app.api.auth_routes import authenticate
from app.core.config import Settings
from app.core.security import create_access_token

router = APIRouter()


def _login_page(
    request: Request,
    settings: Settings,
    *,
    next_url: str,
    error: str = "",
    username: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    # Double-submit token: the sign-in form is posted before any session exists.
    login_csrf = secrets.token_urlsafe(24)
    response = render(
        request,
        "admin/login.html",
        None,
        settings,
        status_code=status_code,
        login_csrf=login_csrf,
        next_url=next_url,
        error=error,
        username=username,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        login_csrf,
        httponly=True,
        samesite="strict",
        path="/admin",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, settings: SettingsDep, next: str | None = None) -> HTMLResponse:
    """The sign-in form."""
    return _login_page(request, settings, next_url=safe_next(next))


@router.post("/login", response_model=None)
def login(
    request: Request,
    settings: SettingsDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """Check the credentials like ``POST /api/v1/auth/token`` and keep the same JWT in a cookie."""
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(csrf_token, expected):
        return _login_page(
            request,
            settings,
            next_url=safe_next(next),
            username=username,
            error="The form expired; please sign in again.",
            status_code=403,
        )
    account = authenticate(request, username, password)
    if account is None:
        return _login_page(
            request,
            settings,
            next_url=safe_next(next),
            username=username,
            error="Wrong user name or password.",
            status_code=401,
        )
    token = create_access_token(account.username, account.role, settings=settings)
    response = RedirectResponse(safe_next(next), status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        path="/admin",
        max_age=settings.jwt_expire_minutes * 60,
        secure=request.url.scheme == "https",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/admin")
    return response


@router.post("/logout")
def logout(
    request: Request, settings: SettingsDep, csrf_token: Annotated[str, Form()] = ""
) -> RedirectResponse:
    """Sign out (CSRF-checked, so another site cannot sign the operator out)."""
    user = user_from_cookie(request, settings)
    if user is not None and not hmac.compare_digest(csrf_token, csrf_for(user.token, settings)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Invalid or missing CSRF token")
    response = RedirectResponse("/admin/login", status.HTTP_303_SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE, path="/admin")
    return response
