"""The operator's admin pages at ``/admin``: server-rendered Jinja2 plus a little JS of our own.

``router`` gathers the route groups; ``app/main.py`` mounts it at ``/admin``. Modules: ``session``
(cookie, JWT, roles, CSRF), ``render`` (templates and filters), ``views`` (view models), and the route
groups ``static``, ``login``, ``jobs``, ``integrations`` and ``health``.
"""

from __future__ import annotations

from fastapi import APIRouter

from app.admin import health, integrations, jobs, login, static

router = APIRouter(include_in_schema=False)
# Same order as the routes were declared in one module before: static and sign-in first.
for _group in (static, login, jobs, integrations, health):
    router.include_router(_group.router)

__all__ = ["router"]
