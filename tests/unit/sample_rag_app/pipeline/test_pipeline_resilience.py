"""The pipeline with resilience on: fallback order, breakers, deadline, shedding, pacing.

Every test runs on a virtual clock: simulated latencies, timeouts and backoffs take no
real time, and a fixed seed makes each run the same.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from rag_test_support import RecordingClock, RecordingTelemetry

from sample_rag_app.assembly import build_pipeline
from sample_rag_app.pipeline.errors import (
    CircuitOpenError,
    DeadlineExceededError,
    LLMError,
    OverloadedError,
    RateLimitError,
    VectorStoreUnavailableError,
)
from sample_rag_app.pipeline.faults import FaultUpdate
from sample_rag_app.pipeline.service import Answer, RagPipeline
from sample_rag_app.settings import Settings

QUESTION = "How does a response cache lower RAG cost?"


def _pipeline(
    resilience: dict[str, Any] | None = None, seed: int = 5, **overrides: Any
) -> tuple[RagPipeline, RecordingTelemetry, RecordingClock]:
    values: dict[str, Any] = {
        "faults": {"llm_error_rate": 0.0},
        "resilience_secondary_error_rate": 0.0,
        "resilience": {"enabled": True, **(resilience or {})},
    }
    values.update(overrides)
    telemetry = RecordingTelemetry()
    clock = RecordingClock()
    pipeline = build_pipeline(Settings(**values), telemetry, rng=random.Random(seed), clock=clock)
    pipeline.load()
    telemetry.events.clear()
    return pipeline, telemetry, clock


def _outage(pipeline: RagPipeline, seconds: float = 600) -> None:
    pipeline.faults.update(FaultUpdate(llm_outage_seconds=seconds))


def test_with_the_primary_down_the_secondary_model_answers() -> None:
    """Outage of the primary: the cheaper secondary answers, priced as itself, degraded."""
    pipeline, telemetry, _ = _pipeline()
    _outage(pipeline)
    answer = pipeline.answer(QUESTION, 3, "cid")
    assert (answer.level, answer.degraded, answer.model) == ("secondary", True, "gpt-4.1-nano")
    assert answer.cost_usd > 0
    assert telemetry.of("fallback_used") == [{"level": "secondary", "error_type": "llm_error"}]
    assert telemetry.of("llm_call_completed")[0]["model"] == "gpt-4.1-nano"
    assert telemetry.of("query_succeeded")[0]["level"] == "secondary"
    assert telemetry.names().count("retry_scheduled") == 2  # the primary was retried first


def test_then_a_stale_cached_answer_then_an_extractive_one() -> None:
    """Secondary down too: an expired cached answer if there is one, else an extractive one."""
    pipeline, telemetry, clock = _pipeline(resilience_secondary_error_rate=1.0)
    first = pipeline.answer(QUESTION, 3, "warm")
    clock.sleep(pipeline.cache.ttl_seconds + 1)
    _outage(pipeline)
    stale = pipeline.answer(QUESTION, 3, "stale")
    assert (stale.level, stale.cached, stale.cost_usd) == ("stale_cache", True, 0.0)
    assert (stale.answer, stale.sources, stale.model) == (first.answer, first.sources, first.model)
    extractive = pipeline.answer("What is a circuit breaker?", 3, "cold")
    assert (extractive.level, extractive.degraded) == ("extractive", True)
    assert (extractive.model, extractive.cost_usd) == ("", 0.0)
    assert extractive.answer.startswith("No model could answer")
    assert len(extractive.sources) == 3
    levels = [e["level"] for e in telemetry.of("fallback_used")]
    assert levels == ["stale_cache", "extractive"]


def test_degraded_answers_are_not_cached() -> None:
    """After the outage the same question goes to the primary again, not to a cached fallback."""
    pipeline, _, _ = _pipeline()
    _outage(pipeline)
    assert pipeline.answer(QUESTION, 3, "a").level == "secondary"
    pipeline.faults.reset()
    assert pipeline.answer(QUESTION, 3, "b").level == "primary"
    assert pipeline.answer(QUESTION, 3, "c").level == "cache"


def test_the_llm_breaker_opens_and_then_the_primary_is_not_called() -> None:
    """During an outage the breaker opens; later queries skip the primary (no retries)."""
    pipeline, telemetry, _ = _pipeline()
    _outage(pipeline)
    for i in range(3):
        pipeline.answer(f"question {i} about caches", 3, f"r{i}")
    assert pipeline.resilience.breakers["llm"].state == "open"
    opened = [e for e in telemetry.of("circuit_state_changed") if e["state"] == "open"]
    assert opened == [
        {"service": "llm", "previous": "closed", "state": "open", "correlation_id": "r1"}
    ]
    telemetry.events.clear()
    answer = pipeline.answer("one more question about retries", 3, "r9")
    assert answer.level == "secondary"
    assert telemetry.of("fallback_used")[0]["error_type"] == "circuit_open"
    assert "retry_scheduled" not in telemetry.names()


def test_after_the_outage_a_probe_closes_the_breaker() -> None:
    """Once the outage ends and the reset timeout passed, the next query probes and closes it."""
    pipeline, telemetry, clock = _pipeline()
    _outage(pipeline, seconds=30)
    for i in range(3):
        pipeline.answer(f"question {i} about caches", 3, f"r{i}")
    clock.sleep(30)
    answer = pipeline.answer("a question after the outage", 3, "probe")
    assert answer.level == "primary"
    states = [(e["state"], e["correlation_id"]) for e in telemetry.of("circuit_state_changed")]
    assert states[-2:] == [("half_open", "probe"), ("closed", "probe")]


def test_without_fallback_an_open_breaker_fails_the_query_as_circuit_open() -> None:
    """Fallback off: the outage fails queries (llm_error) until the breaker opens (503)."""
    pipeline, telemetry, _ = _pipeline({"fallback": False})
    _outage(pipeline)
    with pytest.raises(LLMError):
        pipeline.answer("question one about caches", 3, "r1")  # 3 failed attempts
    with pytest.raises(CircuitOpenError):
        pipeline.answer("question two about caches", 3, "r2")  # 2 more open it
    with pytest.raises(CircuitOpenError) as info:
        pipeline.answer("question three about caches", 3, "r3")
    assert info.value.retry_after_seconds is not None
    assert 0 < info.value.retry_after_seconds <= 10
    errors = [e["error_type"] for e in telemetry.of("query_failed")]
    assert errors == ["llm_error", "circuit_open", "circuit_open"]


def test_past_the_deadline_without_fallback_the_query_fails_as_deadline_exceeded() -> None:
    """A latency spike beyond the call timeout eats the deadline: 504 deadline_exceeded."""
    pipeline, telemetry, clock = _pipeline({"fallback": False})
    pipeline.faults.update(
        FaultUpdate(latency_spike_seconds=10, latency_spike_duration_seconds=600)
    )
    start = clock.now()
    with pytest.raises(DeadlineExceededError):
        pipeline.answer(QUESTION, 3, "slow")
    assert clock.now() - start == pytest.approx(3.0)  # the request deadline, not 2 x 10 s
    assert clock.sleeps[0] == 1.5  # the first attempt's per-call timeout
    assert telemetry.of("query_failed")[0]["error_type"] == "deadline_exceeded"


def test_with_fallback_the_deadline_keeps_time_for_the_secondary() -> None:
    """The primary must finish by deadline - reserve; the secondary answers in time."""
    pipeline, _, clock = _pipeline()
    pipeline.faults.update(
        FaultUpdate(latency_spike_seconds=10, latency_spike_duration_seconds=600)
    )
    start = clock.now()
    answer = pipeline.answer(QUESTION, 3, "slow")
    assert answer.level == "secondary"
    assert clock.now() - start < 3.0


def test_a_vector_store_failure_falls_back_to_a_stale_answer_or_fails() -> None:
    """Vector store down: a stale cached answer if any, else vector_store_unavailable."""
    pipeline, telemetry, clock = _pipeline({"circuit_breaker": False})
    pipeline.answer(QUESTION, 3, "warm")
    clock.sleep(pipeline.cache.ttl_seconds + 1)
    pipeline.faults.update(FaultUpdate(vector_store_down=True))
    assert pipeline.answer(QUESTION, 3, "stale").level == "stale_cache"
    with pytest.raises(VectorStoreUnavailableError):
        pipeline.answer("a question never asked before", 3, "cold")
    assert "retry_scheduled" in telemetry.names()
    assert {e["service"] for e in telemetry.of("retry_scheduled")} == {"vector_store"}


def test_the_vector_store_breaker_opens_on_its_failures() -> None:
    """Two failed searches open the vector store's breaker; the third query is circuit_open."""
    pipeline, telemetry, _ = _pipeline({"retries": False, "breaker_failure_threshold": 2})
    pipeline.faults.update(FaultUpdate(vector_store_down=True))
    for cid in ("r1", "r2"):
        with pytest.raises(VectorStoreUnavailableError):
            pipeline.answer("a question never asked before", 3, cid)
    with pytest.raises(CircuitOpenError):
        pipeline.answer("a question never asked before", 3, "r3")
    assert telemetry.of("circuit_state_changed") == [
        {"service": "vector_store", "previous": "closed", "state": "open", "correlation_id": "r2"}
    ]


def test_admission_control_sheds_when_every_slot_is_taken() -> None:
    """With the only LLM slot held and no queue, a query fails at once as overloaded."""
    pipeline, telemetry, _ = _pipeline({"admission_max_inflight": 1, "admission_max_queue": 0})
    budget = pipeline.resilience.begin("holder", 0.0)
    with pipeline.resilience.admission_slot(budget), pytest.raises(OverloadedError):
        pipeline.answer(QUESTION, 3, "shed")
    assert "request_shed" in telemetry.names()
    assert telemetry.of("query_failed")[0]["error_type"] == "overloaded"
    assert pipeline.answer(QUESTION, 3, "after").level == "primary"


def test_pacing_waits_for_room_where_the_plain_client_is_rate_limited() -> None:
    """5 calls a minute: without resilience the 6th call is a 429, with pacing it waits."""
    questions = [f"question number {i} about retries" for i in range(7)]
    plain, _, _ = _pipeline({"enabled": False}, rate_limit_requests_per_minute=5)
    for question in questions[:5]:
        plain.answer(question, 3, "plain")
    with pytest.raises(RateLimitError):
        plain.answer(questions[5], 3, "plain")
    paced, telemetry, _ = _pipeline(
        {"fallback": False, "timeouts": False, "pacing_max_wait_seconds": 60},
        rate_limit_requests_per_minute=5,
    )
    answers = [paced.answer(question, 3, "paced") for question in questions]
    assert {a.level for a in answers} == {"primary"}
    assert len(telemetry.of("llm_call_paced")) >= 2


def test_with_resilience_off_nothing_changes_a_failure() -> None:
    """Master switch off: an injected error fails the query at once, no retry, no fallback."""
    pipeline, telemetry, clock = _pipeline({"enabled": False})
    pipeline.faults.update(FaultUpdate(llm_error_rate=1.0))
    with pytest.raises(LLMError):
        pipeline.answer(QUESTION, 3, "cid")
    assert clock.sleeps == []
    assert telemetry.names()[-2:] == ["stage_failed", "query_failed"]
    assert not {"retry_scheduled", "fallback_used", "circuit_state_changed"} & set(
        telemetry.names()
    )


def _run(seed: int) -> list[tuple[str, str]]:
    pipeline, _, _ = _pipeline(seed=seed, faults={"llm_error_rate": 0.3, "llm_timeout_rate": 0.1})
    outcomes: list[tuple[str, str]] = []
    for i in range(60):
        try:
            answer: Answer = pipeline.answer(f"question {i % 20} on caching", 3, f"r{i}")
            outcomes.append((answer.level, answer.answer))
        except Exception as error:
            outcomes.append(("error", type(error).__name__))
    return outcomes


def test_a_seeded_run_on_the_virtual_clock_is_reproducible() -> None:
    """The same seed gives the same levels and answers, request for request."""
    first = _run(seed=21)
    assert first == _run(seed=21)
    assert len({level for level, _ in first}) >= 3
