"""Where the spec and the sample app must live apart (neither imports the other), these tests
tie what both state: the latency buckets, the log lifecycle of one query and the
correlation and replica headers."""

from __future__ import annotations

import random

import structlog
from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from lab.spec.rag import CORRELATION_HEADER, LATENCY_BUCKETS, LOG_LIFECYCLE, SERVED_BY_HEADER
from sample_rag_app.main import create_app
from sample_rag_app.telemetry.metrics import QUERY_DURATION_BUCKETS
from sample_rag_app.transport.middleware import CORRELATION_HEADER as APP_CORRELATION_HEADER
from sample_rag_app.transport.middleware import SERVED_BY_HEADER as APP_SERVED_BY_HEADER
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


def test_the_correlation_header_is_the_one_the_app_reads_and_echoes() -> None:
    """The header the lab's clients send and check 4 follows is the app's, both ways."""
    app = create_app(fast_settings(), CollectorRegistry(), rng=random.Random(7))
    with TestClient(app) as client:
        reply = client.get("/healthz", headers={CORRELATION_HEADER: "contract-1"})
    assert CORRELATION_HEADER == APP_CORRELATION_HEADER
    assert reply.headers[CORRELATION_HEADER] == "contract-1"


def test_the_replica_header_is_the_one_the_app_sends() -> None:
    """Check 4 follows the replica the app names in the header the spec states."""
    settings = fast_settings(replica="0b165e99ede1")
    app = create_app(settings, CollectorRegistry(), rng=random.Random(7))
    with TestClient(app) as client:
        reply = client.get("/healthz")
    assert SERVED_BY_HEADER == APP_SERVED_BY_HEADER
    assert reply.headers[SERVED_BY_HEADER] == "0b165e99ede1"
