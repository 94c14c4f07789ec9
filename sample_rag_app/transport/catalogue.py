"""The error catalogue: every error the API answers, its HTTP status and when it happens.

Written once, here. The exception handlers and the request middleware take each error's
status from it, every route's OpenAPI ``responses`` are built from it
(``errors.documented``), the ``ErrorResponse`` schema lists its codes, and the table in
docs/error-rate.md is its rendering (a test compares them). Its first part is the
pipeline's errors (every ``ErrorType``: a 5xx, counted in ``rag_errors_total``), its
second the requests the API refuses (an ``InvalidReason``: a 4xx, counted in
``rag_invalid_requests_total{reason}``); a test holds both to their ``Literal``.

Not here: ``other`` (a 4xx Starlette raises with its own status) and
``invalid_correlation_id`` (counted, but the request proceeds).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sample_rag_app.pipeline.errors import ErrorType
from sample_rag_app.telemetry.metrics import InvalidReason


@dataclass(frozen=True, slots=True)
class ApiErrorEntry:
    """An error's HTTP status and, as the end of "answered when …", when it happens."""

    status: int
    when: str


#: The pipeline's errors. A provider rate limit is the service's problem, not the
#: client's, hence 503. Each error with a retry-after also gets a Retry-After header.
PIPELINE_ERRORS: Final[dict[ErrorType, ApiErrorEntry]] = {
    "llm_error": ApiErrorEntry(502, "the LLM provider failed"),
    "llm_timeout": ApiErrorEntry(504, "the LLM call timed out"),
    "rate_limited": ApiErrorEntry(503, "the provider's rate limit is exhausted, with Retry-After"),
    "vector_store_unavailable": ApiErrorEntry(503, "the vector store is unavailable"),
    "overloaded": ApiErrorEntry(503, "admission control shed the request, with Retry-After"),
    "circuit_open": ApiErrorEntry(
        503, "a circuit breaker is open and no fallback answered, with Retry-After"
    ),
    "deadline_exceeded": ApiErrorEntry(504, "the request's deadline passed"),
    "internal": ApiErrorEntry(500, "an unexpected failure"),
}

#: The requests the API refuses.
CLIENT_ERRORS: Final[dict[InvalidReason, ApiErrorEntry]] = {
    "malformed_json": ApiErrorEntry(400, "the body is not valid JSON"),
    "invalid_body": ApiErrorEntry(
        422,
        "the body is no JSON object of the documented fields: an unknown field, a wrong "
        "type or a value out of range (the message names the field and what it allows)",
    ),
    "empty_question": ApiErrorEntry(422, "the question is blank"),
    "question_too_long": ApiErrorEntry(
        422, "the question is longer than RAG_MAX_QUESTION_LENGTH characters"
    ),
    "invalid_top_k": ApiErrorEntry(422, "top_k is no integer within its range"),
    "body_too_large": ApiErrorEntry(413, "the body is larger than RAG_MAX_BODY_BYTES"),
    "invalid_framing": ApiErrorEntry(400, "Content-Length and Transfer-Encoding come together"),
    "not_found": ApiErrorEntry(404, "no endpoint has this path"),
    "method_not_allowed": ApiErrorEntry(
        405, "the endpoint does not serve the method (Allow lists those it does)"
    ),
    "admin_disabled": ApiErrorEntry(
        404, "RAG_ADMIN_TOKEN is not set (the admin endpoints are off)"
    ),
    "unauthorized": ApiErrorEntry(
        401, "the bearer token is missing or wrong, with WWW-Authenticate"
    ),
}

#: Every error code the API answers with a fixed status, the pipeline's first.
API_ERRORS: Final[dict[str, ApiErrorEntry]] = {
    error: entry for table in (PIPELINE_ERRORS, CLIENT_ERRORS) for error, entry in table.items()
}


def status_of(error: str) -> int:
    """The HTTP status of ``error`` (500 for a code the catalogue does not have)."""
    entry = API_ERRORS.get(error)
    return entry.status if entry is not None else PIPELINE_ERRORS["internal"].status
