"""The circuit breaker: closed, open, half-open, on the app's clock, every transition told."""

from __future__ import annotations

import pytest
from rag_test_support import RecordingClock, RecordingTelemetry

from sample_rag_app.pipeline.errors import (
    CircuitOpenError,
    DeadlineExceededError,
    LLMError,
    LLMTimeoutError,
    RateLimitError,
)
from sample_rag_app.pipeline.resilience.breaker import CircuitBreaker
from sample_rag_app.pipeline.resilience.config import ResilienceConfig

CONFIG = ResilienceConfig(
    enabled=True, breaker_failure_threshold=3, breaker_reset_timeout_seconds=10
)


def _breaker() -> tuple[CircuitBreaker, RecordingClock, RecordingTelemetry]:
    clock = RecordingClock()
    telemetry = RecordingTelemetry()
    return CircuitBreaker("llm", clock, telemetry), clock, telemetry


def _fail(breaker: CircuitBreaker, error: Exception, cid: str = "cid") -> None:
    def failing() -> None:
        raise error

    with pytest.raises(type(error)):
        breaker.call(failing, CONFIG, cid)


def _succeed(breaker: CircuitBreaker, cid: str = "cid") -> str:
    return breaker.call(lambda: "ok", CONFIG, cid)


def _transitions(telemetry: RecordingTelemetry) -> list[tuple[str, str, str]]:
    return [
        (e["previous"], e["state"], e["correlation_id"])
        for e in telemetry.of("circuit_state_changed")
    ]


def test_consecutive_failures_open_the_breaker_which_then_fails_fast() -> None:
    """Three failures in a row open it; calls then fail at once with the time left."""
    breaker, clock, telemetry = _breaker()
    for i in range(3):
        _fail(breaker, LLMError("500"), cid=f"r{i}")
    assert breaker.state == "open"
    assert _transitions(telemetry) == [("closed", "open", "r2")]
    clock.sleep(4)
    calls: list[int] = []
    with pytest.raises(CircuitOpenError) as info:
        breaker.call(lambda: calls.append(1), CONFIG, "r3")
    assert calls == []
    assert info.value.retry_after_seconds == pytest.approx(6)


def test_a_success_resets_the_count_of_consecutive_failures() -> None:
    """Failures separated by a success do not open the breaker."""
    breaker, _, _ = _breaker()
    for _ in range(5):
        _fail(breaker, LLMTimeoutError("slow"))
        _fail(breaker, LLMError("500"))
        _succeed(breaker)
    assert breaker.state == "closed"


def test_after_the_reset_timeout_one_probe_closes_it_on_success() -> None:
    """open -> half_open (the probe's request) -> closed (its success)."""
    breaker, clock, telemetry = _breaker()
    for _ in range(3):
        _fail(breaker, LLMError("500"))
    clock.sleep(10)
    assert _succeed(breaker, cid="probe") == "ok"
    assert breaker.state == "closed"
    assert _transitions(telemetry)[1:] == [
        ("open", "half_open", "probe"),
        ("half_open", "closed", "probe"),
    ]


def test_a_failed_probe_opens_it_again_for_another_timeout() -> None:
    """open -> half_open -> open when the probe fails; the timeout starts again."""
    breaker, clock, telemetry = _breaker()
    for _ in range(3):
        _fail(breaker, LLMError("500"))
    clock.sleep(10)
    _fail(breaker, LLMError("still down"), cid="probe")
    assert breaker.state == "open"
    assert _transitions(telemetry)[-1] == ("half_open", "open", "probe")
    clock.sleep(9.9)
    with pytest.raises(CircuitOpenError):
        _succeed(breaker)


def test_while_half_open_only_one_probe_runs() -> None:
    """A second call during the probe fails fast instead of hitting the dependency."""
    breaker, clock, _ = _breaker()
    for _ in range(3):
        _fail(breaker, LLMError("500"))
    clock.sleep(10)
    inner: list[str] = []

    def probe() -> str:
        with pytest.raises(CircuitOpenError):
            breaker.call(lambda: inner.append("second"), CONFIG, "other")
        return "probe-ok"

    assert breaker.call(probe, CONFIG, "probe") == "probe-ok"
    assert inner == []
    assert breaker.state == "closed"


@pytest.mark.parametrize(
    "error",
    [
        RateLimitError("429"),
        DeadlineExceededError("late"),
        LLMError("400", retryable=False),
    ],
)
def test_failures_that_say_nothing_about_health_do_not_count(error: Exception) -> None:
    """Rate limits, our own deadline and 4xx never open the breaker."""
    breaker, _, _ = _breaker()
    for _ in range(10):
        _fail(breaker, error)
    assert breaker.state == "closed"


def test_a_probe_ending_in_a_neutral_failure_lets_the_next_call_probe() -> None:
    """A rate-limited probe leaves the breaker half-open and the next call may probe."""
    breaker, clock, _ = _breaker()
    for _ in range(3):
        _fail(breaker, LLMError("500"))
    clock.sleep(10)
    _fail(breaker, RateLimitError("429"))
    assert breaker.state == "half_open"
    assert _succeed(breaker) == "ok"
    assert breaker.state == "closed"


def test_reset_closes_an_open_breaker_and_reports_it() -> None:
    """reset() (the mechanism switched off) closes the breaker and tells the telemetry."""
    breaker, _, telemetry = _breaker()
    for _ in range(3):
        _fail(breaker, LLMError("500"))
    breaker.reset()
    assert breaker.state == "closed"
    assert _transitions(telemetry)[-1] == ("open", "closed", "")
