"""The resilience parameters, declared once: settings, admin API and docs derive from here.

Each field is read at start-up from ``RAG_RESILIENCE_<FIELD IN CAPITALS>`` (the master
switch ``enabled`` from ``RAG_RESILIENCE``; ``sample_rag_app.settings`` says where each
is read from), can be changed at run time through
``PUT /admin/resilience`` (whose strict partial body ``ResilienceUpdate`` is derived from
this model) and is reset to the start-up value by ``DELETE /admin/resilience``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sample_rag_app.pipeline.partial import partial_model

Mechanism = Literal["retries", "circuit_breaker", "timeouts", "fallback", "admission", "pacing"]
#: Every value of ``rag_resilience_enabled{mechanism}``; each is also a switch below.
MECHANISMS: Final[tuple[Mechanism, ...]] = get_args(Mechanism)


class ResilienceConfig(BaseModel):
    """The resilience layer's switches and parameters (durations in seconds)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = Field(
        False,
        description="Master switch: no mechanism works while it is off (the course's 'before').",
    )
    retries: bool = Field(True, description="Retry retryable failures.")
    circuit_breaker: bool = Field(
        True, description="A circuit breaker per dependency (llm, vector_store)."
    )
    timeouts: bool = Field(
        True,
        description="Per-call LLM timeout (llm_timeout_seconds) and an overall request "
        "deadline (request_deadline_seconds).",
    )
    fallback: bool = Field(
        True,
        description="When the primary model fails: the secondary model, then a stale cached "
        "answer, then an extractive answer.",
    )
    admission: bool = Field(
        True,
        description="Bound the LLM calls in flight and the requests waiting; shed the rest "
        "(503 overloaded).",
    )
    pacing: bool = Field(
        True,
        description="Wait for room under the provider's rate limit instead of being "
        "rejected (429).",
    )

    retry_max_attempts: int = Field(
        3, ge=1, le=10, description="Attempts per dependency call, the first included."
    )
    retry_base_delay_seconds: float = Field(
        0.05,
        ge=0,
        le=10,
        description="Backoff before retry n is uniform in [0, min(max, base * 2^(n-1))] "
        "(full jitter).",
    )
    retry_max_delay_seconds: float = Field(1.0, gt=0, le=60, description="Cap of one backoff.")
    retry_budget_ratio: float = Field(
        0.2,
        ge=0,
        le=1,
        description="Retries may add at most this share of the calls of the last 10 s "
        "(retry budget).",
    )
    retry_budget_min_per_second: float = Field(
        0.5,
        ge=0,
        le=1000,
        description="Retries allowed per second whatever the traffic (the budget's floor, so "
        "a quiet service can still retry).",
    )
    breaker_failure_threshold: int = Field(
        5,
        ge=1,
        le=1000,
        description="Consecutive failed calls that open a closed breaker.",
    )
    breaker_reset_timeout_seconds: float = Field(
        10.0,
        gt=0,
        le=3600,
        description="How long an open breaker refuses calls before it lets one probe "
        "through (half-open).",
    )
    llm_timeout_seconds: float = Field(
        1.5,
        gt=0,
        le=60,
        description="Timeout of one LLM call while timeouts are on (off: RAG_LLM_TIMEOUT_SECONDS).",
    )
    request_deadline_seconds: float = Field(
        3.0,
        gt=0,
        le=300,
        description="Overall deadline of one query; past it the query fails with 504 "
        "deadline_exceeded unless a fallback answers.",
    )
    fallback_reserve_seconds: float = Field(
        0.5,
        ge=0,
        le=300,
        description="Part of the deadline kept for the fallback chain: the primary model "
        "must finish this long before the deadline.",
    )
    stale_window_seconds: float = Field(
        3600.0,
        ge=0,
        le=86400,
        description="How long past its time to live a cached answer may still be served "
        "when the model fails (stale-if-error).",
    )
    admission_max_inflight: int = Field(
        16, ge=1, le=10000, description="LLM calls in flight at most."
    )
    admission_max_queue: int = Field(
        32,
        ge=0,
        le=100000,
        description="Requests waiting for an LLM slot at most; more are shed.",
    )
    admission_max_wait_seconds: float = Field(
        1.0,
        gt=0,
        le=60,
        description="Longest wait for an LLM slot before the request is shed.",
    )
    pacing_target_percent: float = Field(
        90.0,
        gt=0,
        le=100,
        description="Share of the provider's rate limit the pacer fills at most.",
    )
    pacing_max_wait_seconds: float = Field(
        2.0,
        ge=0,
        le=60,
        description="Longest wait for the pacer (never past the deadline); after it the call "
        "is made anyway.",
    )

    @classmethod
    def called(cls, field_name: str) -> str:
        """How a message names a field: as the admin API's body does here; the settings
        group names its environment variable instead."""
        return field_name

    @model_validator(mode="after")
    def _consistent(self) -> ResilienceConfig:
        if self.fallback_reserve_seconds >= self.request_deadline_seconds:
            raise ValueError(
                f"{self.called('fallback_reserve_seconds')} ({self.fallback_reserve_seconds:g})"
                f" must be less than {self.called('request_deadline_seconds')}"
                f" ({self.request_deadline_seconds:g})"
            )
        return self

    def in_effect(self, mechanism: Mechanism) -> bool:
        """True when the master switch and the mechanism's own switch are both on."""
        return self.enabled and bool(getattr(self, mechanism))


if TYPE_CHECKING:
    ResilienceUpdate = BaseModel
else:
    ResilienceUpdate = partial_model(
        ResilienceConfig,
        "ResilienceUpdate",
        "A partial change of the resilience configuration: only the fields given change.",
    )
