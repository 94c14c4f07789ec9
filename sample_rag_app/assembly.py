"""The composition root: a ``RagPipeline`` and its parts, built from the settings.

It sits beside ``main`` rather than in ``pipeline``: it is the one place that reads
``Settings`` to build the pipeline, so the pipeline never imports the settings (which
import the pipeline's fault and resilience models), and the algorithm (``service``) is
given its parts, so tests and benchmarks can build it with other parts.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from pydantic import ValidationError

from sample_rag_app.clock import Clock, SystemClock
from sample_rag_app.pipeline.cache import ResponseCache
from sample_rag_app.pipeline.corpus import load_corpus
from sample_rag_app.pipeline.embedder import HashingEmbedder
from sample_rag_app.pipeline.faults import FaultInjector, FaultUpdate
from sample_rag_app.pipeline.llm import LLMProvider, OpenAICompatibleLLM, SimulatedLLM
from sample_rag_app.pipeline.ports import PipelineTelemetry
from sample_rag_app.pipeline.ratelimit import SlidingWindowRateLimiter
from sample_rag_app.pipeline.resilience.layer import ResilienceLayer
from sample_rag_app.pipeline.service import RagPipeline
from sample_rag_app.pipeline.vector_store import InMemoryVectorStore
from sample_rag_app.settings import Settings


def read_faults_file(path: Path) -> FaultUpdate:
    """The faults in ``path`` (RAG_FAULTS_FILE); ValueError naming the file when unusable."""
    try:
        return FaultUpdate.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError) as exc:
        raise ValueError(f"RAG_FAULTS_FILE {path} cannot be used: {exc}") from exc


def build_pipeline(
    settings: Settings,
    telemetry: PipelineTelemetry,
    *,
    rng: random.Random | None = None,
    clock: Clock | None = None,
) -> RagPipeline:
    """Build every component from the settings (the corpus is read, not yet embedded)."""
    rng = rng or random.Random(settings.random_seed)
    clock = clock or SystemClock()
    embedder = HashingEmbedder(settings.embedding_dimensions)
    faults = FaultInjector(settings.faults, rng, clock)
    if settings.faults_file is not None and settings.faults_file.is_file():
        faults.update(read_faults_file(settings.faults_file))
    limiter = SlidingWindowRateLimiter(
        settings.rate_limit_requests_per_minute,
        settings.rate_limit_tokens_per_minute,
        clock=clock.now,
        consumed_elsewhere=lambda: faults.config.rate_limit_consumed_percent / 100,
    )
    llm: LLMProvider
    if settings.llm_provider == "openai":
        assert settings.openai_api_key is not None
        assert settings.openai_base_url is not None
        llm = OpenAICompatibleLLM(
            base_url=settings.openai_base_url,
            api_key=settings.openai_api_key.get_secret_value(),
            model=settings.llm_model,
            limiter=limiter,
            clock=clock,
        )
    else:
        llm = SimulatedLLM(
            model=settings.llm_model,
            limiter=limiter,
            rng=rng,
            latency_median_seconds=settings.simulated_latency_median_seconds,
            latency_sigma=settings.simulated_latency_sigma,
            latency_max_seconds=settings.simulated_latency_max_seconds,
            clock=clock,
        )
    secondary_llm = SimulatedLLM(
        model=settings.resilience_secondary_model,
        # Another provider: its own limits, which no other client of ours uses.
        limiter=SlidingWindowRateLimiter(
            settings.rate_limit_requests_per_minute,
            settings.rate_limit_tokens_per_minute,
            clock=clock.now,
        ),
        rng=rng,
        latency_median_seconds=settings.resilience_secondary_latency_median_seconds,
        latency_sigma=settings.simulated_latency_sigma,
        latency_max_seconds=settings.simulated_latency_max_seconds,
        error_rate=settings.resilience_secondary_error_rate,
        clock=clock,
    )
    resilience = ResilienceLayer(
        settings.resilience,
        clock=clock,
        rng=rng,
        telemetry=telemetry,
        limiter=limiter,
        llm_timeout_seconds=settings.llm_timeout_seconds,
    )
    return RagPipeline(
        passages=load_corpus(settings.corpus_path),
        embedder=embedder,
        store=InMemoryVectorStore(embedder),
        llm=llm,
        secondary_llm=secondary_llm,
        cache=ResponseCache(settings.cache_max_size, settings.cache_ttl_seconds, clock=clock.now),
        faults=faults,
        resilience=resilience,
        telemetry=telemetry,
        clock=clock,
    )
