"""The app's metrics contract, live: the course's own expressions return the right values
through Prometheus, and every metric and label the generated files name is emitted."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families

from lab.kit.polling import poll_until
from tests.integration.conftest import ROOT, Stack

# The course notebook's panel queries and alert expressions, verbatim.
SEED_PANELS = {
    "p95_latency_seconds": "histogram_quantile(0.95, rate(rag_query_duration_seconds_bucket[5m]))",
    "error_rate_percent": "rate(rag_errors_total[5m]) / rate(rag_requests_total[5m]) * 100",
    "cache_hit_rate_percent": (
        "rate(rag_cache_hits_total[5m]) / rate(rag_cache_requests_total[5m]) * 100"
    ),
    "cost_usd_last_hour": "sum(increase(rag_cost_usd_total[1h]))",
}
# (expression, comparison, threshold): the alert fires where `expression OP threshold`.
SEED_ALERTS = {
    "HighP95Latency": (
        "histogram_quantile(0.95, rate(rag_query_duration_seconds_bucket[5m]))",
        ">",
        0.5,
    ),
    "HighErrorRate": (
        "(rate(rag_errors_total[5m]) / rate(rag_requests_total[5m])) * 100",
        ">",
        1.0,
    ),
    "LowRateLimitHeadroom": ("rag_rate_limit_headroom_percent", "<", 20),
    "CircuitBreakerOpen": ('rag_circuit_breaker_state{state="open"}', "==", 1),
}
SANE_RANGES = {
    "p95_latency_seconds": (0.01, 2.0),
    "error_rate_percent": (0.0, 10.0),
    "cache_hit_rate_percent": (1.0, 99.0),
    "cost_usd_last_hour": (1e-9, 10.0),
}

# A metric name, not part of a recording rule's `level:metric:operations` name.
METRIC = re.compile(r"(?<![:\w])(rag_[a-z0-9_]+)(?![:\w])(\{[^}]*\})?")
MATCHER_LABEL = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)")
GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")
TEMPLATE_LABEL = re.compile(r"\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)")
TARGET_LABELS = {"job", "instance"}


@pytest.mark.parametrize("name", list(SEED_PANELS))
def test_seed_panel_query_returns_a_sane_value(stack: Stack, name: str) -> None:
    """Each of the course's four panel queries returns one value in a plausible range."""
    low, high = SANE_RANGES[name]

    def sane() -> bool:
        # Over the 5 minutes of a stack seconds old, a few requests make the rates jumpy
        # (no cache hit yet, one error in ten): wait until the window holds enough traffic.
        samples = stack.prometheus.query(SEED_PANELS[name])
        assert len(samples) == 1, samples
        assert low <= samples[0].value <= high, samples[0]
        return True

    poll_until(sane, timeout=180, interval=5, describe=f"{name} in {low}-{high}")


@pytest.mark.parametrize("alert", list(SEED_ALERTS))
def test_seed_alert_expression_selects_exactly_the_series_past_its_threshold(
    stack: Stack, alert: str
) -> None:
    """Each course alert expression has data to compare, and at one instant returns exactly
    the series whose value is past the threshold (one-to-one matching holds)."""
    expression, op, threshold = SEED_ALERTS[alert]
    at = datetime.now(UTC)
    values = poll_until(
        lambda: stack.prometheus.query(expression, at=at) or None,
        timeout=180,
        interval=5,
        describe=f"data for {alert}",
    )
    past = {
        tuple(sorted(s.labels.items()))
        for s in values
        if {">": s.value > threshold, "<": s.value < threshold, "==": s.value == threshold}[op]
    }
    firing = stack.prometheus.query(f"{expression} {op} {threshold}", at=at)
    assert {tuple(sorted(s.labels.items())) for s in firing} == past


def _generated_expressions() -> list[str]:
    expressions: list[str] = []
    for rules_file in (ROOT / "prometheus" / "rules").glob("*.yml"):
        for group in yaml.safe_load(rules_file.read_text())["groups"]:
            for rule in group["rules"]:
                expressions.append(rule["expr"])
                expressions.extend(rule.get("annotations", {}).values())
                expressions.extend(rule.get("labels", {}).values())
    dashboard = json.loads((ROOT / "grafana" / "dashboards" / "rag-overview.json").read_text())
    for panel in dashboard["panels"]:
        expressions.extend(t["expr"] for t in panel.get("targets", []) if "expr" in t)
    return expressions


def _scraped_labels(stack: Stack) -> dict[str, set[str]]:
    """Sample name -> label names, from a live scrape of the app."""
    text = requests.get(f"{stack.app_url}/metrics", timeout=10).text
    labels: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels.setdefault(sample.name, set()).update(sample.labels)
    return labels


def test_every_metric_and_label_in_generated_files_is_emitted(stack: Stack) -> None:
    """Rules, annotations and panels only name metrics and labels the app really emits,
    so no panel says "No data" because names drifted apart."""
    emitted = _scraped_labels(stack)
    problems = []
    for expression in _generated_expressions():
        used_metrics = METRIC.findall(expression)
        available = set(TARGET_LABELS)
        for metric, matchers in used_metrics:
            if metric not in emitted:
                problems.append(f"{metric} (in {expression.splitlines()[0]!r}) is not emitted")
                continue
            available |= emitted[metric]
            for label in MATCHER_LABEL.findall(matchers or ""):
                if label not in emitted[metric] | TARGET_LABELS:
                    problems.append(f"{metric} has no label {label!r}")
        if not used_metrics:
            continue
        grouped = {g.strip() for clause in GROUPING.findall(expression) for g in clause.split(",")}
        for label in (grouped | set(TEMPLATE_LABEL.findall(expression))) - {""}:
            if label not in available:
                first_line = expression.splitlines()[0]
                problems.append(f"label {label!r} in {first_line!r}: none of its metrics has it")
    assert not problems, "\n".join(sorted(set(problems)))
