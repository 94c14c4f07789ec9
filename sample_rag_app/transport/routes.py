"""The HTTP endpoints: /query, /metrics, /healthz, /readyz, /admin/faults, /admin/resilience.

Only /query runs in the worker thread pool (its pipeline blocks). /metrics, the probes and
the admin routes are async and never block, so a scrape or an operator clearing a fault is
answered however many slow queries hold the pool.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from pydantic import ValidationError

from sample_rag_app.pipeline.faults import FaultStatus, FaultUpdate
from sample_rag_app.pipeline.resilience.config import ResilienceConfig, ResilienceUpdate
from sample_rag_app.pipeline.service import RagPipeline
from sample_rag_app.settings import Settings
from sample_rag_app.transport.errors import ApiError, correlation_id_of
from sample_rag_app.transport.schemas import (
    NOT_BLANK,
    ErrorResponse,
    HealthResponse,
    QueryRequest,
    QueryResponse,
    ReadinessResponse,
    SourceModel,
)

router = APIRouter()
_log = structlog.get_logger("sample_rag_app.admin")

_ERROR = {"model": ErrorResponse}
_BAD_FRAMING = "Content-Length and Transfer-Encoding together (`invalid_framing`)"
QUERY_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {**_ERROR, "description": f"Malformed JSON (`malformed_json`), or {_BAD_FRAMING}."},
    413: {**_ERROR, "description": "Body larger than RAG_MAX_BODY_BYTES (`body_too_large`)."},
    422: {
        **_ERROR,
        "description": "Invalid body: `invalid_body`, `empty_question`, "
        "`question_too_long` or `invalid_top_k`.",
    },
    502: {**_ERROR, "description": "The LLM provider failed (`llm_error`)."},
    503: {
        **_ERROR,
        "description": "Provider rate limit (`rate_limited`), vector store unavailable "
        "(`vector_store_unavailable`), shed by admission control (`overloaded`) or a "
        "circuit breaker open with no fallback answering (`circuit_open`); all but "
        "`vector_store_unavailable` with Retry-After.",
    },
    504: {
        **_ERROR,
        "description": "The LLM call timed out (`llm_timeout`) or the request's deadline "
        "passed (`deadline_exceeded`).",
    },
    500: {**_ERROR, "description": "Unexpected failure (`internal`)."},
}
ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {**_ERROR, "description": "Missing or wrong bearer token (`unauthorized`)."},
    404: {**_ERROR, "description": "RAG_ADMIN_TOKEN is not set (`admin_disabled`)."},
    422: {
        **_ERROR,
        "description": "Unknown field, wrong type or value out of range (`invalid_body`; "
        "the message names the allowed values).",
    },
}


def _pipeline(request: Request) -> RagPipeline:
    pipeline: RagPipeline = request.app.state.pipeline
    return pipeline


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.post(
    "/query",
    response_model=QueryResponse,
    responses=QUERY_ERRORS,
    summary="Answer a question from the corpus",
    tags=["rag"],
)
def query(body: QueryRequest, request: Request) -> QueryResponse:
    """Retrieve the `top_k` best passages and answer from them (cached answers are reused)."""
    settings = _settings(request)
    question = body.question.strip()
    if not question:
        raise ApiError(422, "empty_question", "question must not be blank", reason="empty_question")
    if len(body.question) > settings.max_question_length:  # as sent: what the schema states
        raise ApiError(
            422,
            "question_too_long",
            f"question is longer than {settings.max_question_length} characters",
            reason="question_too_long",
        )
    answer = _pipeline(request).answer(question, body.top_k, correlation_id_of(request))
    return QueryResponse(
        answer=answer.answer,
        sources=[SourceModel(id=s.id, title=s.title, score=s.score) for s in answer.sources],
        correlation_id=answer.correlation_id,
        cached=answer.cached,
        cost_usd=answer.cost_usd,
        model=answer.model,
        answer_level=answer.level,
        degraded=answer.degraded,
    )


_METRICS: dict[str, Any] = {
    "response_class": Response,
    "summary": "Prometheus metrics",
    "tags": ["operations"],
    "responses": {
        200: {
            "description": "Prometheus text exposition, or OpenMetrics (with exemplars) when "
            "the Accept header asks for application/openmetrics-text.",
            "content": {"text/plain": {}, "application/openmetrics-text": {}},
        }
    },
}


@router.get("/metrics", **_METRICS)
@router.head("/metrics", **_METRICS)
async def metrics(request: Request) -> Response:
    """Expose the app's registry (as the telemetry faults in force change it) in the
    format the scraper negotiates."""
    registry: CollectorRegistry = request.app.state.exposition
    encoder, content_type = choose_encoder(request.headers.get("accept", ""))
    return Response(encoder(registry), headers={"Content-Type": content_type})


@router.get("/healthz", response_model=HealthResponse, summary="Liveness", tags=["operations"])
@router.head("/healthz", response_model=HealthResponse, summary="Liveness", tags=["operations"])
async def healthz() -> HealthResponse:
    """The process is up and serving HTTP."""
    return HealthResponse()


_READINESS: dict[str, Any] = {
    "response_model": ReadinessResponse,
    "summary": "Readiness",
    "tags": ["operations"],
    "responses": {503: {"model": ReadinessResponse, "description": "Corpus not embedded yet."}},
}


@router.get("/readyz", **_READINESS)
@router.head("/readyz", **_READINESS)
async def readyz(request: Request) -> Any:
    """Ready once the corpus is embedded; 503 before."""
    pipeline = _pipeline(request)
    if pipeline.ready:
        return ReadinessResponse(status="ready", passages=len(pipeline.store))
    return JSONResponse(
        ReadinessResponse(status="not_ready", passages=0).model_dump(), status_code=503
    )


def _require_admin(request: Request) -> None:
    token = _settings(request).admin_token
    if token is None:
        raise ApiError(
            404,
            "admin_disabled",
            "the admin endpoints are disabled: set RAG_ADMIN_TOKEN to enable them",
            reason="admin_disabled",
        )
    scheme, _, supplied = request.headers.get("authorization", "").partition(" ")
    expected = token.get_secret_value().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(supplied.strip().encode(), expected):
        raise ApiError(
            401,
            "unauthorized",
            "a valid bearer token is required (Authorization: Bearer <RAG_ADMIN_TOKEN>)",
            reason="unauthorized",
            headers={"WWW-Authenticate": "Bearer"},
        )


class AdminRoute(APIRoute):
    """A route of the admin router: the token is checked before anything else is done with
    the request. (A dependency would run only after FastAPI parsed the body, so malformed
    JSON would get a 400 and an invalid body a 422 before the caller proved who they are.)
    Admin body models are strict ("0.5" is no number, 1 no boolean); a test checks every
    admin operation for both."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def token_first(request: Request) -> Response:
            _require_admin(request)
            return await handler(request)

        return token_first


admin_router = APIRouter(
    prefix="/admin", tags=["admin"], responses=ADMIN_ERRORS, route_class=AdminRoute
)


def _invalid_change(exc: ValueError) -> ApiError:
    message = str(exc)
    if isinstance(exc, ValidationError):  # the merged configuration broke a rule across fields
        message = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
    return ApiError(422, "invalid_body", message, reason="invalid_body")


def _audit(request: Request, event: str, **fields: Any) -> None:
    """One warning line per admin change: who broke the app on purpose shows in its logs."""
    if _settings(request).logging_enabled:
        _log.warning(event, **fields)


#: What a PUT with a body may answer besides its own 422.
_BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {**_ERROR, "description": f"Malformed JSON (`malformed_json`), or {_BAD_FRAMING}."},
    413: {**_ERROR, "description": "Body larger than RAG_MAX_BODY_BYTES (`body_too_large`)."},
}


@admin_router.get("/faults", response_model=FaultStatus, summary="Show the injected faults")
async def get_faults(request: Request) -> FaultStatus:
    """The faults in force, with the time left of an outage or a latency spike."""
    return _pipeline(request).faults.status()


@admin_router.put(
    "/faults",
    response_model=FaultStatus,
    summary="Change the injected faults",
    responses=_BODY_ERRORS,
)
async def put_faults(change: FaultUpdate, request: Request) -> FaultStatus:
    """Change the fields given (the others keep their value); returns the new faults.

    `llm_outage_seconds` starts a provider outage of the primary model from now;
    `latency_spike_seconds` with `latency_spike_duration_seconds` starts a latency spike.
    """
    try:
        status = _pipeline(request).faults.update(change)
    except ValueError as exc:
        raise _invalid_change(exc) from exc
    _audit(request, "faults_updated", **status.model_dump())
    return status


@admin_router.delete(
    "/faults",
    response_model=FaultStatus,
    summary="Reset the injected faults to the configured defaults",
)
async def delete_faults(request: Request) -> FaultStatus:
    """Back to the defaults from the settings (RAG_FAULT_*); ends any outage or spike."""
    status = _pipeline(request).faults.reset()
    _audit(request, "faults_reset", **status.model_dump())
    return status


@admin_router.get(
    "/resilience", response_model=ResilienceConfig, summary="Show the resilience configuration"
)
async def get_resilience(request: Request) -> ResilienceConfig:
    """The master switch, the switch of each mechanism and the parameters in force."""
    return _pipeline(request).resilience.config


@admin_router.put(
    "/resilience",
    response_model=ResilienceConfig,
    summary="Change the resilience configuration",
    responses=_BODY_ERRORS,
)
async def put_resilience(change: ResilienceUpdate, request: Request) -> ResilienceConfig:
    """Change the fields given (the others keep their value); returns the new configuration.

    Types are strict (no `"0.5"` for a number, no `"yes"` for a boolean); an unknown field
    or a value out of range is 422 with a message naming the allowed values.
    """
    try:
        config = _pipeline(request).resilience.update(change)
    except ValueError as exc:
        raise _invalid_change(exc) from exc
    _audit(request, "resilience_updated", **change.model_dump(exclude_none=True))
    return config


@admin_router.delete(
    "/resilience",
    response_model=ResilienceConfig,
    summary="Reset the resilience configuration to the settings",
)
async def delete_resilience(request: Request) -> ResilienceConfig:
    """Back to the configuration from the settings (RAG_RESILIENCE, RAG_RESILIENCE_*)."""
    config = _pipeline(request).resilience.reset()
    _audit(request, "resilience_reset", enabled=config.enabled)
    return config


router.include_router(admin_router)


def document_question_limits(app: FastAPI) -> None:
    """Write the question's length limits into the app's OpenAPI document. The maximum is a
    setting, so the model cannot carry it; the route enforces both (with its own reasons)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            question = schema["components"]["schemas"]["QueryRequest"]["properties"]["question"]
            question.update(
                minLength=1, maxLength=_settings_of(app).max_question_length, pattern=NOT_BLANK
            )
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]


def _settings_of(app: FastAPI) -> Settings:
    settings: Settings = app.state.settings
    return settings
