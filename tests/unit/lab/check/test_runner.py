"""`wait_for_checks` on a virtual clock: it reruns only what still fails and stops in time."""

from __future__ import annotations

from collections.abc import Sequence

from lab.check.result import CheckResult, Status
from lab.check.runner import CHECKS, WaitRound, wait_for_checks


class VirtualTime:
    """A clock that only moves when something sleeps or a check takes time."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def result(name: str, status: Status, line: str = "") -> CheckResult:
    return CheckResult(name, name.title(), status, (line,) if line else ())


def test_reruns_only_failing_checks_until_each_has_passed() -> None:
    """A check that passed is not run again; the wait ends the round the last one passes."""
    time = VirtualTime()
    calls: list[tuple[str, ...]] = []
    passes_at = {"scrape": 0.0, "dashboards": 10.0, "alerts": 0.0, "logs": 0.0, "baseline": 6.0}

    def run(names: Sequence[str], seconds_left: float) -> list[CheckResult]:
        calls.append(tuple(names))
        time.now += 1.0  # each round takes a second
        return [
            result(n, Status.PASS if time.now >= passes_at[n] else Status.FAIL, "✗ no data yet")
            for n in names
        ]

    rounds: list[WaitRound] = []
    results = wait_for_checks(
        run, CHECKS, timeout=60, progress=rounds.append, clock=time.clock, sleep=time.sleep
    )
    assert [r.check for r in results] == list(CHECKS)
    assert not any(r.failed for r in results)
    assert calls[0] == CHECKS
    assert calls[1] == ("dashboards", "baseline")
    assert calls[-1] == ("dashboards",)
    assert time.now == 10.0  # rounds end at 1, 4, 7, 10 s: done the moment the last passes
    assert rounds[0].passed == ("scrape", "alerts", "logs")
    assert [r.check for r in rounds[0].failing] == ["dashboards", "baseline"]


def test_returns_the_failing_checks_at_the_deadline() -> None:
    """A check that never passes is returned as it last failed, once the time is up."""
    time = VirtualTime()
    lefts: list[float] = []

    def run(names: Sequence[str], seconds_left: float) -> list[CheckResult]:
        lefts.append(seconds_left)
        time.now += 0.5
        return [result(n, Status.FAIL if n == "baseline" else Status.PASS, "✗ 3") for n in names]

    results = wait_for_checks(
        run, ("scrape", "baseline"), timeout=7, clock=time.clock, sleep=time.sleep
    )
    assert [(r.check, r.status) for r in results] == [
        ("scrape", Status.PASS),
        ("baseline", Status.FAIL),
    ]
    assert time.now <= 7.5  # the last round starts before the deadline and ends soon after
    assert lefts[0] == 7
    assert lefts[-1] < 2


def test_a_skipped_check_counts_as_done() -> None:
    """A skip (Grafana left out on purpose) is not waited for."""
    time = VirtualTime()

    def run(names: Sequence[str], seconds_left: float) -> list[CheckResult]:
        return [result(n, Status.SKIP) for n in names]

    results = wait_for_checks(run, ("dashboards",), timeout=5, clock=time.clock, sleep=time.sleep)
    assert [r.status for r in results] == [Status.SKIP]
    assert time.now == 0
