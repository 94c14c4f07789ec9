"""`lab drill`: break the app on purpose and time the alert from fault to notification.

A drill starts the app from its default faults, sets its fault, waits until the real
alert rule fires in Prometheus and its notification reaches the alert sink, reports both
times, then puts the faults back as it found them and waits for the resolved
notification. It changes the app through a `lab.kit.fault_session.FaultSession`, so an
interrupted drill (a timeout, Ctrl-C) never leaves the app broken.

Drills of the resilience layer (M2.4) first switch it on, with the settings they need;
the session puts the previous configuration back afterwards, whatever happens. Where
recovery is the point (the breaker closing after an outage), the drill waits for it
before restoring the configuration.

Every number a drill's description states comes from its faults, its resilience settings
or its alert in `lab.spec`, never retyped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from lab.kit.fault_session import FaultAdmin, FaultSession
from lab.kit.polling import poll_until
from lab.spec import SPEC
from lab.spec.model import Alert
from lab.spec.rag import BREAKER_STATE


class RuleStates(Protocol):
    """Prometheus as a drill asks it: the rules' states and instant queries."""

    def rules(self) -> list[Any]: ...
    def query(self, expr: str, *, at: datetime | None = None) -> list[Any]: ...


class Notifications(Protocol):
    """The alert sink as a drill asks it: which notifications arrived."""

    def alerts(
        self,
        *,
        alertname: str | None = None,
        status: str | None = None,
        since: datetime | None = None,
    ) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class Recovery:
    """A condition that proves the app recovered after the fault was cleared."""

    query: str  # PromQL that returns a series once recovered
    what: str


@dataclass(frozen=True)
class Drill:
    name: str
    alert: str
    faults: dict[str, Any]
    what: str
    resilience: dict[str, Any] | None = None  # set for the drill, the previous one restored
    recovery: Recovery | None = None  # awaited, resilience still on, before restoring it


def _bound(alert: Alert) -> str:
    """`above 1% for 5m`: the alert's threshold and `for`, as its annotation prints them."""
    t = alert.threshold
    if t is None:
        return f"for {alert.for_}"
    return f"{t.op.words} {t.unit.human(t.value)} for {alert.for_}"


def _percent(share: float) -> str:
    return f"{share * 100:g} %"


def _threshold_drill(
    name: str,
    alert_name: str,
    faults: dict[str, Any],
    effect: Callable[[dict[str, Any]], str],
    quantity: str,
) -> Drill:
    alert = SPEC.alert(alert_name)
    return Drill(name, alert_name, faults, f"{effect(faults)}; {quantity} goes {_bound(alert)}")


def _burn_drill() -> Drill:
    faults = {"llm_error_rate": 0.5}
    alert = SPEC.alert(f"{SPEC.slo.alert_prefix}Fast")
    fast = SPEC.slo.windows[0]
    return Drill(
        "error-budget-burn",
        alert.name,
        faults,
        f"{_percent(faults['llm_error_rate'])} of LLM calls fail; the {fast.long} and"
        f" {fast.short} error ratios go {_bound(alert)}: the budget of a"
        f" {SPEC.slo.target * 100:g} % SLO burning {fast.factor:g}x too fast",
    )


# The outage outlasts any drill: the drill clears it as soon as the alert is notified.
LLM_OUTAGE_SECONDS = 900.0


def _llm_outage_drill() -> Drill:
    alert = SPEC.alert("CircuitBreakerOpen")
    faults = {"llm_outage_seconds": LLM_OUTAGE_SECONDS}
    service = 'service="llm"'
    closed = f'{BREAKER_STATE.label}="{BREAKER_STATE.healthy}"'
    return Drill(
        "llm-outage",
        alert.name,
        faults,
        f"resilience on; every primary LLM call fails for up to {LLM_OUTAGE_SECONDS:g} s:"
        f" the llm breaker opens and stays not {BREAKER_STATE.healthy} {_bound(alert)};"
        " once the outage is cleared it probes and closes again",
        resilience={"enabled": True},
        recovery=Recovery(
            f"rag_circuit_breaker_state{{{service}, {closed}}} == 1",
            f"the llm circuit breaker is {BREAKER_STATE.healthy} again",
        ),
    )


def _load_shedding_drill() -> Drill:
    alert = SPEC.alert("LoadShedding")
    resilience = {
        "enabled": True,
        "admission_max_inflight": 1,
        "admission_max_queue": 1,
        "admission_max_wait_seconds": 0.5,
    }
    faults = {"latency_spike_seconds": 1.0, "latency_spike_duration_seconds": 900.0}
    return Drill(
        "load-shedding",
        alert.name,
        faults,
        f"resilience on with at most {resilience['admission_max_inflight']} LLM call in"
        f" flight and {resilience['admission_max_queue']} waiting"
        f" ({resilience['admission_max_wait_seconds']:g} s at most), every primary LLM call"
        f" {faults['latency_spike_seconds']:g} s slower; the share of requests shed goes"
        f" {_bound(alert)}",
        resilience=resilience,
    )


DRILLS = {
    drill.name: drill
    for drill in (
        _threshold_drill(
            "high-error-rate",
            "HighErrorRate",
            {"llm_error_rate": 0.3},
            lambda f: f"{_percent(f['llm_error_rate'])} of LLM calls fail",
            "the error rate",
        ),
        _burn_drill(),
        _threshold_drill(
            "high-latency",
            "HighP95Latency",
            {"added_latency_seconds": 0.8},
            lambda f: f"every LLM call takes {f['added_latency_seconds']:g} s longer",
            "p95 latency",
        ),
        _threshold_drill(
            "low-headroom",
            "LowRateLimitHeadroom",
            {"rate_limit_consumed_percent": 90},
            lambda f: (
                f"another client uses {f['rate_limit_consumed_percent']:g} % of the"
                " provider's rate limit"
            ),
            "the headroom left",
        ),
        _llm_outage_drill(),
        _load_shedding_drill(),
    )
}


@dataclass
class DrillReport:
    drill: Drill
    started_at: datetime
    seconds_to_fire: float | None = None
    seconds_to_notify: float | None = None
    seconds_to_recover: float | None = None
    seconds_to_resolve: float | None = None
    restored_resilience: dict[str, Any] | None = None
    events: list[str] = field(default_factory=list)


def _firing(prometheus: RuleStates, alert: str) -> bool:
    return any(r.name == alert and r.state == "firing" for r in prometheus.rules())


def _delivered(sink: Notifications, alert: str, status: str, since: datetime) -> bool:
    return bool(sink.alerts(alertname=alert, status=status, since=since))


def run_drill(
    drill: Drill,
    *,
    app: FaultAdmin,
    prometheus: RuleStates,
    sink: Notifications,
    timeout_seconds: float = 600,
    progress: Callable[[str], None] = print,
    poll_interval: float = 1,
) -> DrillReport:
    """Run one drill end to end; raises `lab.kit.polling.Timeout` when a step misses its
    deadline."""
    with FaultSession(app) as session:
        session.clear_faults()
        return _run(drill, session, prometheus, sink, timeout_seconds, progress, poll_interval)


def _run(
    drill: Drill,
    session: FaultSession,
    prometheus: RuleStates,
    sink: Notifications,
    timeout_seconds: float,
    progress: Callable[[str], None],
    poll_interval: float,
) -> DrillReport:
    started = datetime.now(UTC)
    report = DrillReport(drill, started)

    def elapsed(since: datetime = started) -> float:
        return (datetime.now(UTC) - since).total_seconds()

    def step(line: str) -> None:
        report.events.append(line)
        progress(line)

    def wait(probe: Callable[[], object], describe: str, interval: float) -> None:
        poll_until(probe, timeout=timeout_seconds, interval=interval, describe=describe)

    def restore() -> None:
        restored = session.restore_resilience()
        if restored is not None:
            report.restored_resilience = restored
            step("resilience configuration restored")

    try:
        if drill.resilience is not None:
            session.set_resilience(**drill.resilience)
            step(f"resilience set: {drill.resilience}")
        try:
            session.set_faults(**drill.faults)
            step(f"fault set: {drill.faults} ({drill.what})")
            wait(
                lambda: _firing(prometheus, drill.alert),
                f"{drill.alert} to fire in Prometheus",
                poll_interval,
            )
            report.seconds_to_fire = elapsed()
            step(f"{drill.alert} firing in Prometheus after {report.seconds_to_fire:.0f}s")
            wait(
                lambda: _delivered(sink, drill.alert, "firing", started),
                f"the {drill.alert} notification at the alert sink",
                poll_interval / 2,
            )
            report.seconds_to_notify = elapsed()
            step(f"notification at the alert sink after {report.seconds_to_notify:.0f}s")
        finally:
            session.restore_faults()
        cleared = datetime.now(UTC)
        step("fault cleared")
        if drill.recovery is not None:
            recovery = drill.recovery
            wait(lambda: prometheus.query(recovery.query), recovery.what, poll_interval)
            report.seconds_to_recover = elapsed(cleared)
            step(f"{recovery.what} {report.seconds_to_recover:.0f}s after the fault was cleared")
        restore()
        step("waiting for the resolved notification")
        wait(
            lambda: _delivered(sink, drill.alert, "resolved", cleared - timedelta(seconds=1)),
            f"the resolved {drill.alert} notification",
            poll_interval / 2,
        )
        report.seconds_to_resolve = elapsed(cleared)
        step(f"resolved notification {report.seconds_to_resolve:.0f}s after the fault was cleared")
    finally:
        restore()  # the session would too, silently: this says so on an interrupted drill
    return report
