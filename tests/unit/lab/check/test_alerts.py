"""Check 3 against a canned Prometheus, Alertmanager and alert sink: the rules, the link from
Prometheus to Alertmanager, and the test alert's round trip, each failing with its fix."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests
import responses
import yaml

from lab.check import alerts
from lab.check.result import CheckResult, Status
from lab.kit.context import LabContext
from lab.kit.settings import LabSettings
from lab.spec.model import duration_seconds
from lab.spec.rag import COURSE_ALERTS, HIGH_P95_LATENCY, ROUTING, SPEC

ROOT = Path(__file__).resolve().parents[4]
PROM = "http://prometheus.test:9090"
AM = "http://alertmanager.test:9093"
SINK = "http://sink.test:9095"
Reply = tuple[int, dict[str, str], str]


#: The lab's own generated rules, by name: a course rule is recognised by what it queries.
LAB_RULES = {
    r["alert"]: r
    for g in yaml.safe_load((ROOT / "prometheus/rules/rag_alerts.yml").read_text())["groups"]
    for r in g["rules"]
}
LAB_ALERTMANAGER_CONFIG = (ROOT / "alertmanager/alertmanager.yml").read_text()


def rule(name: str, *, health: str = "ok", state: str = "inactive") -> dict[str, Any]:
    lab_rule = LAB_RULES.get(name, {})
    return {
        "name": name,
        "type": "alerting",
        "query": lab_rule.get("expr", "up"),
        "health": health,
        "state": state,
        "duration": duration_seconds(lab_rule.get("for", "0s")),
        "annotations": lab_rule.get("annotations", {}),
    }


def rules(*extra: dict[str, Any], leave_out: str | None = None) -> dict[str, Any]:
    listed = [rule(a.name) for a in COURSE_ALERTS if a.name != leave_out]
    return {
        "status": "success",
        "data": {"groups": [{"name": "rag-alerts", "rules": [*listed, *extra]}]},
    }


@dataclass
class Delivery:
    """Alertmanager and the sink as one pipe: what is posted arrives, unless told otherwise."""

    deliver: bool = True
    keep_annotations: bool = True
    receiver: str = "alert-sink"
    posted: list[dict[str, Any]] = field(default_factory=list)

    def post(self, request: requests.PreparedRequest) -> Reply:
        self.posted.extend(json.loads(request.body or b"[]"))
        return 200, {}, ""

    def received(self, request: requests.PreparedRequest) -> Reply:
        status = parse_qs(urlparse(request.url or "").query)["status"][0]
        # The first post fires the alert, the second (with endsAt now) resolves it.
        count = {"firing": 1, "resolved": 2}[status]
        arrived = []
        if self.deliver and len(self.posted) >= count:
            posted = self.posted[count - 1]
            annotations = posted["annotations"] if self.keep_annotations else {}
            arrived.append(
                {"labels": posted["labels"], "annotations": annotations, "receiver": self.receiver}
            )
        return 200, {}, json.dumps({"alerts": arrived})


def lab(
    delivery: Delivery,
    *,
    rule_list: dict[str, Any] | None = None,
    alertmanager_ready: bool = True,
    alertmanagers: tuple[str, ...] = ("http://alertmanager:9093/api/v2/alerts",),
) -> LabContext:
    """Register the canned services; the test alert may take a second at most."""
    responses.get(f"{PROM}/api/v1/rules", json=rule_list or rules())
    responses.get(
        f"{PROM}/api/v1/alertmanagers",
        json={
            "status": "success",
            "data": {"activeAlertmanagers": [{"url": url} for url in alertmanagers]},
        },
    )
    responses.get(f"{AM}/-/ready", status=200 if alertmanager_ready else 503)
    responses.get(f"{AM}/api/v2/status", json={"config": {"original": LAB_ALERTMANAGER_CONFIG}})
    responses.add_callback(responses.POST, f"{AM}/api/v2/alerts", callback=delivery.post)
    responses.add_callback(responses.GET, f"{SINK}/alerts", callback=delivery.received)
    settings = LabSettings(
        prometheus_url=PROM,
        alertmanager_url=AM,
        alert_sink_url=SINK,
        alert_deadline_seconds=1.0,
        http_timeout_seconds=0.5,
    )
    return LabContext.from_settings(settings)


def failure(result: CheckResult) -> tuple[str, str]:
    assert result.status is Status.FAIL, result.evidence
    return result.evidence[-1], result.fix or ""


@responses.activate
def test_passes_when_the_test_alert_fires_and_resolves_with_its_annotations() -> None:
    """Rules loaded, Alertmanager connected, the test alert there and back: PASS, with the
    value and threshold the spec's p95 alert would carry."""
    delivery = Delivery()
    result = alerts.run(lab(delivery))
    assert result.status is Status.PASS, result.evidence
    threshold = HIGH_P95_LATENCY.threshold
    assert threshold is not None
    sent = delivery.posted[0]
    assert sent["labels"]["alertname"] == ROUTING.synthetic.alertname
    assert ROUTING.synthetic.run_label in sent["labels"]
    assert float(sent["annotations"]["threshold"]) == threshold.value
    assert threshold.breached_by(float(sent["annotations"]["value"]))
    assert f"threshold {sent['annotations']['threshold']}" in result.evidence[-2]
    assert result.evidence[-1].startswith("✓ and resolved")
    assert "endsAt" in delivery.posted[1]
    assert result.data["alerting_rules"] == len(COURSE_ALERTS)


@responses.activate
def test_the_receiver_is_named_without_the_operators_prefix() -> None:
    """Through a prometheus-operator Alertmanager the sink records
    `rag-lab/rag-observability-lab/alert-sink`: the check names it `alert-sink`, as on compose."""
    result = alerts.run(lab(Delivery(receiver="rag-lab/rag-observability-lab/alert-sink")))
    assert result.status is Status.PASS, result.evidence
    assert result.data["receiver"] == "alert-sink"
    assert "(receiver alert-sink)" in result.evidence[-2]


@responses.activate
def test_a_missing_course_alert_fails_naming_it() -> None:
    """A Prometheus without HighErrorRate (but with other rules) fails, naming the rule."""
    extra = (rule("Watchdog"), rule("RagAppDown"), rule("CircuitBreakerOpen"))
    result = alerts.run(lab(Delivery(), rule_list=rules(*extra, leave_out="HighErrorRate")))
    evidence, fix = failure(result)
    assert "none alerts on the error rate" in evidence
    assert "lab generate" in fix


@responses.activate
def test_a_rule_that_fails_to_evaluate_fails_the_check() -> None:
    """A loaded rule whose evaluation errors is named, with promtool as the fix."""
    result = alerts.run(lab(Delivery(), rule_list=rules(rule("Broken", health="err"))))
    evidence, fix = failure(result)
    assert "rule Broken fails to evaluate" in evidence
    assert "promtool check rules" in fix


@responses.activate
def test_firing_alerts_are_named_but_do_not_fail_the_check() -> None:
    """A course alert firing right now is evidence, not a failure; the Watchdog is not named."""
    firing = rules(rule("Watchdog", state="firing"), rule("RetryStorm", state="firing"))
    result = alerts.run(lab(Delivery(), rule_list=firing))
    assert result.status is Status.PASS
    assert result.data["firing"] == ["RetryStorm"]


@responses.activate
def test_without_the_test_alert_delivery_is_skipped_not_passed() -> None:
    """--no-test-alert proves the rules and the route but never shows ✓ for delivery."""
    delivery = Delivery()
    result = alerts.run(lab(delivery), send_test_alert=False)
    assert result.status is Status.SKIP
    assert result.evidence[-1].startswith("skipped: delivery unproven: test alert not sent")
    assert delivery.posted == []


@responses.activate
def test_a_test_alert_that_is_lost_is_still_resolved() -> None:
    """A failed delivery resolves the test alert too, so no channel shows it firing."""
    delivery = Delivery(deliver=False)
    failure(alerts.run(lab(delivery)))
    assert len(delivery.posted) == 2
    assert delivery.posted[1]["endsAt"] <= datetime.now(UTC).isoformat()


@responses.activate
def test_an_alertmanager_that_is_not_ready_fails_with_how_to_start_it() -> None:
    """Alertmanager answering 503 on /-/ready fails the check before any alert is sent."""
    delivery = Delivery()
    evidence, fix = failure(alerts.run(lab(delivery, alertmanager_ready=False)))
    assert f"Alertmanager at {AM} is not ready" in evidence
    assert "docker compose up -d alertmanager" in fix
    assert delivery.posted == []


@responses.activate
def test_prometheus_without_an_alertmanager_fails_naming_the_spec_target() -> None:
    """Alerts that go nowhere fail the check; the fix names the target lab/spec configures."""
    evidence, fix = failure(alerts.run(lab(Delivery(), alertmanagers=())))
    assert "no active Alertmanager" in evidence
    assert SPEC.scraping.alertmanager_target in fix


@responses.activate
def test_a_test_alert_that_never_arrives_fails_at_the_deadline() -> None:
    """Nothing at the sink within the deadline: FAIL naming the alert, its run and the route."""
    evidence, fix = failure(alerts.run(lab(Delivery(deliver=False))))
    assert "did not reach the alert sink within 1s" in evidence
    assert f"amtool config routes test alertname={ROUTING.synthetic.alertname}" in fix


@responses.activate
def test_a_notification_without_value_and_threshold_fails() -> None:
    """A receiver that drops the annotations loses what a responder needs: FAIL."""
    evidence, fix = failure(alerts.run(lab(Delivery(keep_annotations=False))))
    assert "lost the value/threshold annotations" in evidence
    assert "keep the alert's annotations" in fix
