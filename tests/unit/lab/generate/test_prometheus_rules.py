"""The generated Prometheus rules: course expressions, SLO burn rates, meta-monitoring."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from lab.generate import prometheus_rules
from lab.spec import SPEC
from lab.spec.humanize import format_number
from lab.spec.model import Severity


def _rules() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for file in prometheus_rules.render(SPEC):
        for group in yaml.safe_load(file.content)["groups"]:
            for rule in group["rules"]:
                out[rule.get("alert") or rule["record"]] = rule
    return out


def test_course_alerts_use_the_course_expressions_verbatim() -> None:
    """The course alerts keep the course's PromQL (summed by job over the replicas where
    the course means the service), threshold and `for` duration."""
    rules = _rules()
    assert rules["HighP95Latency"]["expr"] == (
        "histogram_quantile(0.95, sum by (job, le) (rate(rag_query_duration_seconds_bucket[5m])))"
        " > 0.5"
    )
    assert rules["HighErrorRate"]["expr"] == (
        "(sum by (job) (rate(rag_errors_total[5m])) / sum by (job) (rate(rag_requests_total[5m])))"
        " * 100 > 1.0"
    )
    assert rules["LowRateLimitHeadroom"]["expr"] == "rag_rate_limit_headroom_percent < 20.0"
    # The course's breaker expression, widened from "open" to "not closed" (see the spec).
    assert rules["CircuitBreakerOpen"]["expr"] == (
        'max without (state) (rag_circuit_breaker_state{state!="closed"}) == 1'
    )
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
    """Descriptions print $value with a humanizing function and the threshold in units
    ("above 500ms", "above 1%", as lab/spec sets them)."""
    rules = _rules()

    def bound(name: str) -> str:
        t = SPEC.alert(name).threshold
        assert t is not None
        return f"{t.op.words} {t.unit.human(t.value)}"

    p95 = rules["HighP95Latency"]["annotations"]["description"]
    assert "{{ $value | humanizeDuration }}" in p95
    assert bound("HighP95Latency") in p95
    errors = rules["HighErrorRate"]["annotations"]["description"]
    assert '{{ $value | printf "%.2f" }}%' in errors
    assert bound("HighErrorRate") in errors
    burn = rules["RagErrorBudgetBurnFast"]["annotations"]["description"]
    assert "humanizePercentage" in burn
    assert bound("RagErrorBudgetBurnFast") in burn


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
        "prometheus_notifications_alertmanagers_discovered < 1"
    )


def test_committed_rules_pass_promtool_check_rules(repo_root: Path, tool: Any) -> None:
    """`promtool check rules` accepts every committed rule file."""
    files = sorted(str(p) for p in (repo_root / "prometheus/rules").glob("*.yml"))
    result = tool("promtool", "check", "rules", *files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_resilience_alerts_use_their_recorded_ratios() -> None:
    """RetryStorm, SustainedFallback and LoadShedding compare recorded 5m ratios."""
    rules = _rules()
    for alert, record in (
        ("RetryStorm", "job:rag_retries_per_request:ratio_rate5m"),
        ("SustainedFallback", "job:rag_degraded_answers:ratio_rate5m"),
        ("LoadShedding", "job:rag_shed_requests:ratio_rate5m"),
    ):
        threshold = SPEC.alert(alert).threshold
        assert threshold is not None
        assert rules[alert]["expr"] == f"{record} > {format_number(threshold.value)}"
    assert [rules[n]["for"] for n in ("RetryStorm", "SustainedFallback", "LoadShedding")] == [
        "5m",
        "15m",
        "5m",
    ]
    assert rules["job:rag_retries_per_request:ratio_rate5m"]["expr"] == (
        "sum by (job) (rate(rag_retries_total[5m]))\n/\nsum by (job) (rate(rag_requests_total[5m]))"
    )
    assert rules["job:rag_shed_requests:ratio_rate5m"]["expr"].startswith(
        "sum by (job) (rate(rag_shed_requests_total[5m]))\n/\n"
    )


def test_degraded_answers_are_exactly_the_degraded_levels() -> None:
    """The degraded share counts secondary, stale_cache and extractive over all answers."""
    from lab.spec.rag import ANSWER_LEVELS, DEGRADED_LEVELS

    expr = _rules()["job:rag_degraded_answers:ratio_rate5m"]["expr"]
    assert 'rag_answers_total{level=~"secondary|stale_cache|extractive"}[5m]' in expr
    assert expr.endswith("sum by (job) (rate(rag_answers_total[5m]))")
    assert set(DEGRADED_LEVELS) < set(ANSWER_LEVELS)
    assert {"cache", "primary"}.isdisjoint(DEGRADED_LEVELS)


def test_records_are_defined_before_the_alerts_of_their_group_use_them() -> None:
    """The resilience group evaluates its recording rules first, so its alerts never lag."""
    (file,) = [f for f in prometheus_rules.render(SPEC) if f.path.endswith("rag_resilience.yml")]
    rules = yaml.safe_load(file.content)["groups"][0]["rules"]
    kinds = ["record" if "record" in r else "alert" for r in rules]
    assert kinds == ["record"] * 3 + ["alert"] * 3
    recorded = {r["record"] for r in rules if "record" in r}
    for rule in rules:
        if "alert" in rule:
            assert rule["expr"].split(" ")[0] in recorded
