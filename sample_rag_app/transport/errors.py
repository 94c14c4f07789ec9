"""Error handlers: every failure becomes ``{"error", "message", "correlation_id"}``.

Invalid requests (4xx) are counted in ``rag_invalid_requests_total{reason}`` with a
reason from a fixed set; pipeline failures (5xx) were already counted by the pipeline's
telemetry. No handler ever puts a path, a header or a body into a label. An exception
no handler here answers is answered, logged and counted by the request middleware.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from sample_rag_app.pipeline.errors import ErrorType, PipelineError
from sample_rag_app.telemetry.metrics import InvalidReason, RagMetrics

logger = structlog.get_logger("sample_rag_app.transport")

#: HTTP status of each pipeline failure (every one counts in rag_errors_total). A provider
#: rate limit is the service's problem, not the client's, hence 503; a shed request
#: (overloaded) and an open breaker (circuit_open) are 503 too. Each with a retry-after
#: also gets a Retry-After header.
PIPELINE_STATUS: dict[ErrorType, int] = {
    "llm_error": 502,
    "llm_timeout": 504,
    "rate_limited": 503,
    "vector_store_unavailable": 503,
    "overloaded": 503,
    "circuit_open": 503,
    "deadline_exceeded": 504,
    "internal": 500,
}


class ApiError(Exception):
    """A request the API refuses, with its status, error type and (for 4xx) reason."""

    def __init__(
        self,
        status_code: int,
        error: str,
        message: str,
        *,
        reason: InvalidReason | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error = error
        self.message = message
        self.reason = reason
        self.headers = dict(headers or {})


def correlation_id_of(request: Request) -> str:
    """The id the middleware bound to this request ("" outside the middleware)."""
    return str(getattr(request.state, "correlation_id", ""))


def error_response(
    request: Request,
    status_code: int,
    error: str,
    message: str,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """The JSON error body every failure uses."""
    return JSONResponse(
        {
            "error": error,
            "message": _encodable(message),
            "correlation_id": correlation_id_of(request),
        },
        status_code=status_code,
        headers=dict(headers) if headers else None,
    )


def _encodable(text: str) -> str:
    """``text`` with lone surrogates (from a JSON escape in the request) written as
    ``\\udXXX``: a message naming a bad key must not fail to encode itself."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _reject(
    request: Request,
    status_code: int,
    reason: InvalidReason,
    message: str,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    metrics: RagMetrics | None = request.app.state.metrics
    if metrics is not None:
        metrics.invalid_request(reason)
    message = _encodable(message)
    if request.app.state.settings.logging_enabled:
        logger.warning("request_rejected", reason=reason, status=status_code, message=message)
    return error_response(request, status_code, reason, message, headers)


def _describe(errors: Sequence[Any]) -> tuple[InvalidReason, int, str]:
    """Reason, status and message of a request-validation failure (its first error)."""
    first = errors[0] if errors else {}
    kind = str(first.get("type", ""))
    loc = tuple(first.get("loc", ()))
    if kind == "json_invalid":
        detail = (first.get("ctx") or {}).get("error", "invalid JSON")
        return "malformed_json", 400, f"the request body is not valid JSON: {detail}"
    field = ".".join(str(part) for part in loc[1:]) if loc[:1] == ("body",) else ""
    text = str(first.get("msg", "invalid value"))
    if field == "top_k":
        return "invalid_top_k", 422, f"top_k: {text} (an integer from 1 to 20)"
    if field:
        return "invalid_body", 422, f"{field}: {text}"
    if kind == "missing":
        return "invalid_body", 422, "the request needs a JSON object body"
    if kind == "value_error":  # a rule on the whole body, e.g. an unknown admin field
        return "invalid_body", 422, text.removeprefix("Value error, ")
    return "invalid_body", 422, f"the request body must be a JSON object: {text}"


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    reason, status_code, message = _describe(exc.errors())
    return _reject(request, status_code, reason, message)


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request) -> str:
    """Every method some route serves on this path. (Starlette's 405 lists only the first
    matching route's, and a path such as /admin/faults has one route per method.)"""
    allowed = []
    for method in _METHODS:
        probe = {**request.scope, "method": method}
        if any(route.matches(probe)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return ", ".join(allowed)


async def _on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = exc.headers or None
    if exc.status_code == 404:
        return _reject(request, 404, "not_found", "no such endpoint", headers)
    if exc.status_code == 405:
        allow = {"Allow": _allowed_methods(request)}
        return _reject(
            request, 405, "method_not_allowed", f"{request.method} is not allowed here", allow
        )
    if exc.status_code < 500:
        return _reject(request, exc.status_code, "other", str(exc.detail), headers)
    return error_response(request, exc.status_code, "internal", str(exc.detail), headers)


async def _on_api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    if exc.reason is not None:
        return _reject(request, exc.status_code, exc.reason, exc.message, exc.headers)
    return error_response(request, exc.status_code, exc.error, exc.message, exc.headers)


async def _on_pipeline_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PipelineError)
    headers = None
    if exc.retry_after_seconds is not None:
        headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after_seconds)))}
    status_code = PIPELINE_STATUS.get(exc.error_type, 500)
    if exc.error_type == "internal":
        # A bug inside the pipeline (already counted there): its one traceback line, and
        # the same answer as any other unexpected failure.
        if request.app.state.settings.logging_enabled:
            logger.error("unhandled_exception", exc_info=exc)
        return error_response(request, status_code, "internal", "internal server error")
    return error_response(request, status_code, exc.error_type, exc.message, headers)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(PipelineError, _on_pipeline_error)
