"""AppClient's admin calls: the bearer token, the paths, and a clear error without a token."""

from __future__ import annotations

import json

import pytest
import responses

from lab.clients import ServiceError
from lab.clients.app import AppClient
from lab.spec.rag import CORRELATION_HEADER

BASE = "http://app.test:8000"
CONFIG = {"enabled": True, "retries": True, "circuit_breaker": True}


@responses.activate
def test_resilience_round_trip_sends_the_token_and_the_fields() -> None:
    """GET and PUT (partial, as JSON) reach /admin/resilience with the bearer token."""
    responses.get(f"{BASE}/admin/resilience", json={**CONFIG, "enabled": False})
    responses.put(f"{BASE}/admin/resilience", json=CONFIG)
    app = AppClient(BASE, admin_token="s3cret")
    assert app.resilience()["enabled"] is False
    assert app.set_resilience(enabled=True) == CONFIG
    put = responses.calls[1].request
    assert json.loads(put.body or b"") == {"enabled": True}
    assert all(c.request.headers["Authorization"] == "Bearer s3cret" for c in responses.calls)


@responses.activate
def test_a_rejected_change_raises_with_the_apps_message() -> None:
    """A 422 from the app (out of range) surfaces its message, naming the range."""
    responses.put(
        f"{BASE}/admin/resilience",
        status=422,
        json={"error": "invalid_body", "message": "retry_budget: allowed 0..1"},
    )
    with pytest.raises(ServiceError, match=r"422 .*allowed 0\.\.1"):
        AppClient(BASE, admin_token="s3cret").set_resilience(retry_budget=7.0)


def test_without_a_token_the_error_says_how_to_set_one() -> None:
    """No request is sent; the message names RAG_ADMIN_TOKEN and LAB_ADMIN_TOKEN."""
    with pytest.raises(ServiceError, match=r"RAG_ADMIN_TOKEN=<secret>.*LAB_ADMIN_TOKEN"):
        AppClient(BASE).resilience()


@responses.activate
def test_query_sends_the_correlation_id_and_reads_back_the_one_the_app_used() -> None:
    """POST /query carries the id in the spec's header; the reply holds the status, the
    header the app echoed and the body."""
    responses.post(
        f"{BASE}/query",
        json={"answer": "cached", "answer_level": "cache"},
        headers={CORRELATION_HEADER: "c-42"},
    )
    reply = AppClient(BASE).query("What is a cache?", correlation_id="c-42", top_k=2)
    request = responses.calls[0].request
    assert request.headers[CORRELATION_HEADER] == "c-42"
    assert json.loads(request.body or b"") == {"question": "What is a cache?", "top_k": 2}
    assert (reply.status_code, reply.correlation_id) == (200, "c-42")
    assert reply.body["answer_level"] == "cache"


@responses.activate
def test_a_reply_that_is_not_json_is_kept_as_text_not_raised() -> None:
    """A 502 from a proxy in front of the app is a reply with its status and raw text."""
    responses.post(f"{BASE}/query", status=502, body="Bad Gateway")
    reply = AppClient(BASE).query("q", correlation_id="c-1")
    assert reply.status_code == 502
    assert reply.body == {"raw": "Bad Gateway"}
    assert reply.correlation_id == ""


@responses.activate
def test_metrics_text_asks_for_openmetrics_when_told_and_raises_on_an_error() -> None:
    """The Accept header picks the format; a non-200 /metrics is a ServiceError."""
    responses.get(f"{BASE}/metrics", body="# EOF\n")
    assert AppClient(BASE).metrics_text(openmetrics=True) == "# EOF\n"
    assert "openmetrics-text" in responses.calls[0].request.headers["Accept"]
    responses.replace(responses.GET, f"{BASE}/metrics", status=503)
    with pytest.raises(ServiceError, match="503"):
        AppClient(BASE).metrics_text()


@responses.activate
def test_fault_calls_reach_the_admin_faults_endpoint_with_the_token() -> None:
    """set_faults PUTs the fields given, clear_faults DELETEs; both with the bearer token."""
    responses.put(f"{BASE}/admin/faults", json={"llm_error_rate": 0.3})
    responses.delete(f"{BASE}/admin/faults", json={"llm_error_rate": 0.0})
    app = AppClient(BASE, admin_token="s3cret")
    assert app.set_faults(llm_error_rate=0.3) == {"llm_error_rate": 0.3}
    assert app.clear_faults() == {"llm_error_rate": 0.0}
    assert [c.request.method for c in responses.calls] == ["PUT", "DELETE"]
    assert json.loads(responses.calls[0].request.body or b"") == {"llm_error_rate": 0.3}
    assert all(c.request.headers["Authorization"] == "Bearer s3cret" for c in responses.calls)
