"""The pipeline's telemetry port and its null object.

The pipeline reports each step through ``PipelineTelemetry``; ``sample_rag_app.telemetry``
implements it with metrics and log lines, ``NullTelemetry`` (metrics and logging off)
implements it by doing nothing. Kept apart from the algorithm so that the telemetry side
depends on this small interface, not on the pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from sample_rag_app.pipeline.errors import AnswerLevel, ErrorType, Stage
from sample_rag_app.pipeline.resilience.config import Mechanism
from sample_rag_app.pipeline.resilience.ports import (
    BreakerState,
    Dependency,
    ResilienceTelemetry,
)


class PipelineTelemetry(ResilienceTelemetry, Protocol):
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
        """A model answered; ``model`` is the configured name of the one that did."""

    def stage_failed(self, *, stage: Stage, seconds: float) -> None:
        """A stage raised after running for ``seconds``."""

    def fallback_used(self, *, level: AnswerLevel, error_type: ErrorType) -> None:
        """A fallback level answered after the level above failed with ``error_type``."""

    def query_succeeded(
        self, *, seconds: float, correlation_id: str, cached: bool, level: AnswerLevel
    ) -> None:
        """The query produced an answer at ``level``."""

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

    def fallback_used(self, *, level: AnswerLevel, error_type: ErrorType) -> None:
        pass

    def query_succeeded(
        self, *, seconds: float, correlation_id: str, cached: bool, level: AnswerLevel
    ) -> None:
        pass

    def query_failed(
        self, *, seconds: float, correlation_id: str, error_type: ErrorType, stage: Stage
    ) -> None:
        pass

    def retry_scheduled(
        self, *, service: Dependency, attempt: int, wait_seconds: float, error_type: ErrorType
    ) -> None:
        pass

    def retry_budget_exhausted(self, *, service: Dependency) -> None:
        pass

    def circuit_state_changed(
        self,
        *,
        service: Dependency,
        previous: BreakerState,
        state: BreakerState,
        correlation_id: str,
    ) -> None:
        pass

    def admission_changed(self, *, inflight: int, queued: int) -> None:
        pass

    def request_shed(self) -> None:
        pass

    def llm_call_paced(self, *, seconds: float) -> None:
        pass

    def resilience_configured(self, *, in_effect: Mapping[Mechanism, bool]) -> None:
        pass
