"""``RagPipeline.answer``: cache, embed, search, call the model; report every step.

The pipeline knows nothing about HTTP, Prometheus or log formats. It reports what
happens through the ``PipelineTelemetry`` it is given (``sample_rag_app.telemetry``
turns those calls into metrics and log lines; ``NullTelemetry`` ignores them).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sample_rag_app.pipeline.cache import ResponseCache, cache_key
from sample_rag_app.pipeline.corpus import Passage, load_corpus
from sample_rag_app.pipeline.embedder import HashingEmbedder
from sample_rag_app.pipeline.errors import (
    ErrorType,
    InternalPipelineError,
    LLMError,
    LLMTimeoutError,
    PipelineError,
    RateLimitError,
    Stage,
    VectorStoreUnavailableError,
)
from sample_rag_app.pipeline.faults import FaultConfig, FaultInjector
from sample_rag_app.pipeline.llm import (
    Completion,
    LLMProvider,
    OpenAICompatibleLLM,
    SimulatedLLM,
    cost_usd,
)
from sample_rag_app.pipeline.ratelimit import SlidingWindowRateLimiter
from sample_rag_app.pipeline.vector_store import InMemoryVectorStore
from sample_rag_app.settings import Settings


@dataclass(frozen=True, slots=True)
class Source:
    """A passage an answer is based on."""

    id: str
    title: str
    score: float


@dataclass(frozen=True, slots=True)
class Answer:
    """The pipeline's result for one query."""

    answer: str
    sources: tuple[Source, ...]
    correlation_id: str
    cached: bool
    cost_usd: float
    model: str


@dataclass(frozen=True, slots=True)
class _CachedAnswer:
    answer: str
    sources: tuple[Source, ...]
    model: str


class PipelineTelemetry(Protocol):
    """What the pipeline reports, in the order it happens. Durations are in seconds."""

    def query_received(self, *, question: str, top_k: int) -> None:
        """A validated query entered the pipeline."""

    def cache_lookup(self, *, hit: bool) -> None:
        """The response cache was consulted."""

    def embedding_generated(self, *, seconds: float, dimensions: int) -> None:
        """The question was embedded."""

    def vector_search_completed(
        self, *, seconds: float, results_count: int, top_score: float | None
    ) -> None:
        """The vector store returned its ranking."""

    def llm_call_completed(
        self,
        *,
        seconds: float,
        model: str,
        prompt_tokens: int,
        completion_tokens: int,
        cost_usd: float,
    ) -> None:
        """The model answered."""

    def stage_failed(self, *, stage: Stage, seconds: float) -> None:
        """A stage raised after running for ``seconds``."""

    def query_succeeded(self, *, seconds: float, correlation_id: str, cached: bool) -> None:
        """The query produced an answer."""

    def query_failed(
        self, *, seconds: float, correlation_id: str, error_type: ErrorType, stage: Stage
    ) -> None:
        """The query failed; the caller receives the PipelineError."""


class NullTelemetry:
    """Telemetry that records nothing (metrics and logging switched off)."""

    def query_received(self, *, question: str, top_k: int) -> None:
        pass

    def cache_lookup(self, *, hit: bool) -> None:
        pass

    def embedding_generated(self, *, seconds: float, dimensions: int) -> None:
        pass

    def vector_search_completed(
        self, *, seconds: float, results_count: int, top_score: float | None
    ) -> None:
        pass

    def llm_call_completed(
        self,
        *,
        seconds: float,
        model: str,
        prompt_tokens: int,
        completion_tokens: int,
        cost_usd: float,
    ) -> None:
        pass

    def stage_failed(self, *, stage: Stage, seconds: float) -> None:
        pass

    def query_succeeded(self, *, seconds: float, correlation_id: str, cached: bool) -> None:
        pass

    def query_failed(
        self, *, seconds: float, correlation_id: str, error_type: ErrorType, stage: Stage
    ) -> None:
        pass


class RagPipeline:
    """Answers questions from the corpus; thread-safe once ``load`` has run."""

    def __init__(
        self,
        *,
        passages: list[Passage],
        embedder: HashingEmbedder,
        store: InMemoryVectorStore,
        llm: LLMProvider,
        cache: ResponseCache[_CachedAnswer],
        faults: FaultInjector,
        telemetry: PipelineTelemetry,
        llm_timeout_seconds: float = 5.0,
        clock: Callable[[], float] = time.perf_counter,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.passages = passages
        self.embedder = embedder
        self.store = store
        self.llm = llm
        self.cache = cache
        self.faults = faults
        self.telemetry = telemetry
        self._llm_timeout = llm_timeout_seconds
        self._clock = clock
        self._sleep = sleep

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        telemetry: PipelineTelemetry,
        *,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.perf_counter,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> RagPipeline:
        """Build every component from the settings (the corpus is read, not yet embedded)."""
        rng = rng or random.Random(settings.random_seed)
        embedder = HashingEmbedder(settings.embedding_dimensions)
        faults = FaultInjector(
            FaultConfig(
                llm_error_rate=settings.fault_llm_error_rate,
                llm_timeout_rate=settings.fault_llm_timeout_rate,
                rate_limit_error_rate=settings.fault_rate_limit_error_rate,
                added_latency_seconds=settings.fault_added_latency_seconds,
                vector_store_down=settings.fault_vector_store_down,
                rate_limit_consumed_percent=settings.fault_rate_limit_consumed_percent,
            ),
            rng,
        )
        limiter = SlidingWindowRateLimiter(
            settings.rate_limit_requests_per_minute,
            settings.rate_limit_tokens_per_minute,
            clock=monotonic,
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
                timeout_seconds=settings.llm_timeout_seconds,
            )
        else:
            llm = SimulatedLLM(
                model=settings.llm_model,
                limiter=limiter,
                rng=rng,
                latency_median_seconds=settings.simulated_latency_median_seconds,
                latency_sigma=settings.simulated_latency_sigma,
                latency_max_seconds=settings.simulated_latency_max_seconds,
                timeout_seconds=settings.llm_timeout_seconds,
                sleep=sleep,
            )
        return cls(
            passages=load_corpus(settings.corpus_path),
            embedder=embedder,
            store=InMemoryVectorStore(embedder),
            llm=llm,
            cache=ResponseCache(
                settings.cache_max_size, settings.cache_ttl_seconds, clock=monotonic
            ),
            faults=faults,
            telemetry=telemetry,
            llm_timeout_seconds=settings.llm_timeout_seconds,
            clock=clock,
            sleep=sleep,
        )

    @property
    def ready(self) -> bool:
        """True once the corpus is embedded and searchable."""
        return self.store.ready

    def load(self) -> None:
        """Embed the corpus into the vector store (start-up work)."""
        self.store.load(self.passages)

    def answer(self, question: str, top_k: int, correlation_id: str) -> Answer:
        """Answer ``question`` from the ``top_k`` best passages, or raise a PipelineError."""
        telemetry = self.telemetry
        start = self._clock()
        telemetry.query_received(question=question, top_k=top_k)
        stage: Stage = "cache"
        try:
            key = cache_key(question, top_k)
            hit = self.cache.get(key)
            telemetry.cache_lookup(hit=hit is not None)
            if hit is not None:
                telemetry.query_succeeded(
                    seconds=self._clock() - start, correlation_id=correlation_id, cached=True
                )
                return Answer(hit.answer, hit.sources, correlation_id, True, 0.0, hit.model)

            stage = "embedding"
            stage_start = self._clock()
            vector = self.embedder.embed(question)
            now = self._clock()
            telemetry.embedding_generated(seconds=now - stage_start, dimensions=len(vector))

            stage, stage_start = "vector_search", now
            if self.faults.config.vector_store_down:
                raise VectorStoreUnavailableError("the vector store is down (injected fault)")
            results = self.store.search(vector, top_k)
            now = self._clock()
            telemetry.vector_search_completed(
                seconds=now - stage_start,
                results_count=len(results),
                top_score=results[0].score if results else None,
            )

            stage, stage_start = "llm", now
            completion = self._call_llm(question, [r.passage for r in results])
            cost = cost_usd(
                completion.model, completion.prompt_tokens, completion.completion_tokens
            )
            now = self._clock()
            telemetry.llm_call_completed(
                seconds=now - stage_start,
                model=completion.model,
                prompt_tokens=completion.prompt_tokens,
                completion_tokens=completion.completion_tokens,
                cost_usd=cost,
            )
        except Exception as exc:
            error = exc if isinstance(exc, PipelineError) else None
            if error is None:
                error = InternalPipelineError(f"unexpected {type(exc).__name__}", stage=stage)
            failed_at = self._clock()
            if stage != "cache":
                telemetry.stage_failed(stage=stage, seconds=failed_at - stage_start)
            telemetry.query_failed(
                seconds=failed_at - start,
                correlation_id=correlation_id,
                error_type=error.error_type,
                stage=stage,
            )
            if error is exc:
                raise
            raise error from exc

        sources = tuple(Source(r.passage.id, r.passage.title, round(r.score, 6)) for r in results)
        self.cache.put(key, _CachedAnswer(completion.text, sources, completion.model))
        telemetry.query_succeeded(
            seconds=self._clock() - start, correlation_id=correlation_id, cached=False
        )
        return Answer(completion.text, sources, correlation_id, False, cost, completion.model)

    def _call_llm(self, question: str, passages: list[Passage]) -> Completion:
        config = self.faults.config
        if config.added_latency_seconds > 0:
            self._sleep(config.added_latency_seconds)
        fault = self.faults.draw_llm_fault()
        if fault == "rate_limited":
            raise RateLimitError("the provider rejected the call as rate limited (injected fault)")
        if fault == "llm_timeout":
            self._sleep(self._llm_timeout)
            raise LLMTimeoutError(
                f"the model did not answer within {self._llm_timeout:g} s (injected fault)"
            )
        if fault == "llm_error":
            raise LLMError("the model endpoint answered HTTP 500 (injected fault)")
        return self.llm.complete(question, passages)
