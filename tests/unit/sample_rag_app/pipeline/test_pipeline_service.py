"""RagPipeline.answer: the stages, the cache, the faults and what it reports."""

from __future__ import annotations

import random
from typing import Any

import pytest
from rag_test_support import RecordingClock, RecordingTelemetry

from sample_rag_app.assembly import build_pipeline
from sample_rag_app.pipeline.errors import (
    InternalPipelineError,
    LLMError,
    LLMTimeoutError,
    RateLimitError,
    VectorStoreUnavailableError,
)
from sample_rag_app.pipeline.faults import FaultUpdate
from sample_rag_app.pipeline.ports import NullTelemetry
from sample_rag_app.pipeline.service import RagPipeline
from sample_rag_app.settings import Settings

QUESTION = "How does a response cache lower RAG cost?"


def _pipeline(**overrides: Any) -> tuple[RagPipeline, RecordingTelemetry, list[float]]:
    values: dict[str, Any] = {
        "simulated_latency_median_seconds": 0.0,
        "llm_timeout_seconds": 3.0,
    }
    values.update(overrides)
    values["faults"] = {"llm_error_rate": 0.0, **overrides.get("faults", {})}
    telemetry = RecordingTelemetry()
    clock = RecordingClock()
    pipeline = build_pipeline(Settings(**values), telemetry, rng=random.Random(5), clock=clock)
    pipeline.load()
    telemetry.events.clear()  # what construction reported (the resilience configuration)
    return pipeline, telemetry, clock.sleeps


def test_answer_runs_every_stage_and_reports_them_in_order() -> None:
    """A cache miss embeds, searches, calls the LLM and reports each stage in order."""
    pipeline, telemetry, _ = _pipeline()
    answer = pipeline.answer(QUESTION, 3, "cid-1")
    assert telemetry.names() == [
        "query_received",
        "cache_lookup",
        "embedding_generated",
        "vector_search_completed",
        "llm_call_completed",
        "query_succeeded",
    ]
    assert answer.correlation_id == "cid-1"
    assert not answer.cached
    assert len(answer.sources) == 3
    assert answer.sources[0].id.startswith("cache-")
    assert answer.cost_usd > 0
    assert answer.model == "gpt-4o-mini"
    assert (answer.level, answer.degraded) == ("primary", False)
    llm_event = dict(telemetry.events)["llm_call_completed"]
    assert llm_event["cost_usd"] == answer.cost_usd
    assert dict(telemetry.events)["cache_lookup"] == {"hit": False}


def test_second_identical_question_is_served_from_the_cache() -> None:
    """A repeated (normalised) question is a cache hit: no LLM call, no cost."""
    pipeline, telemetry, _ = _pipeline()
    first = pipeline.answer(QUESTION, 3, "cid-1")
    telemetry.events.clear()
    second = pipeline.answer("how does a response cache lower rag cost", 3, "cid-2")
    assert telemetry.names() == ["query_received", "cache_lookup", "query_succeeded"]
    assert dict(telemetry.events)["query_succeeded"]["cached"] is True
    assert dict(telemetry.events)["query_succeeded"]["level"] == "cache"
    assert (second.cached, second.level) == (True, "cache")
    assert second.cost_usd == 0.0
    assert second.correlation_id == "cid-2"
    assert (second.answer, second.sources) == (first.answer, first.sources)


def test_vector_store_down_fails_in_the_vector_search_stage() -> None:
    """With vector_store_down the query fails with VectorStoreUnavailableError, reported."""
    pipeline, telemetry, _ = _pipeline(faults={"vector_store_down": True})
    with pytest.raises(VectorStoreUnavailableError):
        pipeline.answer(QUESTION, 3, "cid")
    name, failed = telemetry.events[-1]
    assert name == "query_failed"
    assert failed["error_type"] == "vector_store_unavailable"
    assert failed["stage"] == "vector_search"
    assert failed["correlation_id"] == "cid"


@pytest.mark.parametrize(
    ("change", "error", "error_type"),
    [
        (FaultUpdate(llm_error_rate=1.0), LLMError, "llm_error"),
        (FaultUpdate(llm_timeout_rate=1.0), LLMTimeoutError, "llm_timeout"),
        (FaultUpdate(rate_limit_error_rate=1.0), RateLimitError, "rate_limited"),
    ],
)
def test_injected_llm_faults_fail_the_query(
    change: FaultUpdate, error: type[Exception], error_type: str
) -> None:
    """Each injected LLM fault raises its error and reports it at the llm stage."""
    pipeline, telemetry, _ = _pipeline()
    pipeline.faults.update(change)
    with pytest.raises(error):
        pipeline.answer(QUESTION, 3, "cid")
    assert telemetry.names()[-2:] == ["stage_failed", "query_failed"]
    assert telemetry.events[-1][1]["error_type"] == error_type
    assert telemetry.events[-1][1]["stage"] == "llm"


def test_swallowed_errors_are_blank_answers_reported_as_answered() -> None:
    """Under errors_as_empty_answers a failed query returns a blank primary answer and is
    reported answered, so neither the transport nor the telemetry needs the fault."""
    pipeline, telemetry, _ = _pipeline()
    pipeline.faults.update(FaultUpdate(llm_error_rate=1.0, errors_as_empty_answers=True))
    answer = pipeline.answer(QUESTION, 3, "cid")
    assert (answer.answer, answer.sources, answer.cost_usd) == ("", (), 0.0)
    assert (answer.level, answer.cached, answer.model) == ("primary", False, "gpt-4o-mini")
    assert answer.correlation_id == "cid"
    assert telemetry.names()[-2:] == ["stage_failed", "query_succeeded"]
    assert telemetry.of("query_succeeded")[-1]["level"] == "primary"
    assert "query_failed" not in telemetry.names()
    assert pipeline.answer(QUESTION, 3, "again").answer == ""  # a blank is never cached


def test_failed_answers_are_not_cached() -> None:
    """After a failure the same question is tried again, not served from the cache."""
    pipeline, _, _ = _pipeline()
    pipeline.faults.update(FaultUpdate(llm_error_rate=1.0))
    with pytest.raises(LLMError):
        pipeline.answer(QUESTION, 3, "a")
    pipeline.faults.reset()
    assert not pipeline.answer(QUESTION, 3, "b").cached


def test_timeout_fault_waits_the_timeout_and_added_latency_is_slept() -> None:
    """A timeout fault sleeps llm_timeout_seconds; an error fault first sleeps added latency."""
    pipeline, _, sleeps = _pipeline()
    pipeline.faults.update(FaultUpdate(added_latency_seconds=1.25, llm_timeout_rate=1.0))
    with pytest.raises(LLMTimeoutError):
        pipeline.answer(QUESTION, 3, "cid")
    assert sleeps == [3.0]
    pipeline.faults.update(FaultUpdate(llm_timeout_rate=0.0, llm_error_rate=1.0))
    with pytest.raises(LLMError):
        pipeline.answer(QUESTION, 3, "cid")
    assert sleeps == [3.0, 1.25]


def test_added_latency_beyond_the_timeout_is_a_timeout() -> None:
    """Added latency longer than the LLM timeout makes the call time out after the timeout."""
    pipeline, _, sleeps = _pipeline()
    pipeline.faults.update(FaultUpdate(added_latency_seconds=4.0))
    with pytest.raises(LLMTimeoutError):
        pipeline.answer(QUESTION, 3, "cid")
    assert sleeps == [3.0]


def test_unexpected_exceptions_become_internal_errors() -> None:
    """A bug inside a stage surfaces as InternalPipelineError with error type internal."""
    pipeline, telemetry, _ = _pipeline()

    def broken(text: str) -> Any:
        raise ZeroDivisionError

    pipeline.embedder.embed = broken  # type: ignore[method-assign]
    with pytest.raises(InternalPipelineError) as info:
        pipeline.answer(QUESTION, 3, "cid")
    assert info.value.stage == "embedding"
    assert telemetry.events[-1][1]["error_type"] == "internal"


def test_pipeline_is_not_ready_before_load() -> None:
    """Before load() the pipeline is not ready and queries fail as vector_store_unavailable."""
    pipeline = build_pipeline(
        Settings(faults={"llm_error_rate": 0}), NullTelemetry(), clock=RecordingClock()
    )
    assert not pipeline.ready
    with pytest.raises(VectorStoreUnavailableError):
        pipeline.answer(QUESTION, 3, "cid")
