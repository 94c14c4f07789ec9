"""The metrics contract: names, labels, buckets, no _created series, exemplars."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics
from prometheus_client.parser import text_string_to_metric_families

from sample_rag_app.pipeline.errors import ANSWER_LEVELS, ERROR_TYPES
from sample_rag_app.pipeline.resilience.config import MECHANISMS
from sample_rag_app.telemetry.metrics import INVALID_REASONS, RagMetrics
from sample_rag_app.telemetry.recorder import RagTelemetry

# name -> label names of its samples (histograms: of their _bucket samples, without le).
CONTRACT: dict[str, tuple[str, ...]] = {
    "rag_query_duration_seconds": (),
    "rag_requests_total": (),
    "rag_errors_total": (),
    "rag_errors_by_type_total": ("error_type",),
    "rag_cache_hits_total": (),
    "rag_cache_requests_total": (),
    "rag_cost_usd_total": ("model",),
    "rag_tokens_total": ("kind", "model"),
    "rag_rate_limit_headroom_percent": (),
    "rag_stage_duration_seconds": ("stage",),
    "rag_invalid_requests_total": ("reason",),
    "rag_build_info": ("llm_provider", "python_version", "replica", "version"),
    "rag_circuit_breaker_state": ("service", "state"),
    "rag_retries_total": ("service",),
    # resilience (M2.4)
    "rag_answers_total": ("level",),
    "rag_retry_budget_exhausted_total": ("service",),
    "rag_circuit_breaker_transitions_total": ("service", "state"),
    "rag_llm_inflight": (),
    "rag_llm_queue_depth": (),
    "rag_shed_requests_total": (),
    "rag_paced_calls_total": (),
    "rag_pacing_wait_seconds_total": (),
    "rag_resilience_enabled": ("mechanism",),
}


def _metrics(registry: CollectorRegistry) -> RagMetrics:
    return RagMetrics(
        registry,
        model="gpt-4o-mini",
        secondary_model="gpt-4.1-nano",
        version="1.2.3",
        llm_provider="simulated",
    )


def _sample_labels(registry: CollectorRegistry) -> dict[str, set[tuple[str, ...]]]:
    text = generate_latest(registry).decode()
    seen: dict[str, set[tuple[str, ...]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            name = sample.name.removesuffix("_bucket").removesuffix("_count").removesuffix("_sum")
            labels = tuple(sorted(k for k in sample.labels if k != "le"))
            seen.setdefault(name, set()).add(labels)
    return seen


def test_every_contract_series_exists_with_exactly_its_labels(registry: CollectorRegistry) -> None:
    """Each metric of the contract is exposed, with exactly the contracted label names."""
    _metrics(registry)
    seen = _sample_labels(registry)
    for name, labels in CONTRACT.items():
        assert seen.get(name) == {labels}, name
    assert set(seen) == set(CONTRACT)


def test_no_created_series_are_exposed(registry: CollectorRegistry) -> None:
    """Neither text format carries *_created series."""
    _metrics(registry).requests.inc()
    assert b"_created" not in generate_latest(registry)
    assert b"_created" not in generate_openmetrics(registry)


def test_labelled_children_are_pre_created_at_zero(registry: CollectorRegistry) -> None:
    """Error types, invalid reasons, stages and retries exist at 0 before any traffic."""
    _metrics(registry)
    for error_type in ERROR_TYPES:
        value = registry.get_sample_value("rag_errors_by_type_total", {"error_type": error_type})
        assert value == 0.0
    for reason in INVALID_REASONS:
        assert registry.get_sample_value("rag_invalid_requests_total", {"reason": reason}) == 0
    for stage in ("embedding", "vector_search", "llm"):
        assert registry.get_sample_value("rag_stage_duration_seconds_count", {"stage": stage}) == 0
    for service in ("llm", "vector_store"):
        assert registry.get_sample_value("rag_retries_total", {"service": service}) == 0
    assert registry.get_sample_value("rag_cost_usd_total", {"model": "gpt-4o-mini"}) == 0


def test_resilience_children_are_pre_created_with_fixed_label_values(
    registry: CollectorRegistry,
) -> None:
    """Answer levels, mechanisms, breaker transitions and both models exist before traffic."""
    _metrics(registry)
    for level in ANSWER_LEVELS:
        assert registry.get_sample_value("rag_answers_total", {"level": level}) == 0
    for mechanism in MECHANISMS:
        assert registry.get_sample_value("rag_resilience_enabled", {"mechanism": mechanism}) == 0
    for service in ("llm", "vector_store"):
        assert (
            registry.get_sample_value("rag_retry_budget_exhausted_total", {"service": service}) == 0
        )
        for state in ("closed", "open", "half_open"):
            labels = {"service": service, "state": state}
            assert registry.get_sample_value("rag_circuit_breaker_transitions_total", labels) == 0
    for model in ("gpt-4o-mini", "gpt-4.1-nano"):
        assert registry.get_sample_value("rag_cost_usd_total", {"model": model}) == 0
        for kind in ("prompt", "completion"):
            labels = {"model": model, "kind": kind}
            assert registry.get_sample_value("rag_tokens_total", labels) == 0
    for name in ("rag_llm_inflight", "rag_llm_queue_depth", "rag_shed_requests_total",
                 "rag_paced_calls_total", "rag_pacing_wait_seconds_total"):  # fmt: skip
        assert registry.get_sample_value(name) == 0


def test_query_duration_buckets_are_the_contracted_ones(registry: CollectorRegistry) -> None:
    """rag_query_duration_seconds has the 14 contracted buckets plus +Inf."""
    _metrics(registry)
    text = generate_latest(registry).decode()
    buckets = [
        sample.labels["le"]
        for family in text_string_to_metric_families(text)
        if family.name == "rag_query_duration_seconds"
        for sample in family.samples
        if sample.name.endswith("_bucket")
    ]
    assert buckets == [
        "0.05", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.75",
        "1.0", "1.5", "2.0", "3.0", "5.0", "10.0", "+Inf",
    ]  # fmt: skip


def test_circuit_breakers_start_closed_one_hot(registry: CollectorRegistry) -> None:
    """Each breaker has closed=1, open=0, half_open=0; set_circuit_state moves the 1."""
    metrics = _metrics(registry)

    def state(service: str, value: str) -> float | None:
        return registry.get_sample_value(
            "rag_circuit_breaker_state", {"service": service, "state": value}
        )

    assert [state("llm", s) for s in ("closed", "open", "half_open")] == [1.0, 0.0, 0.0]
    metrics.set_circuit_state("vector_store", "open")
    assert [state("vector_store", s) for s in ("closed", "open", "half_open")] == [0, 1, 0]


def test_build_info_is_one_with_the_build_labels(registry: CollectorRegistry) -> None:
    """rag_build_info is 1 with version, python_version, llm_provider and the replica."""
    RagMetrics(
        registry,
        model="m",
        version="9.9",
        llm_provider="openai",
        python_version="3.11.9",
        replica="3f2a9c1d04be",
    )
    labels = {
        "version": "9.9",
        "python_version": "3.11.9",
        "llm_provider": "openai",
        "replica": "3f2a9c1d04be",
    }
    assert registry.get_sample_value("rag_build_info", labels) == 1.0


def test_headroom_gauge_reads_its_source_at_scrape_time(registry: CollectorRegistry) -> None:
    """The headroom gauge reports the bound source's current value on every collection."""
    metrics = _metrics(registry)
    assert registry.get_sample_value("rag_rate_limit_headroom_percent") == 100.0
    value = [80.0]
    metrics.bind_rate_limit_headroom(lambda: value[0])
    assert registry.get_sample_value("rag_rate_limit_headroom_percent") == 80.0
    value[0] = 15.0
    assert registry.get_sample_value("rag_rate_limit_headroom_percent") == 15.0


def test_query_outcomes_update_counters_and_carry_exemplars(registry: CollectorRegistry) -> None:
    """Success and failure both observe the latency with a correlation_id exemplar."""
    telemetry = RagTelemetry(_metrics(registry), logging_enabled=False)
    telemetry.query_received(question="q", top_k=4)
    telemetry.query_succeeded(seconds=0.12, correlation_id="ok-1", cached=False, level="primary")
    telemetry.query_received(question="q", top_k=4)
    telemetry.query_failed(
        seconds=7.0, correlation_id="bad-1", error_type="llm_timeout", stage="llm"
    )
    assert registry.get_sample_value("rag_requests_total") == 2
    assert registry.get_sample_value("rag_errors_total") == 1
    assert registry.get_sample_value("rag_errors_by_type_total", {"error_type": "llm_timeout"}) == 1
    assert registry.get_sample_value("rag_answers_total", {"level": "primary"}) == 1
    assert registry.get_sample_value("rag_query_duration_seconds_count") == 2
    openmetrics = generate_openmetrics(registry).decode()
    assert '# {correlation_id="ok-1"} 0.12' in openmetrics
    assert '# {correlation_id="bad-1"} 7.0' in openmetrics
    assert "ok-1" not in generate_latest(registry).decode()


def test_llm_usage_counts_tokens_and_cost_under_the_configured_model(
    registry: CollectorRegistry,
) -> None:
    """Tokens and cost are counted under the configured model label, whatever the reply says."""
    telemetry = RagTelemetry(_metrics(registry), logging_enabled=False)
    telemetry.llm_call_completed(
        seconds=0.2, model="gpt-4o-mini-2024-07-18", prompt_tokens=300, completion_tokens=50,
        cost_usd=0.001,
    )  # fmt: skip
    model = {"model": "gpt-4o-mini"}
    assert registry.get_sample_value("rag_tokens_total", {**model, "kind": "prompt"}) == 300
    assert registry.get_sample_value("rag_tokens_total", {**model, "kind": "completion"}) == 50
    assert registry.get_sample_value("rag_cost_usd_total", model) == 0.001
    assert registry.get_sample_value("rag_stage_duration_seconds_count", {"stage": "llm"}) == 1


def test_secondary_model_usage_is_counted_under_its_own_label(
    registry: CollectorRegistry,
) -> None:
    """A fallback model's tokens and cost go to its own pre-created model label."""
    telemetry = RagTelemetry(_metrics(registry), logging_enabled=False)
    telemetry.llm_call_completed(
        seconds=0.1, model="gpt-4.1-nano", prompt_tokens=100, completion_tokens=10,
        cost_usd=0.0002,
    )  # fmt: skip
    assert registry.get_sample_value("rag_cost_usd_total", {"model": "gpt-4.1-nano"}) == 0.0002
    assert registry.get_sample_value("rag_cost_usd_total", {"model": "gpt-4o-mini"}) == 0


def test_resilience_reports_drive_their_series(registry: CollectorRegistry) -> None:
    """Retries, budget, breaker transitions, admission, shedding, pacing and switches count."""
    telemetry = RagTelemetry(_metrics(registry), logging_enabled=False)
    telemetry.retry_scheduled(service="llm", attempt=2, wait_seconds=0.1, error_type="llm_error")
    telemetry.retry_budget_exhausted(service="vector_store")
    telemetry.circuit_state_changed(
        service="llm", previous="closed", state="open", correlation_id="c-1"
    )
    telemetry.admission_changed(inflight=3, queued=2)
    telemetry.request_shed()
    telemetry.llm_call_paced(seconds=0.25)
    telemetry.resilience_configured(in_effect={m: m == "retries" for m in MECHANISMS})
    value = registry.get_sample_value
    assert value("rag_retries_total", {"service": "llm"}) == 1
    assert value("rag_retry_budget_exhausted_total", {"service": "vector_store"}) == 1
    assert value("rag_circuit_breaker_state", {"service": "llm", "state": "open"}) == 1
    assert value("rag_circuit_breaker_state", {"service": "llm", "state": "closed"}) == 0
    assert value("rag_circuit_breaker_transitions_total", {"service": "llm", "state": "open"}) == 1
    assert (value("rag_llm_inflight"), value("rag_llm_queue_depth")) == (3, 2)
    assert value("rag_shed_requests_total") == 1
    assert (value("rag_paced_calls_total"), value("rag_pacing_wait_seconds_total")) == (1, 0.25)
    assert value("rag_resilience_enabled", {"mechanism": "retries"}) == 1
    assert value("rag_resilience_enabled", {"mechanism": "pacing"}) == 0


def test_cache_lookups_count_hits_and_requests(registry: CollectorRegistry) -> None:
    """Every lookup counts a cache request; hits also count a cache hit."""
    telemetry = RagTelemetry(_metrics(registry), logging_enabled=False)
    telemetry.cache_lookup(hit=True)
    telemetry.cache_lookup(hit=False)
    assert registry.get_sample_value("rag_cache_requests_total") == 2
    assert registry.get_sample_value("rag_cache_hits_total") == 1


def test_unknown_invalid_reason_counts_as_other(registry: CollectorRegistry) -> None:
    """An unexpected reason never creates a series: it counts as other."""
    metrics = _metrics(registry)
    metrics.invalid_request("no_such_reason")  # type: ignore[arg-type]
    assert registry.get_sample_value("rag_invalid_requests_total", {"reason": "other"}) == 1
    assert (
        registry.get_sample_value("rag_invalid_requests_total", {"reason": "no_such_reason"})
        is None
    )
