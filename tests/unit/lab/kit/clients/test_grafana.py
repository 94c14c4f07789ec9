"""GrafanaClient reads /api/ds/query answers the way a panel would see them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import responses

from lab.kit.clients import ServiceError
from lab.kit.clients.grafana import GrafanaClient, PanelQuery

BASE = "http://grafana.test:3000"
RESPONSES = Path(__file__).parents[3] / "lab" / "check" / "grafana_responses"


def recorded(name: str) -> Any:
    return json.loads((RESPONSES / name).read_text())


QUERY = (PanelQuery("A", "up", "rag-prometheus"),)


@responses.activate
def test_points_count_finite_values_only() -> None:
    """Null values in a frame are not data; finite ones are counted."""
    frame = {"data": {"values": [[1, 2, 3], [0.5, None, 0.7]]}}
    responses.post(f"{BASE}/api/ds/query", json={"results": {"A": {"frames": [frame]}}})
    (outcome,) = GrafanaClient(BASE).run_queries(QUERY)
    assert (outcome.points, outcome.error) == (2, None)


@responses.activate
def test_a_query_error_is_reported_per_query() -> None:
    """A 400 carrying per-query results reports that query's own error."""
    body = {"results": {"A": {"error": "bad_data: parse error", "status": 400}}}
    responses.post(f"{BASE}/api/ds/query", status=400, json=body)
    (outcome,) = GrafanaClient(BASE).run_queries(QUERY)
    assert outcome.error == "bad_data: parse error"


@responses.activate
def test_a_failed_call_is_an_error_not_an_empty_panel() -> None:
    """A 400 without results (unknown datasource) raises with Grafana's message."""
    responses.post(f"{BASE}/api/ds/query", status=400, json={"message": "data source not found"})
    with pytest.raises(ServiceError, match="data source not found"):
        GrafanaClient(BASE).run_queries(QUERY)


@responses.activate
def test_search_datasources_and_dashboard_read_grafana_12_answers() -> None:
    """The recorded Grafana 12 answers: search asks for dashboards only, the datasource list
    and a dashboard's model (without its meta) come back as Grafana sends them."""
    responses.get(f"{BASE}/api/search", json=recorded("search.json"))
    responses.get(f"{BASE}/api/datasources", json=recorded("datasources.json"))
    learner = recorded("dashboard_learner.json")
    responses.get(f"{BASE}/api/dashboards/uid/de5rqx1m8w2kgc", json=learner)
    grafana = GrafanaClient(BASE, user="viewer", password="secret")
    hits = grafana.search_dashboards()
    assert [hit["uid"] for hit in hits] == ["bf3k2m9x0cqo0e", "de5rqx1m8w2kgc"]
    assert responses.calls[0].request.params == {"type": "dash-db", "limit": "5000"}
    assert responses.calls[0].request.headers["Authorization"].startswith("Basic ")
    assert [d["type"] for d in grafana.datasources()] == ["loki", "prometheus"]
    model = grafana.dashboard_model("de5rqx1m8w2kgc")
    assert model["title"] == "RAG Pipeline Observability - M2.3"
    assert "meta" not in model


@responses.activate
def test_a_dashboard_answer_without_a_model_is_an_error() -> None:
    """A 200 without "dashboard" is not silently an empty dashboard."""
    responses.get(f"{BASE}/api/dashboards/uid/x", json={"meta": {}})
    with pytest.raises(ServiceError, match="has no dashboard model"):
        GrafanaClient(BASE).dashboard_model("x")


HEALTHY = {"database": "ok", "version": "12.0.2", "commit": "abc"}
DATASOURCE_OK = {"status": "OK", "message": "Successfully queried the Prometheus API."}


Answers = dict[str, tuple[int, dict[str, object]]]


def ready_grafana(overrides: Answers | None = None) -> None:
    """Canned answers of a Grafana that has provisioned everything, with overrides by path."""
    answers: Answers = {
        "/api/health": (200, HEALTHY),
        "/api/datasources/uid/rag-prometheus/health": (200, DATASOURCE_OK),
        "/api/dashboards/uid/rag-overview": (200, {"dashboard": {"uid": "rag-overview"}}),
        **(overrides or {}),
    }
    for path, (status, body) in answers.items():
        responses.get(f"{BASE}{path}", status=status, json=body)


def readiness() -> tuple[bool, str]:
    result = GrafanaClient(BASE).readiness(
        datasource_uid="rag-prometheus", dashboard_uid="rag-overview"
    )
    return result.ready, result.detail


@responses.activate
def test_health_returns_the_body_of_a_503() -> None:
    """A 503 from /api/health still yields its body, so "database failing" reaches the user."""
    body = {"database": "failing", "version": "12.0.2"}
    responses.get(f"{BASE}/api/health", status=503, json=body)
    assert GrafanaClient(BASE).health() == body


@responses.activate
def test_health_raises_on_any_other_error() -> None:
    """A 500 (or a 503 without JSON) from /api/health is an error naming the status."""
    responses.get(f"{BASE}/api/health", status=500, body="boom")
    with pytest.raises(ServiceError, match="answered 500 to GET /api/health: boom"):
        GrafanaClient(BASE).health()


@responses.activate
def test_ready_once_datasource_and_dashboard_are_provisioned() -> None:
    """Database ok, datasource health OK and the dashboard served make Grafana ready."""
    ready_grafana()
    assert readiness() == (True, "datasource 'rag-prometheus' OK, dashboard 'rag-overview'")


@responses.activate
def test_not_ready_while_the_database_fails() -> None:
    """A failing database (the 503 body) is what readiness reports."""
    ready_grafana({"/api/health": (503, {"database": "failing"})})
    assert readiness() == (False, "database 'failing'")


@responses.activate
def test_not_ready_while_the_datasource_is_not_provisioned_or_failing() -> None:
    """/api/health answering is not enough: a datasource Grafana cannot test is not ready."""
    failing = {"status": "ERROR", "message": 'Post "http://prometheus:9090": connection refused'}
    ready_grafana({"/api/datasources/uid/rag-prometheus/health": (400, failing)})
    ready, detail = readiness()
    assert not ready
    assert detail.startswith("datasource 'rag-prometheus' not healthy: Post")


@responses.activate
def test_not_ready_until_the_dashboard_is_served() -> None:
    """Before the dashboard provider has loaded the file, the dashboard's 404 keeps it waiting."""
    ready_grafana({"/api/dashboards/uid/rag-overview": (404, {"message": "Dashboard not found"})})
    assert readiness() == (False, "dashboard 'rag-overview' not served (HTTP 404)")
