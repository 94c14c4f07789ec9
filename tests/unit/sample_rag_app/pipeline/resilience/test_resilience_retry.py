"""Retries: full-jitter backoff, retryable failures only, attempts, deadline and budget."""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable
from typing import Any

import pytest
from rag_test_support import RecordingClock, RecordingTelemetry

from sample_rag_app.pipeline.errors import (
    CircuitOpenError,
    LLMError,
    LLMTimeoutError,
    PipelineError,
    RateLimitError,
)
from sample_rag_app.pipeline.resilience.config import ResilienceConfig
from sample_rag_app.pipeline.resilience.retry import (
    WINDOW_SECONDS,
    Retrier,
    RetryBudget,
    backoff_seconds,
)

ON = ResilienceConfig(enabled=True)


def _retrier(
    seed: int = 1,
) -> tuple[Retrier, RecordingClock, RecordingTelemetry]:
    clock = RecordingClock()
    telemetry = RecordingTelemetry()
    retrier = Retrier(
        "llm",
        budget=RetryBudget(clock),
        rng=random.Random(seed),
        clock=clock,
        telemetry=telemetry,
    )
    return retrier, clock, telemetry


def _failing(errors: list[PipelineError], result: str = "ok") -> Callable[[], str]:
    """A call that raises the given errors in turn, then returns ``result``."""
    calls = iter(errors)

    def call() -> str:
        error = next(calls, None)
        if error is not None:
            raise error
        return result

    return call


def test_backoff_is_full_jitter_under_an_exponential_ceiling_with_a_cap() -> None:
    """Backoff n is uniform in [0, min(max, base * 2^(n-1))]: bounds reached, cap held."""
    config = ResilienceConfig(retry_base_delay_seconds=0.1, retry_max_delay_seconds=0.5)
    rng = random.Random(3)
    for attempt, ceiling in [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.5), (8, 0.5)]:
        draws = [backoff_seconds(rng, config, attempt) for _ in range(2000)]
        assert all(0 <= d <= ceiling for d in draws)
        assert min(draws) < ceiling * 0.05
        assert max(draws) > ceiling * 0.95
        assert sum(draws) / len(draws) == pytest.approx(ceiling / 2, rel=0.1)


def test_a_retryable_failure_is_retried_after_a_backoff_on_the_clock() -> None:
    """Two provider errors then success: three attempts, two backoffs slept, two retries told."""
    retrier, clock, telemetry = _retrier()
    result = retrier.call(_failing([LLMError("a"), LLMTimeoutError("b")]), ON, math.inf)
    assert result == "ok"
    assert len(clock.sleeps) == 2
    assert clock.sleeps[0] <= 0.05
    assert clock.sleeps[1] <= 0.1
    retries = telemetry.of("retry_scheduled")
    assert [r["attempt"] for r in retries] == [2, 3]
    assert [r["error_type"] for r in retries] == ["llm_error", "llm_timeout"]
    assert [r["wait_seconds"] for r in retries] == clock.sleeps


def test_the_same_seed_gives_the_same_backoff_schedule() -> None:
    """Jitter comes from the seeded random source: two runs sleep exactly the same."""
    schedules = []
    for _ in range(2):
        retrier, clock, _ = _retrier(seed=9)
        with pytest.raises(LLMError):
            retrier.call(_failing([LLMError("x")] * 5), ON, math.inf)
        schedules.append(clock.sleeps)
    assert schedules[0] == schedules[1]
    assert len(schedules[0]) == ON.retry_max_attempts - 1


@pytest.mark.parametrize(
    "error", [LLMError("bad request", retryable=False), CircuitOpenError("open")]
)
def test_failures_that_are_not_retryable_are_raised_at_once(error: PipelineError) -> None:
    """A 4xx or an open breaker is not retried: one attempt, no sleep."""
    retrier, clock, telemetry = _retrier()
    with pytest.raises(type(error)):
        retrier.call(_failing([error]), ON, math.inf)
    assert clock.sleeps == []
    assert telemetry.events == []


def test_attempts_are_bounded_and_the_last_failure_is_raised() -> None:
    """With retry_max_attempts=2 a persistent failure is tried twice and re-raised."""
    retrier, _, telemetry = _retrier()
    attempts: list[int] = []

    def always_fails() -> str:
        attempts.append(1)
        raise LLMError(f"failure {len(attempts)}")

    with pytest.raises(LLMError, match="failure 2"):
        retrier.call(always_fails, ON.model_copy(update={"retry_max_attempts": 2}), math.inf)
    assert len(attempts) == 2
    assert len(telemetry.of("retry_scheduled")) == 1


def test_a_rate_limit_is_retried_no_sooner_than_its_retry_after() -> None:
    """A 429's retry-after is the least backoff."""
    retrier, clock, _ = _retrier()
    retrier.call(_failing([RateLimitError("429", retry_after_seconds=0.75)]), ON, math.inf)
    assert clock.sleeps == [0.75]


def test_no_retry_whose_backoff_would_end_past_the_deadline() -> None:
    """A retry-after beyond the deadline stops the retries: the failure is raised, no sleep."""
    retrier, clock, _ = _retrier()
    deadline = clock.now() + 1.0
    with pytest.raises(RateLimitError):
        retrier.call(_failing([RateLimitError("429", retry_after_seconds=5)]), ON, deadline)
    assert clock.sleeps == []


def test_retries_off_means_one_attempt() -> None:
    """With the master switch off (or retries off) a failure is raised after one attempt."""
    for config in (ResilienceConfig(), ResilienceConfig(enabled=True, retries=False)):
        retrier, clock, _ = _retrier()
        with pytest.raises(LLMError):
            retrier.call(_failing([LLMError("x")]), config, math.inf)
        assert clock.sleeps == []


def test_budget_allows_a_share_of_the_calls_plus_a_floor() -> None:
    """ratio 0.2 and floor 0.1/s: 10 calls in the window allow 2 + 1 retries, then none."""
    clock = RecordingClock()
    budget = RetryBudget(clock)
    for _ in range(10):
        budget.deposit()
    granted = [budget.try_withdraw(0.2, 0.1) for _ in range(5)]
    assert granted == [True, True, True, False, False]
    clock.sleep(WINDOW_SECONDS)
    assert budget.try_withdraw(0.2, 0.1)  # the window has moved on: the floor again


def test_an_exhausted_budget_stops_retries_and_says_so() -> None:
    """Once the budget is spent a failing call is not retried and the refusal is reported."""
    retrier, _, telemetry = _retrier()
    config = ON.model_copy(update={"retry_budget_ratio": 0.0, "retry_budget_min_per_second": 0.2})
    outcomes: list[Any] = []
    for _ in range(4):
        try:
            retrier.call(_failing([LLMError("x")]), config, math.inf)
            outcomes.append("ok")
        except LLMError:
            outcomes.append("failed")
    # The floor allows 0.2/s * 10 s = 2 retries: two calls are rescued, two are not.
    assert outcomes == ["ok", "ok", "failed", "failed"]
    assert telemetry.of("retry_budget_exhausted") == [{"service": "llm"}] * 2


def test_one_retrier_serves_concurrent_calls() -> None:
    """Threads sharing a retrier each get their own attempts, waits and result."""
    retrier, _, telemetry = _retrier()
    config = ON.model_copy(update={"retry_budget_ratio": 0.0})  # exactly the floor: 5 retries
    results: dict[int, str] = {}

    def worker(number: int) -> None:
        call = _failing([LLMError("x")], result=f"ok-{number}")
        try:
            results[number] = retrier.call(call, config, math.inf)
        except LLMError:
            results[number] = "failed"

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    succeeded = {n for n, result in results.items() if result == f"ok-{n}"}
    assert len(succeeded) == 5
    assert sorted(results.values()).count("failed") == 3
    assert [e["attempt"] for e in telemetry.of("retry_scheduled")] == [2] * 5
    assert len(telemetry.of("retry_budget_exhausted")) == 3
