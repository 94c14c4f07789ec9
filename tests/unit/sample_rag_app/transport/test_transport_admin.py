"""The fault-injection admin endpoints: off without a token, bearer-protected with one."""

from __future__ import annotations

from typing import Any

import pytest
import structlog
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from rag_test_support import ADMIN_TOKEN, ClientFactory
from structlog.testing import capture_logs

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
        "slow_call_rate": 0.0,
        "slow_call_seconds": 2.0,
        "rename_latency_metric": False,
        "label_queries_by_user": False,
        "lose_correlation_id": False,
        "errors_as_empty_answers": False,
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


@pytest.mark.parametrize(("token", "status"), [(ADMIN_TOKEN, 401), (None, 404)])
def test_malformed_json_without_the_token_is_refused_before_parsing(
    make_client: ClientFactory, token: str | None, status: int
) -> None:
    """Malformed JSON from a caller without the token gets 401 (404 when disabled), never
    the 400 that would show the body was parsed first."""
    client = make_client(admin_token=token)
    response = client.put(
        "/admin/faults", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == status
    assert response.json()["error"] in {"unauthorized", "admin_disabled"}


@pytest.mark.parametrize(
    "body",
    [
        {"llm_error_rate": "0.5"},
        {"llm_error_rate": True},
        {"added_latency_seconds": "2"},
        {"vector_store_down": "yes"},
        {"vector_store_down": 1},
        {"vector_store_down": "true"},
        {"rate_limit_consumed_percent": False},
    ],
)
def test_fault_values_are_not_coerced(make_client: ClientFactory, body: dict[str, object]) -> None:
    """Strings, and booleans for numbers or numbers for booleans, are 422, not coerced."""
    client = make_client(admin_token=ADMIN_TOKEN)
    response = client.put("/admin/faults", json=body, headers=AUTH)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_body"
    assert client.get("/admin/faults", headers=AUTH).json()["vector_store_down"] is False


def test_whole_numbers_are_accepted_for_fractional_faults(make_client: ClientFactory) -> None:
    """A JSON integer is a number: 1 is a valid rate and 2 a valid latency."""
    client = make_client(admin_token=ADMIN_TOKEN)
    response = client.put(
        "/admin/faults", json={"llm_error_rate": 1, "added_latency_seconds": 2}, headers=AUTH
    )
    assert response.status_code == 200
    assert response.json()["llm_error_rate"] == 1.0


def _admin_operations(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    """Every admin operation the OpenAPI document lists: path, method, operation."""
    paths = client.get("/openapi.json").json()["paths"]
    return [
        (path, method.upper(), operation)
        for path, item in paths.items()
        if path.startswith("/admin")
        for method, operation in item.items()
    ]


def test_every_admin_route_checks_the_token_before_the_body(make_client: ClientFactory) -> None:
    """Each admin operation, present or added later, answers malformed JSON without the
    token with 401: the token is checked before the body is read."""
    client = make_client(admin_token=ADMIN_TOKEN)
    operations = _admin_operations(client)
    assert len(operations) >= 3
    for path, method, _operation in operations:
        response = client.request(
            method, path, content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 401, (method, path, response.text)


_LOOSE = {"number": ["0.5", True], "integer": ["1", True, 1.5], "boolean": ["yes", 1, "true"]}


def test_every_admin_body_is_strict(make_client: ClientFactory) -> None:
    """Each admin body field, present or added later, refuses the loose values pydantic
    would otherwise coerce: a string or a boolean for a number, a number for a boolean."""
    client = make_client(admin_token=ADMIN_TOKEN)
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    checked = 0
    for path, method, operation in _admin_operations(client):
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body is None:
            continue
        model = schemas[body["schema"]["$ref"].rsplit("/", 1)[1]]
        for name, field in model["properties"].items():
            kinds = {field.get("type")} | {option.get("type") for option in field.get("anyOf", [])}
            for kind in kinds & set(_LOOSE):
                for loose in _LOOSE[kind]:
                    response = client.request(method, path, json={name: loose}, headers=AUTH)
                    assert response.status_code == 422, (method, path, name, loose)
                    checked += 1
    assert checked >= 10


@pytest.mark.parametrize(
    ("path", "change"),
    [("/admin/faults", {"llm_error_rate": 0.5}), ("/admin/resilience", {"enabled": True})],
)
def test_each_admin_change_logs_one_audit_line(
    make_client: ClientFactory, path: str, change: dict[str, object]
) -> None:
    """Every admin resource logs a PUT as `<name>_updated` with the fields it set and a
    DELETE as `<name>_reset` with the state it reset to; a GET logs no audit line."""
    client = make_client(admin_token=ADMIN_TOKEN)
    name = path.rsplit("/", 1)[1]
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        client.get(path, headers=AUTH)
        client.put(path, json=change, headers=AUTH)
        reset = client.delete(path, headers=AUTH).json()
    audit = [line for line in logs if line.get("log_level") == "warning"]
    assert [line["event"] for line in audit] == [f"{name}_updated", f"{name}_reset"]
    updated, was_reset = audit
    assert {k: updated[k] for k in change} == change
    assert not set(updated) & (set(reset) - set(change))
    assert {k: was_reset[k] for k in reset} == reset
