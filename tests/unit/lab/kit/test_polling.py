"""poll_until waits for a condition against a fake clock, never a real sleep."""

from __future__ import annotations

import pytest

from lab.kit.polling import Timeout, poll_until


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_returns_the_first_truthy_probe_result() -> None:
    """The probe's first truthy value is returned as soon as it appears."""
    clock = FakeClock()
    answers = iter([None, [], ["ready"]])
    result = poll_until(lambda: next(answers), timeout=10, clock=clock, sleep=clock.sleep)
    assert result == ["ready"]
    assert clock.now == 2.0


def test_probe_exceptions_count_as_not_yet() -> None:
    """A probe that raises while a service starts is retried, not fatal."""
    clock = FakeClock()
    calls = iter([ConnectionError("refused"), "up"])

    def probe() -> str:
        value = next(calls)
        if isinstance(value, Exception):
            raise value
        return value

    assert poll_until(probe, timeout=5, clock=clock, sleep=clock.sleep) == "up"


def test_times_out_naming_the_condition_and_the_last_failure() -> None:
    """After the deadline the error says what was awaited and what was last seen."""
    clock = FakeClock()

    def probe() -> None:
        raise ConnectionError("connection refused")

    with pytest.raises(Timeout, match=r"app ready.*connection refused"):
        poll_until(probe, timeout=3, describe="app ready", clock=clock, sleep=clock.sleep)
    assert clock.now == 3.0
