"""Bad input: every class answers 4xx JSON, is counted by reason and creates no series."""

from __future__ import annotations

import random
import string

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from rag_test_support import ClientFactory

JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("method", "path", "content", "status", "reason"),
    [
        ("POST", "/query", "{not json", 400, "malformed_json"),
        ("POST", "/query", '{"question": 12}', 422, "invalid_body"),
        ("POST", "/query", '{"top_k": 3}', 422, "invalid_body"),
        ("POST", "/query", '["a list"]', 422, "invalid_body"),
        ("POST", "/query", "", 422, "invalid_body"),
        ("POST", "/query", '{"question": "q", "extra": 1}', 422, "invalid_body"),
        ("POST", "/query", '{"question": "   \\n\\t "}', 422, "empty_question"),
        ("POST", "/query", '{"question": ""}', 422, "empty_question"),
        ("POST", "/query", '{"question": "' + "x" * 2001 + '"}', 422, "question_too_long"),
        ("POST", "/query", '{"question": "q", "top_k": 0}', 422, "invalid_top_k"),
        ("POST", "/query", '{"question": "q", "top_k": 21}', 422, "invalid_top_k"),
        ("POST", "/query", '{"question": "q", "top_k": "3"}', 422, "invalid_top_k"),
        ("POST", "/query", '{"question": "q", "top_k": 2.5}', 422, "invalid_top_k"),
        ("POST", "/query", '{"question": "' + "x" * 17000 + '"}', 413, "body_too_large"),
        ("GET", "/no/such/path", None, 404, "not_found"),
        ("GET", "/query", None, 405, "method_not_allowed"),
        ("DELETE", "/metrics", None, 405, "method_not_allowed"),
    ],
)
def test_bad_input_is_a_counted_4xx_json_error(
    client: TestClient,
    registry: CollectorRegistry,
    method: str,
    path: str,
    content: str | None,
    status: int,
    reason: str,
) -> None:
    """Each class of bad input gets its status, a JSON error with a message, and is counted."""
    response = client.request(
        method, path, content=content, headers={**JSON, "X-Correlation-ID": "bad-1"}
    )
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == reason
    assert len(body["message"]) > 5
    assert body["correlation_id"] == "bad-1"
    assert response.headers["X-Correlation-ID"] == "bad-1"
    assert registry.get_sample_value("rag_invalid_requests_total", {"reason": reason}) == 1
    assert registry.get_sample_value("rag_requests_total") == 0


def test_chunked_body_over_the_limit_is_413(
    client: TestClient, registry: CollectorRegistry
) -> None:
    """A body without Content-Length (chunked) is also cut off at the size limit."""

    def chunks() -> object:
        for _ in range(20):
            yield b"x" * 1000

    response = client.post("/query", content=chunks(), headers=JSON)  # type: ignore[arg-type]
    assert response.status_code == 413
    assert (
        registry.get_sample_value("rag_invalid_requests_total", {"reason": "body_too_large"}) == 1
    )


def test_chunked_body_within_the_limit_is_served(client: TestClient) -> None:
    """A small chunked body is read, replayed to the app and answered."""

    def chunks() -> object:
        yield b'{"question": "What is '
        yield b'a circuit breaker?"}'

    response = client.post("/query", content=chunks(), headers=JSON)  # type: ignore[arg-type]
    assert response.status_code == 200


def test_question_length_limit_follows_the_settings(make_client: ClientFactory) -> None:
    """RAG_MAX_QUESTION_LENGTH sets the longest accepted question."""
    client = make_client(max_question_length=10)
    assert client.post("/query", json={"question": "x" * 10}).status_code == 200
    assert client.post("/query", json={"question": "x" * 11}).json()["error"] == (
        "question_too_long"
    )


@pytest.mark.parametrize(
    "header",
    ["", "a" * 65, "has space", "semi;colon", "ünïcode", 'quote"d', "new\tline"],
)
def test_malformed_correlation_header_gets_a_fresh_id_and_is_counted(
    client: TestClient, registry: CollectorRegistry, header: str
) -> None:
    """A malformed correlation header is replaced by a new id; the request still succeeds."""
    response = client.post(
        "/query",
        json={"question": "What is RAG?"},
        headers={"X-Correlation-ID": header.encode("utf-8")},  # type: ignore[dict-item]
    )
    assert response.status_code == 200
    new_id = response.headers["X-Correlation-ID"]
    assert new_id != header
    assert len(new_id) == 32
    assert response.json()["correlation_id"] == new_id
    reason = {"reason": "invalid_correlation_id"}
    assert registry.get_sample_value("rag_invalid_requests_total", reason) == 1


def test_valid_correlation_ids_up_to_64_characters_are_kept(client: TestClient) -> None:
    """Ids of 1-64 characters of [A-Za-z0-9._-] are used as given."""
    for value in ("a", "A-b_c.9", "x" * 64):
        response = client.get("/healthz", headers={"X-Correlation-ID": value})
        assert response.headers["X-Correlation-ID"] == value


def _series(client: TestClient) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    text = client.get("/metrics").text
    return {
        (sample.name, tuple(sorted(sample.labels.items())))
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_unique_ids_unknown_paths_and_bad_input_create_no_series(client: TestClient) -> None:
    """200 requests with unique ids, random paths and bad bodies leave the series set unchanged."""
    rng = random.Random(99)
    client.post("/query", json={"question": "warm up"})
    before = _series(client)
    for i in range(200):
        path = "/" + "".join(rng.choices(string.ascii_letters + "/-_", k=rng.randint(1, 40)))
        headers = {"X-Correlation-ID": f"unique-{i}-{rng.random()}"}
        kind = i % 4
        if kind == 0:
            client.get(path, headers=headers)
        elif kind == 1:
            client.post("/query", content="{" * rng.randint(1, 5), headers={**headers, **JSON})
        elif kind == 2:
            client.post("/query", json={"question": rng.random()}, headers=headers)
        else:
            client.request(rng.choice(["PUT", "PATCH", "DELETE"]), "/query", headers=headers)
    assert _series(client) == before
