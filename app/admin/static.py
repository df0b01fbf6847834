"""The admin's own CSS and JS, and the entry point that leads to the jobs list."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import FileResponse, RedirectResponse

from app.admin.render import STATIC_DIR

router = APIRouter()

STATIC_FILES = {"admin.css": "text/css", "admin.js": "text/javascript"}


@router.get("/static/{name}")
def static_file(name: str) -> FileResponse:
    """Our own CSS and JS (a fixed list: no path from the URL ever reaches the file system)."""
    if name not in STATIC_FILES:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such file")
    return FileResponse(STATIC_DIR / name, media_type=STATIC_FILES[name])


@router.get("/")
def admin_home() -> RedirectResponse:
    """The admin entry point: the jobs list."""
    return RedirectResponse("/admin/jobs", status.HTTP_303_SEE_OTHER)
