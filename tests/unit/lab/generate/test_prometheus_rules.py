"""The generated Prometheus rules: course expressions, SLO burn rates, meta-monitoring."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from lab.generate import prometheus_rules
from lab.spec import SPEC
from lab.spec.model import Severity


def _rules() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for file in prometheus_rules.render(SPEC):
        for group in yaml.safe_load(file.content)["groups"]:
            for rule in group["rules"]:
                out[rule.get("alert") or rule["record"]] = rule
    return out


def test_course_alerts_use_the_course_expressions_verbatim() -> None:
    """The four course alerts keep the course's PromQL, threshold and `for` duration."""
    rules = _rules()
    assert rules["HighP95Latency"]["expr"] == (
        "histogram_quantile(0.95, rate(rag_query_duration_seconds_bucket[5m])) > 0.5"
    )
    assert rules["HighErrorRate"]["expr"] == (
        "(rate(rag_errors_total[5m]) / rate(rag_requests_total[5m])) * 100 > 1.0"
    )
    assert rules["LowRateLimitHeadroom"]["expr"] == "rag_rate_limit_headroom_percent < 20.0"
    assert rules["CircuitBreakerOpen"]["expr"] == 'rag_circuit_breaker_state{state="open"} == 1'
    assert [rules[n]["for"] for n in ("HighP95Latency", "HighErrorRate")] == ["5m", "5m"]
    assert rules["LowRateLimitHeadroom"]["for"] == "2m"
    assert rules["CircuitBreakerOpen"]["for"] == "1m"
    assert rules["HighErrorRate"]["labels"]["severity"] == "critical"
    assert "{{ $labels.service }}" in rules["CircuitBreakerOpen"]["annotations"]["description"]


def test_every_alert_has_severity_summary_description_and_runbook(repo_root: Path) -> None:
    """Each alert carries a valid severity, summary, description and an existing runbook page."""
    alerts = [r for r in _rules().values() if "alert" in r]
    assert len(alerts) == len(SPEC.alerts) >= 10
    for rule in alerts:
        assert rule["labels"]["severity"] in {s.value for s in Severity}
        annotations = rule["annotations"]
        assert annotations["summary"]
        assert annotations["description"]
        assert annotations["runbook_url"].startswith("docs/runbooks/")
        assert (repo_root / annotations["runbook_url"]).is_file(), annotations["runbook_url"]


def test_threshold_alert_descriptions_state_value_and_threshold_in_human_units() -> None:
    """Descriptions print $value with a humanizing function and the threshold in units."""
    rules = _rules()
    p95 = rules["HighP95Latency"]["annotations"]["description"]
    assert "{{ $value | humanizeDuration }}" in p95
    assert "above 500ms" in p95
    errors = rules["HighErrorRate"]["annotations"]["description"]
    assert '{{ $value | printf "%.2f" }}%' in errors
    assert "above 1%" in errors
    burn = rules["RagErrorBudgetBurnFast"]["annotations"]["description"]
    assert "humanizePercentage" in burn
    assert "above 14.4%" in burn


def test_rag_app_down_covers_a_down_and_an_absent_target() -> None:
    """RagAppDown fires on up == 0 and on the rag-app target missing entirely."""
    expr = _rules()["RagAppDown"]["expr"]
    assert 'up{job="rag-app"} == 0' in expr
    assert 'absent(up{job="rag-app"})' in expr


def test_multiwindow_burn_rate_alerts_follow_the_sre_workbook() -> None:
    """Page at 14.4x (1h/5m) and 6x (6h/30m), ticket at 1x (3d/6h), each with its records."""
    rules = _rules()
    expected = {
        "RagErrorBudgetBurnFast": ("1h", "5m", 0.144, "critical"),
        "RagErrorBudgetBurnSlow": ("6h", "30m", 0.06, "critical"),
        "RagErrorBudgetBurnTicket": ("3d", "6h", 0.01, "warning"),
    }
    for name, (long, short, bound, severity) in expected.items():
        rule = rules[name]
        assert rule["expr"] == (
            f"job:rag_errors:ratio_rate{long} > {bound}\nand\n"
            f"job:rag_errors:ratio_rate{short} > {bound}"
        )
        assert rule["labels"]["severity"] == severity
        for window in (long, short):
            assert f"job:rag_errors:ratio_rate{window}" in rules


def test_recording_rules_are_named_level_metric_operations() -> None:
    """Every recording rule name has the level:metric:operations shape."""
    records = [name for name, rule in _rules().items() if "record" in rule]
    assert "job:rag_query_duration_seconds:p95_rate5m" in records
    assert "job:rag_errors:ratio_rate5m" in records
    for name in records:
        assert name.count(":") == 2, name


def test_meta_monitoring_has_watchdog_and_alertmanager_connection() -> None:
    """The Watchdog always fires and AlertmanagerNotConnected watches Prometheus itself."""
    rules = _rules()
    assert rules["Watchdog"]["expr"] == "vector(1)"
    assert "for" not in rules["Watchdog"]
    assert rules["AlertmanagerNotConnected"]["expr"] == (
        'prometheus_notifications_alertmanagers_discovered{job="prometheus"} < 1'
    )


def test_committed_rules_pass_promtool_check_rules(repo_root: Path, tool: Any) -> None:
    """`promtool check rules` accepts every committed rule file."""
    files = sorted(str(p) for p in (repo_root / "prometheus/rules").glob("*.yml"))
    result = tool("promtool", "check", "rules", *files)
    assert result.returncode == 0, result.stdout + result.stderr
