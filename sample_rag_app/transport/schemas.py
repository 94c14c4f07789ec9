"""Request and response bodies of the HTTP API (they are also its OpenAPI schemas)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sample_rag_app.pipeline.errors import AnswerLevel
from sample_rag_app.transport.catalogue import API_ERRORS

MAX_TOP_K = 20
DEFAULT_TOP_K = 4
#: "Holds a character str.strip() keeps": the route's not-blank rule as a JSON Schema
#: pattern, its class being exactly the characters of str.isspace(). (A bare \S would not
#: do: regex engines disagree on which characters are space.)
NOT_BLANK = r"[^\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"


class QueryRequest(BaseModel):
    """A question for the RAG service."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(
        strict=True,
        description="The question: not blank, at most RAG_MAX_QUESTION_LENGTH characters "
        "(default 2000).",
        examples=["How does a response cache lower RAG cost?"],
    )
    top_k: int = Field(
        DEFAULT_TOP_K,
        strict=True,
        ge=1,
        le=MAX_TOP_K,
        description="How many passages to retrieve and answer from.",
    )

    @field_validator("top_k", mode="before")
    @classmethod
    def _integral_number(cls, top_k: object) -> object:
        # JSON Schema's "integer" includes 2.0; strict validation still refuses 2.5, "2", true.
        if isinstance(top_k, float) and top_k.is_integer():
            return int(top_k)
        return top_k

    @field_validator("question")
    @classmethod
    def _valid_unicode(cls, question: str) -> str:
        # JSON may escape a lone UTF-16 surrogate ("\ud800"); no UTF-8 text holds one,
        # so it could be neither hashed, logged nor sent to a model.
        try:
            question.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("must be valid Unicode text (it holds a lone surrogate)") from None
        return question


class SourceModel(BaseModel):
    """A passage the answer is based on."""

    id: str
    title: str
    score: float = Field(description="Cosine similarity between the question and the passage.")


class QueryResponse(BaseModel):
    """The answer, its sources and what it cost."""

    answer: str
    sources: list[SourceModel]
    correlation_id: str
    cached: bool = Field(
        description="True when the answer came from the response cache (answer_level cache "
        "or stale_cache)."
    )
    cost_usd: float = Field(
        description="Price of the call of the model that answered, in US dollars (0 for "
        "cache, stale_cache and extractive answers)."
    )
    model: str = Field(
        description="The model that wrote the answer (for cached answers: the one that "
        'wrote it then; "" for an extractive answer).'
    )
    answer_level: AnswerLevel = Field(
        description="Who answered: cache, primary (the configured model), or a fallback "
        "when the primary failed: secondary (a cheaper model), stale_cache (an expired "
        "cached answer), extractive (the best passages' lead sentences)."
    )
    degraded: bool = Field(
        description="True when a fallback answered (secondary, stale_cache, extractive)."
    )


class ErrorResponse(BaseModel):
    """Every error response of the API has this shape."""

    error: str = Field(
        description=f"Machine-readable error type, e.g. {', '.join(API_ERRORS)}.",
        examples=["llm_error"],
    )
    message: str = Field(description="What went wrong, for a human.")
    correlation_id: str = Field(description="The request's correlation id (also a header).")


class HealthResponse(BaseModel):
    """Liveness: the process answers."""

    status: Literal["ok"] = "ok"


class ReadinessResponse(BaseModel):
    """Readiness: the corpus is embedded and queries can be answered."""

    status: Literal["ready", "not_ready"]
    passages: int = Field(description="Passages in the vector store.")
