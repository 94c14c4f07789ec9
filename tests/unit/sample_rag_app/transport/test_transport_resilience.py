"""The resilience admin API, the answer level in responses, errors and metrics over HTTP.

The apps here run on a virtual clock: backoffs and timeouts take no real time.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from prometheus_client import CollectorRegistry, generate_latest
from rag_test_support import ADMIN_TOKEN, TestClient, fast_settings
from structlog.testing import capture_logs

from sample_rag_app.clock import VirtualClock
from sample_rag_app.main import create_app
from sample_rag_app.pipeline.errors import ANSWER_LEVELS
from sample_rag_app.pipeline.resilience.config import MECHANISMS, ResilienceConfig

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
QUESTION = {"question": "How does a response cache lower RAG cost?", "top_k": 3}


@pytest.fixture
def make_app(registry: CollectorRegistry) -> Iterator[Any]:
    """Start an app with admin enabled on a virtual clock, from settings overrides."""
    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        settings = fast_settings(admin_token=ADMIN_TOKEN, **overrides)
        app = create_app(settings, registry, rng=random.Random(7), clock=VirtualClock())
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def _enabled(registry: CollectorRegistry) -> dict[str, float | None]:
    return {
        m: registry.get_sample_value("rag_resilience_enabled", {"mechanism": m}) for m in MECHANISMS
    }


def test_get_put_delete_show_change_and_reset_the_configuration(
    make_app: Any, registry: CollectorRegistry
) -> None:
    """GET shows the contract's switches; PUT changes some; DELETE goes back to the settings."""
    client = make_app()
    shown = client.get("/admin/resilience", headers=AUTH).json()
    assert shown == ResilienceConfig().model_dump()
    assert {"enabled", *MECHANISMS} <= set(shown)
    assert set(_enabled(registry).values()) == {0.0}

    changed = client.put("/admin/resilience", json={"enabled": True, "pacing": False}, headers=AUTH)
    assert changed.status_code == 200
    assert (changed.json()["enabled"], changed.json()["pacing"]) == (True, False)
    assert client.get("/admin/resilience", headers=AUTH).json()["enabled"] is True
    assert _enabled(registry) == {m: 0.0 if m == "pacing" else 1.0 for m in MECHANISMS}

    reset = client.delete("/admin/resilience", headers=AUTH)
    assert reset.json() == ResilienceConfig().model_dump()
    assert set(_enabled(registry).values()) == {0.0}


def test_start_up_settings_are_what_delete_returns_to(make_app: Any) -> None:
    """RAG_RESILIENCE=on at start-up: DELETE restores on, not the built-in default off."""
    client = make_app(resilience={"enabled": True, "retry_max_attempts": 2})
    client.put("/admin/resilience", json={"enabled": False}, headers=AUTH)
    reset = client.delete("/admin/resilience", headers=AUTH).json()
    assert (reset["enabled"], reset["retry_max_attempts"]) == (True, 2)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"retry": True}, "unknown field retry; known fields: admission, "),
        ({"enabled": "yes"}, "enabled"),
        ({"retry_budget_ratio": "0.5"}, "retry_budget_ratio"),
        ({"admission_max_inflight": 0}, "an integer from 1 to 10000"),
        ({"request_deadline_seconds": 0.0}, "a number greater than 0 and at most 300"),
        ({"fallback_reserve_seconds": 5.0}, "less than request_deadline_seconds"),
    ],
)
def test_bad_changes_are_422_with_a_message_naming_what_is_allowed(
    make_app: Any, body: dict[str, object], fragment: str
) -> None:
    """Unknown fields, wrong types and values out of range are refused and nothing changes."""
    client = make_app()
    response = client.put("/admin/resilience", json=body, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_body"
    assert fragment in response.json()["message"]
    assert client.get("/admin/resilience", headers=AUTH).json() == ResilienceConfig().model_dump()


def test_resilience_admin_needs_the_token(make_app: Any) -> None:
    """Without the bearer token the resilience endpoints are 401 like the fault endpoints."""
    client = make_app()
    assert client.get("/admin/resilience").status_code == 401
    assert client.put("/admin/resilience", json={"enabled": True}).status_code == 401


def test_a_degraded_answer_says_so_in_the_response(make_app: Any) -> None:
    """During an outage with resilience on, the secondary answers: 200, degraded, its model."""
    client = make_app(resilience={"enabled": True})
    client.put("/admin/faults", json={"llm_outage_seconds": 60}, headers=AUTH)
    body = client.post("/query", json=QUESTION).json()
    assert (body["answer_level"], body["degraded"], body["model"]) == (
        "secondary",
        True,
        "gpt-4.1-nano",
    )
    assert body["cost_usd"] > 0


def test_a_shed_request_is_503_overloaded_with_retry_after(make_app: Any) -> None:
    """Admission control full: 503 overloaded with a Retry-After header."""
    client = make_app(resilience={"enabled": True, "admission_max_queue": 0})
    pipeline = client.app.state.pipeline  # type: ignore[attr-defined]
    budget = pipeline.resilience.begin("holder", 0.0)
    config = pipeline.resilience.config.model_copy(update={"admission_max_inflight": 1})
    with pipeline.resilience.admission.slot(config, budget.deadline):
        client.put("/admin/resilience", json={"admission_max_inflight": 1}, headers=AUTH)
        response = client.post("/query", json=QUESTION)
    assert response.status_code == 503
    assert response.json()["error"] == "overloaded"
    assert response.headers["Retry-After"] == "1"


def test_an_open_breaker_without_fallback_is_503_circuit_open_with_retry_after(
    make_app: Any,
) -> None:
    """Outage, fallback off: after the breaker opens, queries are 503 circuit_open."""
    client = make_app(resilience={"enabled": True, "fallback": False, "retries": False})
    client.put("/admin/faults", json={"llm_outage_seconds": 600}, headers=AUTH)
    statuses = [
        client.post("/query", json={"question": f"question {i}"}).status_code for i in range(6)
    ]
    assert statuses == [502] * 5 + [503]
    last = client.post("/query", json={"question": "one more"})
    assert last.json()["error"] == "circuit_open"
    assert 1 <= int(last.headers["Retry-After"]) <= 10


def test_breaker_transitions_are_logged_with_the_causing_requests_id(make_app: Any) -> None:
    """The line saying the breaker opened carries the correlation id of the request."""
    client = make_app(resilience={"enabled": True, "retries": False})
    client.put("/admin/faults", json={"llm_outage_seconds": 600}, headers=AUTH)
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        for i in range(5):
            client.post(
                "/query", json={"question": f"q{i}"}, headers={"X-Correlation-ID": f"req-{i}"}
            )
    changes = [line for line in logs if line["event"] == "circuit_breaker_state_changed"]
    assert len(changes) == 1
    assert changes[0]["correlation_id"] == "req-4"
    assert (changes[0]["dependency"], changes[0]["state"]) == ("llm", "open")
    assert "service" not in changes[0]  # left to the renderer: the app's name
    assert changes[0]["log_level"] == "warning"


def _series(registry: CollectorRegistry) -> set[str]:
    return {
        line.split(" ")[0]
        for line in generate_latest(registry).decode().splitlines()
        if line.startswith("rag_")
    }


def test_requests_equal_answers_plus_errors_and_no_series_per_request(
    make_app: Any, registry: CollectorRegistry
) -> None:
    """Under mixed faults, on and off: requests == sum(answers) + errors; series stay fixed."""
    client = make_app(faults={"llm_error_rate": 0.3, "llm_timeout_rate": 0.05})
    before = _series(registry)
    for phase, enabled in enumerate((False, True)):
        client.put("/admin/resilience", json={"enabled": enabled}, headers=AUTH)
        if enabled:
            client.put("/admin/faults", json={"llm_outage_seconds": 5}, headers=AUTH)
        for i in range(60):
            question = {"question": f"Question {i % 25} of phase {phase}?", "top_k": 1 + i % 5}
            client.post("/query", json=question, headers={"X-Correlation-ID": f"p{phase}-{i}"})
    value = registry.get_sample_value
    requests = value("rag_requests_total")
    answers = sum(value("rag_answers_total", {"level": level}) or 0 for level in ANSWER_LEVELS)
    errors = value("rag_errors_total")
    assert requests == 120
    assert errors is not None
    assert errors > 0
    assert requests == answers + errors
    assert value("rag_answers_total", {"level": "secondary"}) or value(
        "rag_answers_total", {"level": "extractive"}
    )
    assert _series(registry) == before
