"""``create_app(config)``: the simulator's FastAPI app with its site, stats and fault middleware."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

from simulator.config import SimConfig
from simulator.faults import Faults, error_body
from simulator.middleware import SimMiddleware
from simulator.routes import agile, control, devstatus, issues, reference, search, worklogs
from simulator.routes.common import JiraHTTPError, jresp
from simulator.search_engine import Snapshots
from simulator.site import Site
from simulator.stats import Stats


def create_app(config: SimConfig | None = None, *, base_url: str = "http://jira.sim") -> FastAPI:
    """Build a simulated Jira site and the app serving it (``app.state.sim`` is the ``Site``)."""
    config = config or SimConfig()
    site = Site(config, base_url=base_url)
    site.snapshots = Snapshots()
    app = SimApp(title="Kairus Jira simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.sim = site
    app.state.stats = Stats()
    app.state.faults = Faults(site)
    for module in (search, worklogs, issues, reference, agile, devstatus, control):
        app.include_router(module.router)

    @app.exception_handler(JiraHTTPError)
    async def jira_error(_request: Request, exc: JiraHTTPError) -> Response:
        return jresp({"errorMessages": exc.messages, "errors": exc.errors}, exc.status, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        msg = "null for uri" if exc.status_code == 404 else str(exc.detail)
        return Response(error_body([msg]), exc.status_code, media_type="application/json")

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> Response:
        return Response(
            error_body([str(e.get("msg")) for e in exc.errors()]), 400, media_type="application/json"
        )

    middleware = SimMiddleware(app.router, site, app.state.stats, app.state.faults)  # .app set at build
    middleware.routes = [
        r for m in (search, worklogs, issues, reference, agile, devstatus) for r in m.router.routes
    ]
    app.state.middleware = middleware
    app.sim_middleware = middleware
    return app


class SimApp(FastAPI):
    """A FastAPI app whose outermost layer is the simulator's middleware.

    Outermost, so a simulated dropped connection reaches the server as an exception (the socket closes
    without a byte) instead of being turned into a 500 by Starlette's error middleware.
    """

    sim_middleware: SimMiddleware | None = None

    def build_middleware_stack(self) -> ASGIApp:
        """Starlette's stack wrapped by ``SimMiddleware``."""
        inner = super().build_middleware_stack()
        if self.sim_middleware is None:
            return inner
        self.sim_middleware.app = inner
        return self.sim_middleware
