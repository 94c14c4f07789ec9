"""Admission control: a bounded number of LLM calls in flight and a bounded wait queue.

A request takes an LLM slot for its whole LLM stage (retries and the secondary model
included). When every slot is taken it waits in the queue, at most
``admission_max_wait_seconds`` and never past its deadline; when the queue is full, or
the wait runs out, it is shed: ``OverloadedError`` (503 with Retry-After) at once,
instead of an unbounded latency for everyone.

Waiting uses a condition variable with short timeouts and re-reads the app's clock, so
with a virtual clock the wait ends when the simulated time has run out.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from sample_rag_app.clock import Clock
from sample_rag_app.pipeline.errors import OverloadedError
from sample_rag_app.pipeline.resilience.config import ResilienceConfig
from sample_rag_app.pipeline.resilience.ports import ResilienceTelemetry

#: Longest real wait between two looks at the clock while queued.
_POLL_SECONDS: Final = 0.05


class AdmissionController:
    """Counts the LLM slots in use and the requests queued for one; thread-safe."""

    def __init__(self, clock: Clock, telemetry: ResilienceTelemetry) -> None:
        self._clock = clock
        self._telemetry = telemetry
        self._changed = threading.Condition()
        self.inflight = 0
        self.queued = 0

    def _report(self) -> None:
        self._telemetry.admission_changed(inflight=self.inflight, queued=self.queued)

    def _shed(self, config: ResilienceConfig, why: str) -> OverloadedError:
        self._telemetry.request_shed()
        return OverloadedError(
            f"overloaded: {why} ({config.admission_max_inflight} LLM calls in flight at most, "
            f"{config.admission_max_queue} waiting)",
            retry_after_seconds=config.admission_max_wait_seconds,
        )

    @contextmanager
    def slot(self, config: ResilienceConfig, deadline: float) -> Iterator[None]:
        """Hold an LLM slot for the ``with`` block; raise OverloadedError when shed."""
        with self._changed:
            if self.inflight >= config.admission_max_inflight or self.queued:
                if self.queued >= config.admission_max_queue:
                    raise self._shed(config, "the wait queue is full")
                self.queued += 1
                self._report()
                give_up = min(self._clock.now() + config.admission_max_wait_seconds, deadline)
                try:
                    while self.inflight >= config.admission_max_inflight:
                        left = give_up - self._clock.now()
                        if left <= 0:
                            raise self._shed(config, "no LLM slot came free in time")
                        self._changed.wait(min(left, _POLL_SECONDS))
                finally:
                    self.queued -= 1
                    self._report()
            self.inflight += 1
            self._report()
        try:
            yield
        finally:
            with self._changed:
                self.inflight -= 1
                self._report()
                self._changed.notify()
