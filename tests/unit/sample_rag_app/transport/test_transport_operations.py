"""Operations endpoints: never behind the query thread pool; methods and OpenAPI as served."""

from __future__ import annotations

import inspect
import re
import threading
from typing import Any

import anyio.to_thread
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from rag_test_support import ADMIN_TOKEN, ClientFactory

from sample_rag_app.transport import routes as transport_routes
from sample_rag_app.transport.schemas import NOT_BLANK

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
OPERATIONS = ("/metrics", "/healthz", "/readyz", "/admin")


def test_operations_handlers_and_their_dependencies_are_async() -> None:
    """/metrics, the probes and every admin route run on the event loop: an async handler
    whose dependencies are async too, so none waits for a worker thread."""
    routes = [
        r
        for r in (*transport_routes.router.routes, *transport_routes.admin_router.routes)
        if isinstance(r, APIRoute) and r.path.startswith(OPERATIONS)
    ]
    assert len(routes) >= 9
    for route in routes:
        calls = [route.dependant.call, *(d.call for d in route.dependant.dependencies)]
        for call in calls:
            assert inspect.iscoroutinefunction(call), (route.path, call)


def test_metrics_and_admin_answer_while_every_worker_thread_is_busy(
    make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the thread pool shrunk to one thread and a query holding it, /metrics, the
    probes and every admin operation the OpenAPI document lists still answer."""
    client = make_client(admin_token=ADMIN_TOKEN)
    paths = client.get("/openapi.json").json()["paths"]
    calls = [
        (path, method.upper())
        for path, item in paths.items()
        if path.startswith(OPERATIONS)
        for method in item
    ]
    pipeline = client.app.state.pipeline  # type: ignore[attr-defined]
    entered, release = threading.Event(), threading.Event()
    original = pipeline.answer

    def held(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        release.wait(10)
        return original(*args, **kwargs)

    monkeypatch.setattr(pipeline, "answer", held)

    async def one_thread() -> None:
        anyio.to_thread.current_default_thread_limiter().total_tokens = 1

    client.portal.call(one_thread)  # type: ignore[union-attr]
    query = threading.Thread(
        target=client.post, args=("/query",), kwargs={"json": {"question": "q"}}
    )
    query.start()
    try:
        assert entered.wait(5)
        answers: dict[str, int] = {}

        def operations() -> None:
            for path, method in calls:
                body = {} if method in {"PUT", "POST", "PATCH"} else None
                response = client.request(method, path, json=body, headers=AUTH)
                answers[f"{method} {path}"] = response.status_code

        worker = threading.Thread(target=operations)
        worker.start()
        worker.join(5)
        assert not worker.is_alive(), f"blocked behind the query; answered so far: {answers}"
        assert all(status < 500 for status in answers.values()), answers
        assert answers["GET /metrics"] == answers["DELETE /admin/faults"] == 200
    finally:
        release.set()
        query.join(10)


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_head_is_allowed_where_get_is(client: TestClient, path: str) -> None:
    """HEAD on the probes and /metrics answers like GET, without a body."""
    response = client.head(path)
    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("OPTIONS", "/admin/faults", "DELETE, GET, PUT"),
        ("POST", "/admin/faults", "DELETE, GET, PUT"),
        ("OPTIONS", "/query", "POST"),
        ("PUT", "/metrics", "GET, HEAD"),
        ("OPTIONS", "/healthz", "GET, HEAD"),
    ],
)
def test_405_lists_every_method_of_the_path(
    make_client: ClientFactory, method: str, path: str, allow: str
) -> None:
    """A method a path does not serve (OPTIONS included: no CORS here) is a 405 whose Allow
    header lists all the methods of that path, not those of its first route."""
    client = make_client(admin_token=ADMIN_TOKEN)
    response = client.request(method, path, headers=AUTH)
    assert response.status_code == 405
    assert response.headers["Allow"] == allow
    assert response.json()["error"] == "method_not_allowed"


def test_openapi_states_the_question_length_limits(make_client: ClientFactory) -> None:
    """The schema of `question` carries the configured minimum and maximum length."""
    schema = make_client(max_question_length=321).get("/openapi.json").json()
    question = schema["components"]["schemas"]["QueryRequest"]["properties"]["question"]
    assert (question["minLength"], question["maxLength"]) == (1, 321)


def test_question_length_counts_what_was_sent(client: TestClient) -> None:
    """The limit applies to the question as sent, as the schema says: padding counts."""
    padded = " " + "x" * 1999 + " "
    response = client.post("/query", json={"question": padded})
    assert response.status_code == 422
    assert response.json()["error"] == "question_too_long"


def test_openapi_documents_what_put_faults_answers(client: TestClient) -> None:
    """PUT /admin/faults documents its 400 (malformed JSON), 401, 404 and 422."""
    responses = client.get("/openapi.json").json()["paths"]["/admin/faults"]["put"]["responses"]
    assert {"200", "400", "401", "404", "413", "422"} <= set(responses)


def test_openapi_lists_head_on_the_probes(client: TestClient) -> None:
    """The probes' HEAD is in the document too, with operation ids that stay unique."""
    paths = client.get("/openapi.json").json()["paths"]
    assert "head" in paths["/healthz"]
    assert "head" in paths["/readyz"]
    ids = [op["operationId"] for item in paths.values() for op in item.values()]
    assert len(ids) == len(set(ids))


def test_top_k_accepts_what_json_schema_calls_an_integer(client: TestClient) -> None:
    """2.0 is an integer to JSON Schema (the OpenAPI type of top_k), so it is accepted;
    2.5, "2" and true are not."""
    assert client.post("/query", json={"question": "q", "top_k": 2.0}).status_code == 200
    for loose in (2.5, "2", True):
        response = client.post("/query", json={"question": "q", "top_k": loose})
        assert response.status_code == 422, loose


def test_admin_ranges_the_server_enforces_are_in_the_openapi_document(
    make_client: ClientFactory,
) -> None:
    """For every number field of every admin body: when the server refuses a huge or a
    very negative value, the document states the maximum or the minimum it enforces."""
    client = make_client(admin_token=ADMIN_TOKEN)
    document = client.get("/openapi.json").json()
    checked = 0
    for path, item in document["paths"].items():
        body = item.get("put", {}).get("requestBody", {}).get("content", {})
        if not path.startswith("/admin") or "application/json" not in body:
            continue
        name = body["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        for field, schema in document["components"]["schemas"][name]["properties"].items():
            kinds = {option.get("type") for option in schema.get("anyOf", [schema])}
            if not kinds & {"number", "integer"}:
                continue
            for value, keywords in (
                (-(10**9), ("minimum", "exclusiveMinimum")),
                (10**9, ("maximum", "exclusiveMaximum")),
            ):
                response = client.put(path, json={field: value}, headers=AUTH)
                if response.status_code == 422 and "must be" in response.json()["message"]:
                    assert set(keywords) & set(schema), (path, field, value, schema)
                    checked += 1
    assert checked >= 10


def test_admin_integers_accept_what_json_schema_calls_an_integer(
    make_client: ClientFactory,
) -> None:
    """An admin integer field takes 3.0 like 3 (JSON Schema's integer), not 3.5 or "3"."""
    client = make_client(admin_token=ADMIN_TOKEN)
    document = client.get("/openapi.json").json()
    schema = document["components"]["schemas"]["ResilienceUpdate"]["properties"]
    field = next(n for n, s in schema.items() if {"type": "integer"} in s.get("anyOf", []))
    low = schema[field].get("minimum", 1)
    assert (
        client.put("/admin/resilience", json={field: float(low)}, headers=AUTH).status_code == 200
    )
    for loose in (low + 0.5, str(low)):
        assert client.put("/admin/resilience", json={field: loose}, headers=AUTH).status_code == 422


def test_the_not_blank_pattern_is_what_strip_removes() -> None:
    """The schema's pattern names exactly the characters str.strip() removes, so a
    question matches it if and only if the route does not find it blank."""
    spaces = "".join(c for c in map(chr, range(0x110000)) if c.isspace())
    assert re.fullmatch(f"[{spaces}]*", spaces)
    for char in spaces:
        assert not re.search(NOT_BLANK, f"{char}{char}"), hex(ord(char))
    for text in ("q", " q ", "\x1fq", "\u200b", "\x00"):
        assert re.search(NOT_BLANK, text), repr(text)
        assert text.strip(), repr(text)


def test_openapi_pattern_of_question_is_the_not_blank_rule(client: TestClient) -> None:
    """The document's question pattern is the rule the route applies."""
    schema = client.get("/openapi.json").json()["components"]["schemas"]["QueryRequest"]
    assert schema["properties"]["question"]["pattern"] == NOT_BLANK
