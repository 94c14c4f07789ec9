"""`lab wait` against canned service answers, in-process: what it waits for and what it says."""

from __future__ import annotations

import io

import responses

from lab.cli import run
from lab.exit_codes import ExitCode

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


def _scrape_answers(first_metrics_status: int) -> None:
    """/metrics answers `first_metrics_status` once, then valid metrics; the target is UP."""
    from tests.unit.lab.checks.test_scrape import METRICS, down_or_gone, targets

    responses.get(f"{URLS['app']}/metrics", status=first_metrics_status, body="starting")
    responses.get(f"{URLS['app']}/metrics", body=METRICS)
    responses.get(f"{URLS['prometheus']}/api/v1/targets", json=targets())
    responses.get(f"{URLS['prometheus']}/api/v1/query", json=down_or_gone())


@responses.activate
def test_check_wait_reruns_until_the_check_passes_and_shows_progress() -> None:
    """`lab check --wait` shows a progress line per round and exits 0 once the check passes."""
    _scrape_answers(503)
    out = io.StringIO()
    code = run(["check", *FLAGS, "--only", "scrape", "--wait", "5"], out)
    text = out.getvalue()
    assert code == ExitCode.OK, text
    assert "waiting up to 5s for every check to pass" in text
    assert "none passed yet · waiting for scrape:" in text
    assert "✓ scrape\n" in text
    assert "✓ 1. Prometheus scrapes the app" in text


@responses.activate
def test_check_wait_gives_up_at_the_deadline_naming_the_failing_checks() -> None:
    """A check still failing at the deadline ends the wait with exit 1 and its name."""
    responses.get(f"{URLS['app']}/metrics", status=503, body="down")
    out = io.StringIO()
    code = run(["check", *FLAGS, "--only", "scrape", "--wait", "0.5"], out)
    assert code == ExitCode.FAILED
    assert "✗ after 0.5s these checks still fail: scrape" in out.getvalue()


def test_check_wait_refuses_a_nonsense_duration() -> None:
    """`--wait` takes a positive number of seconds; anything else is a usage error."""
    for bad in ("soon", "0", "-3"):
        assert run(["check", "--wait", bad], io.StringIO()) == ExitCode.USAGE


def test_check_wait_refuses_logs_from_a_pipe() -> None:
    """A pipe is read once, so `--wait` with `--logs-stdin` is a usage error naming the fix."""
    out = io.StringIO()
    assert run(["check", "--wait", "30", "--logs-stdin"], out) == ExitCode.USAGE
    assert "--logs-file" in out.getvalue()
