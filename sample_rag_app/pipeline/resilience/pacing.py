"""Client-side pacing: wait for room under the provider's rate limit instead of a 429.

Before each primary LLM call the pacer asks the rate limiter how long until the call
would fit in ``pacing_target_percent`` of the limit, and waits that long on the app's
clock, at most ``pacing_max_wait_seconds`` and never past the deadline; after that the
call is made anyway (and may be rate limited, which retries and the fallback handle).
Aiming below 100 % leaves room for the other clients of the same key.
"""

from __future__ import annotations

from typing import Final

from sample_rag_app.clock import Clock
from sample_rag_app.pipeline.ratelimit import SlidingWindowRateLimiter
from sample_rag_app.pipeline.resilience.config import ResilienceConfig
from sample_rag_app.pipeline.resilience.ports import ResilienceTelemetry

#: Added to each wait so that the window has surely moved past the oldest call.
_MARGIN_SECONDS: Final = 1e-3


class Pacer:
    """Paces the calls counted by one rate limiter."""

    def __init__(
        self, limiter: SlidingWindowRateLimiter, clock: Clock, telemetry: ResilienceTelemetry
    ) -> None:
        self._limiter = limiter
        self._clock = clock
        self._telemetry = telemetry

    def wait_for_room(self, tokens: int, config: ResilienceConfig, deadline: float) -> float:
        """Wait until a call of ``tokens`` tokens fits under the target; return the wait."""
        share = config.pacing_target_percent / 100.0
        clock = self._clock
        start = clock.now()
        give_up = min(start + config.pacing_max_wait_seconds, deadline)
        waited = 0.0
        while True:
            delay = self._limiter.seconds_until_admitted(tokens, share)
            if delay <= 0 or clock.now() + delay > give_up:
                break
            clock.sleep(delay + _MARGIN_SECONDS)
            waited = clock.now() - start
        if waited > 0:
            self._telemetry.llm_call_paced(seconds=waited)
        return waited
