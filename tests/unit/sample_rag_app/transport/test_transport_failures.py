"""Hostile framing and unexpected failures: bounded by bytes received, one path for a 500."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from rag_test_support import ADMIN_TOKEN, ClientFactory, fast_settings
from structlog.testing import capture_logs

from sample_rag_app.main import create_app

JSON = {"Content-Type": "application/json"}


async def _asgi_call(
    app: FastAPI, headers: list[tuple[bytes, bytes]], chunks: list[bytes]
) -> tuple[int, dict[bytes, bytes], bytes, int]:
    """Send POST /query straight to the ASGI app: status, headers, body, chunks read."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/query",
        "raw_path": b"/query",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 8000),
    }
    read = 0

    async def receive() -> dict[str, Any]:
        nonlocal read
        if read < len(chunks):
            read += 1
            return {
                "type": "http.request",
                "body": chunks[read - 1],
                "more_body": read < len(chunks),
            }
        return {"type": "http.disconnect"}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), body, read


def _call(app: FastAPI, headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> Any:
    return anyio.run(_asgi_call, app, headers, chunks)


def test_content_length_with_transfer_encoding_is_refused_unread(
    client: TestClient, registry: CollectorRegistry
) -> None:
    """Content-Length and Transfer-Encoding together answer 400 with the JSON error shape,
    close the connection and read none of the body."""
    status, headers, body, read = _call(
        client.app,  # type: ignore[arg-type]
        [
            (b"content-type", b"application/json"),
            (b"content-length", b"5"),
            (b"transfer-encoding", b"chunked"),
            (b"x-correlation-id", b"frame-1"),
        ],
        [b"x" * 65536] * 100,
    )
    assert status == 400
    assert json.loads(body) == {
        "error": "invalid_framing",
        "message": "Content-Length and Transfer-Encoding together are refused",
        "correlation_id": "frame-1",
    }
    assert headers[b"connection"] == b"close"
    assert headers[b"x-correlation-id"] == b"frame-1"
    assert read == 0
    assert (
        registry.get_sample_value("rag_invalid_requests_total", {"reason": "invalid_framing"}) == 1
    )


def test_the_limit_counts_bytes_received_not_the_declared_length(
    client: TestClient, registry: CollectorRegistry
) -> None:
    """A body that runs past a small Content-Length is cut off at the limit with a 413."""
    status, _headers, body, read = _call(
        client.app,  # type: ignore[arg-type]
        [(b"content-type", b"application/json"), (b"content-length", b"20")],
        [b"x" * 4096] * 100,
    )
    assert status == 413
    assert json.loads(body)["error"] == "body_too_large"
    assert read == 5  # 16384 bytes allowed: the fifth chunk crosses the limit
    assert (
        registry.get_sample_value("rag_invalid_requests_total", {"reason": "body_too_large"}) == 1
    )


@pytest.mark.parametrize(
    "content",
    [
        '{"question": "x \\ud800 y"}',
        '{"question": "\\udfff"}',
        '{"question": "q", "\\ud800": 1}',
    ],
)
def test_lone_surrogates_are_invalid_bodies(
    client: TestClient, registry: CollectorRegistry, content: str
) -> None:
    """A lone UTF-16 surrogate in the question (or a key) is a 422, not a 500."""
    response = client.post("/query", content=content, headers=JSON)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_body"
    assert registry.get_sample_value("rag_invalid_requests_total", {"reason": "invalid_body"}) == 1
    assert registry.get_sample_value("rag_requests_total") == 0


def test_a_surrogate_key_in_an_admin_body_is_a_422(make_client: ClientFactory) -> None:
    """The admin body's unknown-field error names the key without crashing on it."""
    client = make_client(admin_token=ADMIN_TOKEN)
    response = client.put(
        "/admin/faults",
        content='{"\\ud800": 1}',
        headers={**JSON, "Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_body"


def _break_telemetry(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(question: str) -> str:
        raise RuntimeError("telemetry bug")

    monkeypatch.setattr("sample_rag_app.telemetry.recorder.question_fingerprint", broken)


def _break_embedder(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(text: str) -> Any:
        raise RuntimeError("embedder bug")

    monkeypatch.setattr(client.app.state.pipeline.embedder, "embed", broken)  # type: ignore[attr-defined]


@pytest.mark.parametrize("where", ["outside the pipeline", "inside the pipeline"])
def test_an_unexpected_failure_is_one_counted_500_with_the_id(
    make_client: ClientFactory,
    registry: CollectorRegistry,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
) -> None:
    """Wherever a query breaks, the 500 carries X-Correlation-ID, one line logs the
    traceback, and the failure counts in rag_errors_total, errors_by_type and the histogram."""
    client = make_client()
    if where == "outside the pipeline":
        _break_telemetry(monkeypatch)
    else:
        _break_embedder(client, monkeypatch)
    with capture_logs() as logs:
        response = client.post(
            "/query", json={"question": "What is RAG?"}, headers={"X-Correlation-ID": "boom-1"}
        )
    assert response.status_code == 500
    assert response.json() == {
        "error": "internal",
        "message": "internal server error",
        "correlation_id": "boom-1",
    }
    assert response.headers["X-Correlation-ID"] == "boom-1"
    tracebacks = [line for line in logs if "exc_info" in line]
    assert len(tracebacks) == 1
    assert tracebacks[0]["event"] == "unhandled_exception"
    assert registry.get_sample_value("rag_errors_total") == 1
    assert registry.get_sample_value("rag_errors_by_type_total", {"error_type": "internal"}) == 1
    assert registry.get_sample_value("rag_query_duration_seconds_count") == 1
    access = [line for line in logs if line["event"] == "http_request"]
    assert [line["status"] for line in access] == [500]


def test_an_unexpected_failure_does_not_escape_to_the_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The middleware answers the 500 itself: nothing is re-raised for the server (or
    Starlette's error middleware) to log a second and third time."""
    _break_telemetry(monkeypatch)
    with TestClient(create_app(fast_settings(), CollectorRegistry())) as strict:
        response = strict.post("/query", json={"question": "What is RAG?"})
    assert response.status_code == 500
