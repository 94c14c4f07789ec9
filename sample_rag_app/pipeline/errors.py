"""The pipeline's failures, each with the fixed error type its metrics and logs use."""

from __future__ import annotations

from typing import ClassVar, Literal

ErrorType = Literal[
    "llm_error", "llm_timeout", "rate_limited", "vector_store_unavailable", "internal"
]
Stage = Literal["cache", "embedding", "vector_search", "llm", "pipeline"]

#: Every value of ``rag_errors_by_type_total{error_type}``; the children are pre-created.
ERROR_TYPES: tuple[ErrorType, ...] = (
    "llm_error",
    "llm_timeout",
    "rate_limited",
    "vector_store_unavailable",
    "internal",
)


class PipelineError(Exception):
    """A query failed; ``error_type`` and ``stage`` say how and where."""

    error_type: ClassVar[ErrorType] = "internal"
    default_stage: ClassVar[Stage] = "pipeline"

    def __init__(self, message: str, *, stage: Stage | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.stage: Stage = stage or self.default_stage


class LLMError(PipelineError):
    """The LLM provider answered with an error."""

    error_type = "llm_error"
    default_stage = "llm"


class LLMTimeoutError(PipelineError):
    """The LLM provider did not answer within the timeout."""

    error_type = "llm_timeout"
    default_stage = "llm"


class RateLimitError(PipelineError):
    """The provider's rate limit (requests or tokens per minute) is exhausted."""

    error_type = "rate_limited"
    default_stage = "llm"

    def __init__(
        self, message: str, *, stage: Stage | None = None, retry_after_seconds: float = 1.0
    ) -> None:
        super().__init__(message, stage=stage)
        self.retry_after_seconds = retry_after_seconds


class VectorStoreUnavailableError(PipelineError):
    """The vector store cannot be searched (down, or not loaded yet)."""

    error_type = "vector_store_unavailable"
    default_stage = "vector_search"


class InternalPipelineError(PipelineError):
    """An unexpected exception inside the pipeline (a bug)."""

    error_type = "internal"
