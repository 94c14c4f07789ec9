"""The error catalogue: complete, and the one source of the handlers' statuses, the OpenAPI
responses, the error schema and the table in docs/error-rate.md."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sample_rag_app.pipeline.errors import ERROR_TYPES, PipelineError
from sample_rag_app.telemetry.metrics import INVALID_REASONS
from sample_rag_app.transport.catalogue import API_ERRORS, CLIENT_ERRORS, PIPELINE_ERRORS

DOC = Path(__file__).resolve().parents[4] / "docs" / "error-rate.md"
#: Reasons that are counted but are no error response of a fixed status (the module says why).
_NOT_RESPONSES = {"other", "invalid_correlation_id"}


def _pipeline_error_classes() -> dict[str, type[PipelineError]]:
    found: dict[str, type[PipelineError]] = {}
    pending = [PipelineError]
    while pending:
        cls = pending.pop()
        found.setdefault(cls.error_type, cls)
        pending.extend(cls.__subclasses__())
    return found


def render_table() -> str:
    """The table docs/error-rate.md carries, rendered from the catalogue."""
    rows = ["| error | HTTP | counted in | answered when |", "| --- | --- | --- | --- |"]
    for table, counter in (
        (PIPELINE_ERRORS, "`rag_errors_total`"),
        (CLIENT_ERRORS, "`rag_invalid_requests_total{reason}`"),
    ):
        for error, entry in table.items():
            rows.append(f"| `{error}` | {entry.status} | {counter} | {entry.when} |")
    return "\n".join(rows) + "\n"


def test_the_catalogue_has_every_error_type_and_every_refusal() -> None:
    """Each pipeline error type is a 5xx of the catalogue, each refusal reason (but the two
    that are no response) a 4xx, and nothing else is in it."""
    assert list(PIPELINE_ERRORS) == list(ERROR_TYPES)
    assert set(CLIENT_ERRORS) == set(INVALID_REASONS) - _NOT_RESPONSES
    assert all(500 <= entry.status < 600 for entry in PIPELINE_ERRORS.values())
    assert all(400 <= entry.status < 500 for entry in CLIENT_ERRORS.values())


@pytest.mark.parametrize("error_type", ERROR_TYPES)
def test_each_pipeline_error_is_answered_with_the_catalogue_status(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, error_type: str
) -> None:
    """The handler answers a pipeline error with the status and error code the catalogue
    gives it."""
    cls = _pipeline_error_classes()[error_type]

    def fail(*_args: Any) -> None:
        raise cls("injected")

    monkeypatch.setattr(client.app.state.pipeline, "answer", fail)  # type: ignore[attr-defined]
    response = client.post("/query", json={"question": "What is RAG?"})
    assert response.status_code == PIPELINE_ERRORS[error_type].status  # type: ignore[index]
    assert response.json()["error"] == error_type


def test_every_documented_response_names_errors_of_its_status(client: TestClient) -> None:
    """Each error response a route documents names its errors, and the catalogue gives each
    of them that status: the document cannot promise a status the handlers do not send."""
    document = client.get("/openapi.json").json()
    checked = 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if int(status) < 400 or path == "/readyz":  # its 503 is a readiness body
                    continue
                errors = re.findall(r"`([a-z_]+)`: ", response["description"])
                assert errors, (path, method, status)
                for error in errors:
                    assert API_ERRORS[error].status == int(status), (path, method, error)
                    checked += 1
    assert checked >= 30


def test_query_documents_every_pipeline_error(client: TestClient) -> None:
    """/query documents each error the pipeline may end a query with."""
    responses = client.get("/openapi.json").json()["paths"]["/query"]["post"]["responses"]
    described = " ".join(response["description"] for response in responses.values())
    for error in ERROR_TYPES:
        assert f"`{error}`: " in described, error


def test_the_error_schema_lists_every_code(client: TestClient) -> None:
    """ErrorResponse.error names each code of the catalogue."""
    schema = client.get("/openapi.json").json()["components"]["schemas"]["ErrorResponse"]
    description = schema["properties"]["error"]["description"]
    assert set(re.findall(r"[a-z_]+", description.split("e.g.", 1)[1])) == set(API_ERRORS)


def test_the_page_carries_the_catalogue_as_its_table() -> None:
    """docs/error-rate.md holds the catalogue's table as rendered here, row for row."""
    expected = render_table()
    assert expected in DOC.read_text(), f"paste into docs/error-rate.md:\n{expected}"
