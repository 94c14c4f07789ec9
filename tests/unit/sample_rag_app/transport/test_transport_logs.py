"""The log contract: correlation_id on every request line, lifecycle events in order."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi.testclient import TestClient
from rag_test_support import ClientFactory
from structlog.testing import capture_logs

QUESTION = {"question": "How does a response cache lower RAG cost?", "top_k": 3}


def _request_logs(client: TestClient, method: str, path: str, **kwargs: Any) -> list[Any]:
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        client.request(method, path, **kwargs)
    return logs


def test_every_line_of_a_query_carries_its_correlation_id(client: TestClient) -> None:
    """All lines logged while serving a query, access line included, carry its id."""
    logs = _request_logs(
        client, "POST", "/query", json=QUESTION, headers={"X-Correlation-ID": "c-1"}
    )
    assert len(logs) >= 6
    assert {line.get("correlation_id") for line in logs} == {"c-1"}


def test_query_lifecycle_events_are_logged_in_order(client: TestClient) -> None:
    """A cache miss logs received, embedding, search, LLM, response, then the access line."""
    logs = _request_logs(client, "POST", "/query", json=QUESTION)
    assert [line["event"] for line in logs] == [
        "query_received",
        "embedding_generated",
        "vector_search_completed",
        "llm_call_completed",
        "response_returned",
        "http_request",
    ]
    by_event = {line["event"]: line for line in logs}
    received = by_event["query_received"]
    assert received["question_length"] == len(QUESTION["question"])
    assert len(received["question_sha256"]) == 16
    assert received["top_k"] == 3
    assert "question" not in received
    assert by_event["embedding_generated"]["dimensions"] == 512
    assert by_event["vector_search_completed"]["results_count"] == 3
    assert by_event["vector_search_completed"]["top_score"] > 0
    llm = by_event["llm_call_completed"]
    assert llm["model"] == "gpt-4o-mini"
    assert llm["prompt_tokens"] > 0
    assert llm["completion_tokens"] > 0
    assert llm["cost_usd"] > 0
    assert all("latency_ms" in by_event[e] for e in ("embedding_generated", "llm_call_completed"))
    returned = by_event["response_returned"]
    assert (returned["status"], returned["cached"]) == ("success", False)
    assert returned["total_latency_ms"] >= 0
    access = by_event["http_request"]
    assert (access["method"], access["route"], access["status"]) == ("POST", "/query", 200)
    assert access["duration_ms"] >= 0


def test_cache_hit_logs_response_returned_with_cached_true(client: TestClient) -> None:
    """A cache hit logs query_received then response_returned with cached=true and the cache
    as its answer level: no line of its own, the answer says where it came from."""
    client.post("/query", json=QUESTION)
    logs = _request_logs(client, "POST", "/query", json=QUESTION)
    assert [line["event"] for line in logs] == [
        "query_received", "response_returned", "http_request",
    ]  # fmt: skip
    assert (logs[1]["cached"], logs[1]["answer_level"]) == (True, "cache")


def test_question_text_is_logged_only_when_enabled(make_client: ClientFactory) -> None:
    """With log_questions the question text is part of query_received."""
    client = make_client(log_questions=True)
    logs = _request_logs(client, "POST", "/query", json=QUESTION)
    assert logs[0]["question"] == QUESTION["question"]


def test_failed_query_logs_query_failed_at_error_level(make_client: ClientFactory) -> None:
    """A failure logs query_failed (error level) with error_type, stage and latency."""
    client = make_client(faults={"llm_error_rate": 1.0})
    logs = _request_logs(client, "POST", "/query", json=QUESTION, headers={"X-Correlation-ID": "f"})
    failed = next(line for line in logs if line["event"] == "query_failed")
    assert failed["log_level"] == "error"
    assert (failed["error_type"], failed["stage"]) == ("llm_error", "llm")
    assert failed["latency_ms"] >= 0
    assert logs[-1]["status"] == 502
    assert {line["correlation_id"] for line in logs} == {"f"}


def test_rejected_requests_log_with_correlation_id(client: TestClient) -> None:
    """An invalid request logs request_rejected and an unmatched access line, both with the id."""
    logs = _request_logs(client, "GET", "/nowhere/123", headers={"X-Correlation-ID": "r-1"})
    assert [line["event"] for line in logs] == ["request_rejected", "http_request"]
    assert logs[0]["reason"] == "not_found"
    assert logs[1]["route"] == "unmatched"
    assert "/nowhere" not in str(logs)
    assert {line["correlation_id"] for line in logs} == {"r-1"}


def test_malformed_correlation_header_logs_a_warning(client: TestClient) -> None:
    """A replaced correlation header logs invalid_correlation_id at warning level."""
    logs = _request_logs(client, "GET", "/healthz", headers={"X-Correlation-ID": "bad id!"})
    warning = logs[0]
    assert warning["event"] == "invalid_correlation_id"
    assert warning["log_level"] == "warning"
    assert warning["correlation_id"] != "bad id!"


def test_probes_are_logged_at_debug_level(client: TestClient) -> None:
    """Access lines of /metrics, /healthz and /readyz are debug, not info."""
    for path in ("/metrics", "/healthz", "/readyz"):
        (line,) = _request_logs(client, "GET", path)
        assert line["log_level"] == "debug"


def test_no_lines_when_logging_is_disabled(make_client: ClientFactory) -> None:
    """With logging_enabled false, a query writes no log line."""
    client = make_client(logging_enabled=False)
    assert _request_logs(client, "POST", "/query", json=QUESTION) == []


def test_startup_logs_app_started_and_corpus_embedded(make_client: ClientFactory) -> None:
    """Start-up logs app_started and corpus_embedded (no correlation id needed)."""
    with capture_logs() as logs:
        make_client()
    events = [line["event"] for line in logs]
    assert events[:2] == ["app_started", "corpus_embedded"]
    assert logs[1]["passages"] >= 100


def test_every_response_names_the_replica_that_served_it(make_client: ClientFactory) -> None:
    """X-Served-By carries the replica setting on answers, errors and scrapes alike."""
    client = make_client(replica="3f2a9c1d04be")
    for method, path, body in (
        ("POST", "/query", QUESTION),
        ("POST", "/query", {"question": ""}),
        ("GET", "/metrics", None),
    ):
        response = client.request(method, path, json=body)
        assert response.headers["X-Served-By"] == "3f2a9c1d04be", (method, path)
