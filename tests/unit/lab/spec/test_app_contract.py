"""Where the spec and the sample app must live apart (neither imports the other), these tests
tie what both state: the latency buckets and the log lifecycle of one query."""

from __future__ import annotations

import random

import structlog
from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from lab.spec.rag import LATENCY_BUCKETS, LOG_LIFECYCLE
from sample_rag_app.main import create_app
from sample_rag_app.telemetry.metrics import QUERY_DURATION_BUCKETS
from tests.unit.sample_rag_app.rag_test_support import TestClient, fast_settings


def test_the_spec_latency_buckets_are_the_apps_histogram_buckets() -> None:
    """The promtool fixtures and the p95 alert assume the buckets the app really exposes."""
    assert LATENCY_BUCKETS == QUERY_DURATION_BUCKETS


def test_the_log_lifecycle_check_4_follows_is_what_the_app_logs() -> None:
    """One answered query logs exactly the spec's lifecycle, in order, then its access line."""
    app = create_app(fast_settings(), CollectorRegistry(), rng=random.Random(7))
    capture = capture_logs(processors=[structlog.contextvars.merge_contextvars])
    with TestClient(app) as client, capture as logs:
        reply = client.post("/query", json={"question": "What does a cache save?"})
    assert reply.status_code == 200
    events = [line["event"] for line in logs if line["event"] != "http_request"]
    assert tuple(events) == LOG_LIFECYCLE
