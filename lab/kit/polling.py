"""Readiness polling: wait for a condition with a deadline instead of sleeping blindly."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class Timeout(TimeoutError):
    """The condition did not hold before the deadline; carries the last thing seen."""


def poll_until(
    probe: Callable[[], T | None],
    *,
    timeout: float,
    interval: float = 1.0,
    describe: str = "condition",
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call `probe` until it returns something truthy and return that; raise `Timeout` after
    `timeout` seconds. Exceptions from the probe count as "not yet" and the last one is
    reported, so a service that is still starting does not abort the wait."""
    deadline = clock() + timeout
    last: object = None
    while True:
        try:
            result = probe()
        except Exception as exc:  # a probe failing is a normal "not yet"
            last = exc
        else:
            if result:
                return result
            last = result
        if clock() >= deadline:
            raise Timeout(f"timed out after {timeout:.0f}s waiting for {describe}; last: {last!r}")
        sleep(interval)
