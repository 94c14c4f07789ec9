"""The fault-injection admin endpoints: off without a token, bearer-protected with one."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from rag_test_support import ADMIN_TOKEN, ClientFactory

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_admin_is_disabled_without_a_token(
    client: TestClient, registry: CollectorRegistry, method: str
) -> None:
    """Without RAG_ADMIN_TOKEN every admin call is 404 with a JSON message saying so."""
    response = client.request(method, "/admin/faults", json={}, headers=AUTH)
    assert response.status_code == 404
    assert response.json()["error"] == "admin_disabled"
    assert "RAG_ADMIN_TOKEN" in response.json()["message"]
    assert (
        registry.get_sample_value("rag_invalid_requests_total", {"reason": "admin_disabled"}) == 1
    )


def test_empty_token_setting_counts_as_disabled(make_client: ClientFactory) -> None:
    """An empty RAG_ADMIN_TOKEN (as compose passes when unset) keeps the admin disabled."""
    client = make_client(admin_token="")
    assert client.get("/admin/faults", headers={"Authorization": "Bearer "}).status_code == 404


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {ADMIN_TOKEN}"}],
)
def test_wrong_or_missing_token_is_401(
    make_client: ClientFactory, registry: CollectorRegistry, headers: dict[str, str]
) -> None:
    """A missing, wrong or non-bearer token is 401 with WWW-Authenticate and is counted."""
    client = make_client(admin_token=ADMIN_TOKEN)
    response = client.put("/admin/faults", json={"llm_error_rate": 1}, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["error"] == "unauthorized"
    assert registry.get_sample_value("rag_invalid_requests_total", {"reason": "unauthorized"}) == 1
    assert client.get("/admin/faults", headers=AUTH).json()["llm_error_rate"] == 0.0


def test_put_get_delete_change_and_reset_the_faults(make_client: ClientFactory) -> None:
    """PUT changes the given fields, GET shows them, queries feel them, DELETE resets."""
    client = make_client(admin_token=ADMIN_TOKEN)
    assert client.get("/admin/faults", headers=AUTH).json() == {
        "llm_error_rate": 0.0,
        "llm_timeout_rate": 0.0,
        "rate_limit_error_rate": 0.0,
        "added_latency_seconds": 0.0,
        "vector_store_down": False,
        "rate_limit_consumed_percent": 0.0,
        "llm_outage_remaining_seconds": 0.0,
        "latency_spike_seconds": 0.0,
        "latency_spike_remaining_seconds": 0.0,
    }
    changed = client.put("/admin/faults", json={"vector_store_down": True}, headers=AUTH)
    assert changed.status_code == 200
    assert changed.json()["vector_store_down"] is True
    assert client.get("/admin/faults", headers=AUTH).json()["vector_store_down"] is True
    assert client.post("/query", json={"question": "What is RAG?"}).status_code == 503
    reset = client.delete("/admin/faults", headers=AUTH)
    assert reset.json()["vector_store_down"] is False
    assert client.post("/query", json={"question": "What is RAG?"}).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"llm_error_rate": 1.5},
        {"unknown_fault": True},
        {"added_latency_seconds": -1},
        {"llm_error_rate": "0.5"},
        {"vector_store_down": "yes"},
        {"llm_outage_seconds": 0},
        {"latency_spike_seconds": 2},
    ],
)
def test_invalid_fault_values_are_422(make_client: ClientFactory, body: dict[str, object]) -> None:
    """Out-of-range, wrongly typed, unknown or incomplete fault fields are 422 invalid_body."""
    client = make_client(admin_token=ADMIN_TOKEN)
    response = client.put("/admin/faults", json=body, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_body"


def test_out_of_range_fault_message_names_the_allowed_range(make_client: ClientFactory) -> None:
    """The 422 message of a value out of range names the field and its whole range."""
    client = make_client(admin_token=ADMIN_TOKEN)
    response = client.put("/admin/faults", json={"llm_outage_seconds": 7200}, headers=AUTH)
    message = response.json()["message"]
    assert "llm_outage_seconds" in message
    assert "greater than 0 and at most 3600" in message


def test_outage_fault_fails_queries_and_shows_its_remaining_time(
    make_client: ClientFactory,
) -> None:
    """PUT llm_outage_seconds fails every query with 502 llm_error; GET shows the time left."""
    client = make_client(admin_token=ADMIN_TOKEN)
    status = client.put("/admin/faults", json={"llm_outage_seconds": 120}, headers=AUTH).json()
    assert 0 < status["llm_outage_remaining_seconds"] <= 120
    response = client.post("/query", json={"question": "What is RAG?"})
    assert (response.status_code, response.json()["error"]) == (502, "llm_error")
    cleared = client.delete("/admin/faults", headers=AUTH).json()
    assert cleared["llm_outage_remaining_seconds"] == 0
    assert client.post("/query", json={"question": "What is RAG?"}).status_code == 200


def test_token_is_checked_before_the_body(make_client: ClientFactory) -> None:
    """An unauthenticated PUT with an invalid body gets 401, not the body's schema errors."""
    client = make_client(admin_token=ADMIN_TOKEN)
    response = client.put("/admin/faults", json={"llm_error_rate": "lots"})
    assert response.status_code == 401
    assert "llm_error_rate" not in response.text


def test_disabled_admin_hides_the_body_schema(client: TestClient) -> None:
    """With the admin disabled, an invalid body still gets the 404 that says so."""
    response = client.put("/admin/faults", json={"vector_store_down": "maybe"})
    assert response.status_code == 404
    assert response.json()["error"] == "admin_disabled"
