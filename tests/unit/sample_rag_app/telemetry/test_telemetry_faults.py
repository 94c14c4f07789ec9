"""The telemetry faults: a renamed latency metric, a per-user label, a lost correlation id,
a slow tail, and the faults file read at start-up."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import structlog
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from rag_test_support import ADMIN_TOKEN, ClientFactory
from structlog.testing import capture_logs

from sample_rag_app.assembly import read_faults_file
from sample_rag_app.clock import VirtualClock
from sample_rag_app.pipeline.faults import RENAMED_LATENCY_METRIC, FaultConfig, FaultInjector

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _families(client: TestClient) -> dict[str, int]:
    text = client.get("/metrics").text
    return {f.name: len(f.samples) for f in text_string_to_metric_families(text)}


def _ask(client: TestClient, n: int) -> None:
    for i in range(n):
        reply = client.post("/query", json={"question": f"What is a vector store, take {i}?"})
        assert reply.status_code == 200


def test_rename_serves_the_histogram_under_the_new_name_and_back(
    make_client: ClientFactory,
) -> None:
    """While on, /metrics has the renamed histogram and not the old one; off restores it."""
    client = make_client(admin_token=ADMIN_TOKEN)
    _ask(client, 1)
    client.put("/admin/faults", json={"rename_latency_metric": True}, headers=AUTH)
    families = _families(client)
    assert RENAMED_LATENCY_METRIC in families
    assert "rag_query_duration_seconds" not in families
    client.delete("/admin/faults", headers=AUTH)
    families = _families(client)
    assert "rag_query_duration_seconds" in families
    assert RENAMED_LATENCY_METRIC not in families


def test_per_user_label_adds_a_series_per_request_and_goes_with_the_fault(
    make_client: ClientFactory,
) -> None:
    """Each query adds a rag_user_queries series while on; none are left once it is off."""
    client = make_client(admin_token=ADMIN_TOKEN)
    assert "rag_user_queries" not in _families(client)
    client.put("/admin/faults", json={"label_queries_by_user": True}, headers=AUTH)
    _ask(client, 5)
    assert _families(client)["rag_user_queries"] == 5
    client.delete("/admin/faults", headers=AUTH)
    assert "rag_user_queries" not in _families(client)
    client.put("/admin/faults", json={"label_queries_by_user": True}, headers=AUTH)
    assert _families(client)["rag_user_queries"] == 0


def test_lost_correlation_id_blanks_it_on_the_llm_and_response_lines(
    make_client: ClientFactory,
) -> None:
    """Under the fault, llm_call_completed and response_returned carry a null id."""
    client = make_client(admin_token=ADMIN_TOKEN)
    client.put("/admin/faults", json={"lose_correlation_id": True}, headers=AUTH)
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        client.post(
            "/query", json={"question": "Why trace requests?"}, headers={"X-Correlation-ID": "c-9"}
        )
    ids = {line["event"]: line.get("correlation_id") for line in logs}
    assert ids["query_received"] == "c-9"
    assert ids["llm_call_completed"] is None
    assert ids["response_returned"] is None


def test_swallowed_errors_answer_blank_200s_counted_as_answers(
    make_client: ClientFactory, registry: CollectorRegistry
) -> None:
    """A failing model under errors_as_empty_answers: 200, empty answer, no error counted."""
    client = make_client(admin_token=ADMIN_TOKEN)
    faults = {"llm_error_rate": 1.0, "errors_as_empty_answers": True}
    client.put("/admin/faults", json=faults, headers=AUTH)
    reply = client.post("/query", json={"question": "Is anyone there?"})
    assert reply.status_code == 200
    assert reply.json()["answer"] == ""
    assert registry.get_sample_value("rag_errors_total") == 0
    assert registry.get_sample_value("rag_answers_total", {"level": "primary"}) == 1
    client.put("/admin/faults", json={"errors_as_empty_answers": False}, headers=AUTH)
    assert client.post("/query", json={"question": "Is anyone there now?"}).status_code == 502


def test_slow_calls_hit_about_their_share_and_add_their_seconds() -> None:
    """slow_call_rate picks about that share of calls, each slow_call_seconds slower."""
    injector = FaultInjector(
        FaultConfig(slow_call_rate=0.05, slow_call_seconds=2.0), random.Random(5), VirtualClock()
    )
    extras = [injector.primary_added_latency() for _ in range(10_000)]
    assert set(extras) == {0.0, 2.0}
    assert extras.count(2.0) / len(extras) == pytest.approx(0.05, abs=0.01)


def test_faults_file_is_applied_at_start_up_and_delete_still_resets(
    make_client: ClientFactory, tmp_path: Path
) -> None:
    """RAG_FAULTS_FILE's faults are in force after start; DELETE goes back to the defaults."""
    path = tmp_path / "faults.json"
    path.write_text(json.dumps({"lose_correlation_id": True, "slow_call_rate": 0.1}))
    client = make_client(admin_token=ADMIN_TOKEN, faults_file=path)
    faults = client.get("/admin/faults", headers=AUTH).json()
    assert faults["lose_correlation_id"] is True
    assert faults["slow_call_rate"] == 0.1
    assert client.delete("/admin/faults", headers=AUTH).json()["lose_correlation_id"] is False


def test_an_unusable_faults_file_is_refused_naming_the_variable(tmp_path: Path) -> None:
    """A faults file with an unknown field stops the start with RAG_FAULTS_FILE named."""
    path = tmp_path / "faults.json"
    path.write_text(json.dumps({"no_such_fault": 1}))
    with pytest.raises(ValueError, match="RAG_FAULTS_FILE"):
        read_faults_file(path)
