"""Admission control: bounded LLM slots and wait queue, shedding when full or too late.

The waiting request runs in a thread; the test waits for it with a readiness poll and
moves the virtual clock itself, so no test sleeps for the time it simulates.
"""

from __future__ import annotations

import math
import threading
from contextlib import ExitStack

import pytest
from rag_test_support import RecordingClock, RecordingTelemetry

from lab.kit.polling import poll_until
from sample_rag_app.pipeline.errors import OverloadedError
from sample_rag_app.pipeline.resilience.admission import AdmissionController
from sample_rag_app.pipeline.resilience.config import ResilienceConfig

CONFIG = ResilienceConfig(
    enabled=True, admission_max_inflight=2, admission_max_queue=1, admission_max_wait_seconds=5
)


class Waiter(threading.Thread):
    """A request that asks for a slot in a thread and records how that ended."""

    def __init__(self, controller: AdmissionController, deadline: float = math.inf) -> None:
        super().__init__(daemon=True)
        self.controller = controller
        self.deadline = deadline
        self.outcome = ""
        self.release = threading.Event()

    def run(self) -> None:
        try:
            with self.controller.slot(CONFIG, self.deadline):
                self.outcome = "admitted"
                self.release.wait(10)
        except OverloadedError:
            self.outcome = "shed"


def _controller() -> tuple[AdmissionController, RecordingClock, RecordingTelemetry]:
    clock = RecordingClock()
    telemetry = RecordingTelemetry()
    return AdmissionController(clock, telemetry), clock, telemetry


def _wait_until(condition: object, describe: str) -> None:
    poll_until(condition, timeout=5, interval=0.005, describe=describe)  # type: ignore[arg-type]


def test_slots_are_bounded_the_queue_too_and_beyond_both_requests_are_shed() -> None:
    """2 slots taken and 1 waiting: the next request is shed at once, with Retry-After."""
    controller, _, telemetry = _controller()
    with ExitStack() as held:
        held.enter_context(controller.slot(CONFIG, math.inf))
        held.enter_context(controller.slot(CONFIG, math.inf))
        waiter = Waiter(controller)
        waiter.start()
        _wait_until(lambda: controller.queued == 1, "the waiter to queue")
        with pytest.raises(OverloadedError, match="queue is full") as info:
            controller.slot(CONFIG, math.inf).__enter__()
        assert info.value.retry_after_seconds == 5
        assert telemetry.names().count("request_shed") == 1
    _wait_until(lambda: waiter.outcome == "admitted", "the waiter to get the freed slot")
    waiter.release.set()
    waiter.join(5)
    assert (controller.inflight, controller.queued) == (0, 0)
    reports = telemetry.of("admission_changed")
    assert max(r["inflight"] for r in reports) == 2
    assert max(r["queued"] for r in reports) == 1
    assert reports[-1] == {"inflight": 0, "queued": 0}


def test_a_queued_request_is_shed_when_its_wait_runs_out_on_the_clock() -> None:
    """A request waiting longer than admission_max_wait_seconds (clock time) is shed."""
    controller, clock, telemetry = _controller()
    with ExitStack() as held:
        held.enter_context(controller.slot(CONFIG, math.inf))
        held.enter_context(controller.slot(CONFIG, math.inf))
        waiter = Waiter(controller)
        waiter.start()
        _wait_until(lambda: controller.queued == 1, "the waiter to queue")
        clock.sleep(4.9)
        assert waiter.outcome == ""
        clock.sleep(0.1)
        waiter.join(5)
        assert waiter.outcome == "shed"
    assert controller.queued == 0
    assert telemetry.names().count("request_shed") == 1


def test_a_queued_request_never_waits_past_its_deadline() -> None:
    """The wait ends at the request's deadline when that comes before the max wait."""
    controller, clock, _ = _controller()
    with ExitStack() as held:
        held.enter_context(controller.slot(CONFIG, math.inf))
        held.enter_context(controller.slot(CONFIG, math.inf))
        waiter = Waiter(controller, deadline=clock.now() + 1.0)
        waiter.start()
        _wait_until(lambda: controller.queued == 1, "the waiter to queue")
        clock.sleep(1.0)
        waiter.join(5)
        assert waiter.outcome == "shed"


def test_without_a_queue_a_full_house_sheds_at_once() -> None:
    """admission_max_queue 0: when every slot is taken the request is shed immediately."""
    controller, _, _ = _controller()
    config = CONFIG.model_copy(update={"admission_max_inflight": 1, "admission_max_queue": 0})
    with controller.slot(config, math.inf), pytest.raises(OverloadedError):
        controller.slot(config, math.inf).__enter__()
    with controller.slot(config, math.inf):
        assert controller.inflight == 1
