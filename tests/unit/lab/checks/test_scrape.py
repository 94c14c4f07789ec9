"""Check 1 against canned app and Prometheus answers: each broken link fails with its fix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import responses

from lab.checks import scrape
from lab.checks.result import Status
from lab.context import LabContext
from lab.settings import LabSettings

APP = "http://app.test:8000"
PROM = "http://prometheus.test:9090"

METRICS = "".join(
    f"# TYPE {name} counter\n{name}_total 1\n"
    for name in sorted(scrape.REQUIRED_METRIC_FAMILIES - {"rag_query_duration_seconds"})
    if name != "rag_rate_limit_headroom_percent"
) + (
    "# TYPE rag_rate_limit_headroom_percent gauge\nrag_rate_limit_headroom_percent 80\n"
    "# TYPE rag_query_duration_seconds histogram\n"
    'rag_query_duration_seconds_bucket{le="+Inf"} 1\n'
    "rag_query_duration_seconds_count 1\nrag_query_duration_seconds_sum 0.2\n"
)


def context() -> LabContext:
    settings = LabSettings(app_url=APP, prometheus_url=PROM, http_timeout_seconds=0.5)
    return LabContext.from_settings(settings)


def targets(health: str = "up", age: float = 5, interval: str = "15s") -> dict[str, object]:
    last = (datetime.now(UTC) - timedelta(seconds=age)).isoformat().replace("+00:00", "Z")
    target = {
        "labels": {"job": "rag-app", "instance": "app:8000"},
        "scrapeUrl": "http://app:8000/metrics",
        "health": health,
        "lastScrape": last,
        "lastError": "" if health == "up" else "connection refused",
        "scrapeInterval": interval,
    }
    return {"status": "success", "data": {"activeTargets": [target], "droppedTargets": []}}


@responses.activate
def test_passes_when_target_up_and_recent() -> None:
    """A parseable /metrics and an UP target scraped 5 s ago every 15 s pass."""
    responses.get(f"{APP}/metrics", body=METRICS)
    responses.get(f"{PROM}/api/v1/targets", json=targets())
    result = scrape.run(context())
    assert result.status is Status.PASS, result.evidence
    assert result.data["scrape_interval_seconds"] == 15


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        ({"health": "down"}, "is DOWN: connection refused"),
        ({"age": 45}, "last scraped 45s ago"),
        ({"interval": "1m"}, "scraped every 1m"),
    ],
)
@responses.activate
def test_fails_on_each_broken_link(broken: dict[str, Any], expected: str) -> None:
    """A DOWN target, a stale scrape or a slow interval each fail with a fix."""
    responses.get(f"{APP}/metrics", body=METRICS)
    responses.get(f"{PROM}/api/v1/targets", json=targets(**broken))
    result = scrape.run(context())
    assert result.status is Status.FAIL
    assert expected in result.evidence[-1]
    assert result.fix


@responses.activate
def test_missing_families_are_named() -> None:
    """/metrics without the rag_* families fails and names what is missing."""
    responses.get(f"{APP}/metrics", body="# TYPE up gauge\nup 1\n")
    result = scrape.run(context())
    assert result.status is Status.FAIL
    assert "rag_errors" in result.evidence[-1]


def test_an_app_that_is_not_running_fails_with_how_to_start_it() -> None:
    """No app listening is a failure that says `docker compose up -d app`, never a pass."""
    settings = LabSettings(app_url="http://127.0.0.1:9", http_timeout_seconds=0.5)
    result = scrape.run(LabContext.from_settings(settings))
    assert result.status is Status.FAIL
    assert "docker compose up -d app" in (result.fix or "")
