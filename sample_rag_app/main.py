"""``create_app``: wires settings, pipeline, telemetry and transport into a FastAPI app."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
import structlog
from fastapi import FastAPI
from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
)

from sample_rag_app import __version__
from sample_rag_app.assembly import build_pipeline
from sample_rag_app.clock import Clock, SystemClock
from sample_rag_app.pipeline.faults import FaultConfig
from sample_rag_app.pipeline.ports import NullTelemetry, PipelineTelemetry
from sample_rag_app.settings import Settings
from sample_rag_app.telemetry.faults import FaultedTelemetry, PerUserQueries, exposition
from sample_rag_app.telemetry.metrics import RagMetrics
from sample_rag_app.transport.errors import install_error_handlers
from sample_rag_app.transport.middleware import RequestContextMiddleware
from sample_rag_app.transport.routes import document_question_limits, router

logger = structlog.get_logger("sample_rag_app")


def _default_registry() -> CollectorRegistry:
    """A private registry with the process, platform and GC collectors."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


def create_app(
    settings: Settings | None = None,
    registry: CollectorRegistry | None = None,
    *,
    rng: random.Random | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """Build the app. Without a registry, a private one with process metrics is used.

    The corpus is embedded during start-up (the lifespan); /readyz answers 503 until then.
    ``rng`` replaces the random source of faults, simulated latency and retry jitter;
    ``clock`` the clock of every duration and wait (a ``VirtualClock`` for tests and the
    in-process experiment).
    """
    settings = settings or Settings()
    clock = clock or SystemClock()
    if registry is None:
        registry = _default_registry()
    metrics: RagMetrics | None = None
    if settings.metrics_enabled:
        metrics = RagMetrics(
            registry,
            model=settings.llm_model,
            secondary_model=settings.resilience_secondary_model,
            version=__version__,
            llm_provider=settings.llm_provider,
            replica=settings.replica_name,
        )

    def faults_in_force() -> FaultConfig:  # bound late: the pipeline holds the injector
        return pipeline.faults.config

    per_user = PerUserQueries()
    telemetry: PipelineTelemetry = NullTelemetry()
    if metrics is not None or settings.logging_enabled:
        telemetry = FaultedTelemetry(
            metrics,
            faults_in_force,
            per_user,
            logging_enabled=settings.logging_enabled,
            log_questions=settings.log_questions,
        )
    pipeline = build_pipeline(settings, telemetry, rng=rng, clock=clock)
    if metrics is not None:
        metrics.bind_rate_limit_headroom(pipeline.llm.headroom_percent)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.logging_enabled:
            logger.info(
                "app_started",
                version=__version__,
                llm_provider=settings.llm_provider,
                model=settings.llm_model,
                host=settings.host,
                port=settings.port,
                replica=settings.replica_name,
                admin_enabled=settings.admin_token is not None,
                resilience=settings.resilience.enabled,
            )
        start = clock.now()
        await anyio.to_thread.run_sync(pipeline.load)
        if settings.logging_enabled:
            logger.info(
                "corpus_embedded",
                passages=len(pipeline.store),
                dimensions=pipeline.embedder.dimensions,
                latency_ms=round((clock.now() - start) * 1000.0, 3),
            )
        yield
        if settings.logging_enabled:
            logger.info("app_stopping")

    app = FastAPI(
        title="Sample RAG service",
        version=__version__,
        description="A small retrieval-augmented generation service, instrumented for the "
        "RAG Observability Lab: Prometheus metrics on /metrics, JSON logs with correlation "
        "ids, fault injection on /admin/faults, resilience switches on /admin/resilience.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.registry = registry
    app.state.exposition = exposition(registry, faults_in_force, per_user)
    app.state.metrics = metrics
    app.state.pipeline = pipeline
    install_error_handlers(app)
    app.add_middleware(
        RequestContextMiddleware,
        metrics=metrics,
        logging_enabled=settings.logging_enabled,
        max_body_bytes=settings.max_body_bytes,
        telemetry=telemetry,
        clock=clock,
        replica=settings.replica_name,
    )
    app.include_router(router)
    document_question_limits(app)
    return app
