"""The generated Alertmanager config: severity routes, inhibition, the alert-sink webhook."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from lab.check import alerts
from lab.generate import alertmanager
from lab.spec import SPEC


def _config(channels: alertmanager.Channels | None = None) -> dict[str, Any]:
    if channels is not None:
        content = alertmanager.render_local(SPEC, channels).content
    else:
        content = alertmanager.render(SPEC)[0].content
    loaded: dict[str, Any] = yaml.safe_load(content)
    return loaded


def test_route_groups_by_alertname_and_notifies_within_two_minutes() -> None:
    """Grouping by alertname with 10s wait and 30s interval, routes per severity."""
    route = _config()["route"]
    assert route["group_by"] == ["alertname"]
    assert (route["group_wait"], route["group_interval"]) == ("10s", "30s")
    assert route["repeat_interval"] == "4h"
    assert [r["matchers"] for r in route["routes"]] == [
        ['alertname="LabReadinessTest"'],
        ['severity="none"'],
        ['severity="critical"'],
        ['severity="warning"'],
    ]
    assert all("group_by" not in r and "group_wait" not in r for r in route["routes"][1:])


def test_test_alert_route_groups_per_run_with_one_second_waits() -> None:
    """`lab check`'s test alert: a group per run, 1 s waits, the sink only, first in line."""
    synthetic = SPEC.routing.synthetic
    first = _config()["route"]["routes"][0]
    assert first == {
        "receiver": "alert-sink",
        "matchers": [f'alertname="{synthetic.alertname}"'],
        "group_by": ["alertname", synthetic.run_label],
        "group_wait": "1s",
        "group_interval": "1s",
    }
    assert synthetic.alertname == alerts.TEST_ALERT
    assert synthetic.run_label == alerts.RUN_LABEL


def _routes_test(tool: Any, config: Path, receiver: str, labels: dict[str, str]) -> str:
    result = tool(
        "amtool", "config", "routes", "test", f"--config.file={config}",
        f"--verify.receivers={receiver}", *(f"{k}={v}" for k, v in labels.items()),
    )  # fmt: skip
    assert result.returncode == 0, (labels, result.stdout + result.stderr)
    return result.stdout.strip()


def test_amtool_routes_the_test_alert_to_the_sink_and_real_alerts_by_severity(
    repo_root: Path, tool: Any
) -> None:
    """Alertmanager's own routing test: the test alert (a warning) goes to alert-sink, every
    alert of the spec to its severity's receiver, as the committed config says."""
    config = repo_root / "alertmanager/alertmanager.yml"
    synthetic = SPEC.routing.synthetic
    run = {synthetic.run_label: "r1"}
    test_alert = {"alertname": synthetic.alertname, "severity": "warning", **run}
    assert _routes_test(tool, config, "alert-sink", test_alert) == "alert-sink"
    receivers = {"none": "heartbeat", "critical": "critical", "warning": "warning"}
    for alert in SPEC.alerts:
        labels = {"alertname": alert.name, "severity": alert.severity.value}
        expected = receivers[alert.severity.value]
        assert _routes_test(tool, config, expected, labels) == expected


def test_every_receiver_posts_to_the_alert_sink_with_resolved() -> None:
    """Each receiver has the alert-sink webhook with send_resolved and no timeout field."""
    for receiver in _config()["receivers"]:
        (hook,) = receiver["webhook_configs"]
        assert hook == {"url": "http://alert-sink:9095/webhook", "send_resolved": True}
        assert set(receiver) == {"name", "webhook_configs"}


def test_critical_inhibits_matching_warning_with_new_style_matchers() -> None:
    """Inhibition uses source_matchers/target_matchers, never the deprecated match."""
    rules = _config()["inhibit_rules"]
    assert rules[0] == {
        "source_matchers": ['severity="critical"'],
        "target_matchers": ['severity="warning"'],
        "equal": ["alertname"],
    }
    assert all("source_match" not in r and "target_match" not in r for r in rules)


def test_slack_and_email_read_their_secrets_from_files() -> None:
    """The local variant adds Slack/email with api_url_file/auth_password_file, no secrets."""
    receivers = {
        r["name"]: r for r in _config(alertmanager.Channels(slack=True, email=True))["receivers"]
    }
    slack = receivers["critical"]["slack_configs"][0]
    assert slack["api_url_file"] == "/etc/alertmanager/secrets/slack_webhook_url"
    email = receivers["critical"]["email_configs"][0]
    assert email["auth_password_file"] == "/etc/alertmanager/secrets/smtp_password"
    assert "slack_configs" in receivers["warning"]
    assert "email_configs" not in receivers["warning"]
    assert "slack_configs" not in receivers["alert-sink"]


def test_committed_config_passes_amtool(repo_root: Path, tool: Any) -> None:
    """`amtool check-config` accepts the committed alertmanager.yml."""
    result = tool("amtool", "check-config", str(repo_root / "alertmanager/alertmanager.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_local_variant_with_slack_and_email_passes_amtool(tmp_path: Path, tool: Any) -> None:
    """`amtool check-config` accepts the Slack + email variant too."""
    local = alertmanager.render_local(SPEC, alertmanager.Channels(slack=True, email=True))
    path = tmp_path / "alertmanager.yml"
    path.write_text(local.content)
    result = tool("amtool", "check-config", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
