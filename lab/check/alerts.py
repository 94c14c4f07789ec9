"""Check 3: alert rules are loaded and a test alert travels all the way to a receiver.

Proves the rules the course asks for (latency, error rate, rate-limit headroom) are
loaded and evaluating cleanly, Alertmanager is ready and Prometheus sends to it, and an
alert posted to Alertmanager reaches the alert sink carrying its value and threshold
within the deadline, then resolves.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from lab.check.evidence import Evidence, run_check
from lab.check.result import CheckFailed, CheckResult
from lab.kit import receivers
from lab.kit.clients.alert_sink import AlertSinkClient
from lab.kit.clients.alertmanager import PostableAlert
from lab.kit.context import LabContext
from lab.kit.polling import Timeout, poll_until
from lab.spec.humanize import format_number
from lab.spec.model import Alert
from lab.spec.rag import COURSE_ALERTS, HIGH_P95_LATENCY, ROUTING, SPEC

NAME = "alerts"
TITLE = "Alert rules are loaded and a test alert reaches a receiver"

REQUIRED_ALERTS = tuple(alert.name for alert in COURSE_ALERTS)
MIN_ALERTING_RULES = len(REQUIRED_ALERTS)
# The test alert's route groups by run with waits of about a second (lab/spec, ROUTING).
TEST_ALERT = ROUTING.synthetic.alertname
RUN_LABEL = ROUTING.synthetic.run_label


def _test_annotations(alert: Alert) -> dict[str, str]:
    """The test alert poses as `alert` at half as much again as its threshold, and carries
    the value and threshold the way a real notification does."""
    bound = alert.threshold
    if bound is None:
        raise ValueError(f"{alert.name} has no threshold for the test alert to pose at")
    value = bound.value * 1.5
    return {
        "summary": "lab check: test alert",
        "description": f"poses as {alert.name} at {bound.unit.human(value)} (threshold: "
        f"{bound.op.words} {bound.unit.human(bound.value)}); sent by `lab check`",
        "value": format_number(value),
        "threshold": format_number(bound.value),
    }


TEST_ANNOTATIONS = _test_annotations(HIGH_P95_LATENCY)
# How often the sink is asked: a fraction of the route's waits, so polling adds little.
SINK_POLL_SECONDS = 0.25


def run(ctx: LabContext, *, send_test_alert: bool = True) -> CheckResult:
    return run_check(NAME, TITLE, lambda evidence: _check(ctx, evidence, send_test_alert))


def _check(ctx: LabContext, evidence: Evidence, send_test_alert: bool) -> None:
    _rules_loaded(ctx, evidence)
    _alertmanager_connected(ctx, evidence)
    if send_test_alert:
        _test_alert_delivered(ctx, evidence)
    else:
        evidence.add("· test alert not sent (--no-test-alert)")


def _rules_loaded(ctx: LabContext, evidence: Evidence) -> None:
    alerting = [rule for rule in ctx.prometheus.rules() if rule.type == "alerting"]
    names = {rule.name for rule in alerting}
    missing = [name for name in REQUIRED_ALERTS if name not in names]
    if len(alerting) < MIN_ALERTING_RULES or missing:
        raise CheckFailed(
            f"{len(alerting)} alerting rules loaded; missing {missing or 'none'}",
            fix="generate the rules (`lab generate`) and check Prometheus loads them: "
            "rule_files in prometheus/prometheus.yml, then http://localhost:9090/rules",
            alerting_rules=len(alerting),
        )
    broken = [rule for rule in alerting if rule.health == "err"]
    if broken:
        raise CheckFailed(
            f"rule {broken[0].name} fails to evaluate",
            fix="run `promtool check rules prometheus/rules/*.yml` and fix the expression",
        )
    firing = sorted(r.name for r in alerting if r.state == "firing" and r.name != "Watchdog")
    evidence.add(
        f"✓ {len(alerting)} alerting rules loaded and healthy, including "
        f"{', '.join(REQUIRED_ALERTS)}" + (f"; firing now: {', '.join(firing)}" if firing else ""),
        alerting_rules=len(alerting),
        firing=firing,
    )


def _alertmanager_connected(ctx: LabContext, evidence: Evidence) -> None:
    if not ctx.alertmanager.ready():
        raise CheckFailed(
            f"Alertmanager at {ctx.settings.alertmanager_url} is not ready",
            fix="`docker compose up -d alertmanager`, then `docker compose logs alertmanager`",
        )
    urls = ctx.prometheus.active_alertmanagers()
    if not urls:
        raise CheckFailed(
            "Prometheus has no active Alertmanager: its alerts go nowhere",
            fix="set alerting.alertmanagers in prometheus/prometheus.yml to "
            f"{SPEC.scraping.alertmanager_target} (`lab generate` does)",
        )
    evidence.add(f"✓ Alertmanager ready; Prometheus sends to {', '.join(urls)}")


def _matching(sink: AlertSinkClient, run_id: str, status: str) -> Any:
    # Matched by this run's id, not by time: the sink's clock (a container's, maybe in a
    # VM that drifted during sleep) need not agree with ours.
    received = sink.alerts(alertname=TEST_ALERT, status=status)
    return next((a for a in received if a.get("labels", {}).get(RUN_LABEL) == run_id), None)


def _test_alert_delivered(ctx: LabContext, evidence: Evidence) -> None:
    sink = ctx.alert_sink
    deadline = ctx.settings.alert_deadline_seconds
    run_id = uuid.uuid4().hex[:12]
    started = datetime.now(UTC)
    labels = {"alertname": TEST_ALERT, "severity": "warning", RUN_LABEL: run_id}
    annotations = TEST_ANNOTATIONS
    ctx.alertmanager.post_alerts(
        [
            PostableAlert(
                labels, annotations, starts_at=started, ends_at=started + timedelta(minutes=10)
            )
        ]
    )
    try:
        firing = poll_until(
            lambda: _matching(sink, run_id, "firing"),
            timeout=deadline,
            interval=SINK_POLL_SECONDS,
            describe="the test alert at the sink",
        )
    except Timeout as exc:
        raise CheckFailed(
            f"test alert {TEST_ALERT} ({RUN_LABEL}={run_id}) did not reach the alert sink "
            f"within {deadline:.0f}s",
            fix="check alertmanager/alertmanager.yml routes to the alert-sink webhook "
            f"(`amtool config routes test alertname={TEST_ALERT}` names alert-sink), that "
            "no silence mutes it (`amtool silence query`), and "
            "`docker compose logs alertmanager alert-sink`",
            lost_test_alert=run_id,
        ) from exc
    notify_seconds = (datetime.now(UTC) - started).total_seconds()
    carried = firing.get("annotations", {})
    sent = {key: annotations[key] for key in ("value", "threshold")}
    if {key: carried.get(key) for key in sent} != sent:
        raise CheckFailed(
            f"the notification lost the value/threshold annotations: {carried}",
            fix="the receiver must keep the alert's annotations",
        )
    # Named as its route names it: prometheus-operator prefixes `<namespace>/<config>/`.
    receiver = receivers.local_name(str(firing.get("receiver") or "?"))
    evidence.add(
        f"✓ test alert reached the sink (receiver {receiver}) in {notify_seconds:.1f}s "
        f"(deadline {deadline:.0f}s) with value {sent['value']} and threshold {sent['threshold']}",
        notify_seconds=round(notify_seconds, 1),
        receiver=receiver,
    )
    resolved_at = datetime.now(UTC)
    ctx.alertmanager.post_alerts(
        [PostableAlert(labels, annotations, starts_at=started, ends_at=resolved_at)]
    )
    try:
        poll_until(
            lambda: _matching(sink, run_id, "resolved"),
            timeout=deadline,
            interval=SINK_POLL_SECONDS,
            describe="the resolved test alert at the sink",
        )
    except Timeout as exc:
        raise CheckFailed(
            f"the test alert did not resolve at the sink within {deadline:.0f}s",
            fix="set send_resolved: true on the alert-sink webhook receiver",
        ) from exc
    resolve_seconds = (datetime.now(UTC) - resolved_at).total_seconds()
    evidence.add(
        f"✓ and resolved {resolve_seconds:.1f}s later", resolve_seconds=round(resolve_seconds, 1)
    )
