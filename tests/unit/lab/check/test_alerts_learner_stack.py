"""Check 3 on a learner's stack (canned): the course's rules verbatim under any name, no lab
alert sink, and Alertmanager's own counters as the witness of delivery."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import responses
import yaml

from lab.check import alerts
from lab.check.result import Status
from lab.kit.context import LabContext
from lab.kit.settings import LabSettings
from lab.kit.target import AlertingTarget, Target

ROOT = Path(__file__).resolve().parents[4]
OWN_STACK = ROOT / "tests/integration/own_stack"
PROM = "http://prometheus.test:9090"
AM = "http://alertmanager.test:9093"
RULES_FILE = "/etc/prometheus/prometheus_alert_rules.yml"
COURSE_RULES = yaml.safe_load((OWN_STACK / "prometheus_alert_rules.yml").read_text())
WEBHOOK_CONFIG = (OWN_STACK / "alertmanager.yml").read_text()
SLACK_CONFIG = """\
route: {receiver: team-slack, group_wait: 1s}
receivers:
  - name: team-slack
    slack_configs: [{api_url: "https://hooks.slack.invalid/x", channel: "#rag"}]
"""
Reply = tuple[int, dict[str, str], str]


def prometheus_rules(rename: dict[str, str] | None = None, **changes: str) -> dict[str, Any]:
    """The course's four rules as Prometheus's API lists them; `rename` and `changes`
    (alert name -> new expr) alter them as a learner might."""
    listed = []
    for r in COURSE_RULES["groups"][0]["rules"]:
        listed.append(
            {
                "name": (rename or {}).get(r["alert"], r["alert"]),
                "type": "alerting",
                "query": changes.get(r["alert"], r["expr"]),
                "duration": {"5m": 300, "2m": 120, "1m": 60}[r["for"]],
                "annotations": r["annotations"],
                "health": "ok",
                "state": "inactive",
            }
        )
    group = {"name": "rag_pipeline_alerts", "file": RULES_FILE, "rules": listed}
    return {"status": "success", "data": {"groups": [group]}}


@dataclass
class Alertmanager:
    """A canned Alertmanager: holds what is posted, counts webhook requests per post."""

    config: str = WEBHOOK_CONFIG
    fail: bool = False
    posted: list[dict[str, Any]] = field(default_factory=list)

    def post(self, request: requests.PreparedRequest) -> Reply:
        self.posted.extend(json.loads(request.body or b"[]"))
        return 200, {}, ""

    def alerts(self, request: requests.PreparedRequest) -> Reply:
        held = [{**a, "receivers": [{"name": "team-slack"}]} for a in self.posted[:1]]
        return 200, {}, json.dumps(held)

    def metrics(self, request: requests.PreparedRequest) -> Reply:
        sent = len(self.posted)
        failed = sent if self.fail else 0
        text = (
            "# HELP alertmanager_notification_requests_total Requests.\n"
            "# TYPE alertmanager_notification_requests_total counter\n"
            f'alertmanager_notification_requests_total{{integration="webhook"}} {sent}\n'
            "# HELP alertmanager_notification_requests_failed_total Failed requests.\n"
            "# TYPE alertmanager_notification_requests_failed_total counter\n"
            f'alertmanager_notification_requests_failed_total{{integration="webhook"}} {failed}\n'
        )
        return 200, {}, text


def learner(
    am: Alertmanager, rule_list: dict[str, Any] | None = None, **alerting: Any
) -> LabContext:
    responses.get(f"{PROM}/api/v1/rules", json=rule_list or prometheus_rules())
    responses.get(
        f"{PROM}/api/v1/alertmanagers",
        json={"status": "success", "data": {"activeAlertmanagers": [{"url": "http://am"}]}},
    )
    responses.get(f"{AM}/-/ready")
    responses.get(f"{AM}/api/v2/status", json={"config": {"original": am.config}})
    responses.add_callback(responses.POST, f"{AM}/api/v2/alerts", callback=am.post)
    responses.add_callback(responses.GET, f"{AM}/api/v2/alerts", callback=am.alerts)
    responses.add_callback(responses.GET, f"{AM}/metrics", callback=am.metrics)
    target = Target(
        own_stack=False,
        name="a learner's stack",
        prometheus_url=PROM,
        alertmanager_url=AM,
        alert_sink_url=None,
        alerting=AlertingTarget(**alerting),
    )
    settings = LabSettings(alert_deadline_seconds=3.0, http_timeout_seconds=0.5)
    return LabContext.from_settings(settings, target=target)


@responses.activate
def test_the_courses_rules_verbatim_and_a_webhook_pass() -> None:
    """The notebook's rules and a webhook channel: delivery seen in Alertmanager's counters,
    and the test alert resolved afterwards."""
    am = Alertmanager()
    result = alerts.run(learner(am, receivers=("team-slack",)))
    assert result.status is Status.PASS, result.evidence
    assert "delivered it to team-slack" in result.evidence[-1]
    assert len(am.posted) == 2
    assert "endsAt" in am.posted[1]


@responses.activate
def test_rules_are_recognised_by_what_they_query_not_their_names() -> None:
    """A learner's own rule names do not matter; the course's thresholds do."""
    renamed = prometheus_rules(rename={"HighP95Latency": "p95_too_slow"})
    result = alerts.run(learner(Alertmanager(), renamed), send_test_alert=False)
    assert result.status is Status.SKIP, result.evidence
    assert "p95_too_slow (p95 latency" in result.evidence[0]


@responses.activate
def test_a_rule_with_another_threshold_fails_naming_the_learners_rule_file() -> None:
    """p95 over 1 s is not the course's 500 ms: FAIL, with the file Prometheus loaded."""
    slower = prometheus_rules(
        HighP95Latency="histogram_quantile(0.95, rate(rag_query_duration_seconds_bucket[5m])) > 1"
    )
    result = alerts.run(learner(Alertmanager(), slower))
    assert result.status is Status.FAIL
    assert "threshold is 1s, the course's 500ms" in result.evidence[-1]
    assert RULES_FILE in (result.fix or "")
    assert "lab generate" not in (result.fix or "")


@responses.activate
def test_a_missing_rule_fails_naming_what_it_must_query() -> None:
    """Without a headroom rule the check says what the course's rule queries."""
    rules = prometheus_rules(LowRateLimitHeadroom="vector(1)")
    result = alerts.run(learner(Alertmanager(), rules))
    assert result.status is Status.FAIL
    assert "rag_rate_limit_headroom_percent" in result.evidence[-1]


@responses.activate
def test_a_receiver_that_fails_fails_the_check_naming_it() -> None:
    """Every request to the channel failing is a failed check naming the receiver; the test
    alert is still resolved."""
    am = Alertmanager(fail=True)
    result = alerts.run(learner(am))
    assert result.status is Status.FAIL
    assert "receiver team-slack did not take the test alert" in result.evidence[-1]
    assert result.data["failed_receivers"] == ["team-slack"]
    assert len(am.posted) == 2
    assert "endsAt" in am.posted[-1]


@responses.activate
def test_a_real_channel_is_skipped_without_consent() -> None:
    """A Slack receiver: nothing is sent, the part is reported skipped with the flag to use."""
    am = Alertmanager(config=SLACK_CONFIG)
    result = alerts.run(learner(am))
    assert result.status is Status.SKIP
    assert "team-slack (slack)" in result.evidence[-1]
    assert alerts.REAL_RECEIVERS_FLAG in result.evidence[-1]
    assert am.posted == []


@responses.activate
def test_a_real_channel_is_sent_to_with_consent() -> None:
    """With the flag the test alert goes to Slack, and is resolved."""
    am = Alertmanager(
        config=SLACK_CONFIG.replace("slack_configs", "webhook_configs: []\n    slack_configs")
    )
    am.config = SLACK_CONFIG
    ctx = learner(am)
    result = alerts.run(ctx, real_receivers_allowed=True)
    assert am.posted, result.evidence
    assert "endsAt" in am.posted[-1]


@responses.activate
def test_a_warning_routed_elsewhere_than_the_target_expects_fails_before_sending() -> None:
    """The target expects `oncall`; Alertmanager routes warnings to team-slack: FAIL."""
    am = Alertmanager()
    result = alerts.run(learner(am, receivers=("oncall",)))
    assert result.status is Status.FAIL
    assert "not to oncall" in result.evidence[-1]
    assert am.posted == []
