"""The provider's admin API (off by default, token first, ranges named), its bad-input
answers below the SDK, its seeded determinism and its /metrics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from conftest import ADMIN_TOKEN, RunningProvider

Serve = Callable[..., RunningProvider]
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
CHAT_BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}


def test_the_admin_endpoints_are_disabled_without_a_token(serve: Serve) -> None:
    """PROVIDER_ADMIN_TOKEN unset (the default): 404 naming the variable to set."""
    running = serve(admin_token=None)
    for method in ("GET", "PUT", "DELETE"):
        response = httpx.request(method, f"{running.url}/admin/faults", json={}, headers=AUTH)
        assert response.status_code == 404
        assert "PROVIDER_ADMIN_TOKEN" in response.json()["error"]["message"]


def test_a_wrong_token_is_401_before_the_body_is_read(serve: Serve) -> None:
    """Who asks is checked first: a malformed body with a wrong token is a 401, not a 400."""
    running = serve()
    response = httpx.put(
        f"{running.url}/admin/faults",
        content=b"{not json",
        headers={"Authorization": "Bearer wrong"},
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"llm_error_rate": 2}, "llm_error_rate must be a number at least 0 and at most 1, got 2"),
        ({"added_latency_seconds": -1}, "at least 0 and at most 60"),
        ({"llm_outage_seconds": 0}, "greater than 0 and at most 3600"),
        ({"llm_error_rate": "0.5"}, "llm_error_rate must be a number"),
        ({"llm_error_rate": True}, "llm_error_rate must be a number"),
        ({"vector_store_down": True}, "unknown field 'vector_store_down'"),
        ({"latency_spike_seconds": 1}, "must be set together"),
        ([1, 2], "a JSON object"),
    ],
)
def test_an_out_of_range_change_is_a_422_naming_the_range(
    serve: Serve, body: Any, words: str
) -> None:
    """A change the fault model refuses changes nothing and says what is allowed."""
    running = serve()
    before = httpx.get(f"{running.url}/admin/faults", headers=AUTH).json()
    response = httpx.put(f"{running.url}/admin/faults", json=body, headers=AUTH)
    assert response.status_code == 422
    assert words in response.json()["error"]["message"]
    assert httpx.get(f"{running.url}/admin/faults", headers=AUTH).json() == before


def test_a_change_shows_in_the_status_and_delete_resets_it(serve: Serve) -> None:
    """PUT changes only the fields given and starts the windows; DELETE ends them."""
    running = serve()
    status = running.set_faults(
        llm_timeout_rate=0.25, latency_spike_seconds=3, latency_spike_duration_seconds=60
    )
    assert status["llm_timeout_rate"] == 0.25
    assert status["latency_spike_seconds"] == 3
    assert 0 < status["latency_spike_remaining_seconds"] <= 60
    reset = httpx.delete(f"{running.url}/admin/faults", headers=AUTH).json()
    assert reset["llm_timeout_rate"] == 0
    assert reset["latency_spike_remaining_seconds"] == 0


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b"{not json", 400, "invalid_json"),
        (b'{"model": "gpt-4o-mini"}', 400, "invalid_value"),
        (
            b'{"model": "gpt-4o-mini", "messages": [{"role": "robot", "content": "x"}]}',
            400,
            "invalid_value",
        ),
        (b'{"model": "gpt-4o-mini", "messages": []}', 400, "invalid_value"),
        (b'"a string"', 400, "invalid_value"),
    ],
)
def test_malformed_requests_are_openai_shaped_400s(
    serve: Serve, content: bytes, status: int, code: str
) -> None:
    """Below the SDK too, bad input is a 4xx in OpenAI's error shape, never a 500."""
    running = serve()
    response = httpx.post(
        f"{running.url}/v1/chat/completions",
        content=content,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == status
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["code"] == code


def test_a_body_over_the_limit_is_a_413(serve: Serve) -> None:
    """PROVIDER_MAX_BODY_BYTES bounds what a call may send."""
    running = serve(max_body_bytes=2048)
    body = CHAT_BODY | {"messages": [{"role": "user", "content": "x" * 4096}]}
    response = httpx.post(f"{running.url}/v1/chat/completions", json=body)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"


def _statuses(running: RunningProvider, calls: int) -> list[int]:
    with httpx.Client(base_url=running.url) as client:
        return [
            client.post("/v1/chat/completions", json=CHAT_BODY).status_code for _ in range(calls)
        ]


def test_the_same_seed_injects_the_same_faults(serve: Serve) -> None:
    """PROVIDER_SEED fixes which calls fail: two providers with one seed agree call for
    call, another seed does not."""
    runs = []
    for seed in (7, 7, 8):
        running = serve(seed=seed)
        running.set_faults(llm_error_rate=0.3)
        runs.append(_statuses(running, 40))
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    assert 0 < runs[0].count(500) < 40


def test_metrics_count_calls_faults_and_tokens_with_bounded_labels(serve: Serve) -> None:
    """/metrics (its own registry) has the calls by endpoint and status, the faults by kind
    and the tokens; an unknown path is counted as `other`, not as a new series."""
    running = serve()
    with httpx.Client(base_url=running.url) as client:
        assert client.post("/v1/chat/completions", json=CHAT_BODY).status_code == 200
        assert client.get("/v1/nowhere/123").status_code == 404
        running.set_faults(llm_error_rate=1.0)
        assert client.post("/v1/chat/completions", json=CHAT_BODY).status_code == 500
        text = client.get("/metrics").text
    assert 'provider_calls_total{endpoint="/v1/chat/completions",status="200"} 1.0' in text
    assert 'provider_calls_total{endpoint="/v1/chat/completions",status="500"} 1.0' in text
    assert 'provider_calls_total{endpoint="other",status="404"} 1.0' in text
    assert 'provider_faults_injected_total{kind="llm_error"} 1.0' in text
    assert 'provider_tokens_total{kind="prompt"} 1.0' in text
    assert "nowhere" not in text
    assert "python_gc" not in text  # a registry of its own, not the default one
