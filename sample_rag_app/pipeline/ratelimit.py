"""The provider's rate limit: requests and tokens per sliding one-minute window."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from sample_rag_app.pipeline.errors import RateLimitError

Clock = Callable[[], float]


class SlidingWindowRateLimiter:
    """Admits a call while both the request and the token budget of the window allow it.

    ``headroom_percent`` is the smaller of the two remaining budgets, in percent; it
    backs the ``rag_rate_limit_headroom_percent`` gauge. ``consumed_elsewhere`` reports
    the fraction of both budgets used by other clients of the same provider key, which
    this process cannot see but which the provider counts all the same.
    """

    def __init__(
        self,
        requests_per_window: int,
        tokens_per_window: int,
        *,
        window_seconds: float = 60.0,
        clock: Clock = time.monotonic,
        consumed_elsewhere: Callable[[], float] = lambda: 0.0,
    ) -> None:
        if requests_per_window < 1 or tokens_per_window < 1:
            raise ValueError("rate limits must be positive")
        self.requests_per_window = requests_per_window
        self.tokens_per_window = tokens_per_window
        self.window_seconds = window_seconds
        self._clock = clock
        self._consumed_elsewhere = consumed_elsewhere
        self._lock = threading.Lock()
        # (time, requests, tokens) of each admitted call or token top-up, oldest first.
        self._events: deque[tuple[float, int, int]] = deque()
        self._requests = 0
        self._tokens = 0

    def _prune(self, now: float) -> None:
        horizon = now - self.window_seconds
        while self._events and self._events[0][0] <= horizon:
            _, requests, tokens = self._events.popleft()
            self._requests -= requests
            self._tokens -= tokens

    def acquire(self, tokens: int) -> None:
        """Count one request of ``tokens`` tokens, or raise RateLimitError when over a limit."""
        with self._lock:
            now = self._clock()
            self._prune(now)
            # Our share of each budget; the epsilon keeps 100 * (1 - 0.9) at 10, not 9.99...
            ours = 1.0 - self._consumed_elsewhere() + 1e-9
            over_requests = self._requests + 1 > self.requests_per_window * ours
            over_tokens = self._tokens + tokens > self.tokens_per_window * ours
            if over_requests or over_tokens:
                oldest = self._events[0][0] if self._events else now
                retry_after = max(0.0, oldest + self.window_seconds - now)
                which = "requests" if over_requests else "tokens"
                raise RateLimitError(
                    f"provider rate limit exceeded ({which} per minute)",
                    retry_after_seconds=retry_after,
                )
            self._events.append((now, 1, tokens))
            self._requests += 1
            self._tokens += tokens

    def seconds_until_admitted(self, tokens: int, share: float) -> float:
        """How long until a call of ``tokens`` tokens fits in ``share`` (0..1) of our budget.

        0 when it fits now. The client-side pacer waits this long instead of being
        rejected: a real client reads the same numbers from the provider's rate-limit
        headers. A call larger than the whole budget never fits: the answer is then the
        time until the window is empty.
        """
        with self._lock:
            now = self._clock()
            self._prune(now)
            ours = (1.0 - self._consumed_elsewhere()) * share + 1e-9
            request_cap = self.requests_per_window * ours
            token_cap = self.tokens_per_window * ours
            requests, used_tokens = self._requests, self._tokens
            if requests + 1 <= request_cap and used_tokens + tokens <= token_cap:
                return 0.0
            for at, event_requests, event_tokens in self._events:
                requests -= event_requests
                used_tokens -= event_tokens
                if requests + 1 <= request_cap and used_tokens + tokens <= token_cap:
                    return max(0.0, at + self.window_seconds - now)
            return self._events[-1][0] + self.window_seconds - now if self._events else 0.0

    def add_tokens(self, tokens: int) -> None:
        """Count tokens used after admission (the completion), without a limit check."""
        if tokens <= 0:
            return
        with self._lock:
            now = self._clock()
            self._prune(now)
            self._events.append((now, 0, tokens))
            self._tokens += tokens

    def headroom_percent(self) -> float:
        """The smaller of the remaining request and token budgets, 0..100."""
        with self._lock:
            self._prune(self._clock())
            elsewhere = self._consumed_elsewhere()
            requests_left = 1.0 - elsewhere - self._requests / self.requests_per_window
            tokens_left = 1.0 - elsewhere - self._tokens / self.tokens_per_window
        return max(0.0, min(100.0, 100.0 * min(requests_left, tokens_left)))
