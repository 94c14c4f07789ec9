"""structlog set up for speed: one orjson-rendered JSON object per line on stdout.

Every line has ``timestamp`` (ISO 8601, UTC), ``level``, ``event`` and ``service``;
lines written while a request is served also carry its ``correlation_id`` (bound to
contextvars by the transport middleware). Standard-library records (uvicorn's) go
through the same processors, so stdout holds nothing but JSON lines.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, BinaryIO

import orjson
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}


class _AddService:
    """Adds ``service`` to every event (unless the event sets its own)."""

    def __init__(self, service: str) -> None:
        self.service = service

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
        event_dict.setdefault("service", self.service)
        return event_dict


def _orjson_str(obj: Any, **_: Any) -> str:
    return orjson.dumps(obj, default=str).decode()


def _orjson_bytes(obj: Any, **_: Any) -> bytes:
    return orjson.dumps(obj, default=str)


def shared_processors(service: str) -> list[Processor]:
    """The processors every line goes through before rendering."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
        _AddService(service),
        structlog.processors.format_exc_info,
    ]


def configure_logging(
    level: str = "info",
    service: str = "rag-app",
    *,
    stream: BinaryIO | None = None,
    cache_logger_on_first_use: bool = True,
    route_stdlib: bool = True,
) -> None:
    """Configure structlog (and, with ``route_stdlib``, the root stdlib logger) for JSON lines.

    ``stream`` is a binary file (default ``sys.stdout.buffer``).
    """
    numeric = _LEVELS.get(level.lower(), logging.INFO)
    shared = shared_processors(service)
    structlog.configure(
        processors=[*shared, structlog.processors.JSONRenderer(serializer=_orjson_bytes)],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.BytesLoggerFactory(file=stream or sys.stdout.buffer),
        cache_logger_on_first_use=cache_logger_on_first_use,
    )
    if not route_stdlib:
        return
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.JSONRenderer(serializer=_orjson_str),
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        stdlib_logger = logging.getLogger(name)
        stdlib_logger.handlers.clear()
        stdlib_logger.propagate = True
