"""The request context middleware: correlation id, body limit, unexpected failures, access log.

A pure ASGI middleware (no per-request task or response wrapping), outermost of the
app's own middleware, so every log line of a request, error lines and the access line
included, carries the request's ``correlation_id``.

Correlation id: taken from ``X-Correlation-ID`` (else ``X-Request-ID``) when it is 1-64
characters of ``[A-Za-z0-9._-]``. A malformed header does not fail the request: a new
id is generated, the request proceeds, a warning line is logged and
``rag_invalid_requests_total{reason="invalid_correlation_id"}`` counts it. The id is
returned in the ``X-Correlation-ID`` response header.

Replica: every response names the replica that served it in ``X-Served-By`` (the
``replica`` setting, also a field of every log line), so a request sent to one of several
replicas can be followed into that replica's logs.
"""

from __future__ import annotations

import re
import uuid

import orjson
import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sample_rag_app.clock import Clock, SystemClock
from sample_rag_app.pipeline.ports import NullTelemetry, PipelineTelemetry
from sample_rag_app.runtime.asgi import BodyTooLarge, read_body, replay
from sample_rag_app.runtime.correlation import CORRELATION_HEADER
from sample_rag_app.telemetry.metrics import InvalidReason, RagMetrics
from sample_rag_app.transport.catalogue import status_of

SERVED_BY_HEADER = "X-Served-By"
#: The route whose unexpected failures count as failed queries.
QUERY_PATH = "/query"
_CORRELATION_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")
_HEADER_NAMES = (CORRELATION_HEADER.lower().encode("ascii"), b"x-request-id")
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


def _json_error(
    status: int, error: str, message: str, correlation_id: str, *, close: bool = False
) -> tuple[Message, Message]:
    """The start and body messages of a JSON error response (the API's error shape)."""
    body = orjson.dumps({"error": error, "message": message, "correlation_id": correlation_id})
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    return (
        {"type": "http.response.start", "status": status, "headers": headers},
        {"type": "http.response.body", "body": body},
    )


class RequestContextMiddleware:
    """Binds the correlation id, bounds the body, answers unexpected failures and logs
    ``http_request``.

    Body: the bytes that actually arrive are counted, whatever Content-Length says, and a
    request with both Content-Length and Transfer-Encoding is refused (400
    ``invalid_framing``), as RFC 9112 allows: the two framings could be read differently.

    Unexpected failure (an exception no handler turned into a response): this is the one
    place that answers it. The client gets the JSON 500 with its correlation id, one line
    logs the traceback, and a /query request is reported to the pipeline telemetry as a
    failed query (``rag_errors_total``, ``error_type="internal"``, the latency histogram).
    Nothing is re-raised, so neither Starlette nor uvicorn logs it again.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: RagMetrics | None,
        logging_enabled: bool,
        max_body_bytes: int,
        telemetry: PipelineTelemetry | None = None,
        clock: Clock | None = None,
        replica: str | None = None,
    ) -> None:
        self.app = app
        self._served_by = (
            [(SERVED_BY_HEADER.lower().encode(), replica.encode("utf-8"))] if replica else []
        )
        self.clock = clock or SystemClock()
        self.metrics = metrics
        self.logging_enabled = logging_enabled
        self.max_body_bytes = max_body_bytes
        self.telemetry = telemetry or NullTelemetry()

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
        started = False
        correlation_header = (_HEADER_NAMES[0], correlation_id.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status = message["status"]
                started = True
                message["headers"] = [
                    *message.get("headers", ()),
                    correlation_header,
                    *self._served_by,
                ]
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
            names = {name for name, _ in headers}
            declared = _content_length(headers)
            if b"content-length" in names and b"transfer-encoding" in names:
                await self._reject(
                    send_with_id,
                    correlation_id,
                    "invalid_framing",
                    "Content-Length and Transfer-Encoding together are refused",
                )
            elif declared is not None and declared > self.max_body_bytes:
                await self._reject_too_large(correlation_id, send_with_id)
            else:
                try:
                    body = await read_body(receive, self.max_body_bytes)
                except BodyTooLarge:
                    await self._reject_too_large(correlation_id, send_with_id)
                else:
                    await self.app(scope, replay(body, receive), send_with_id)
        except Exception:
            await self._fail(scope, start, correlation_id, started, send_with_id)
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

    async def _fail(
        self, scope: Scope, start: float, correlation_id: str, started: bool, send: Send
    ) -> None:
        """Answer, log and count an exception that no handler answered (see the class)."""
        if self.logging_enabled:
            access_logger.exception("unhandled_exception")
        route = scope.get("route")
        if getattr(route, "path", None) == QUERY_PATH:
            self.telemetry.query_failed(
                seconds=self.clock.now() - start,
                correlation_id=correlation_id,
                error_type="internal",
                stage="pipeline",
            )
        if not started:  # else the response is cut short: the client sees the broken stream
            failure = _json_error(
                status_of("internal"), "internal", "internal server error", correlation_id
            )
            for message in failure:
                await send(message)

    async def _reject(
        self, send: Send, correlation_id: str, reason: InvalidReason, message: str
    ) -> None:
        status = status_of(reason)
        if self.metrics is not None:
            self.metrics.invalid_request(reason)
        if self.logging_enabled:
            access_logger.warning("request_rejected", reason=reason, status=status)
        for part in _json_error(status, reason, message, correlation_id, close=True):
            await send(part)

    async def _reject_too_large(self, correlation_id: str, send: Send) -> None:
        await self._reject(
            send,
            correlation_id,
            "body_too_large",
            f"the request body is larger than {self.max_body_bytes} bytes",
        )


def _content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
