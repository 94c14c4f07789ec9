"""Error handlers: every failure becomes ``{"error", "message", "correlation_id"}``.

Invalid requests (4xx) are counted in ``rag_invalid_requests_total{reason}`` with a
reason from a fixed set; pipeline failures (5xx) were already counted by the pipeline's
telemetry. No handler ever puts a path, a header or a body into a label. An exception
no handler here answers is answered, logged and counted by the request middleware.
Each error's status comes from the catalogue (``catalogue``), and so do the responses a
route documents (``documented``).
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

from sample_rag_app.pipeline.errors import PipelineError
from sample_rag_app.telemetry.metrics import InvalidReason, RagMetrics
from sample_rag_app.transport.catalogue import API_ERRORS, CLIENT_ERRORS, status_of
from sample_rag_app.transport.schemas import MAX_TOP_K, ErrorResponse

logger = structlog.get_logger("sample_rag_app.transport")

#: OpenAPI responses, by status.
Responses = dict[int | str, dict[str, Any]]


def documented(*errors: str) -> Responses:
    """The OpenAPI responses of a route that may answer ``errors``: one per status, its
    description one sentence per error, from the catalogue."""
    whens: dict[int, list[str]] = {}
    for error in errors:
        entry = API_ERRORS[error]
        whens.setdefault(entry.status, []).append(f"`{error}`: {entry.when}.")
    return {
        status: {"model": ErrorResponse, "description": " ".join(lines)}
        for status, lines in sorted(whens.items())
    }


class ApiError(Exception):
    """A request the API refuses: its reason (the error code, with the status the
    catalogue gives it), a message for a human and any headers."""

    def __init__(
        self, reason: InvalidReason, message: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.reason: InvalidReason = reason
        self.status_code = CLIENT_ERRORS[reason].status
        self.message = message
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
    reason: InvalidReason,
    message: str,
    headers: Mapping[str, str] | None = None,
    *,
    status_code: int | None = None,
) -> JSONResponse:
    """Count, log and answer a refused request (with the catalogue's status unless the
    refusal came with its own)."""
    if status_code is None:
        status_code = status_of(reason)
    metrics: RagMetrics | None = request.app.state.metrics
    if metrics is not None:
        metrics.invalid_request(reason)
    message = _encodable(message)
    if request.app.state.settings.logging_enabled:
        logger.warning("request_rejected", reason=reason, status=status_code, message=message)
    return error_response(request, status_code, reason, message, headers)


def _describe(errors: Sequence[Any]) -> tuple[InvalidReason, str]:
    """Reason and message of a request-validation failure (its first error)."""
    first = errors[0] if errors else {}
    kind = str(first.get("type", ""))
    loc = tuple(first.get("loc", ()))
    if kind == "json_invalid":
        detail = (first.get("ctx") or {}).get("error", "invalid JSON")
        return "malformed_json", f"the request body is not valid JSON: {detail}"
    field = ".".join(str(part) for part in loc[1:]) if loc[:1] == ("body",) else ""
    text = str(first.get("msg", "invalid value"))
    if field == "top_k":
        return "invalid_top_k", f"top_k: {text} (an integer from 1 to {MAX_TOP_K})"
    if field:
        return "invalid_body", f"{field}: {text}"
    if kind == "missing":
        return "invalid_body", "the request needs a JSON object body"
    if kind == "value_error":  # a rule on the whole body, e.g. an unknown admin field
        return "invalid_body", text.removeprefix("Value error, ")
    return "invalid_body", f"the request body must be a JSON object: {text}"


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    reason, message = _describe(exc.errors())
    return _reject(request, reason, message)


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
        return _reject(request, "not_found", "no such endpoint", headers)
    if exc.status_code == 405:
        allow = {"Allow": _allowed_methods(request)}
        return _reject(
            request, "method_not_allowed", f"{request.method} is not allowed here", allow
        )
    if exc.status_code < 500:
        return _reject(request, "other", str(exc.detail), headers, status_code=exc.status_code)
    return error_response(request, exc.status_code, "internal", str(exc.detail), headers)


async def _on_api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return _reject(request, exc.reason, exc.message, exc.headers)


async def _on_pipeline_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PipelineError)
    headers = None
    if exc.retry_after_seconds is not None:
        headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after_seconds)))}
    status_code = status_of(exc.error_type)
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
