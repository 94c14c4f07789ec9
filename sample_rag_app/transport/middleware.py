"""The request context middleware: correlation id, body size limit and access log.

A pure ASGI middleware (no per-request task or response wrapping), outermost of the
app's own middleware, so every log line of a request, error lines and the access line
included, carries the request's ``correlation_id``.

Correlation id: taken from ``X-Correlation-ID`` (else ``X-Request-ID``) when it is 1-64
characters of ``[A-Za-z0-9._-]``. A malformed header does not fail the request: a new
id is generated, the request proceeds, a warning line is logged and
``rag_invalid_requests_total{reason="invalid_correlation_id"}`` counts it. The id is
returned in the ``X-Correlation-ID`` response header.
"""

from __future__ import annotations

import re
import uuid

import orjson
import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sample_rag_app.clock import Clock, SystemClock
from sample_rag_app.telemetry.metrics import RagMetrics

CORRELATION_HEADER = "X-Correlation-ID"
_CORRELATION_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")
_HEADER_NAMES = (b"x-correlation-id", b"x-request-id")
# Probes and scrapes are logged at debug level: at info they would drown the queries.
_QUIET_PATHS = frozenset({"/metrics", "/healthz", "/readyz"})

access_logger = structlog.get_logger("sample_rag_app.access")


def resolve_correlation_id(headers: list[tuple[bytes, bytes]]) -> tuple[str, bool]:
    """The request's correlation id and whether a malformed one had to be replaced."""
    supplied: bytes | None = None
    for wanted in _HEADER_NAMES:
        supplied = next((value for name, value in headers if name == wanted), None)
        if supplied is not None:
            break
    if supplied is not None and _CORRELATION_ID.fullmatch(supplied):
        return supplied.decode("ascii"), False
    return uuid.uuid4().hex, supplied is not None


class _BodyTooLarge(Exception):
    pass


class RequestContextMiddleware:
    """Binds the correlation id, enforces ``max_body_bytes`` and logs ``http_request``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: RagMetrics | None,
        logging_enabled: bool,
        max_body_bytes: int,
        clock: Clock | None = None,
    ) -> None:
        self.app = app
        self.clock = clock or SystemClock()
        self.metrics = metrics
        self.logging_enabled = logging_enabled
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = self.clock.now()
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        correlation_id, replaced = resolve_correlation_id(headers)
        scope.setdefault("state", {})["correlation_id"] = correlation_id
        tokens = structlog.contextvars.bind_contextvars(correlation_id=correlation_id)
        status = 500
        correlation_header = (b"x-correlation-id", correlation_id.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), correlation_header]
            await send(message)

        try:
            if replaced:
                if self.metrics is not None:
                    self.metrics.invalid_request("invalid_correlation_id")
                if self.logging_enabled:
                    access_logger.warning(
                        "invalid_correlation_id",
                        message="correlation header is not 1-64 characters of [A-Za-z0-9._-]; "
                        "a new id was generated",
                    )
            declared = _content_length(headers)
            if declared is not None and declared > self.max_body_bytes:
                await self._reject_too_large(correlation_id, send_with_id)
            elif declared is None and _may_have_body(headers):
                # Chunked upload: read it here, within the limit, then replay it.
                try:
                    body = await self._read_limited(receive)
                except _BodyTooLarge:
                    await self._reject_too_large(correlation_id, send_with_id)
                else:
                    await self.app(scope, _replay(body, receive), send_with_id)
            else:
                await self.app(scope, receive, send_with_id)
        except Exception:
            if self.logging_enabled:
                access_logger.exception("unhandled_exception")
            raise
        finally:
            if self.logging_enabled:
                route = scope.get("route")
                path = getattr(route, "path", None) if route is not None else None
                log = access_logger.info
                if path in _QUIET_PATHS and status < 400:
                    log = access_logger.debug
                log(
                    "http_request",
                    method=scope["method"],
                    route=path or "unmatched",
                    status=status,
                    duration_ms=round((self.clock.now() - start) * 1000.0, 3),
                )
            structlog.contextvars.reset_contextvars(**tokens)

    async def _read_limited(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    async def _reject_too_large(self, correlation_id: str, send: Send) -> None:
        if self.metrics is not None:
            self.metrics.invalid_request("body_too_large")
        message = f"the request body is larger than {self.max_body_bytes} bytes"
        if self.logging_enabled:
            access_logger.warning("request_rejected", reason="body_too_large", status=413)
        body = orjson.dumps(
            {"error": "body_too_large", "message": message, "correlation_id": correlation_id}
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _may_have_body(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(name == b"transfer-encoding" for name, _ in headers)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # http.disconnect

    return replay
