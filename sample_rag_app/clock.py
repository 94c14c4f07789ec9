"""The one clock the app measures and waits with.

Every duration the app measures and every wait it makes (simulated latencies, the rate
limiter's window, cache expiry, circuit breaker timeouts, retry backoff, the request
deadline, fault windows, pacing) goes through one ``Clock`` handed to ``create_app``.
``SystemClock`` is the real one. ``VirtualClock`` never waits: ``sleep`` moves its time
forward, so tests and the in-process experiment run minutes of simulated traffic in
seconds, and a sequential caller with a seeded random source gets the same results on
every run.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """Monotonic seconds and a way to wait."""

    def now(self) -> float:
        """Seconds on a monotonic scale (only differences mean anything)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (nothing for zero or less)."""
        ...


class SystemClock:
    """The real clock: ``time.perf_counter`` (monotonic, finest resolution) and ``time.sleep``."""

    def now(self) -> float:
        return time.perf_counter()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class VirtualClock:
    """Simulated time: ``sleep`` advances ``now`` at once; thread-safe; never really waits.

    Threads sleeping at the same time each add their own sleep to the one shared time,
    so only a sequential caller sees wall-clock-like time; that is what the fake-clock
    tests and the in-process experiment do.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            with self._lock:
                self._now += seconds
