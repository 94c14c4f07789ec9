"""`lab wait` against canned service answers, in-process: what it waits for and what it says."""

from __future__ import annotations

import io
from pathlib import Path

import responses

from lab.cli import run
from lab.kit.exit_codes import ExitCode

URLS = {
    "app": "http://app.test:8000",
    "prometheus": "http://prometheus.test:9090",
    "alertmanager": "http://alertmanager.test:9093",
    "alert-sink": "http://sink.test:9095",
    "grafana": "http://grafana.test:3000",
}
FLAGS = [f"--{name}-url={url}" for name, url in URLS.items()]
UP_TARGET = {
    "labels": {"job": "rag-app", "instance": "app:8000"},
    "scrapeUrl": "http://app:8000/metrics",
    "health": "up",
    "lastScrape": "2025-01-01T00:00:00Z",
    "lastError": "",
    "scrapeInterval": "15s",
}


def services_ready(dashboard_status: int = 200) -> None:
    """Every service answers ready; Grafana's dashboard answers `dashboard_status`."""
    responses.get(f"{URLS['app']}/readyz", json={"status": "ready"})
    responses.get(f"{URLS['alert-sink']}/healthz", json={"status": "ok"})
    responses.get(f"{URLS['alertmanager']}/-/ready", body="OK")
    responses.get(f"{URLS['prometheus']}/-/ready", body="OK")
    responses.get(
        f"{URLS['prometheus']}/api/v1/targets",
        json={"status": "success", "data": {"activeTargets": [UP_TARGET], "droppedTargets": []}},
    )
    grafana = URLS["grafana"]
    responses.get(f"{grafana}/api/health", json={"database": "ok", "version": "12.0.2"})
    responses.get(
        f"{grafana}/api/datasources/uid/rag-prometheus/health",
        json={"status": "OK", "message": "Successfully queried the Prometheus API."},
    )
    responses.get(
        f"{grafana}/api/dashboards/uid/rag-overview",
        status=dashboard_status,
        json={"dashboard": {"uid": "rag-overview"}} if dashboard_status == 200 else {},
    )


def lab_wait(*extra: str) -> tuple[ExitCode, str]:
    out = io.StringIO()
    code = run(["wait", *FLAGS, "--timeout", "0", *extra], out)
    return code, out.getvalue()


@responses.activate
def test_wait_succeeds_once_grafana_serves_the_provisioned_dashboard() -> None:
    """With every service ready and Grafana's datasource and dashboard provisioned, it exits 0."""
    services_ready()
    code, output = lab_wait()
    assert code is ExitCode.OK, output
    assert "✓ grafana ready" in output
    assert "lab ready" in output


@responses.activate
def test_wait_keeps_waiting_for_grafana_until_the_dashboard_is_served() -> None:
    """A Grafana whose /api/health answers but whose dashboard is not loaded yet is not ready,
    and the timeout message says what is missing."""
    services_ready(dashboard_status=404)
    code, output = lab_wait()
    assert code is ExitCode.FAILED
    assert "· grafana: dashboard 'rag-overview' not served (HTTP 404)" in output
    assert "✓ prometheus ready" in output


@responses.activate
def test_wait_without_grafana_does_not_ask_it() -> None:
    """--without grafana leaves Grafana out entirely (where no Grafana image can run)."""
    services_ready(dashboard_status=404)
    code, output = lab_wait("--without", "grafana")
    assert code is ExitCode.OK, output
    assert "grafana" not in output


@responses.activate
def test_wait_polls_again_until_a_service_that_was_starting_is_ready() -> None:
    """An app that answers 503 on the first round and 200 on the next is reported ready
    after the second round, and the wait succeeds."""
    services_ready()
    responses.replace(responses.GET, f"{URLS['app']}/readyz", status=503)
    responses.add(responses.GET, f"{URLS['app']}/readyz", json={"status": "ready"})
    out = io.StringIO()
    code = run(["wait", *FLAGS, "--timeout", "10"], out)
    assert code is ExitCode.OK, out.getvalue()
    assert "✓ app ready after" in out.getvalue()
    assert len([c for c in responses.calls if c.request.url.endswith("/readyz")]) == 2


@responses.activate
def test_wait_without_the_alert_sink_does_not_ask_it() -> None:
    """--without alert-sink: a stack whose alerts go elsewhere is ready without the lab's sink
    (nothing answers at its URL here)."""
    services_ready()
    responses.replace(responses.GET, f"{URLS['alert-sink']}/healthz", status=503)
    code, output = lab_wait("--without", "alert-sink")
    assert code is ExitCode.OK, output
    assert "alert-sink" not in output


@responses.activate
def test_wait_on_a_learner_stack_waits_for_what_its_target_describes(tmp_path: Path) -> None:
    """A target file without Grafana or alert sink: neither is waited for; the app is ready
    once /metrics answers (no /readyz), and the scrape job is the one exporting
    rag_requests_total."""
    target = tmp_path / "lab-target.yaml"
    target.write_text(
        f"app_url: {URLS['app']}\nprometheus_url: {URLS['prometheus']}\n"
        f"alertmanager_url: {URLS['alertmanager']}\ngrafana:\n  url: null\n"
    )
    responses.get(f"{URLS['app']}/metrics", body="rag_requests_total 3\n")
    responses.get(f"{URLS['alertmanager']}/-/ready", body="OK")
    responses.get(f"{URLS['prometheus']}/-/ready", body="OK")
    found = {"metric": {"job": "rag_pipeline"}, "value": [0, "1"]}
    responses.get(
        f"{URLS['prometheus']}/api/v1/query",
        json={"status": "success", "data": {"resultType": "vector", "result": [found]}},
    )
    up = UP_TARGET | {"labels": {"job": "rag_pipeline", "instance": "app:8000"}}
    responses.get(
        f"{URLS['prometheus']}/api/v1/targets",
        json={"status": "success", "data": {"activeTargets": [up], "droppedTargets": []}},
    )
    out = io.StringIO()
    code = run(["wait", "--target", str(target), "--timeout", "0"], out)
    assert code is ExitCode.OK, out.getvalue()
    assert "waiting up to 0s for: app, alertmanager, prometheus, app scraped (target UP)" in (
        out.getvalue()
    )
    assert not any(c.request.url.endswith("/readyz") for c in responses.calls)
