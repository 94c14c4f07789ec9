"""``RagMetrics``: every Prometheus series the app exposes, on a registry passed in.

The names, labels and buckets are a contract: the lab's Prometheus rules and Grafana
dashboards are generated from them. All values are in base units (seconds, USD).
Labelled children are created once here and reused, so a request never creates a
series and every label value comes from a small fixed set.
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from typing import Final, Literal, get_args

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)

from sample_rag_app.pipeline.errors import ANSWER_LEVELS, ERROR_TYPES, AnswerLevel, ErrorType
from sample_rag_app.pipeline.resilience.config import MECHANISMS, Mechanism
from sample_rag_app.pipeline.resilience.ports import BreakerState, Dependency

# No `*_created` series (the one place they are switched off): every exposition carries
# only the series the lab's rules and dashboards are generated from. Every metric of the
# app is created after this, in RagMetrics.
disable_created_metrics()  # type: ignore[no-untyped-call]

QUERY_DURATION_BUCKETS: Final = (
    0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0,
)  # fmt: skip
STAGE_DURATION_BUCKETS: Final = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip

PipelineStage = Literal["embedding", "vector_search", "llm"]
STAGES: Final[tuple[PipelineStage, ...]] = ("embedding", "vector_search", "llm")

InvalidReason = Literal[
    "malformed_json",
    "invalid_body",
    "empty_question",
    "question_too_long",
    "invalid_top_k",
    "body_too_large",
    "invalid_framing",
    "not_found",
    "method_not_allowed",
    "invalid_correlation_id",
    "admin_disabled",
    "unauthorized",
    "other",
]
#: Every value of ``rag_invalid_requests_total{reason}``; the children are pre-created.
INVALID_REASONS: Final[tuple[InvalidReason, ...]] = get_args(InvalidReason)

BREAKER_SERVICES: Final[tuple[Dependency, ...]] = get_args(Dependency)
BREAKER_STATES: Final[tuple[BreakerState, ...]] = get_args(BreakerState)


class RagMetrics:
    """The app's metrics, registered on ``registry``."""

    def __init__(
        self,
        registry: CollectorRegistry,
        *,
        model: str,
        version: str,
        llm_provider: str,
        secondary_model: str | None = None,
        python_version: str | None = None,
        replica: str = "",
    ) -> None:
        self.registry = registry
        self.model = model
        models = (model,) if secondary_model in (None, model) else (model, secondary_model)

        # --- the course's golden signals (no labels: its expressions match one to one) --
        self.query_duration = Histogram(
            "rag_query_duration_seconds",
            "Duration of /query requests that passed validation (success, cache hit or "
            "failure); each observation carries the request's correlation_id as exemplar.",
            buckets=QUERY_DURATION_BUCKETS,
            registry=registry,
        )
        self.requests = Counter(
            "rag_requests",
            "/query requests that passed validation.",
            registry=registry,
        )
        self.errors = Counter(
            "rag_errors",
            "/query requests that passed validation and failed (5xx).",
            registry=registry,
        )
        errors_by_type = Counter(
            "rag_errors_by_type",
            "Failed /query requests by error type.",
            ["error_type"],
            registry=registry,
        )
        self.errors_by_type: dict[ErrorType, Counter] = {
            t: errors_by_type.labels(error_type=t) for t in ERROR_TYPES
        }
        answers = Counter(
            "rag_answers",
            "/query requests that passed validation and were answered (200), by the level "
            "that answered: cache, primary, or a fallback (secondary, stale_cache, "
            "extractive). requests = sum(answers) + errors.",
            ["level"],
            registry=registry,
        )
        self.answers: dict[AnswerLevel, Counter] = {
            level: answers.labels(level=level) for level in ANSWER_LEVELS
        }
        self.cache_hits = Counter(
            "rag_cache_hits", "Response cache lookups that found an answer.", registry=registry
        )
        self.cache_requests = Counter(
            "rag_cache_requests", "Response cache lookups.", registry=registry
        )

        # --- cost and tokens, by model (the configured primary and secondary models) -----
        cost = Counter(
            "rag_cost_usd",
            "Money spent on LLM calls, in US dollars, from the price table.",
            ["model"],
            registry=registry,
        )
        tokens = Counter(
            "rag_tokens", "Tokens sent to and received from the LLM.", ["model", "kind"],
            registry=registry,
        )  # fmt: skip
        self.cost_usd: dict[str, Counter] = {m: cost.labels(model=m) for m in models}
        self.prompt_tokens: dict[str, Counter] = {
            m: tokens.labels(model=m, kind="prompt") for m in models
        }
        self.completion_tokens: dict[str, Counter] = {
            m: tokens.labels(model=m, kind="completion") for m in models
        }

        # --- saturation ----------------------------------------------------------------
        self.rate_limit_headroom = Gauge(
            "rag_rate_limit_headroom_percent",
            "Remaining provider rate-limit budget: the smaller of the request and the "
            "token headroom of the sliding minute, 0..100.",
            registry=registry,
        )
        self.rate_limit_headroom.set(100.0)

        # --- where the time goes --------------------------------------------------------
        stage_duration = Histogram(
            "rag_stage_duration_seconds",
            "Duration of one pipeline stage of a /query request.",
            ["stage"],
            buckets=STAGE_DURATION_BUCKETS,
            registry=registry,
        )
        self.stage_duration: dict[str, Histogram] = {
            s: stage_duration.labels(stage=s) for s in STAGES
        }

        # --- bad input --------------------------------------------------------------------
        invalid = Counter(
            "rag_invalid_requests",
            "Requests rejected as invalid (4xx), or with a malformed correlation header, "
            "by reason (a fixed set).",
            ["reason"],
            registry=registry,
        )
        self.invalid_requests: dict[str, Counter] = {
            r: invalid.labels(reason=r) for r in INVALID_REASONS
        }

        # --- what is running --------------------------------------------------------------
        Gauge(
            "rag_build_info",
            "Always 1; the labels describe the running build, and `replica` which replica "
            "(host name) the scrape target is, as in its logs and X-Served-By header.",
            ["version", "python_version", "llm_provider", "replica"],
            registry=registry,
        ).labels(
            version=version,
            python_version=python_version or platform.python_version(),
            llm_provider=llm_provider,
            replica=replica,
        ).set(1)

        # --- resilience (M2.4): all at rest while RAG_RESILIENCE is off -------------------
        circuit = Gauge(
            "rag_circuit_breaker_state",
            "Circuit breaker state per dependency, one-hot: the current state is 1.",
            ["service", "state"],
            registry=registry,
        )
        self._circuit: dict[tuple[Dependency, BreakerState], Gauge] = {
            (svc, state): circuit.labels(service=svc, state=state)
            for svc in BREAKER_SERVICES
            for state in BREAKER_STATES
        }
        transitions = Counter(
            "rag_circuit_breaker_transitions",
            "Circuit breaker transitions per dependency, by the state entered.",
            ["service", "state"],
            registry=registry,
        )
        self.circuit_transitions: dict[tuple[Dependency, BreakerState], Counter] = {
            (svc, state): transitions.labels(service=svc, state=state)
            for svc in BREAKER_SERVICES
            for state in BREAKER_STATES
        }
        retries = Counter(
            "rag_retries",
            "Retry attempts per dependency (first attempts are not counted).",
            ["service"],
            registry=registry,
        )
        self.retries: dict[Dependency, Counter] = {
            svc: retries.labels(service=svc) for svc in BREAKER_SERVICES
        }
        exhausted = Counter(
            "rag_retry_budget_exhausted",
            "Retries refused because the dependency's retry budget was spent.",
            ["service"],
            registry=registry,
        )
        self.retry_budget_exhausted: dict[Dependency, Counter] = {
            svc: exhausted.labels(service=svc) for svc in BREAKER_SERVICES
        }
        self.llm_inflight = Gauge(
            "rag_llm_inflight",
            "LLM calls in progress, counted by admission control (0 while it is off).",
            registry=registry,
        )
        self.llm_queue_depth = Gauge(
            "rag_llm_queue_depth", "Requests waiting for an LLM slot.", registry=registry
        )
        self.shed_requests = Counter(
            "rag_shed_requests",
            "Requests refused by admission control (503 overloaded).",
            registry=registry,
        )
        self.paced_calls = Counter(
            "rag_paced_calls",
            "LLM calls that waited for room under the provider's rate limit.",
            registry=registry,
        )
        self.pacing_wait_seconds = Counter(
            "rag_pacing_wait_seconds",
            "Seconds LLM calls spent waiting for room under the provider's rate limit.",
            registry=registry,
        )
        enabled = Gauge(
            "rag_resilience_enabled",
            "1 when a resilience mechanism is in effect (master switch and its own switch).",
            ["mechanism"],
            registry=registry,
        )
        self.resilience_enabled: dict[Mechanism, Gauge] = {
            m: enabled.labels(mechanism=m) for m in MECHANISMS
        }
        for svc in BREAKER_SERVICES:
            self.set_circuit_state(svc, "closed")

    def set_circuit_state(self, service: Dependency, state: BreakerState) -> None:
        """Make ``state`` the one current state of ``service``'s breaker."""
        if (service, state) not in self._circuit:
            raise ValueError(f"unknown breaker {service!r}/{state!r}")
        for s in BREAKER_STATES:
            self._circuit[(service, s)].set(1.0 if s == state else 0.0)

    def bind_rate_limit_headroom(self, source: Callable[[], float]) -> None:
        """Read the headroom gauge from ``source`` at every scrape (always current)."""
        self.rate_limit_headroom.set_function(source)

    def invalid_request(self, reason: InvalidReason) -> None:
        """Count one invalid request (an unknown reason counts as ``other``)."""
        counter = self.invalid_requests.get(reason)
        if counter is None:
            counter = self.invalid_requests["other"]
        counter.inc()
