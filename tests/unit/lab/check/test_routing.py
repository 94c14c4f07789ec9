"""Alertmanager's route tree walked as Alertmanager walks it: where check 3's test alert and
a warning land, and which of those receivers reach people."""

from __future__ import annotations

from pathlib import Path

import yaml

from lab.check.routing import deliveries

ROOT = Path(__file__).resolve().parents[4]
LAB_CONFIG = yaml.safe_load((ROOT / "alertmanager/alertmanager.yml").read_text())
TEST_ALERT = {"alertname": "LabReadinessTest", "severity": "warning", "lab_run": "x"}

TREE = yaml.safe_load(
    """
route:
  receiver: default
  group_wait: 10s
  routes:
    - matchers: ['severity=~"warn.*"']
      receiver: team-slack
      continue: true
      group_wait: 2s
    - match: {severity: warning}
      receiver: email
    - match_re: {severity: "crit.*"}
      receiver: pager
receivers:
  - name: default
  - name: team-slack
    slack_configs: [{channel: "#rag"}]
  - name: email
    email_configs: [{to: a@b.c}]
  - name: pager
    pagerduty_configs: [{routing_key: k}]
"""
)


def test_the_labs_test_alert_lands_at_the_sink_with_one_second_waits() -> None:
    """The lab's own route for LabReadinessTest: the alert-sink webhook, 1 s waits."""
    (landed,) = deliveries(LAB_CONFIG, TEST_ALERT)
    assert landed.receiver == "alert-sink"
    assert landed.integrations == ("webhook",)
    assert landed.group_wait_seconds == 1
    assert landed.real_channels == ()


def test_continue_lets_a_warning_reach_every_matching_route_with_inherited_waits() -> None:
    """`continue: true` goes on to the next match; group_wait is inherited where unset."""
    landed = deliveries(TREE, {"severity": "warning"})
    assert [(d.receiver, d.group_wait_seconds) for d in landed] == [
        ("team-slack", 2),
        ("email", 10),
    ]
    assert [d.real_channels for d in landed] == [("slack",), ("email",)]


def test_an_alert_no_child_matches_lands_at_the_root() -> None:
    """No child matches: the root's receiver, with Alertmanager's default interval."""
    (landed,) = deliveries(TREE, {"severity": "info"})
    assert landed.receiver == "default"
    assert landed.integrations == ()
    assert landed.group_interval_seconds == 300


def test_match_re_is_anchored_as_in_alertmanager() -> None:
    """`crit.*` matches critical, not "supercritical": Alertmanager anchors its regexes."""
    assert deliveries(TREE, {"severity": "critical"})[0].receiver == "pager"
    assert deliveries(TREE, {"severity": "supercritical"})[0].receiver == "default"
