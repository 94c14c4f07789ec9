"""`lab check` against the real stack: every check passes when healthy and fails, with its
fix, when its cause is broken."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import docker
import pytest
import yaml
from testcontainers.core.container import DockerContainer

from lab.check import alerts, dashboards, logs, scrape
from lab.check.logsource import DockerLogSource, FileLogSource
from lab.check.report import render_text
from lab.check.result import CheckResult, Status
from lab.check.runner import CheckOptions, run_checks
from lab.kit.clients import PrometheusClient
from lab.kit.clients.app import AppClient
from lab.kit.context import LabContext
from lab.kit.polling import poll_until
from tests.image_pins import image
from tests.integration.conftest import ROOT, Stack

DATA_CHECKS = ("scrape", "logs", "baseline")


def _passing(stack: Stack, only: tuple[str, ...]) -> list[CheckResult]:
    results = run_checks(stack.settings, CheckOptions(only=only))
    # Raising keeps the last failing report for the timeout message.
    assert not any(r.failed for r in results), render_text(results)
    return results


def _passing_with_latency(stack: Stack) -> list[CheckResult]:
    """The data checks pass, and the baseline has a p95: on a stack seconds old the checks
    can pass while no latency histogram has grown between two scrapes yet."""
    results = _passing(stack, DATA_CHECKS)
    baseline = next(r for r in results if r.check == "baseline").data["baseline"]
    assert baseline["p95_latency_seconds"] is not None, baseline
    return results


def test_scrape_logs_and_baseline_pass_on_the_healthy_stack(stack: Stack) -> None:
    """Once traffic has flowed, the scrape, logs and baseline checks pass with evidence."""
    results = poll_until(
        lambda: _passing_with_latency(stack), timeout=180, interval=2, describe="checks pass"
    )
    by_name = {r.check: r for r in results}
    assert all(r.status is Status.PASS for r in results)
    assert by_name["scrape"].data["last_scrape_age_seconds"] < 30
    assert by_name["logs"].data["events"][0] == "query_received"
    baseline = by_name["baseline"].data["baseline"]
    assert baseline["requests_per_second"] > 0
    assert baseline["p95_latency_seconds"] is not None


def test_alerts_check_delivers_a_test_alert_and_its_resolution(stack: Stack) -> None:
    """Rules are loaded, and a test alert reaches the sink with value and threshold, then
    resolves, within the 2-minute deadline."""
    (result,) = run_checks(stack.settings, CheckOptions(only=("alerts",)))
    assert result.status is Status.PASS, result.evidence
    assert result.data["alerting_rules"] >= 3
    assert result.data["notify_seconds"] <= 120


def test_dashboards_check_without_grafana_checks_panels_against_prometheus(stack: Stack) -> None:
    """With Grafana left out on purpose, every panel query still returns data from
    Prometheus, and the check reports itself skipped, not passed."""
    settings = stack.settings.model_copy(
        update={"grafana_url": "http://127.0.0.1:9", "check_grafana": False}
    )
    ctx = LabContext.from_settings(settings)
    result = poll_until(
        lambda: (r := dashboards.run(ctx)).status is Status.SKIP and r,
        timeout=180,
        interval=2,
        describe="panel queries return data",
    )
    assert "against Prometheus directly" in " ".join(result.evidence)


def test_dashboards_check_fails_when_grafana_is_expected_but_down(stack: Stack) -> None:
    """A Grafana that should run but does not answer fails check 2 with how to start it."""
    settings = stack.settings.model_copy(
        update={
            "grafana_url": "http://127.0.0.1:9",
            "check_grafana": True,
            "http_timeout_seconds": 1,
        }
    )
    result = dashboards.run(LabContext.from_settings(settings))
    assert result.status is Status.FAIL
    assert "docker compose up -d grafana" in (result.fix or "")


def test_dashboards_check_passes_through_grafana(stack: Stack) -> None:
    """Grafana is healthy, its datasource OK, and every panel returns data through it."""
    grafana_url = stack.require_grafana()
    ctx = LabContext.from_settings(stack.settings.model_copy(update={"grafana_url": grafana_url}))
    result = poll_until(
        lambda: (r := dashboards.run(ctx)).status is Status.PASS and r,
        timeout=180,
        interval=2,
        describe="the dashboards check to pass through Grafana",
    )
    assert "through Grafana's query API" in result.evidence[-1]


def test_logs_check_fails_when_lines_lack_the_correlation_id(stack: Stack, tmp_path: Path) -> None:
    """The app's real log lines with correlation_id stripped fail the logs check."""
    real = DockerLogSource(stack.project)
    lines = real.lines_since(datetime.now(UTC) - timedelta(minutes=5))
    stripped = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.pop("correlation_id", None):
            record["message"] = "request handled"
        stripped.append(json.dumps(record))
    log_file = tmp_path / "app.log"
    log_file.write_text("\n".join(stripped))
    ctx = LabContext.from_settings(stack.settings)
    result = logs.run(ctx, FileLogSource(log_file), send_query=False)
    assert result.status is Status.FAIL
    assert "correlation_id" in (result.fix or "") or "query_received" in (result.fix or "")


@pytest.fixture
def prometheus_without_error_rate_rule(stack: Stack, tmp_path: Path) -> Iterator[str]:
    """A second Prometheus with the lab's rules minus HighErrorRate, on the stack's network."""
    config = tmp_path / "prometheus"
    shutil.copytree(ROOT / "prometheus", config)
    for rules_file in (config / "rules").glob("*.yml"):
        body = yaml.safe_load(rules_file.read_text())
        for group in body["groups"]:
            group["rules"] = [r for r in group["rules"] if r.get("alert") != "HighErrorRate"]
        rules_file.write_text(yaml.safe_dump(body))
    os.chmod(tmp_path, 0o755)
    container = (
        DockerContainer(image("PROMETHEUS_IMAGE"))
        .with_volume_mapping(str(config / "prometheus.yml"), "/etc/prometheus/prometheus.yml")
        .with_volume_mapping(str(config / "rules"), "/etc/prometheus/rules")
        .with_exposed_ports(9090)
        .with_kwargs(network=f"{stack.project}_default")
    )
    with container:
        url = f"http://{container.get_container_host_ip()}:{container.get_exposed_port(9090)}"
        poll_until(PrometheusClient(url).ready, timeout=60, describe="second Prometheus ready")
        yield url


def test_alerts_check_fails_when_a_required_rule_is_missing(
    stack: Stack, prometheus_without_error_rate_rule: str
) -> None:
    """A Prometheus that lacks the HighErrorRate rule fails the alerts check, naming it."""
    settings = stack.settings.model_copy(
        update={"prometheus_url": prometheus_without_error_rate_rule}
    )
    result = alerts.run(LabContext.from_settings(settings), send_test_alert=False)
    assert result.status is Status.FAIL
    assert "HighErrorRate" in result.evidence[-1]
    assert "lab generate" in (result.fix or "")


@pytest.fixture
def stopped_app(own_stack: Stack) -> Iterator[Stack]:
    """Stop the app container, and start it again (and wait until ready) afterwards."""
    client = docker.from_env()
    (container,) = client.containers.list(
        filters={
            "label": [
                f"com.docker.compose.project={own_stack.project}",
                "com.docker.compose.service=app",
            ]
        }
    )
    container.stop(timeout=5)
    try:
        yield own_stack
    finally:
        container.start()
        poll_until(AppClient(own_stack.app_url).ready, timeout=90, describe="app ready again")


@pytest.mark.disruptive
def test_scrape_check_fails_with_how_to_start_a_stopped_app(stopped_app: Stack) -> None:
    """With the app stopped, check 1 fails and says how to start it, never a silent pass."""
    result = scrape.run(LabContext.from_settings(stopped_app.settings))
    assert result.status is Status.FAIL
    assert "docker compose up -d app" in (result.fix or "")
