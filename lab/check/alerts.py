"""Check 3: alert rules are loaded and a test alert travels all the way to a receiver.

Proves the rules the course asks for (p95 latency, error rate, rate-limit headroom) are
loaded and evaluating cleanly, recognised by what they query and their thresholds, not by
name (`lab.check.rules`); Alertmanager is ready and Prometheus sends to it; and an alert
posted to Alertmanager reaches its receiver carrying its value and threshold.

Delivery is proven where it can be seen. On the lab's own stack the alert sink shows the
notification itself (and its resolve). Anywhere else (a learner's Slack) Alertmanager is
the witness: the receivers it routed the test alert to (/api/v2/alerts), the routed
group's waits (/api/v2/status) and its own count of notification requests to that
integration, minus the failed ones, rising over the wait (/metrics). A receiver whose
requests fail is a failed check naming it.

The test alert is resolved on every exit (pass, fail, an error, Ctrl-C). Before it goes to
a real channel (Slack, email, PagerDuty...) the check says so, and sends it only with
`--send-test-alert-to-real-receivers` (or `alerting.real_channels_allowed: true` in the
target file); otherwise delivery is reported skipped, never ✓.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from lab.check.evidence import Evidence, run_check
from lab.check.result import CheckFailed, CheckResult, Status
from lab.check.routing import Delivery, deliveries
from lab.check.rules import assess_course_rules, describe
from lab.kit import receivers
from lab.kit.clients import ServiceError
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
# The test alert's route groups by run with waits of about a second (lab/spec, ROUTING).
TEST_ALERT = ROUTING.synthetic.alertname
RUN_LABEL = ROUTING.synthetic.run_label
#: The flag that lets the test alert reach a real channel.
REAL_RECEIVERS_FLAG = "--send-test-alert-to-real-receivers"
#: Alertmanager's counters of notification requests per integration, and of failed ones.
REQUESTS_METRIC = "alertmanager_notification_requests"
FAILED_METRIC = "alertmanager_notification_requests_failed"
#: Seconds past a route's group_wait that a failed request is given to be retried.
RETRY_GRACE_SECONDS = 5.0


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
# How often the sink (or Alertmanager) is asked: a fraction of the route's waits.
SINK_POLL_SECONDS = 0.25


def run(
    ctx: LabContext, *, send_test_alert: bool = True, real_receivers_allowed: bool = False
) -> CheckResult:
    """`real_receivers_allowed` (the flag) or the target's `alerting.real_channels_allowed`
    lets the test alert reach Slack, email or PagerDuty."""
    allowed = real_receivers_allowed or ctx.target.alerting.real_channels_allowed
    return run_check(NAME, TITLE, lambda evidence: _check(ctx, evidence, send_test_alert, allowed))


def _check(ctx: LabContext, evidence: Evidence, send_test_alert: bool, allowed: bool) -> Status:
    _rules_loaded(ctx, evidence)
    _alertmanager_connected(ctx, evidence)
    labels = {"alertname": TEST_ALERT, "severity": "warning", RUN_LABEL: uuid.uuid4().hex[:12]}
    routed = _routed(ctx, labels, evidence)
    if not send_test_alert:
        evidence.add("skipped: delivery unproven: test alert not sent (--no-test-alert)")
        return Status.SKIP
    real = [d for d in routed if d.real_channels]
    if real and not allowed:
        named = ", ".join(f"{d.receiver} ({', '.join(d.real_channels)})" for d in real)
        evidence.add(
            f"skipped: delivery unproven: the test alert would reach a real channel: {named}; "
            f"send it with `lab check {REAL_RECEIVERS_FLAG}` (or alerting.real_channels_allowed:"
            " true in the target file): it fires there and is resolved at once"
        )
        return Status.SKIP
    if real:
        evidence.add(
            f"· sending the test alert to real channel(s): {', '.join(d.receiver for d in real)}"
        )
    if ctx.target.alert_sink_url is not None:
        with _TestAlert(ctx, labels) as alert:
            _delivered_to_sink(ctx, alert, evidence)
    else:
        # Counted before the alert is sent: every request after it may be its notification.
        before = _notification_counts(ctx.alertmanager.metrics_text())
        with _TestAlert(ctx, labels) as alert:
            _delivered_by_alertmanager(ctx, alert, routed, before, evidence)
    return Status.PASS


def _rules_file_fix(ctx: LabContext, files: Sequence[str], what: str) -> str:
    if ctx.target.own_stack:
        return (
            f"{what}: generate the rules (`lab generate`) and check Prometheus loads them: "
            "rule_files in prometheus/prometheus.yml, then http://localhost:9090/rules"
        )
    where = ", ".join(sorted(set(files))) or "a file under rule_files in your prometheus.yml"
    return f"{what} in your rule file ({where}, as Prometheus loaded it), then reload Prometheus"


def _rules_loaded(ctx: LabContext, evidence: Evidence) -> None:
    rules = ctx.prometheus.rules()
    alerting = [rule for rule in rules if rule.type == "alerting"]
    files = [rule.file for rule in alerting if rule.file]
    findings = assess_course_rules(alerting)
    missing = [f for f in findings if f.rule is None]
    if missing:
        raise CheckFailed(
            f"{len(alerting)} alerting rules loaded; none alerts on "
            + "; none on ".join(
                f"{describe(f.alert)} (the course's {f.alert.name})" for f in missing
            ),
            fix=_rules_file_fix(
                ctx,
                files,
                "add a rule for " + "; and for ".join(describe(f.alert) for f in missing),
            ),
            alerting_rules=len(alerting),
            missing=[f.alert.name for f in missing],
        )
    wrong = [f for f in findings if f.problems]
    if wrong:
        problems = [p for f in wrong for p in f.problems]
        files_of = [f.rule.file for f in wrong if f.rule is not None and f.rule.file] or files
        raise CheckFailed(
            "; ".join(problems),
            fix=_rules_file_fix(ctx, files_of, "change it as the course asks"),
            alerting_rules=len(alerting),
        )
    broken = [rule for rule in alerting if rule.health == "err"]
    if broken:
        raise CheckFailed(
            f"rule {broken[0].name} fails to evaluate",
            fix=f"run `promtool check rules {broken[0].file or 'prometheus/rules/*.yml'}` and "
            "fix the expression",
        )
    firing = sorted(r.name for r in alerting if r.state == "firing" and r.name != "Watchdog")
    named = ", ".join(
        f"{f.rule.name} ({describe(f.alert)})" for f in findings if f.rule is not None
    )
    evidence.add(
        f"✓ {len(alerting)} alerting rules loaded and healthy, the course's among them: {named}; "
        "their annotations carry the value and the threshold"
        + (f"; firing now: {', '.join(firing)}" if firing else ""),
        alerting_rules=len(alerting),
        course_rules={f.alert.name: f.rule.name for f in findings if f.rule is not None},
        firing=firing,
    )


def _alertmanager_connected(ctx: LabContext, evidence: Evidence) -> None:
    if not ctx.alertmanager.ready():
        raise CheckFailed(
            f"Alertmanager at {ctx.target.alertmanager_url} is not ready",
            fix="`docker compose up -d alertmanager`, then `docker compose logs alertmanager`",
        )
    urls = ctx.prometheus.active_alertmanagers()
    if not urls:
        where = (
            "prometheus/prometheus.yml"
            if ctx.target.own_stack
            else (ctx.prometheus.config_file() or "your prometheus.yml")
        )
        raise CheckFailed(
            "Prometheus has no active Alertmanager: its alerts go nowhere",
            fix=f"set alerting.alertmanagers in {where} to your Alertmanager"
            + (
                f" ({SPEC.scraping.alertmanager_target}; `lab generate` does)"
                if ctx.target.own_stack
                else ""
            ),
        )
    evidence.add(f"✓ Alertmanager ready; Prometheus sends to {', '.join(urls)}")


def _routed(ctx: LabContext, labels: dict[str, str], evidence: Evidence) -> list[Delivery]:
    """Where the test alert will land (before it is sent), against the receivers expected."""
    routed = deliveries(ctx.alertmanager.config(), labels)
    names = [d.receiver for d in routed]
    expected = ctx.target.alerting.receivers
    # On a cluster the operator names them `<namespace>/<config>/<name>`: either form counts.
    unreached = [
        name for name in expected if not any(receivers.is_receiver(got, name) for got in names)
    ]
    if unreached:
        raise CheckFailed(
            f"a warning is routed to {', '.join(names) or 'no receiver'}, not to "
            f"{', '.join(unreached)} as {_target_file(ctx)} expects",
            fix="route severity=warning alerts to "
            f"{', '.join(unreached)} in your alertmanager.yml (`amtool config routes test "
            "severity=warning`), or change alerting.receivers in "
            f"{_target_file(ctx)}",
            routed_to=names,
        )
    evidence.add(
        "✓ Alertmanager routes a warning to "
        + ", ".join(
            f"{d.receiver} ({', '.join(d.integrations) or 'no integration'}; group_wait "
            f"{d.group_wait_seconds:g}s)"
            for d in routed
        ),
        routed_to=names,
    )
    return routed


def _target_file(ctx: LabContext) -> str:
    return str(ctx.target.source) if ctx.target.source else "the target file"


class _TestAlert:
    """The test alert, fired on entry and resolved (endsAt now) on every way out."""

    def __init__(self, ctx: LabContext, labels: dict[str, str]) -> None:
        self.ctx = ctx
        self.labels = labels
        self.run_id = labels[RUN_LABEL]
        self.started = datetime.now(UTC)
        self.resolved_at: datetime | None = None

    def __enter__(self) -> _TestAlert:
        self.ctx.alertmanager.post_alerts(
            [
                PostableAlert(
                    self.labels,
                    TEST_ANNOTATIONS,
                    starts_at=self.started,
                    ends_at=self.started + timedelta(minutes=10),
                )
            ]
        )
        return self

    def resolve(self) -> None:
        if self.resolved_at is not None:
            return
        self.resolved_at = datetime.now(UTC)
        self.ctx.alertmanager.post_alerts(
            [
                PostableAlert(
                    self.labels, TEST_ANNOTATIONS, starts_at=self.started, ends_at=self.resolved_at
                )
            ]
        )

    def __exit__(self, *exc: object) -> None:
        try:
            self.resolve()
        except ServiceError:
            if exc[0] is None:
                raise  # nothing else went wrong: a failed resolve is this check's failure


def _matching(sink: AlertSinkClient, run_id: str, status: str) -> Any:
    # Matched by this run's id, not by time: the sink's clock (a container's, maybe in a
    # VM that drifted during sleep) need not agree with ours.
    received = sink.alerts(alertname=TEST_ALERT, status=status)
    return next((a for a in received if a.get("labels", {}).get(RUN_LABEL) == run_id), None)


def _delivered_to_sink(ctx: LabContext, alert: _TestAlert, evidence: Evidence) -> None:
    sink = ctx.alert_sink
    deadline = ctx.settings.alert_deadline_seconds
    run_id = alert.run_id
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
    notify_seconds = (datetime.now(UTC) - alert.started).total_seconds()
    carried = firing.get("annotations", {})
    sent = {key: TEST_ANNOTATIONS[key] for key in ("value", "threshold")}
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
    alert.resolve()
    assert alert.resolved_at is not None
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
    resolve_seconds = (datetime.now(UTC) - alert.resolved_at).total_seconds()
    evidence.add(
        f"✓ and resolved {resolve_seconds:.1f}s later", resolve_seconds=round(resolve_seconds, 1)
    )


def _notification_counts(text: str) -> dict[tuple[str, str], float]:
    """(metric, integration) -> Alertmanager's count, from its /metrics."""
    counts: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(text):
        if family.name not in (REQUESTS_METRIC, FAILED_METRIC):
            continue
        for sample in family.samples:
            if sample.name.endswith("_total"):
                key = (family.name, sample.labels.get("integration", ""))
                counts[key] = counts.get(key, 0.0) + sample.value
    return counts


def _delivered_by_alertmanager(
    ctx: LabContext,
    alert: _TestAlert,
    routed: Sequence[Delivery],
    before: dict[tuple[str, str], float],
    evidence: Evidence,
) -> None:
    """Alertmanager as the witness: it holds the alert routed to the expected receivers, and
    its requests to their integrations rise, none failing, over the group's wait."""
    am = ctx.alertmanager
    held = poll_until(
        lambda: am.alerts(f'{RUN_LABEL}="{alert.run_id}"'),
        timeout=10.0,
        interval=SINK_POLL_SECONDS,
        describe="the test alert in Alertmanager",
    )
    held_for = sorted({r.get("name", "") for a in held for r in a.get("receivers", [])})
    evidence.add(
        f"✓ Alertmanager holds the test alert ({RUN_LABEL}={alert.run_id}) for "
        f"{', '.join(held_for) or 'no receiver'}",
        receivers=held_for,
    )
    integrations = sorted({i for d in routed for i in d.integrations})
    wait = max(d.group_wait_seconds for d in routed)
    # A group that already exists (an earlier test alert's, not yet flushed) sends at its
    # next group_interval instead of after group_wait.
    interval = max(d.group_interval_seconds for d in routed)
    deadline = min(ctx.settings.alert_deadline_seconds, max(wait, interval) + 30.0)
    started = time.monotonic()

    def deltas() -> dict[str, tuple[float, float]]:
        now = _notification_counts(am.metrics_text())
        return {
            i: (
                now.get((REQUESTS_METRIC, i), 0.0) - before.get((REQUESTS_METRIC, i), 0.0),
                now.get((FAILED_METRIC, i), 0.0) - before.get((FAILED_METRIC, i), 0.0),
            )
            for i in integrations
        }

    def settled() -> dict[str, tuple[float, float]] | None:
        seen = deltas()
        if all(requests - failed >= 1 for requests, failed in seen.values()):
            return seen
        failing = any(failed >= 1 for _, failed in seen.values())
        if failing and time.monotonic() - started > wait + RETRY_GRACE_SECONDS:
            return seen
        return None

    try:
        seen = poll_until(settled, timeout=deadline, interval=SINK_POLL_SECONDS, describe="")
    except Timeout:
        seen = deltas()
    failed = [i for i, (requests, failed) in seen.items() if requests - failed < 1]
    seconds = time.monotonic() - started
    if failed:
        receivers_of = [d.receiver for d in routed if set(d.integrations) & set(failed)]
        counts = "; ".join(f"{i}: {seen[i][0]:g} request(s), {seen[i][1]:g} failed" for i in failed)
        raise CheckFailed(
            f"receiver {', '.join(receivers_of)} did not take the test alert within "
            f"{seconds:.0f}s (group_wait {wait:g}s): {counts} "
            f"({REQUESTS_METRIC}_total / {FAILED_METRIC}_total at "
            f"{ctx.target.alertmanager_url}/metrics)",
            fix=f"check the receiver {', '.join(receivers_of)} in your alertmanager.yml (its URL, "
            "its credentials) and Alertmanager's log for the error it got",
            failed_receivers=receivers_of,
            notification_requests={i: seen[i][0] for i in seen},
            failed_requests={i: seen[i][1] for i in seen},
        )
    evidence.add(
        f"✓ Alertmanager delivered it to {', '.join(d.receiver for d in routed)} in "
        f"{seconds:.1f}s: "
        + "; ".join(f"{i} {seen[i][0] - seen[i][1]:g} successful request(s)" for i in seen)
        + "; resolved on the way out",
        notify_seconds=round(seconds, 1),
    )
