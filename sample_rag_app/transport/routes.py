"""The HTTP endpoints: /query, /metrics, /healthz, /readyz, and the admin ones (``admin``).

Only /query runs in the worker thread pool (its pipeline blocks). /metrics, the probes and
the admin routes are async and never block, so a scrape or an operator clearing a fault is
answered however many slow queries hold the pool.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from sample_rag_app.transport.admin import admin_router
from sample_rag_app.transport.catalogue import PIPELINE_ERRORS
from sample_rag_app.transport.errors import ApiError, correlation_id_of, documented
from sample_rag_app.transport.schemas import (
    NOT_BLANK,
    HealthResponse,
    QueryRequest,
    QueryResponse,
    ReadinessResponse,
    SourceModel,
)
from sample_rag_app.transport.state import pipeline_of, settings_of

router = APIRouter()

#: What /query may answer besides its answer: the refusals of its body, and every error
#: of the pipeline.
QUERY_ERRORS = documented(
    "malformed_json",
    "invalid_framing",
    "body_too_large",
    "invalid_body",
    "empty_question",
    "question_too_long",
    "invalid_top_k",
    *PIPELINE_ERRORS,
)


@router.post(
    "/query",
    response_model=QueryResponse,
    responses=QUERY_ERRORS,
    summary="Answer a question from the corpus",
    tags=["rag"],
)
def query(body: QueryRequest, request: Request) -> QueryResponse:
    """Retrieve the `top_k` best passages and answer from them (cached answers are reused)."""
    settings = settings_of(request.app)
    question = body.question.strip()
    if not question:
        raise ApiError("empty_question", "question must not be blank")
    if len(body.question) > settings.max_question_length:  # as sent: what the schema states
        raise ApiError(
            "question_too_long",
            f"question is longer than {settings.max_question_length} characters",
        )
    answer = pipeline_of(request).answer(question, body.top_k, correlation_id_of(request))
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
    pipeline = pipeline_of(request)
    if pipeline.ready:
        return ReadinessResponse(status="ready", passages=len(pipeline.store))
    return JSONResponse(
        ReadinessResponse(status="not_ready", passages=0).model_dump(), status_code=503
    )


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
                minLength=1, maxLength=settings_of(app).max_question_length, pattern=NOT_BLANK
            )
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]
