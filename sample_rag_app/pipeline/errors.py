"""How a query ends: an answer (at some level) or an error (with a fixed error type).

What counts as an error in the course's error rate, defined here once
--------------------------------------------------------------------
A validated ``/query`` request ends in exactly one of two ways:

- an **answer**: HTTP 200, whichever level answered (``ANSWER_LEVELS``: the response
  cache, the primary model, or a fallback: the secondary model, a stale cached answer,
  an extractive answer). A degraded answer is an answer;
- an **error**: the pipeline raised a ``PipelineError``, which the transport turns into
  HTTP 5xx (``ERROR_TYPES``), including a request shed by admission control (503
  ``overloaded``), a request refused while a circuit breaker is open and no fallback
  answered (503 ``circuit_open``) and a request that ran past its deadline (504
  ``deadline_exceeded``).

The telemetry follows this definition one to one: the pipeline reports every request
once as received and then exactly once as ``query_succeeded`` (``rag_answers_total{level}``)
or ``query_failed`` (``rag_errors_total`` and ``rag_errors_by_type_total{error_type}``),
so once requests are finished ``rag_requests_total == sum(rag_answers_total) +
rag_errors_total``. Invalid requests (4xx) never reach the pipeline and count in
neither: they are the client's errors, not the service's.
"""

from __future__ import annotations

from typing import ClassVar, Final, Literal, get_args

ErrorType = Literal[
    "llm_error",
    "llm_timeout",
    "rate_limited",
    "vector_store_unavailable",
    "overloaded",
    "circuit_open",
    "deadline_exceeded",
    "internal",
]
Stage = Literal["cache", "embedding", "vector_search", "llm", "pipeline"]

#: Every value of ``rag_errors_by_type_total{error_type}``; the children are pre-created.
ERROR_TYPES: Final[tuple[ErrorType, ...]] = get_args(ErrorType)

AnswerLevel = Literal["cache", "primary", "secondary", "stale_cache", "extractive"]
#: Every value of ``rag_answers_total{level}``, best first; the children are pre-created.
ANSWER_LEVELS: Final[tuple[AnswerLevel, ...]] = get_args(AnswerLevel)
#: The levels a fallback answered at: the response says ``degraded: true``.
DEGRADED_LEVELS: Final[frozenset[AnswerLevel]] = frozenset(
    ("secondary", "stale_cache", "extractive")
)


class PipelineError(Exception):
    """A query failed; ``error_type`` and ``stage`` say how and where.

    ``retryable`` says whether trying the same call again may succeed (a timeout, a
    provider 5xx, a rate limit); ``retry_after_seconds``, when set, is how long a
    client should wait (the transport sends it as Retry-After).
    """

    error_type: ClassVar[ErrorType] = "internal"
    default_stage: ClassVar[Stage] = "pipeline"
    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        stage: Stage | None = None,
        retry_after_seconds: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.stage: Stage = stage or self.default_stage
        self.retry_after_seconds = retry_after_seconds


class LLMError(PipelineError):
    """The LLM provider answered with an error (retryable unless it was a 4xx)."""

    error_type = "llm_error"
    default_stage = "llm"

    def __init__(self, message: str, *, stage: Stage | None = None, retryable: bool = True) -> None:
        super().__init__(message, stage=stage)
        self.retryable = retryable


class LLMTimeoutError(PipelineError):
    """The LLM provider did not answer within the timeout."""

    error_type = "llm_timeout"
    default_stage = "llm"
    retryable = True


class RateLimitError(PipelineError):
    """The provider's rate limit (requests or tokens per minute) is exhausted."""

    error_type = "rate_limited"
    default_stage = "llm"
    retryable = True

    def __init__(
        self, message: str, *, stage: Stage | None = None, retry_after_seconds: float = 1.0
    ) -> None:
        super().__init__(message, stage=stage, retry_after_seconds=retry_after_seconds)


class VectorStoreUnavailableError(PipelineError):
    """The vector store cannot be searched (down, or not loaded yet)."""

    error_type = "vector_store_unavailable"
    default_stage = "vector_search"
    retryable = True


class OverloadedError(PipelineError):
    """Admission control shed the request: every LLM slot and the wait queue were taken."""

    error_type = "overloaded"
    default_stage = "llm"


class CircuitOpenError(PipelineError):
    """A dependency's circuit breaker is open and no fallback answered."""

    error_type = "circuit_open"


class DeadlineExceededError(PipelineError):
    """The request's overall deadline passed before anything answered."""

    error_type = "deadline_exceeded"


class InternalPipelineError(PipelineError):
    """An unexpected exception inside the pipeline (a bug)."""

    error_type = "internal"
