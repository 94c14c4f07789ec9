"""POST /query, the probes, /metrics and the OpenAPI document over HTTP."""

from __future__ import annotations

from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from rag_test_support import ClientFactory, fast_settings

QUESTION = {"question": "How does a response cache lower RAG cost?", "top_k": 3}


def test_query_answers_with_sources_and_echoes_the_correlation_id(client: TestClient) -> None:
    """A valid query returns 200 with answer, top_k sources, cost, model and the caller's id."""
    response = client.post("/query", json=QUESTION, headers={"X-Correlation-ID": "it-1"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "answer", "sources", "correlation_id", "cached", "cost_usd", "model", "answer_level",
        "degraded",
    }  # fmt: skip
    assert body["answer"]
    assert len(body["sources"]) == 3
    assert set(body["sources"][0]) == {"id", "title", "score"}
    assert body["correlation_id"] == "it-1"
    assert response.headers["X-Correlation-ID"] == "it-1"
    assert body["cached"] is False
    assert body["cost_usd"] > 0
    assert body["model"] == "gpt-4o-mini"
    assert (body["answer_level"], body["degraded"]) == ("primary", False)


def test_repeated_query_is_cached_and_counted(
    client: TestClient, registry: CollectorRegistry
) -> None:
    """The second identical query is a cache hit at no cost; the counters say so."""
    client.post("/query", json=QUESTION)
    second = client.post(
        "/query", json={**QUESTION, "question": "how does a response CACHE lower rag cost"}
    )
    assert second.json()["cached"] is True
    assert second.json()["cost_usd"] == 0.0
    assert registry.get_sample_value("rag_requests_total") == 2
    assert registry.get_sample_value("rag_cache_requests_total") == 2
    assert registry.get_sample_value("rag_cache_hits_total") == 1
    assert registry.get_sample_value("rag_query_duration_seconds_count") == 2
    assert registry.get_sample_value("rag_errors_total") == 0


def test_x_request_id_is_accepted_when_no_correlation_header(client: TestClient) -> None:
    """X-Request-ID serves as the correlation id when X-Correlation-ID is absent."""
    response = client.post("/query", json=QUESTION, headers={"X-Request-ID": "req.42"})
    assert response.headers["X-Correlation-ID"] == "req.42"


def test_default_top_k_is_four(client: TestClient) -> None:
    """Without top_k the answer cites four sources."""
    response = client.post("/query", json={"question": "What is a circuit breaker?"})
    assert len(response.json()["sources"]) == 4


def _assert_failure(
    make_client: ClientFactory,
    registry: CollectorRegistry,
    status: int,
    error_type: str,
    **faults: object,
) -> dict[str, object]:
    client = make_client(**faults)
    response = client.post("/query", json=QUESTION, headers={"X-Correlation-ID": "f-1"})
    assert response.status_code == status
    body = response.json()
    assert body["error"] == error_type
    assert body["message"]
    assert body["correlation_id"] == "f-1"
    assert registry.get_sample_value("rag_requests_total") == 1
    assert registry.get_sample_value("rag_errors_total") == 1
    assert registry.get_sample_value("rag_errors_by_type_total", {"error_type": error_type}) == 1
    assert registry.get_sample_value("rag_query_duration_seconds_count") == 1
    return dict(response.headers)


def test_llm_error_is_502(make_client: ClientFactory, registry: CollectorRegistry) -> None:
    """An LLM failure answers 502 llm_error and counts one error."""
    _assert_failure(make_client, registry, 502, "llm_error", faults={"llm_error_rate": 1.0})


def test_llm_timeout_is_504(make_client: ClientFactory, registry: CollectorRegistry) -> None:
    """An LLM timeout answers 504 llm_timeout."""
    _assert_failure(make_client, registry, 504, "llm_timeout", faults={"llm_timeout_rate": 1.0})


def test_rate_limit_fault_is_503_with_retry_after(
    make_client: ClientFactory, registry: CollectorRegistry
) -> None:
    """A provider rate-limit rejection answers 503 rate_limited with Retry-After."""
    headers = _assert_failure(
        make_client, registry, 503, "rate_limited", faults={"rate_limit_error_rate": 1.0}
    )
    assert int(headers["retry-after"]) >= 1


def test_vector_store_down_is_503(make_client: ClientFactory, registry: CollectorRegistry) -> None:
    """A vector store outage answers 503 vector_store_unavailable."""
    _assert_failure(
        make_client, registry, 503, "vector_store_unavailable", faults={"vector_store_down": True}
    )


def test_real_rate_limit_under_load_returns_errors_and_zero_headroom(
    make_client: ClientFactory, registry: CollectorRegistry
) -> None:
    """Beyond the provider's requests per minute, queries fail rate_limited; headroom hits 0."""
    client = make_client(rate_limit_requests_per_minute=3)
    statuses = [
        client.post("/query", json={"question": f"question number {i}"}).status_code
        for i in range(5)
    ]
    assert statuses == [200, 200, 200, 503, 503]
    assert registry.get_sample_value("rag_rate_limit_headroom_percent") == 0.0
    assert (
        registry.get_sample_value("rag_errors_by_type_total", {"error_type": "rate_limited"}) == 2
    )


def test_healthz_and_readyz_after_start_up(client: TestClient) -> None:
    """/healthz says ok; /readyz says ready with the number of embedded passages."""
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    assert ready.json()["passages"] >= 100


def test_readyz_is_503_and_query_fails_before_the_corpus_is_embedded(
    registry: CollectorRegistry,
) -> None:
    """Without start-up (no lifespan), /readyz is 503 and /query is 503, not a crash."""
    from sample_rag_app.main import create_app

    client = TestClient(create_app(fast_settings(), registry))
    assert client.get("/readyz").status_code == 503
    response = client.post("/query", json=QUESTION)
    assert response.status_code == 503
    assert response.json()["error"] == "vector_store_unavailable"


def test_metrics_serves_text_format_by_default(client: TestClient) -> None:
    """/metrics without Accept serves Prometheus text format 0.0.4 that parses."""
    client.post("/query", json=QUESTION)
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    names = {f.name for f in text_string_to_metric_families(response.text)}
    assert {"rag_requests", "rag_query_duration_seconds", "process_cpu_seconds"} - names == {
        "process_cpu_seconds"  # a registry passed in has only the app's metrics
    }
    assert "# {correlation_id" not in response.text


def test_metrics_serves_openmetrics_with_exemplars_when_asked(client: TestClient) -> None:
    """With an OpenMetrics Accept header, /metrics carries the correlation_id exemplar."""
    client.post("/query", json=QUESTION, headers={"X-Correlation-ID": "exemplar-1"})
    response = client.get(
        "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
    )
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert '# {correlation_id="exemplar-1"}' in response.text
    assert response.text.rstrip().endswith("# EOF")
    assert "_created" not in response.text


def test_default_registry_includes_process_metrics() -> None:
    """Without a registry argument the app uses a private registry with process metrics."""
    from sample_rag_app.main import create_app

    with TestClient(create_app(fast_settings())) as client:
        text = client.get("/metrics").text
    assert "process_cpu_seconds_total" in text or "python_info" in text
    assert "rag_requests_total" in text


def test_metrics_disabled_records_nothing(make_client: ClientFactory) -> None:
    """With metrics_enabled false, queries work and /metrics has no rag_ series."""
    client = make_client(metrics_enabled=False, logging_enabled=False)
    assert client.post("/query", json=QUESTION).status_code == 200
    assert "rag_" not in client.get("/metrics").text


def test_openapi_documents_every_endpoint_and_the_error_model(client: TestClient) -> None:
    """The OpenAPI document lists every route, the response models and the error shape."""
    spec = client.get("/openapi.json").json()
    paths = {"/query", "/metrics", "/healthz", "/readyz", "/admin/faults", "/admin/resilience"}
    assert paths <= set(spec["paths"])
    query = spec["paths"]["/query"]["post"]["responses"]
    assert {"200", "400", "413", "422", "502", "503", "504"} <= set(query)
    schemas = spec["components"]["schemas"]
    assert {
        "QueryRequest", "QueryResponse", "ErrorResponse", "FaultStatus", "FaultUpdate",
        "ResilienceConfig", "ResilienceUpdate",
    } <= set(schemas)  # fmt: skip
    assert set(schemas["ErrorResponse"]["properties"]) == {"error", "message", "correlation_id"}
