"""AppClient: the admin calls (bearer token, paths, a clear error without a token) and
which replica answered."""

from __future__ import annotations

import json

import pytest
import responses

from lab.generate import haproxy
from lab.kit.clients import ServiceError, ServiceUnreachable
from lab.kit.clients.app import AppClient
from lab.spec.rag import CORRELATION_HEADER, SERVED_BY_HEADER

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
def test_a_query_reply_names_the_replica_that_served_it() -> None:
    """X-Served-By becomes the reply's `served_by`."""
    responses.post(
        f"{BASE}/query",
        json={"answer": "a"},
        headers={CORRELATION_HEADER: "c-1", SERVED_BY_HEADER: "0b165e99ede1"},
    )
    reply = AppClient(BASE).query("q", correlation_id="c-1")
    assert (reply.correlation_id, reply.served_by) == ("c-1", "0b165e99ede1")


@responses.activate
def test_metrics_of_a_replica_reads_until_that_replica_answers() -> None:
    """Reads that other replicas answer are skipped, each on a closed connection; after
    `attempts` misses the answer is None."""
    for replica in ("72d99ffa363b", "0b165e99ede1", "f41314da5aaa"):
        responses.get(f"{BASE}/metrics", body=f"# {replica}\n", headers={SERVED_BY_HEADER: replica})
    app = AppClient(BASE)
    assert app.metrics_of_replica("f41314da5aaa") == "# f41314da5aaa\n"
    assert [c.request.headers["Connection"] for c in responses.calls] == ["close"] * 3
    assert app.metrics_of_replica("not-running", attempts=2) is None


@responses.activate
def test_the_gateway_without_a_replica_is_an_unreachable_app() -> None:
    """The gateway's 503 `no_replica` (HAProxy's, in lab/generate/haproxy.py) reads as an
    app that is not running (so a check says how to start it); the app's own 503 stays an
    answer."""
    (status, error, _message) = next(e for e in haproxy.ERRORS if e[1] == "no_replica")
    responses.get(f"{BASE}/metrics", status=status, json={"error": error, "message": "m"})
    with pytest.raises(ServiceUnreachable, match="no replica of the app is running"):
        AppClient(BASE).metrics_text()
    responses.get(f"{BASE}/readyz", status=status, json={"error": error, "message": "m"})
    assert AppClient(BASE).ready() is False
    responses.post(
        f"{BASE}/query", status=503, json={"error": "vector_store_unavailable", "message": "m"}
    )
    assert AppClient(BASE).query("q", correlation_id="c").status_code == 503


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
