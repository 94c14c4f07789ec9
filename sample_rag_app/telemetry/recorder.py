"""``RagTelemetry``: turns the pipeline's reports into metrics and log lines.

Either half can be switched off (settings ``metrics_enabled`` / ``logging_enabled``).
It records what happened; the telemetry faults that make it lie wrap it
(``telemetry.faults.FaultedTelemetry``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import structlog

from sample_rag_app.pipeline.errors import AnswerLevel, ErrorType, Stage
from sample_rag_app.pipeline.resilience.config import Mechanism
from sample_rag_app.pipeline.resilience.ports import BreakerState, Dependency
from sample_rag_app.telemetry.metrics import RagMetrics

logger = structlog.get_logger("sample_rag_app.pipeline")


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 3)


def question_fingerprint(question: str) -> str:
    """The first 16 hex digits of the question's SHA-256: loggable, not readable."""
    return hashlib.sha256(question.encode("utf-8")).hexdigest()[:16]


class RagTelemetry:
    """Implements ``PipelineTelemetry`` with ``RagMetrics`` and structlog."""

    def __init__(
        self,
        metrics: RagMetrics | None,
        *,
        logging_enabled: bool = True,
        log_questions: bool = False,
    ) -> None:
        self.metrics = metrics
        self.log = logging_enabled
        self.log_questions = log_questions

    def query_received(self, *, question: str, top_k: int) -> None:
        if self.metrics is not None:
            self.metrics.requests.inc()
        if self.log:
            fields: dict[str, Any] = {
                "question_sha256": question_fingerprint(question),
                "question_length": len(question),
                "top_k": top_k,
            }
            if self.log_questions:
                fields["question"] = question
            logger.info("query_received", **fields)

    def cache_lookup(self, *, hit: bool) -> None:
        # No line of its own: `response_returned` says `cached` and `answer_level`.
        if self.metrics is not None:
            self.metrics.cache_requests.inc()
            if hit:
                self.metrics.cache_hits.inc()

    def embedding_generated(self, *, seconds: float, dimensions: int) -> None:
        if self.metrics is not None:
            self.metrics.stage_duration["embedding"].observe(seconds)
        if self.log:
            logger.info("embedding_generated", latency_ms=_ms(seconds), dimensions=dimensions)

    def vector_search_completed(
        self, *, seconds: float, results_count: int, top_score: float | None
    ) -> None:
        if self.metrics is not None:
            self.metrics.stage_duration["vector_search"].observe(seconds)
        if self.log:
            logger.info(
                "vector_search_completed",
                latency_ms=_ms(seconds),
                results_count=results_count,
                top_score=None if top_score is None else round(top_score, 4),
            )

    def llm_call_completed(
        self,
        *,
        seconds: float,
        model: str,
        prompt_tokens: int,
        completion_tokens: int,
        cost_usd: float,
    ) -> None:
        metrics = self.metrics
        if metrics is not None:
            metrics.stage_duration["llm"].observe(seconds)
            # The model label is a configured model, never a provider's dated variant
            # ("gpt-4o-mini-2024-07-18"): no series is created per answer.
            label = model if model in metrics.cost_usd else metrics.model
            metrics.prompt_tokens[label].inc(prompt_tokens)
            metrics.completion_tokens[label].inc(completion_tokens)
            metrics.cost_usd[label].inc(cost_usd)
        if self.log:
            logger.info(
                "llm_call_completed",
                latency_ms=_ms(seconds),
                model=model,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                cost_usd=round(cost_usd, 8),
            )

    def stage_failed(self, *, stage: Stage, seconds: float) -> None:
        if self.metrics is not None:
            histogram = self.metrics.stage_duration.get(stage)
            if histogram is not None:
                histogram.observe(seconds)

    def fallback_used(self, *, level: AnswerLevel, error_type: ErrorType) -> None:
        if self.log:
            logger.warning("fallback_used", level=level, after_error_type=error_type)

    def query_succeeded(
        self, *, seconds: float, correlation_id: str, cached: bool, level: AnswerLevel
    ) -> None:
        if self.metrics is not None:
            self.metrics.query_duration.observe(seconds, {"correlation_id": correlation_id})
            self.metrics.answers[level].inc()
        if self.log:
            logger.info(
                "response_returned",
                total_latency_ms=_ms(seconds),
                status="success",
                cached=cached,
                answer_level=level,
            )

    def query_failed(
        self, *, seconds: float, correlation_id: str, error_type: ErrorType, stage: Stage
    ) -> None:
        metrics = self.metrics
        if metrics is not None:
            metrics.query_duration.observe(seconds, {"correlation_id": correlation_id})
            metrics.errors.inc()
            metrics.errors_by_type[error_type].inc()
        if self.log:
            logger.error(
                "query_failed", error_type=error_type, stage=stage, latency_ms=_ms(seconds)
            )

    def retry_scheduled(
        self, *, service: Dependency, attempt: int, wait_seconds: float, error_type: ErrorType
    ) -> None:
        if self.metrics is not None:
            self.metrics.retries[service].inc()
        if self.log:
            logger.warning(
                "retry_scheduled",
                dependency=service,
                attempt=attempt,
                wait_ms=_ms(wait_seconds),
                after_error_type=error_type,
            )

    def retry_budget_exhausted(self, *, service: Dependency) -> None:
        if self.metrics is not None:
            self.metrics.retry_budget_exhausted[service].inc()
        if self.log:
            logger.warning("retry_budget_exhausted", dependency=service)

    def circuit_state_changed(
        self,
        *,
        service: Dependency,
        previous: BreakerState,
        state: BreakerState,
        correlation_id: str,
    ) -> None:
        if self.metrics is not None:
            self.metrics.set_circuit_state(service, state)
            self.metrics.circuit_transitions[(service, state)].inc()
        if self.log:
            # `dependency`, not `service`: every line's `service` is the app's name.
            # The id of the request that caused the change (the request's context carries
            # it too; passed explicitly so the line is right wherever it is rendered).
            fields = {"correlation_id": correlation_id} if correlation_id else {}
            logger.warning(
                "circuit_breaker_state_changed",
                dependency=service,
                previous_state=previous,
                state=state,
                **fields,
            )

    def admission_changed(self, *, inflight: int, queued: int) -> None:
        if self.metrics is not None:
            self.metrics.llm_inflight.set(inflight)
            self.metrics.llm_queue_depth.set(queued)

    def request_shed(self) -> None:
        if self.metrics is not None:
            self.metrics.shed_requests.inc()
        if self.log:
            logger.warning("request_shed")

    def llm_call_paced(self, *, seconds: float) -> None:
        if self.metrics is not None:
            self.metrics.paced_calls.inc()
            self.metrics.pacing_wait_seconds.inc(seconds)
        if self.log:
            logger.info("llm_call_paced", wait_ms=_ms(seconds))

    def resilience_configured(self, *, in_effect: Mapping[Mechanism, bool]) -> None:
        if self.metrics is not None:
            for mechanism, effective in in_effect.items():
                self.metrics.resilience_enabled[mechanism].set(1.0 if effective else 0.0)
        # No log line: the admin routes log each change, app_started the master switch.
