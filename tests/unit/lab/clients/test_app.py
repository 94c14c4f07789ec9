"""AppClient's admin calls: the bearer token, the paths, and a clear error without a token."""

from __future__ import annotations

import json

import pytest
import responses

from lab.clients import ServiceError
from lab.clients.app import AppClient

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
