"""structlog set up for speed: one orjson-rendered JSON object per line on stdout.

Every line has ``timestamp`` (ISO 8601, UTC), ``level``, ``event`` and ``service``, and
the app's lines ``replica`` (which of several replicas wrote it);
lines written while a request is served also carry its ``correlation_id`` (bound to
contextvars by the transport middleware). Standard-library records (uvicorn's) go
through the same processors, so stdout holds nothing but JSON lines.
"""

from __future__ import annotations

import logging
import sys
import time
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


# structlog's add_log_level: the method called names the level, but for these two.
_LEVEL_OF_METHOD = {"warn": "warning", "exception": "error"}


class _UtcTimestamp:
    """ISO 8601 UTC with microseconds ("2026-01-10T12:15:00.123456Z"), as structlog's
    TimeStamper(fmt="iso", utc=True) writes it, at a third of its cost: the date and time
    of day are formatted once per second, only the fraction on every line."""

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def __call__(self) -> str:
        now = time.time()
        second = int(now)
        if second != self._second:
            # Two threads may both reformat at a second's turn: the same text either way.
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        return f"{self._prefix}.{int((now - second) * 1_000_000):06d}Z"


class _StandardFields:
    """Adds ``level``, ``timestamp``, ``service`` and ``replica`` (unless the event sets its
    own; ``replica`` only when given) to
    every event, and renders a traceback passed as ``exc_info``, in one processor: each
    processor is a call on every line written (structlog's add_log_level, TimeStamper and
    format_exc_info, folded)."""

    def __init__(self, service: str, replica: str | None = None) -> None:
        self.service = service
        self.replica = replica
        self.timestamp = _UtcTimestamp()

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
        event_dict["level"] = _LEVEL_OF_METHOD.get(method_name, method_name)
        event_dict["timestamp"] = self.timestamp()
        event_dict.setdefault("service", self.service)
        if self.replica is not None:
            event_dict.setdefault("replica", self.replica)
        if "exc_info" in event_dict:
            return structlog.processors.format_exc_info(logger, method_name, event_dict)
        return event_dict


def _orjson_str(obj: Any, **_: Any) -> str:
    return orjson.dumps(obj, default=str).decode()


def _render_json(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> bytes:
    """The last processor: the event as one JSON object (structlog's JSONRenderer with
    orjson, without its indirection)."""
    return orjson.dumps(event_dict, default=str)


def shared_processors(service: str, replica: str | None = None) -> list[Processor]:
    """The processors every line goes through before rendering."""
    return [structlog.contextvars.merge_contextvars, _StandardFields(service, replica)]


def configure_logging(
    level: str = "info",
    service: str = "rag-app",
    *,
    replica: str | None = None,
    stream: BinaryIO | None = None,
    cache_logger_on_first_use: bool = True,
    route_stdlib: bool = True,
) -> None:
    """Configure structlog (and, with ``route_stdlib``, the root stdlib logger) for JSON lines.

    ``stream`` is a binary file (default ``sys.stdout.buffer``); ``replica`` names the
    replica on every line (the app's; the load generator has none).
    """
    numeric = _LEVELS.get(level.lower(), logging.INFO)
    shared = shared_processors(service, replica)
    structlog.configure(
        processors=[*shared, _render_json],
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
