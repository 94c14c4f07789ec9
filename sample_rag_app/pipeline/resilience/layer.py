"""``ResilienceLayer``: the configuration in force and the mechanisms around each dependency.

The pipeline asks the layer for a ``RequestBudget`` when a query starts (the
configuration it runs under, its deadline and per-call timeout), runs each dependency
call through ``call`` (deadline check, circuit breaker, retries) and the LLM stage in
``admission_slot``, and paces primary LLM calls with ``pace``. With the master switch
off every one of them is a pass-through, so the app behaves as before M2.4.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel

from sample_rag_app.clock import Clock
from sample_rag_app.pipeline.errors import DeadlineExceededError, PipelineError
from sample_rag_app.pipeline.ratelimit import SlidingWindowRateLimiter
from sample_rag_app.pipeline.resilience.admission import AdmissionController
from sample_rag_app.pipeline.resilience.breaker import CircuitBreaker
from sample_rag_app.pipeline.resilience.config import MECHANISMS, ResilienceConfig
from sample_rag_app.pipeline.resilience.pacing import Pacer
from sample_rag_app.pipeline.resilience.ports import Dependency, ResilienceTelemetry
from sample_rag_app.pipeline.resilience.retry import Retrier, RetryBudget

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RequestBudget:
    """What one query may spend: its configuration, deadlines and LLM call timeout.

    ``deadline`` is the overall one (infinite while timeouts are off);
    ``primary_deadline`` is earlier by the fallback reserve while the fallback is on,
    so that the fallback chain still has time when the primary model has failed.
    """

    correlation_id: str
    config: ResilienceConfig
    deadline: float
    primary_deadline: float
    llm_timeout_seconds: float


class ResilienceLayer:
    """Holds the resilience configuration and one breaker, retrier and budget per dependency."""

    def __init__(
        self,
        defaults: ResilienceConfig,
        *,
        clock: Clock,
        rng: random.Random,
        telemetry: ResilienceTelemetry,
        limiter: SlidingWindowRateLimiter,
        llm_timeout_seconds: float,
    ) -> None:
        self._defaults = defaults
        self._config = defaults
        self._clock = clock
        self._telemetry = telemetry
        self._lock = threading.Lock()
        self._plain_llm_timeout = llm_timeout_seconds
        self.breakers: dict[Dependency, CircuitBreaker] = {
            service: CircuitBreaker(service, clock, telemetry)
            for service in ("llm", "vector_store")
        }
        self.retriers: dict[Dependency, Retrier] = {
            service: Retrier(
                service, budget=RetryBudget(clock), rng=rng, clock=clock, telemetry=telemetry
            )
            for service in ("llm", "vector_store")
        }
        self.admission = AdmissionController(clock, telemetry)
        self.pacer = Pacer(limiter, clock, telemetry)
        self._announce()

    @property
    def config(self) -> ResilienceConfig:
        """The configuration in force."""
        return self._config

    def _announce(self) -> None:
        config = self._config
        self._telemetry.resilience_configured(
            in_effect={mechanism: config.in_effect(mechanism) for mechanism in MECHANISMS}
        )
        if not config.in_effect("circuit_breaker"):
            for breaker in self.breakers.values():
                breaker.reset()

    def update(self, change: BaseModel) -> ResilienceConfig:
        """Apply the fields set in ``change`` (a ResilienceUpdate); return the new config.

        Raises ValueError (a pydantic ValidationError) when the result is inconsistent.
        """
        with self._lock:
            values = change.model_dump(exclude_none=True)
            self._config = ResilienceConfig.model_validate(self._config.model_dump() | values)
            self._announce()
            return self._config

    def reset(self) -> ResilienceConfig:
        """Back to the configuration the app started with."""
        with self._lock:
            self._config = self._defaults
            self._announce()
            return self._config

    def begin(self, correlation_id: str, start: float) -> RequestBudget:
        """The budget of a query that started at ``start`` (on the app's clock)."""
        config = self._config
        if not config.in_effect("timeouts"):
            return RequestBudget(
                correlation_id, config, math.inf, math.inf, self._plain_llm_timeout
            )
        deadline = start + config.request_deadline_seconds
        primary_deadline = deadline
        if config.in_effect("fallback"):
            primary_deadline -= config.fallback_reserve_seconds
        return RequestBudget(
            correlation_id, config, deadline, primary_deadline, config.llm_timeout_seconds
        )

    def timeout_until(self, budget: RequestBudget, deadline: float) -> float:
        """The timeout of an LLM call that must end by ``deadline``."""
        return max(0.0, min(budget.llm_timeout_seconds, deadline - self._clock.now()))

    def call(
        self, service: Dependency, fn: Callable[[], T], budget: RequestBudget, deadline: float
    ) -> T:
        """Call a dependency: deadline check, then breaker and retries where in effect."""
        config = budget.config
        breaker = self.breakers[service] if config.in_effect("circuit_breaker") else None
        clock = self._clock

        def attempt() -> T:
            if clock.now() >= deadline:
                raise DeadlineExceededError(
                    f"no time left for the {service} call before the request's deadline"
                )
            if breaker is None:
                return fn()
            return breaker.call(fn, config, budget.correlation_id)

        return self.retriers[service].call(attempt, config, deadline)

    def admission_slot(self, budget: RequestBudget) -> AbstractContextManager[None]:
        """An LLM slot for the ``with`` block when admission control is in effect."""
        if not budget.config.in_effect("admission"):
            return nullcontext()
        return self.admission.slot(budget.config, budget.deadline)

    def pace(self, tokens: int, budget: RequestBudget) -> None:
        """Wait for room under the rate limit when pacing is in effect."""
        if budget.config.in_effect("pacing"):
            self.pacer.wait_for_room(tokens, budget.config, budget.primary_deadline)

    def final_error(self, error: PipelineError, budget: RequestBudget) -> PipelineError:
        """The error a query fails with: deadline_exceeded once its deadline has passed."""
        if self._clock.now() >= budget.deadline and not isinstance(error, DeadlineExceededError):
            return DeadlineExceededError(
                f"the request's deadline passed ({error.error_type}: {error.message})",
                stage=error.stage,
            )
        return error
