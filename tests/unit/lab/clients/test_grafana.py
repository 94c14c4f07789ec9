"""GrafanaClient reads /api/ds/query answers the way a panel would see them."""

from __future__ import annotations

import pytest
import responses

from lab.clients import ServiceError
from lab.clients.grafana import GrafanaClient, PanelQuery

BASE = "http://grafana.test:3000"
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
def test_dashboard_panels_and_datasource_fall_back_to_the_default() -> None:
    """Panels inside rows are found, and a target without datasource uses the default uid."""
    board = {
        "dashboard": {
            "uid": "rag-overview",
            "title": "RAG Overview",
            "time": {"from": "now-30m"},
            "panels": [
                {"type": "row", "panels": [{"id": 1, "type": "timeseries", "title": "p95",
                                            "targets": [{"refId": "A", "expr": "up"}]}]},
            ],
        }
    }  # fmt: skip
    responses.get(f"{BASE}/api/dashboards/uid/rag-overview", json=board)
    dashboard = GrafanaClient(BASE).dashboard("rag-overview", default_datasource_uid="ds")
    panel = dashboard.panel("p95")
    assert panel is not None
    assert panel.queries == (PanelQuery("A", "up", "ds"),)
