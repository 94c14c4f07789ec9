"""PrometheusClient turns the /api/v1 JSON into typed results and clear errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import responses

from lab.kit.clients import PrometheusClient, ServiceError, ServiceUnreachable

BASE = "http://prometheus.test:9090"


@responses.activate
def test_targets_parse_health_and_nanosecond_timestamps() -> None:
    """Active targets carry job, health and a last-scrape time parsed from RFC 3339 ns."""
    responses.get(
        f"{BASE}/api/v1/targets",
        json={
            "status": "success",
            "data": {
                "activeTargets": [
                    {
                        "labels": {"job": "rag-app", "instance": "app:8000"},
                        "scrapeUrl": "http://app:8000/metrics",
                        "health": "up",
                        "lastScrape": "2026-11-28T15:00:01.123456789Z",
                        "lastError": "",
                        "scrapeInterval": "15s",
                    }
                ],
                "droppedTargets": [],
            },
        },
    )
    (target,) = PrometheusClient(BASE).targets()
    assert target.job == "rag-app"
    assert target.is_up
    assert target.last_scrape == datetime(2026, 11, 28, 15, 0, 1, 123456, tzinfo=UTC)
    assert target.scrape_interval == "15s"


@responses.activate
def test_query_drops_nan_samples() -> None:
    """NaN results (a ratio over no traffic) are dropped, so "no data" reads as empty."""
    responses.get(
        f"{BASE}/api/v1/query",
        json={
            "status": "success",
            "data": {
                "resultType": "vector",
                "result": [
                    {"metric": {"job": "a"}, "value": [1, "0.25"]},
                    {"metric": {"job": "b"}, "value": [1, "NaN"]},
                ],
            },
        },
    )
    samples = PrometheusClient(BASE).query("ratio")
    assert [(s.labels, s.value) for s in samples] == [({"job": "a"}, 0.25)]


@responses.activate
def test_a_bad_query_raises_with_prometheus_error_text() -> None:
    """A 400 from Prometheus surfaces its error message, not a bare status code."""
    responses.get(
        f"{BASE}/api/v1/query",
        status=400,
        json={"status": "error", "errorType": "bad_data", "error": "parse error at char 3"},
    )
    with pytest.raises(ServiceError, match="parse error at char 3"):
        PrometheusClient(BASE).query("1 +")


def test_unreachable_prometheus_is_reported_as_such() -> None:
    """Nothing listening is `ServiceUnreachable`, which checks turn into "start it" advice."""
    with pytest.raises(ServiceUnreachable, match="Prometheus is not reachable"):
        PrometheusClient("http://127.0.0.1:9", timeout=0.5).targets()
