"""Client-side pacing: wait for room under the target share of the rate limit, bounded."""

from __future__ import annotations

import math

import pytest
from rag_test_support import RecordingClock, RecordingTelemetry

from sample_rag_app.pipeline.ratelimit import SlidingWindowRateLimiter
from sample_rag_app.pipeline.resilience.config import ResilienceConfig
from sample_rag_app.pipeline.resilience.pacing import Pacer

CONFIG = ResilienceConfig(enabled=True, pacing_target_percent=90, pacing_max_wait_seconds=60)


def _pacer() -> tuple[Pacer, SlidingWindowRateLimiter, RecordingClock, RecordingTelemetry]:
    clock = RecordingClock()
    telemetry = RecordingTelemetry()
    limiter = SlidingWindowRateLimiter(10, 1_000_000, clock=clock.now)
    return Pacer(limiter, clock, telemetry), limiter, clock, telemetry


def _fill(limiter: SlidingWindowRateLimiter, clock: RecordingClock, calls: int) -> None:
    """``calls`` admitted calls, one a second."""
    for _ in range(calls):
        limiter.acquire(10)
        clock.sleep(1)


def test_below_the_target_a_call_goes_at_once() -> None:
    """With room under 90 % of the limit the pacer does not wait and reports nothing."""
    pacer, limiter, clock, telemetry = _pacer()
    _fill(limiter, clock, 8)
    clock.sleeps.clear()
    assert pacer.wait_for_room(10, CONFIG, math.inf) == 0
    assert clock.sleeps == []
    assert telemetry.events == []


def test_at_the_target_the_pacer_waits_until_the_oldest_call_leaves_the_window() -> None:
    """9 of 10 calls used (90 %): the next waits until the first call is a minute old."""
    pacer, limiter, clock, telemetry = _pacer()
    start = clock.now()
    _fill(limiter, clock, 9)
    waited = pacer.wait_for_room(10, CONFIG, math.inf)
    assert clock.now() == pytest.approx(start + 60, abs=0.01)
    assert waited == pytest.approx(51, abs=0.01)
    assert telemetry.of("llm_call_paced") == [{"seconds": waited}]
    limiter.acquire(10)  # and the provider admits it


def test_the_pacer_gives_up_rather_than_wait_past_its_bound_or_the_deadline() -> None:
    """A wait longer than pacing_max_wait_seconds, or past the deadline, is not made."""
    pacer, limiter, clock, telemetry = _pacer()
    _fill(limiter, clock, 9)
    short = CONFIG.model_copy(update={"pacing_max_wait_seconds": 10})
    assert pacer.wait_for_room(10, short, math.inf) == 0
    assert pacer.wait_for_room(10, CONFIG, clock.now() + 10) == 0
    assert telemetry.events == []


def test_other_clients_usage_lowers_the_room_the_pacer_sees() -> None:
    """Budget used elsewhere (the rate-limit squeeze) counts against the target too."""
    clock = RecordingClock()
    limiter = SlidingWindowRateLimiter(
        10, 1_000_000, clock=clock.now, consumed_elsewhere=lambda: 0.5
    )
    _fill(limiter, clock, 4)
    # 4 of our 5 remaining calls are used: 90 % of 5 is 4.5, so the fifth call must wait.
    assert limiter.seconds_until_admitted(10, 0.9) == pytest.approx(56)
    assert limiter.seconds_until_admitted(10, 1.0) == 0
