"""The provider rate limiter: requests and tokens per sliding minute, and its headroom."""

from __future__ import annotations

import pytest

from sample_rag_app.pipeline.errors import RateLimitError
from sample_rag_app.pipeline.ratelimit import SlidingWindowRateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_request_limit_rejects_the_call_beyond_it() -> None:
    """With 3 requests per minute, the 4th call within the minute raises RateLimitError."""
    clock = FakeClock()
    limiter = SlidingWindowRateLimiter(3, 10_000, clock=clock)
    for _ in range(3):
        limiter.acquire(10)
    with pytest.raises(RateLimitError, match="requests") as info:
        limiter.acquire(10)
    assert info.value.retry_after_seconds == pytest.approx(60.0)


def test_token_limit_rejects_a_call_that_would_exceed_it() -> None:
    """A call whose tokens would exceed the token budget is rejected."""
    limiter = SlidingWindowRateLimiter(100, 1000, clock=FakeClock())
    limiter.acquire(900)
    with pytest.raises(RateLimitError, match="tokens"):
        limiter.acquire(101)
    limiter.acquire(100)


def test_window_slides_so_old_calls_stop_counting() -> None:
    """Calls older than the window no longer count against the limit."""
    clock = FakeClock()
    limiter = SlidingWindowRateLimiter(2, 10_000, clock=clock)
    limiter.acquire(1)
    clock.now = 30.0
    limiter.acquire(1)
    clock.now = 60.0  # the first call leaves the window
    limiter.acquire(1)
    with pytest.raises(RateLimitError):
        limiter.acquire(1)


def test_headroom_is_the_smaller_remaining_budget() -> None:
    """Headroom is min(request headroom, token headroom) in percent, and recovers over time."""
    clock = FakeClock()
    limiter = SlidingWindowRateLimiter(10, 1000, clock=clock)
    assert limiter.headroom_percent() == 100.0
    limiter.acquire(100)  # requests 90 % left, tokens 90 % left
    limiter.add_tokens(400)  # tokens 50 % left
    assert limiter.headroom_percent() == pytest.approx(50.0)
    clock.now = 61.0
    assert limiter.headroom_percent() == 100.0


def test_headroom_never_goes_below_zero() -> None:
    """Completion tokens beyond the budget clamp the headroom at 0."""
    limiter = SlidingWindowRateLimiter(10, 100, clock=FakeClock())
    limiter.acquire(90)
    limiter.add_tokens(500)
    assert limiter.headroom_percent() == 0.0


def test_usage_elsewhere_lowers_headroom_and_admitted_calls() -> None:
    """Other clients' 90 % share of the key leaves 10 % headroom and admits a tenth of calls."""
    limiter = SlidingWindowRateLimiter(
        100, 1_000_000, clock=FakeClock(), consumed_elsewhere=lambda: 0.9
    )
    assert limiter.headroom_percent() == pytest.approx(10.0)
    for _ in range(10):
        limiter.acquire(1)
    with pytest.raises(RateLimitError):
        limiter.acquire(1)
    assert limiter.headroom_percent() == 0.0
