"""``GET /health``: unauthenticated liveness plus a metadata database check (for probes and Docker)."""

from __future__ import annotations

import structlog
from fastapi import APIRouter, Request, Response, status
from sqlalchemy.engine import Engine

from app.core.database import check_database
from app.core.version import __version__
from app.schemas.api_schemas import HealthOut

router = APIRouter(tags=["health"])
log = structlog.get_logger("app.health")


@router.get("/health", response_model=HealthOut)
def health(request: Request, response: Response) -> HealthOut:
    """200 when the service runs and its database answers; 503 otherwise."""
    engine: Engine = request.app.state.engine
    try:
        check_database(engine)
    except Exception as exc:
        log.error("health_database_failed", error=str(exc))
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return HealthOut(status="error", database="error", version=__version__, detail=type(exc).__name__)
    return HealthOut(status="ok", database="ok", version=__version__)
