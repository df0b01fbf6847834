"""Template set-up for the admin pages: the Jinja2 environment, its filters, and ``render``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app.admin.session import WebUser, csrf_for
from app.core.config import Settings

_APP_DIR = Path(__file__).resolve().parents[1]
STATIC_DIR = _APP_DIR / "static"

templates = Jinja2Templates(directory=str(_APP_DIR / "templates"))


def _num(value: Any) -> str:
    return "" if value is None or value == "" else f"{int(value):,}"


def _duration(seconds: Any) -> str:
    if seconds is None:
        return ""
    total = round(float(seconds))
    if total < 60:
        return f"{total} s"
    minutes, sec = divmod(total, 60)
    return f"{minutes} min {sec} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


def _static_url(name: str) -> str:
    # The file's mtime busts browser caches after an upgrade without a build step.
    version = int((STATIC_DIR / name).stat().st_mtime)
    return f"/admin/static/{name}?v={version}"


templates.env.filters["num"] = _num
templates.env.filters["duration"] = _duration
templates.env.globals["static_url"] = _static_url


def ts(value: datetime | None) -> str:
    """An instant as the pages show it: UTC, to the second ("" for None)."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if value else ""


def render(
    request: Request,
    name: str,
    user: WebUser | None,
    settings: Settings,
    status_code: int = 200,
    **ctx: Any,
) -> HTMLResponse:
    """Render a page with the user, role and CSRF token every layout needs."""
    context = {
        "user": user,
        "can_act": bool(user and user.can_act),
        "csrf_token": csrf_for(user.token, settings) if user else "",
        **ctx,
    }
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def not_found(request: Request, user: WebUser, settings: Settings, detail: str) -> HTMLResponse:
    """A 404 page in the admin layout (a browser user should not land on raw JSON)."""
    return render(
        request,
        "admin/error.html",
        user,
        settings,
        status_code=404,
        code=404,
        title="Not found",
        detail=detail,
    )
