"""OpenAI's rate limits: requests and tokens a minute, as two continuously refilled buckets.

A bucket holds up to its per-minute limit and refills at limit/60 a second, which is how
OpenAI's `x-ratelimit-reset-*` headers behave (the time until the bucket is full again),
unlike a fixed window whose remaining count jumps back at the minute. Other clients of the
same key (the `rate_limit_consumed_percent` fault) take their share off the top.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


def duration(seconds: float) -> str:
    """A duration as OpenAI writes it in x-ratelimit-reset-*: ``20ms``, ``1.5s``, ``6m0s``."""
    if seconds < 1:
        return f"{max(0, round(seconds * 1000))}ms"
    if seconds < 60:
        return f"{round(seconds, 3):g}s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}m{round(rest, 3):g}s"


class Bucket:
    """One limit: `level` units available of `limit`, refilled at limit/60 per second."""

    def __init__(self, limit: int, clock: Callable[[], float]) -> None:
        self.limit = limit
        self._rate = limit / 60.0
        self._clock = clock
        self._level = float(limit)
        self._at = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._level = min(float(self.limit), self._level + (now - self._at) * self._rate)
        self._at = now

    def available(self, consumed_elsewhere: float) -> float:
        self._refill()
        return self._level - self.limit * consumed_elsewhere

    def take(self, units: float) -> None:
        self._level -= units

    def wait_for(self, units: float, consumed_elsewhere: float) -> float:
        """Seconds until `units` are available (inf when other clients take everything)."""
        missing = units - self.available(consumed_elsewhere)
        if missing <= 0:
            return 0.0
        if consumed_elsewhere >= 1:
            return math.inf
        return missing / self._rate

    def reset_seconds(self) -> float:
        self._refill()
        return (self.limit - self._level) / self._rate


@dataclass(frozen=True)
class Verdict:
    """Whether a call is admitted, and the headers every response carries."""

    admitted: bool
    retry_after_seconds: float
    headers: dict[str, str]


class RateLimiter:
    """Both buckets of one key; thread-safe."""

    def __init__(
        self,
        requests_per_minute: int,
        tokens_per_minute: int,
        *,
        consumed_elsewhere: Callable[[], float] = lambda: 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._requests = Bucket(requests_per_minute, clock)
        self._tokens = Bucket(tokens_per_minute, clock)
        self._consumed_elsewhere = consumed_elsewhere
        self._lock = threading.Lock()

    def _headers(self, elsewhere: float) -> dict[str, str]:
        headers = {}
        for kind, bucket in (("requests", self._requests), ("tokens", self._tokens)):
            headers[f"x-ratelimit-limit-{kind}"] = str(bucket.limit)
            remaining = max(0, math.floor(bucket.available(elsewhere)))
            headers[f"x-ratelimit-remaining-{kind}"] = str(remaining)
            headers[f"x-ratelimit-reset-{kind}"] = duration(bucket.reset_seconds())
        return headers

    def peek(self) -> dict[str, str]:
        """The headers now, for a response that costs nothing (an error before admission)."""
        with self._lock:
            return self._headers(self._consumed_elsewhere())

    def admit(self, tokens: int) -> Verdict:
        """Take one request and `tokens` tokens, or refuse with the wait until both fit."""
        with self._lock:
            elsewhere = self._consumed_elsewhere()
            wait = max(
                self._requests.wait_for(1, elsewhere), self._tokens.wait_for(tokens, elsewhere)
            )
            if wait == 0:
                self._requests.take(1)
                self._tokens.take(tokens)
            return Verdict(wait == 0, wait, self._headers(elsewhere))

    def add_tokens(self, tokens: int) -> None:
        """Count the completion's tokens, known only once it is written."""
        with self._lock:
            self._tokens.take(tokens)
