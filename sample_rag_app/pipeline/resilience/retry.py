"""Retries with exponential backoff and full jitter, bounded by attempts, deadline and budget.

tenacity runs the loop; what it is given decides: only retryable failures are retried
(``PipelineError.retryable``: timeouts, provider 5xx, rate limits), the backoff before
retry n is uniform in ``[0, min(max, base * 2^(n-1))]`` (full jitter, drawn from the
app's seeded random source, so runs are reproducible) and never shorter than a rate
limit's retry-after, it sleeps on the app's clock, and the stop rule reads the app's
clock too (tenacity's own timing uses ``time.monotonic``, which a virtual clock cannot
move): no retry whose backoff would end past the deadline, none beyond the attempts,
and none the retry budget refuses.

The retry budget (after Finagle's ``RetryBudget``) lets retries add at most a share of
the calls of the last ``WINDOW_SECONDS`` plus a small floor per second, so an outage
cannot multiply the load on a failing dependency by the number of attempts.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Callable
from typing import Final, TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception

from sample_rag_app.clock import Clock
from sample_rag_app.pipeline.errors import PipelineError
from sample_rag_app.pipeline.resilience.config import ResilienceConfig
from sample_rag_app.pipeline.resilience.ports import Dependency, ResilienceTelemetry

T = TypeVar("T")

#: The retry budget's memory: deposits and retries older than this are forgotten.
WINDOW_SECONDS: Final = 10.0


class RetryBudget:
    """Retries at most ``ratio`` of the recent calls plus ``min_per_second``; thread-safe."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._calls: deque[float] = deque()
        self._retries: deque[float] = deque()

    def _prune(self, now: float) -> None:
        horizon = now - WINDOW_SECONDS
        for times in (self._calls, self._retries):
            while times and times[0] <= horizon:
                times.popleft()

    def deposit(self) -> None:
        """Count one call (its first attempt)."""
        with self._lock:
            now = self._clock.now()
            self._prune(now)
            self._calls.append(now)

    def try_withdraw(self, ratio: float, min_per_second: float) -> bool:
        """Spend one retry if the budget allows it; False when it is spent."""
        with self._lock:
            now = self._clock.now()
            self._prune(now)
            allowed = ratio * len(self._calls) + min_per_second * WINDOW_SECONDS
            if len(self._retries) + 1 > allowed:
                return False
            self._retries.append(now)
            return True


def backoff_seconds(rng: random.Random, config: ResilienceConfig, failed_attempt: int) -> float:
    """Full-jitter backoff before the attempt after ``failed_attempt`` (1 = the first)."""
    ceiling = min(
        config.retry_max_delay_seconds,
        config.retry_base_delay_seconds * 2.0 ** (failed_attempt - 1),
    )
    return rng.uniform(0.0, ceiling)


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, PipelineError) and exc.retryable


def _run(attempt: Callable[[], T], config: ResilienceConfig, deadline: float) -> T:
    """What tenacity calls: the attempt; its other arguments reach wait and stop."""
    return attempt()


class Retrier:
    """Retries one dependency's calls (when retries are in effect); thread-safe.

    One tenacity ``Retrying`` serves every call (it keeps its per-call state in the
    call and in thread-locals); each call's configuration and deadline travel as the
    arguments tenacity hands to the wait and stop rules.
    """

    def __init__(
        self,
        service: Dependency,
        *,
        budget: RetryBudget,
        rng: random.Random,
        clock: Clock,
        telemetry: ResilienceTelemetry,
    ) -> None:
        self.service: Dependency = service
        self.budget = budget
        self._rng = rng
        self._clock = clock
        self._telemetry = telemetry
        self._retrying = Retrying(
            sleep=clock.sleep,
            retry=retry_if_exception(_retryable),
            wait=self._wait,
            stop=self._stop,
            before_sleep=self._before_sleep,
            reraise=True,
        )

    def call(self, attempt: Callable[[], T], config: ResilienceConfig, deadline: float) -> T:
        """Run ``attempt`` and retry its retryable failures; raise the last failure."""
        if not config.in_effect("retries"):
            return attempt()
        self.budget.deposit()
        result: T = self._retrying(_run, attempt, config, deadline)
        return result

    def _wait(self, state: RetryCallState) -> float:
        config: ResilienceConfig = state.args[1]
        delay = backoff_seconds(self._rng, config, state.attempt_number)
        error = state.outcome.exception() if state.outcome is not None else None
        if isinstance(error, PipelineError) and error.retry_after_seconds is not None:
            delay = max(delay, error.retry_after_seconds)
        return delay

    def _stop(self, state: RetryCallState) -> bool:
        config: ResilienceConfig = state.args[1]
        deadline: float = state.args[2]
        if state.attempt_number >= config.retry_max_attempts:
            return True
        if self._clock.now() + state.upcoming_sleep >= deadline:
            return True
        if not self.budget.try_withdraw(
            config.retry_budget_ratio, config.retry_budget_min_per_second
        ):
            self._telemetry.retry_budget_exhausted(service=self.service)
            return True
        return False

    def _before_sleep(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        assert isinstance(error, PipelineError)
        self._telemetry.retry_scheduled(
            service=self.service,
            attempt=state.attempt_number + 1,
            wait_seconds=state.upcoming_sleep,
            error_type=error.error_type,
        )
