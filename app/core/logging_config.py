"""structlog set-up: JSON lines in production, a readable console in DEBUG, secrets always redacted.

Standard-library loggers (uvicorn, alembic, apscheduler, httpx) go through the same processors, so every
line, whoever writes it, carries the bound request/job ids and passes the redaction.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "***"
_HANDLER_NAME = "kairus"

# Keys whose values are secrets whatever they hold.
SECRET_KEY_RE = re.compile(
    r"(pass(word|wd|phrase)?|secret|token|authorization|api[_-]?key|private[_-]?key|cookie|credential|"
    r"encryption[_-]?key|signature)",
    re.IGNORECASE,
)
# Secrets embedded in free text: auth headers, JWTs, key=value pairs, URL credentials.
_TEXT_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(Basic|Bearer)\s+[A-Za-z0-9._~+/=\-]+", re.IGNORECASE), rf"\1 {REDACTED}"),
    (re.compile(r"\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"), REDACTED),
    (
        re.compile(
            r"\b(password|passwd|token|secret|api[_-]?key|access_token|client_secret)"
            r"(\"?\s*[=:]\s*\"?)([^\s&\"',;]+)",
            re.IGNORECASE,
        ),
        rf"\1\2{REDACTED}",
    ),
    (re.compile(r"(\w+://[^:/@\s]+:)[^@/\s]+@"), rf"\1{REDACTED}@"),
)
# Keys that look secret by name but hold harmless flags.
_ALLOWED_KEYS = frozenset({"has_token", "token_type", "tokens"})


def redact_text(text: str) -> str:
    """``text`` with auth header values, JWTs, ``key=value`` secrets and URL passwords replaced."""
    for pattern, replacement in _TEXT_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_value(value: Any, key: str | None = None) -> Any:
    """Redact recursively: secret-named keys lose their value, strings are scrubbed."""
    if key is not None and key not in _ALLOWED_KEYS and SECRET_KEY_RE.search(key) and value not in (None, ""):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: redact_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [redact_value(v) for v in value]
    return value


def redact_processor(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: the last line of defence against secrets in logs."""
    return {key: redact_value(value, key if key != "event" else None) for key, value in event_dict.items()}


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact_processor,
    ]


def configure_logging(level: str = "INFO", *, debug: bool = False, stream: TextIO | None = None) -> None:
    """Route structlog and the standard library through one handler on ``stream`` (default stdout)."""
    shared = _shared_processors()
    renderer: Processor = (
        structlog.dev.ConsoleRenderer(colors=False) if debug else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(formatter)
    handler.set_name(_HANDLER_NAME)
    root = logging.getLogger()
    # Replace only our own handler: others (pytest's capture, an embedding app's) stay in place.
    for existing in list(root.handlers):
        if existing.get_name() == _HANDLER_NAME:
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # uvicorn installs its own handlers: let its lines reach ours instead, once.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
    # The access log duplicates our request log line (which has the request id).
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    for noisy in ("httpx", "httpcore", "apscheduler.executors.default"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def get_logger(name: str | None = None) -> Any:
    """A structlog logger (bound values and contextvars included)."""
    return structlog.get_logger(name)
