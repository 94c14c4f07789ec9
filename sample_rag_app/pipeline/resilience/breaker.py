"""A circuit breaker per dependency: closed, open, half-open.

Closed: calls pass; ``breaker_failure_threshold`` consecutive failures open it. Open:
calls fail at once (``CircuitOpenError``, with the time left as retry-after) for
``breaker_reset_timeout_seconds``; the first call after that is let through as the one
probe (half-open) while other calls still fail at once. The probe's success closes
the breaker, its failure opens it again. Only failures that say something about the
dependency's health count: a provider 5xx, a timeout, a vector store that is down;
not a rate limit (pacing and retry-after handle those) and not our own deadline.

Why not a library: the breaker must run on the app's clock, so that the fake-clock
tests and the virtual-time experiment can move time, and it must be synchronous and
thread-safe (the pipeline runs in worker threads). pybreaker 1.4 is synchronous and
thread-safe but reads the wall clock (``datetime.now``) with no way to pass a clock,
and lets every concurrent call through while half-open; circuitbreaker 2.1 is a
decorator over module-level time with no clock either; purgatory 3 and aiobreaker 1.2
are asyncio-only. The state machine is small, so it is written here, with each
transition reported (gauge, counter, and a log line carrying the correlation id of
the request that caused it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from sample_rag_app.clock import Clock
from sample_rag_app.pipeline.errors import (
    CircuitOpenError,
    LLMError,
    LLMTimeoutError,
    VectorStoreUnavailableError,
)
from sample_rag_app.pipeline.resilience.config import ResilienceConfig
from sample_rag_app.pipeline.resilience.ports import BreakerState, Dependency, ResilienceTelemetry

T = TypeVar("T")


def counts_as_failure(error: BaseException) -> bool:
    """True for failures that say the dependency is unhealthy."""
    health = (LLMError, LLMTimeoutError, VectorStoreUnavailableError)
    return isinstance(error, health) and error.retryable


class CircuitBreaker:
    """One dependency's breaker; thread-safe."""

    def __init__(self, service: Dependency, clock: Clock, telemetry: ResilienceTelemetry) -> None:
        self.service: Dependency = service
        self._clock = clock
        self._telemetry = telemetry
        self._lock = threading.Lock()
        self._state: BreakerState = "closed"
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False

    @property
    def state(self) -> BreakerState:
        """The current state (an open breaker whose timeout passed says open until called)."""
        return self._state

    def _enter(self, state: BreakerState) -> BreakerState:
        previous, self._state = self._state, state
        if state == "open":
            self._opened_at = self._clock.now()
        self._failures = 0
        self._probing = False
        return previous

    def _report(self, previous: BreakerState, correlation_id: str) -> None:
        if previous != self._state:
            self._telemetry.circuit_state_changed(
                service=self.service,
                previous=previous,
                state=self._state,
                correlation_id=correlation_id,
            )

    def _admit(self, config: ResilienceConfig, correlation_id: str) -> None:
        with self._lock:
            if self._state == "closed":
                return
            if self._state == "open":
                left = self._opened_at + config.breaker_reset_timeout_seconds - self._clock.now()
                if left > 0:
                    raise CircuitOpenError(
                        f"the {self.service} circuit breaker is open", retry_after_seconds=left
                    )
                previous = self._enter("half_open")
                self._report(previous, correlation_id)
            if self._probing:
                raise CircuitOpenError(
                    f"the {self.service} circuit breaker is half-open and its probe is running",
                    retry_after_seconds=1.0,
                )
            self._probing = True

    def _record(self, error: BaseException | None, config: ResilienceConfig, cid: str) -> None:
        with self._lock:
            previous = self._state
            if error is None:
                if self._state == "half_open":
                    self._enter("closed")
                self._failures = 0
            elif counts_as_failure(error):
                self._failures += 1
                if self._state == "half_open" or (
                    self._state == "closed" and self._failures >= config.breaker_failure_threshold
                ):
                    self._enter("open")
            elif self._state == "half_open":
                self._probing = False  # the probe said nothing about health: probe again
            self._report(previous, cid)

    def call(self, fn: Callable[[], T], config: ResilienceConfig, correlation_id: str) -> T:
        """Run ``fn`` through the breaker; raise CircuitOpenError while it is open."""
        self._admit(config, correlation_id)
        try:
            result = fn()
        except BaseException as error:
            self._record(error, config, correlation_id)
            raise
        self._record(None, config, correlation_id)
        return result

    def reset(self, correlation_id: str = "") -> None:
        """Close the breaker (when the breaker mechanism is switched off)."""
        with self._lock:
            previous = self._enter("closed")
            self._report(previous, correlation_id)
