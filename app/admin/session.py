"""Admin sign-in state: the API's JWT kept in an HttpOnly cookie, roles, and the CSRF token of a session.

The token lives in an HttpOnly, SameSite=Strict cookie and every form carries a CSRF token derived from it
(HMAC with ``SECRET_KEY``). Viewers see everything; only admins act, and the server refuses a viewer's POST
with 403 whatever the page showed.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Form, HTTPException, Request, status

from app.api.deps import get_app_settings
from app.core.config import Settings
from app.core.ratelimit import ADMIN_SESSION_COOKIE
from app.core.security import decode_access_token

# One name for the cookie: the rate limiter looks for it to give signed-in polling its own budget.
SESSION_COOKIE = ADMIN_SESSION_COOKIE
LOGIN_COOKIE = "kairus_admin_login"


@dataclass(frozen=True)
class WebUser:
    """The signed-in operator, from the API JWT kept in the session cookie."""

    username: str
    role: str
    token: str

    @property
    def can_act(self) -> bool:
        """Admins act (start, cancel, edit); viewers only see."""
        return self.role == "admin"


def csrf_for(token: str, settings: Settings) -> str:
    """The CSRF token of a session: an HMAC of its JWT, so it changes with every sign-in."""
    key = settings.secret_key_value.encode()
    return hmac.new(key, b"admin-csrf:" + token.encode(), hashlib.sha256).hexdigest()


def user_from_cookie(request: Request, settings: Settings) -> WebUser | None:
    """The user of the session cookie, or None when it is missing, expired, forged or of no known role."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        claims = decode_access_token(token, settings)
    except Exception:  # any bad, expired or forged token simply means "signed out"
        return None
    sub, role = claims.get("sub"), claims.get("role")
    if not sub or role not in ("admin", "viewer"):
        return None
    return WebUser(username=str(sub), role=str(role), token=token)


def page_user(request: Request, settings: Annotated[Settings, Depends(get_app_settings)]) -> WebUser:
    """Dependency of every page: the signed-in user, or a redirect to the sign-in form."""
    user = user_from_cookie(request, settings)
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise HTTPException(status.HTTP_303_SEE_OTHER, headers={"Location": login_url(target)})
    return user


def form_admin(
    request: Request,
    settings: Annotated[Settings, Depends(get_app_settings)],
    csrf_token: Annotated[str, Form()] = "",
) -> WebUser:
    """Dependency of every action: a signed-in *admin* whose form carries the session's CSRF token."""
    user = user_from_cookie(request, settings)
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Sign in first")
    if not hmac.compare_digest(csrf_token, csrf_for(user.token, settings)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Invalid or missing CSRF token; reload the page")
    if not user.can_act:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Only an admin can do this")
    return user


PageUser = Annotated[WebUser, Depends(page_user)]
FormAdmin = Annotated[WebUser, Depends(form_admin)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def login_url(next_path: str) -> str:
    """The sign-in form that returns to ``next_path`` afterwards."""
    return "/admin/login?next=" + quote(next_path, safe="")


def safe_next(value: str | None) -> str:
    """``value`` when it is a local admin path, else the jobs list."""
    # Only local admin paths: an open redirect after sign-in would be a phishing aid.
    if value and value.startswith("/admin") and not value.startswith("//") and "\\" not in value:
        return value
    return "/admin/jobs"
