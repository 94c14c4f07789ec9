"""`lab drill`: break the app on purpose and time the alert from fault to notification.

A drill sets a fault through the app's admin endpoint, waits until the real alert rule
fires in Prometheus and its notification reaches the alert sink, reports both times,
then clears the fault and waits for the resolved notification. The fault is cleared
whatever happens, so an interrupted drill never leaves the app broken.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from lab.clients import PrometheusClient
from lab.clients.alert_sink import AlertSinkClient
from lab.clients.app import AppClient
from lab.polling import poll_until


@dataclass(frozen=True)
class Drill:
    name: str
    alert: str
    faults: dict[str, Any]
    what: str


DRILLS = {
    drill.name: drill
    for drill in (
        Drill(
            "high-error-rate",
            "HighErrorRate",
            {"llm_error_rate": 0.3},
            "30 % of LLM calls fail; the error rate passes 1 % and stays there for 5 minutes",
        ),
        Drill(
            "error-budget-burn",
            "RagErrorBudgetBurnFast",
            {"llm_error_rate": 0.5},
            "half the LLM calls fail: the availability SLO's budget burns over 14.4x too fast",
        ),
        Drill(
            "high-latency",
            "HighP95Latency",
            {"added_latency_seconds": 0.8},
            "every LLM call takes 0.8 s longer; p95 latency passes 0.5 s for 5 minutes",
        ),
        Drill(
            "low-headroom",
            "LowRateLimitHeadroom",
            {"rate_limit_consumed_percent": 90},
            "another client uses 90 % of the provider's rate limit; headroom drops below 20 %",
        ),
    )
}


@dataclass
class DrillReport:
    drill: Drill
    started_at: datetime
    seconds_to_fire: float | None = None
    seconds_to_notify: float | None = None
    seconds_to_resolve: float | None = None
    events: list[str] = field(default_factory=list)


def _firing(prometheus: PrometheusClient, alert: str) -> bool:
    return any(r.name == alert and r.state == "firing" for r in prometheus.rules())


def _delivered(sink: AlertSinkClient, alert: str, status: str, since: datetime) -> bool:
    return bool(sink.alerts(alertname=alert, status=status, since=since))


def run_drill(
    drill: Drill,
    *,
    app: AppClient,
    prometheus: PrometheusClient,
    sink: AlertSinkClient,
    timeout_seconds: float = 600,
    progress: Callable[[str], None] = print,
) -> DrillReport:
    """Run one drill end to end; raises `lab.polling.Timeout` when a step misses its deadline."""
    app.clear_faults()
    started = datetime.now(UTC)
    report = DrillReport(drill, started)

    def elapsed() -> float:
        return (datetime.now(UTC) - started).total_seconds()

    def step(line: str) -> None:
        report.events.append(line)
        progress(line)

    try:
        app.set_faults(**drill.faults)
        step(f"fault set: {drill.faults} ({drill.what})")
        poll_until(
            lambda: _firing(prometheus, drill.alert),
            timeout=timeout_seconds,
            interval=5,
            describe=f"{drill.alert} to fire in Prometheus",
        )
        report.seconds_to_fire = elapsed()
        step(f"{drill.alert} firing in Prometheus after {report.seconds_to_fire:.0f}s")
        poll_until(
            lambda: _delivered(sink, drill.alert, "firing", started),
            timeout=timeout_seconds,
            interval=2,
            describe=f"the {drill.alert} notification at the alert sink",
        )
        report.seconds_to_notify = elapsed()
        step(f"notification at the alert sink after {report.seconds_to_notify:.0f}s")
    finally:
        app.clear_faults()
    cleared = datetime.now(UTC)
    step("fault cleared; waiting for the resolved notification")
    poll_until(
        lambda: _delivered(sink, drill.alert, "resolved", cleared - timedelta(seconds=1)),
        timeout=timeout_seconds,
        interval=2,
        describe=f"the resolved {drill.alert} notification",
    )
    report.seconds_to_resolve = (datetime.now(UTC) - cleared).total_seconds()
    step(f"resolved notification {report.seconds_to_resolve:.0f}s after the fault was cleared")
    return report
