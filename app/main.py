"""The FastAPI application: ``create_app(settings)`` wires middleware, routers and the lifespan.

``app.main:app`` (what ``python -m uvicorn app.main:app`` serves) is ``create_app()`` built on first access:
it reads the environment (and ``.env``) and refuses to start with a readable message when the
configuration is invalid, while importing ``create_app`` alone reads nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from app.admin import router as admin_ui_router
from app.api import admin_routes, auth_routes, etl_routes, health_routes, ops_routes
from app.api.auth_routes import bootstrap_users
from app.core.cache import create_cache
from app.core.config import Settings, activate_settings, get_settings
from app.core.database import create_db_engine
from app.core.logging_config import configure_logging
from app.core.middleware import RequestContextMiddleware
from app.core.migrate import upgrade_head
from app.core.ratelimit import RateLimitMiddleware, make_storage
from app.core.version import __version__

log = structlog.get_logger("app")

API_DESCRIPTION = (
    "Extracts Jira (with dev-status data) into Snowflake or DuckDB, incrementally and idempotently. "
    "Authorize with `POST /api/v1/auth/token` (admin or viewer)."
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start-up: migrations (optional), then the job workers and scheduler; shutdown in reverse."""
    # Imported here: the job service pulls in the whole pipeline, which building the app does not need.
    from app.jobs import service as job_service

    settings: Settings = app.state.settings
    if settings.run_migrations_at_start:
        revision = await asyncio.to_thread(upgrade_head, settings.database_url)
        log.info("database_migrated", revision=revision)
    await job_service.start_background(app)
    log.info("service_started", version=__version__, debug=settings.debug)
    try:
        yield
    finally:
        await job_service.stop_background(app)
        await app.state.cache.close()
        app.state.engine.dispose()
        log.info("service_stopped")


def _nonce_scripts(html: str, nonce: str) -> str:
    # Swagger UI and ReDoc pages carry inline <script> blocks: the nonce lets them run under our CSP.
    return html.replace("<script>", f'<script nonce="{nonce}">').replace(
        "<script src=", f'<script nonce="{nonce}" src='
    )


def _add_docs_routes(app: FastAPI) -> None:
    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        page = get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title} - Swagger UI")
        return HTMLResponse(_nonce_scripts(bytes(page.body).decode(), request.state.csp_nonce))

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        page = get_redoc_html(openapi_url="/openapi.json", title=f"{app.title} - ReDoc")
        return HTMLResponse(_nonce_scripts(bytes(page.body).decode(), request.state.csp_nonce))

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service for ``settings`` (default: the environment); nothing connects until start-up."""
    settings = settings or get_settings()
    activate_settings(settings)
    configure_logging(settings.log_level, debug=settings.debug)
    if settings.generated_secrets:
        log.warning("debug_generated_secrets", variables=list(settings.generated_secrets))

    app = FastAPI(
        title="Kairus ETL Service",
        version=__version__,
        description=API_DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.engine = create_db_engine(settings.database_url)
    app.state.cache = create_cache(settings.redis_url)
    app.state.users = bootstrap_users(settings)
    app.state.scheduler = None

    # Middleware runs outermost-last: request ids and security headers wrap everything, the 429 too.
    app.add_middleware(
        RateLimitMiddleware,
        limit=settings.rate_limit,
        login_limit=settings.login_rate_limit,
        storage=make_storage(settings.redis_url),
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    app.add_middleware(RequestContextMiddleware)

    app.include_router(health_routes.router)
    app.include_router(auth_routes.router)
    app.include_router(admin_routes.router)
    app.include_router(etl_routes.router, prefix="/api/v1")
    app.include_router(ops_routes.router, prefix="/api/v1")
    app.include_router(admin_ui_router, prefix="/admin")
    _add_docs_routes(app)
    return app


_module_app: FastAPI | None = None


def __getattr__(name: str) -> FastAPI:
    """``app.main.app``, built on first access (PEP 562) so importing ``create_app`` reads no environment."""
    global _module_app
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if _module_app is None:
        try:
            _module_app = create_app()
        except Exception as exc:
            # uvicorn would print a long traceback; the ConfigError message already says what to fix.
            raise SystemExit(f"Kairus ETL Service cannot start: {exc}") from None
    return _module_app
