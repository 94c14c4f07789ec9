"""The generated promtool tests: every alert pinned at its boundaries, and they pass."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from lab.generate import promtool_tests
from lab.spec import SPEC
from lab.spec.humanize import humanize_duration, humanize_percentage


def _groups(alert_name: str, spec: Any = SPEC) -> list[dict[str, Any]]:
    file = promtool_tests.render_alert_tests(spec.alert(alert_name), spec)
    groups: list[dict[str, Any]] = yaml.safe_load(file.content)["tests"]
    return groups


@pytest.mark.parametrize("alert", [a.name for a in SPEC.alerts])
def test_every_alert_is_tested_firing_quiet_pending_and_resolving(alert: str) -> None:
    """Each alert has named cases for: fires after `for`, quiet inside the bound, resolves."""
    names = [g["name"] for g in _groups(alert)]
    assert all(n.startswith(alert) for n in names)
    if alert == "Watchdog":
        assert names == ["Watchdog fires from the first evaluation and never stops"]
        return
    assert any(" fires once " in n for n in names)
    assert any(" never fires " in n for n in names)
    assert any(" resolves " in n for n in names)
    assert any(" stays pending " in n for n in names)


def test_each_case_has_a_comment_naming_its_behaviour() -> None:
    """A YAML comment precedes every test group and repeats its name."""
    file = promtool_tests.render_alert_tests(SPEC.alert("HighErrorRate"), SPEC)
    for group in yaml.safe_load(file.content)["tests"]:
        assert f"  # {group['name']}\n  - name: {group['name']}" in file.content


def test_firing_case_expects_rendered_annotations_with_value_and_threshold() -> None:
    """The firing case states the exact description Prometheus renders, value included."""
    fires = next(g for g in _groups("HighP95Latency") if " fires once " in g["name"])
    (check,) = fires["alert_rule_test"]
    assert check["eval_time"] == "6m"  # 1 step of warm-up for rate() + `for: 5m`
    (alert,) = check["exp_alerts"]
    assert alert["exp_labels"] == {"job": "rag-app", "instance": "app:8000", "severity": "warning"}
    description = alert["exp_annotations"]["description"]
    assert "Current value: 595ms; alert threshold: above 500ms for 5m." in description
    assert "{{" not in description


def test_pending_case_checks_one_step_before_the_for_duration() -> None:
    """The alert is still pending one evaluation before its `for` has passed."""
    pending = next(g for g in _groups("LowRateLimitHeadroom") if " stays pending " in g["name"])
    assert pending["alert_rule_test"] == [
        {"eval_time": "1m", "alertname": "LowRateLimitHeadroom", "exp_alerts": []}
    ]


def test_gauge_alerts_are_tested_exactly_at_the_threshold() -> None:
    """A strict `<` alert is proven quiet at exactly its threshold value."""
    quiet = next(g for g in _groups("LowRateLimitHeadroom") if " never fires " in g["name"])
    assert quiet["input_series"][0]["values"].startswith("20x")


def test_rag_app_down_is_tested_with_the_target_absent() -> None:
    """RagAppDown has a case with no rag-app series at all, expecting job=rag-app."""
    absent = next(g for g in _groups("RagAppDown") if "absent" in g["name"])
    assert [s["series"] for s in absent["input_series"]] == [
        'up{job="prometheus", instance="localhost:9090"}'
    ]
    expected = absent["alert_rule_test"][-1]["exp_alerts"][0]["exp_labels"]
    assert expected == {"job": "rag-app", "severity": "critical"}


def test_test_files_reference_rule_files_relative_to_themselves(repo_root: Path) -> None:
    """rule_files resolve from prometheus/tests/ to the committed rule files."""
    for path in (repo_root / "prometheus/tests").glob("*.yml"):
        for rule_file in yaml.safe_load(path.read_text())["rule_files"]:
            assert (path.parent / rule_file).is_file(), (path, rule_file)


def test_humanize_twins_match_prometheus_output() -> None:
    """The Python twins print like Prometheus's humanizeDuration and humanizePercentage."""
    assert humanize_duration(0.595) == "595ms"
    assert humanize_duration(1.5) == "1.5s"
    assert humanize_duration(90) == "1m 30s"
    assert humanize_duration(0) == "0s"
    assert humanize_percentage(0.1512) == "15.12%"


def test_committed_promtool_tests_pass(repo_root: Path, tool: Any) -> None:
    """`promtool test rules` passes on every committed test file."""
    tests_dir = repo_root / "prometheus/tests"
    files = sorted(p.name for p in tests_dir.glob("*.yml"))
    assert len(files) == len(SPEC.alerts)
    result = tool("promtool", "test", "rules", *files, cwd=tests_dir)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_tests_fail_when_a_rule_drifts_from_its_tests(repo_copy: Path, tool: Any) -> None:
    """Editing a `for` duration by hand in a rule file makes the boundary tests fail."""
    rules = repo_copy / "prometheus/rules/rag_alerts.yml"
    rules.write_text(rules.read_text().replace("for: 2m", "for: 1m", 1))
    tests_dir = repo_copy / "prometheus/tests"
    result = tool("promtool", "test", "rules", "low_rate_limit_headroom.yml", cwd=tests_dir)
    assert result.returncode != 0
    assert "LowRateLimitHeadroom stays pending" in result.stdout + result.stderr


def test_a_threshold_that_makes_the_healthy_value_fire_is_rejected() -> None:
    """The generator refuses a spec whose fixture's healthy value would itself alert."""
    spec = SPEC.with_threshold("AlertmanagerNotConnected", 2)
    with pytest.raises(ValueError, match="healthy value breaches"):
        promtool_tests.render_alert_tests(spec.alert("AlertmanagerNotConnected"), spec)
