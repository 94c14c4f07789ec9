"""``RagPipeline.answer``: cache, embed, search, call the model; report every step.

The pipeline knows nothing about HTTP, Prometheus, log formats or settings. It reports
what happens through the ``PipelineTelemetry`` port it is given (``ports``;
``sample_rag_app.telemetry`` turns those calls into metrics and log lines) and is built
from the settings by the composition root, ``assembly.build_pipeline``.

Its dependency calls (vector search, LLM) go through the resilience layer
(``sample_rag_app.pipeline.resilience``), a pass-through while resilience is off. When
the primary model fails and the fallback is on, the chain is: the secondary model,
then a stale cached answer, then an extractive answer from the retrieved passages; a
failed vector search falls back to a stale cached answer. Each answer says its level
(``errors.ANSWER_LEVELS``); what counts as an error is defined in ``errors``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sample_rag_app.clock import Clock
from sample_rag_app.pipeline.cache import CacheKey, ResponseCache, cache_key
from sample_rag_app.pipeline.corpus import Passage
from sample_rag_app.pipeline.embedder import HashingEmbedder, Vector
from sample_rag_app.pipeline.errors import (
    DEGRADED_LEVELS,
    AnswerLevel,
    InternalPipelineError,
    LLMError,
    LLMTimeoutError,
    PipelineError,
    RateLimitError,
    Stage,
    VectorStoreUnavailableError,
)
from sample_rag_app.pipeline.faults import FaultInjector
from sample_rag_app.pipeline.llm import (
    Completion,
    LLMProvider,
    cost_usd,
    estimate_prompt_tokens,
    extractive_answer,
)
from sample_rag_app.pipeline.ports import PipelineTelemetry
from sample_rag_app.pipeline.resilience.layer import RequestBudget, ResilienceLayer
from sample_rag_app.pipeline.vector_store import InMemoryVectorStore, SearchResult


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
    level: AnswerLevel

    @property
    def degraded(self) -> bool:
        """True when a fallback answered (secondary model, stale cache, extractive)."""
        return self.level in DEGRADED_LEVELS


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    """What the response cache keeps of a primary model's answer."""

    answer: str
    sources: tuple[Source, ...]
    model: str


@dataclass(frozen=True, slots=True)
class _Generated:
    """What the LLM stage produced: a model's completion, or a fallback's text."""

    level: AnswerLevel
    text: str
    model: str
    completion: Completion | None = None
    sources: tuple[Source, ...] | None = None


class RagPipeline:
    """Answers questions from the corpus; thread-safe once ``load`` has run."""

    def __init__(
        self,
        *,
        passages: list[Passage],
        embedder: HashingEmbedder,
        store: InMemoryVectorStore,
        llm: LLMProvider,
        secondary_llm: LLMProvider,
        cache: ResponseCache[CachedAnswer],
        faults: FaultInjector,
        resilience: ResilienceLayer,
        telemetry: PipelineTelemetry,
        clock: Clock,
    ) -> None:
        self.passages = passages
        self.embedder = embedder
        self.store = store
        self.llm = llm
        self.secondary_llm = secondary_llm
        self.cache = cache
        self.faults = faults
        self.resilience = resilience
        self.telemetry = telemetry
        self._clock = clock

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
        clock = self._clock
        start = clock.now()
        budget = self.resilience.begin(correlation_id, start)
        telemetry.query_received(question=question, top_k=top_k)
        stage: Stage = "cache"
        stage_start = start
        try:
            key = cache_key(question, top_k)
            hit = self.cache.get(key)
            telemetry.cache_lookup(hit=hit is not None)
            if hit is not None:
                return self._answered(
                    start, budget, _Generated("cache", hit.answer, hit.model, sources=hit.sources)
                )

            stage = "embedding"
            stage_start = clock.now()
            vector = self.embedder.embed(question)
            now = clock.now()
            telemetry.embedding_generated(seconds=now - stage_start, dimensions=len(vector))

            stage, stage_start = "vector_search", now
            try:
                results = self.resilience.call(
                    "vector_store", lambda: self._search(vector, top_k), budget, budget.deadline
                )
            except PipelineError as search_error:
                stale = self._stale(key, budget, search_error)
                if stale is None:
                    raise self.resilience.final_error(search_error, budget) from search_error
                telemetry.stage_failed(stage=stage, seconds=clock.now() - stage_start)
                return self._answered(start, budget, stale)
            now = clock.now()
            telemetry.vector_search_completed(
                seconds=now - stage_start,
                results_count=len(results),
                top_score=results[0].score if results else None,
            )

            stage, stage_start = "llm", now
            sources = tuple(
                Source(r.passage.id, r.passage.title, round(r.score, 6)) for r in results
            )
            generated = self._generate(question, [r.passage for r in results], key, budget)
            now = clock.now()
            completion = generated.completion
            if completion is None:
                telemetry.stage_failed(stage=stage, seconds=now - stage_start)
            else:
                telemetry.llm_call_completed(
                    seconds=now - stage_start,
                    model=generated.model,
                    prompt_tokens=completion.prompt_tokens,
                    completion_tokens=completion.completion_tokens,
                    cost_usd=cost_usd(
                        generated.model, completion.prompt_tokens, completion.completion_tokens
                    ),
                )
        except Exception as exc:
            error = exc if isinstance(exc, PipelineError) else None
            if error is None:
                error = InternalPipelineError(f"unexpected {type(exc).__name__}", stage=stage)
            failed_at = clock.now()
            if stage != "cache":
                telemetry.stage_failed(stage=stage, seconds=failed_at - stage_start)
            if self.faults.config.errors_as_empty_answers:  # a handler that swallows it
                return self._answered(start, budget, _Generated("primary", "", self.llm.model))
            telemetry.query_failed(
                seconds=failed_at - start,
                correlation_id=correlation_id,
                error_type=error.error_type,
                stage=stage,
            )
            if error is exc:
                raise
            raise error from exc

        if generated.level == "primary":
            self.cache.put(key, CachedAnswer(generated.text, sources, generated.model))
        return self._answered(start, budget, generated, sources)

    def _answered(
        self,
        start: float,
        budget: RequestBudget,
        generated: _Generated,
        sources: tuple[Source, ...] = (),
    ) -> Answer:
        level = generated.level
        cached = level in ("cache", "stale_cache")
        self.telemetry.query_succeeded(
            seconds=self._clock.now() - start,
            correlation_id=budget.correlation_id,
            cached=cached,
            level=level,
        )
        completion = generated.completion
        cost = 0.0
        model = generated.model
        if completion is not None:
            cost = cost_usd(model, completion.prompt_tokens, completion.completion_tokens)
            model = completion.model
        return Answer(
            answer=generated.text,
            sources=generated.sources if generated.sources is not None else sources,
            correlation_id=budget.correlation_id,
            cached=cached,
            cost_usd=cost,
            model=model,
            level=level,
        )

    def _search(self, vector: Vector, top_k: int) -> list[SearchResult]:
        if self.faults.config.vector_store_down:
            raise VectorStoreUnavailableError("the vector store is down (injected fault)")
        return self.store.search(vector, top_k)

    def _stale(
        self, key: CacheKey, budget: RequestBudget, error: PipelineError
    ) -> _Generated | None:
        """A stale cached answer when the fallback is in effect, else None."""
        config = budget.config
        if not config.in_effect("fallback"):
            return None
        stale = self.cache.get_stale(key, config.stale_window_seconds)
        if stale is None:
            return None
        self.telemetry.fallback_used(level="stale_cache", error_type=error.error_type)
        return _Generated("stale_cache", stale.answer, stale.model, sources=stale.sources)

    def _generate(
        self, question: str, passages: list[Passage], key: CacheKey, budget: RequestBudget
    ) -> _Generated:
        """The primary model, else (with the fallback on) the fallback chain."""
        resilience = self.resilience
        with resilience.admission_slot(budget):
            try:
                completion = resilience.call(
                    "llm",
                    lambda: self._call_primary(question, passages, budget),
                    budget,
                    budget.primary_deadline,
                )
                return _Generated("primary", completion.text, self.llm.model, completion)
            except PipelineError as primary_error:
                if not budget.config.in_effect("fallback"):
                    raise resilience.final_error(primary_error, budget) from primary_error
                error = primary_error
            try:
                completion = self._call_secondary(question, passages, budget)
            except PipelineError:
                pass
            else:
                self.telemetry.fallback_used(level="secondary", error_type=error.error_type)
                return _Generated(
                    "secondary", completion.text, self.secondary_llm.model, completion
                )
        stale = self._stale(key, budget, error)
        if stale is not None:
            return stale
        if passages:
            self.telemetry.fallback_used(level="extractive", error_type=error.error_type)
            return _Generated("extractive", extractive_answer(passages), "")
        raise resilience.final_error(error, budget) from error

    def _call_primary(
        self, question: str, passages: Sequence[Passage], budget: RequestBudget
    ) -> Completion:
        """One attempt at the primary model, with the injected faults."""
        resilience = self.resilience
        if budget.config.in_effect("pacing"):
            resilience.pace(estimate_prompt_tokens(question, passages), budget)
        faults = self.faults
        if faults.primary_outage():
            raise LLMError("the model provider is down (injected outage)")
        timeout = resilience.timeout_until(budget, budget.primary_deadline)
        added_latency = faults.primary_added_latency()
        fault = faults.draw_llm_fault()
        if fault == "llm_timeout" or (fault is not None and added_latency > timeout):
            self._clock.sleep(timeout)
            raise LLMTimeoutError(f"the model did not answer within {timeout:g} s (injected fault)")
        if fault is not None:
            self._clock.sleep(added_latency)
        if fault == "rate_limited":
            raise RateLimitError("the provider rejected the call as rate limited (injected fault)")
        if fault == "llm_error":
            raise LLMError("the model endpoint answered HTTP 500 (injected fault)")
        return self.llm.complete(
            question, passages, timeout_seconds=timeout, added_latency_seconds=added_latency
        )

    def _call_secondary(
        self, question: str, passages: Sequence[Passage], budget: RequestBudget
    ) -> Completion:
        """One attempt at the secondary model, within what is left of the deadline."""
        resilience = self.resilience
        timeout = resilience.timeout_until(budget, budget.deadline)
        if timeout <= 0:
            raise resilience.final_error(
                LLMTimeoutError("no time left for the secondary model"), budget
            )
        return self.secondary_llm.complete(question, passages, timeout_seconds=timeout)
