"""The compose stack comes up whole: Prometheus scrapes the app and knows Alertmanager."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime

import requests
from prometheus_client.parser import text_string_to_metric_families

from lab.kit.clients.grafana import GrafanaClient
from lab.kit.clients.prometheus import ScrapeTarget
from lab.kit.polling import poll_until
from lab.spec import SPEC
from tests.integration.conftest import ROOT, Stack


def test_prometheus_reports_app_target_up_with_a_recent_scrape(stack: Stack) -> None:
    """Prometheus's rag-app target is UP and was scraped less than 30 s ago."""

    def app_target_up() -> ScrapeTarget | None:
        return next((t for t in stack.prometheus.targets() if t.job == "rag-app" and t.is_up), None)

    target = poll_until(app_target_up, timeout=90, describe="rag-app target UP")
    assert target.last_scrape is not None
    age = (datetime.now(UTC) - target.last_scrape).total_seconds()
    assert age < 30, f"last scrape {age:.1f}s ago"
    assert target.last_error == ""


def test_course_check_1_code_gets_200_from_the_app_and_the_targets_page(stack: Stack) -> None:
    """The course's Check 1 code, verbatim but for the host ports: GET /metrics on the app and
    GET /targets on Prometheus (the page a learner opens) both answer 200."""
    for url in (f"{stack.app_url}/metrics", f"{stack.urls['prometheus']}/targets"):
        response = requests.get(url, timeout=10)
        assert response.status_code == 200, f"GET {url} answered {response.status_code}"


def test_grafana_is_healthy_once_its_datasource_and_dashboard_are_provisioned(
    stack: Stack,
) -> None:
    """Grafana's compose healthcheck passes, and what it waits for holds: the database is ok,
    the provisioned datasource passes Grafana's own health test, the dashboard is served."""
    grafana = GrafanaClient(stack.require_grafana())
    assert stack.compose.get_container("grafana").Health == "healthy"
    assert grafana.health()["database"] == "ok"
    readiness = grafana.readiness(
        datasource_uid=SPEC.datasource_uid, dashboard_uid=SPEC.dashboard.uid
    )
    assert readiness.ready, readiness.detail


def test_alertmanager_is_ready_and_active_in_prometheus(stack: Stack) -> None:
    """Alertmanager answers ready and Prometheus lists it as an active Alertmanager."""
    assert stack.alertmanager.ready()
    urls = poll_until(
        stack.prometheus.active_alertmanagers, timeout=60, describe="an active Alertmanager"
    )
    assert any("alertmanager:9093" in url for url in urls), urls


def test_app_answers_a_query(stack: Stack) -> None:
    """POST /query returns an answer with sources and echoes the caller's correlation id."""
    # The lab injects LLM errors into 1 % of calls by default (the course's "before"), so one
    # request in a hundred answers 502 llm_error: try again, as a client would. Three in a
    # row (one chance in a million) would be a real fault.
    for _ in range(3):
        response = requests.post(
            f"{stack.app_url}/query",
            json={"question": "How does a response cache lower RAG cost?", "top_k": 3},
            headers={"X-Correlation-ID": "it-query-1"},
            timeout=10,
        )
        if response.status_code != 502:
            break
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["answer"]
    assert 1 <= len(body["sources"]) <= 3
    assert body["correlation_id"] == "it-query-1"
    assert response.headers["X-Correlation-ID"] == "it-query-1"


def test_app_serves_valid_prometheus_exposition(stack: Stack) -> None:
    """/metrics parses as Prometheus text exposition and carries the rag_* families."""
    response = requests.get(f"{stack.app_url}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    families = {f.name for f in text_string_to_metric_families(response.text)}
    expected = {
        "rag_query_duration_seconds",
        "rag_requests",
        "rag_errors",
        "rag_cache_hits",
        "rag_cache_requests",
        "rag_cost_usd",
        "rag_rate_limit_headroom_percent",
    }
    assert expected <= families, sorted(expected - families)


def test_lab_check_runs_as_a_one_off_compose_service(stack: Stack, lab_image: None) -> None:
    """`docker compose logs app | docker compose run -T --rm lab check --logs-stdin` proves
    scrape and logs from inside the compose network, without a Docker socket."""
    env = {**os.environ, "COMPOSE_PROJECT_NAME": stack.project}
    logs = subprocess.run(
        ["docker", "compose", "logs", "--no-log-prefix", "--since", "5m", "app"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    result = subprocess.run(
        ["docker", "compose", "run", "-T", "--rm", "--no-deps", "lab",
         "check", "--only", "scrape,logs", "--logs-stdin"],
        cwd=ROOT, env=env, input=logs.stdout, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "✓ 1. Prometheus scrapes the app" in result.stdout
    assert "✓ 4. A request can be traced" in result.stdout
