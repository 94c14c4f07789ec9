"""The questions the load generator asks: a few popular ones and many new combinations."""

from __future__ import annotations

import random

#: Asked again and again, like a FAQ: after the first time each one is a cache hit.
POPULAR_QUESTIONS: tuple[str, ...] = (
    "What is retrieval-augmented generation?",
    "How does a response cache lower RAG cost?",
    "How do I choose top_k?",
    "Why should every dependency call have a timeout?",
    "What does a circuit breaker do?",
    "How do I measure the cache hit rate?",
    "What is label cardinality and why does it matter?",
    "How should prompts be versioned?",
    "What are the four golden signals?",
    "How do I alert on rate limit headroom?",
    "What is prompt injection?",
    "How do exemplars link metrics to logs?",
    "How should a RAG service handle 429 errors?",
    "What is a correlation id?",
    "How do I evaluate retrieval quality?",
    "When should retries use backoff with jitter?",
    "What chunk size should I use for documents?",
    "How do I keep the cache from serving stale answers?",
    "What is hybrid retrieval?",
    "How do I monitor LLM cost per hour?",
)

_TEMPLATES: tuple[str, ...] = (
    "How does {topic} affect {concern} when {situation}?",
    "What is the best way to handle {topic} for {concern} when {situation}?",
    "Why does {topic} matter for {concern} when {situation}?",
    "How should I monitor {topic} and {concern} when {situation}?",
    "What goes wrong with {topic} and {concern} when {situation}?",
    "Explain {topic} in terms of {concern} when {situation}.",
    "How do I test {topic} for {concern} before {situation}?",
    "Which metrics show that {topic} hurts {concern} when {situation}?",
)
_TOPICS: tuple[str, ...] = (
    "the response cache", "cache TTLs", "LRU eviction", "semantic caching", "top_k",
    "chunk size", "embeddings", "vector search", "re-ranking", "hybrid retrieval",
    "the system prompt", "prompt templates", "token counting", "structured output",
    "prompt injection", "latency histograms", "error rates", "rate limit headroom",
    "cost tracking", "correlation ids", "exemplars", "structured logs", "timeouts",
    "retries", "circuit breakers", "fallbacks", "load shedding", "readiness probes",
    "fault injection", "alert thresholds", "index freshness", "query rewriting",
)  # fmt: skip
_CONCERNS: tuple[str, ...] = (
    "p95 latency", "the monthly bill", "answer quality", "the error budget",
    "on-call load", "user trust", "capacity planning", "privacy",
)  # fmt: skip
_SITUATIONS: tuple[str, ...] = (
    "traffic doubles", "the provider is slow", "the corpus changes daily",
    "a deployment goes out", "the cache is cold", "the vector store is down",
    "users ask in several languages", "the budget is tight", "a tenant floods the service",
    "the model is replaced",
)  # fmt: skip


class QuestionSource:
    """Draws questions: popular ones with probability ``repeat_fraction``, else new ones."""

    def __init__(self, rng: random.Random, repeat_fraction: float) -> None:
        self._rng = rng
        self.repeat_fraction = repeat_fraction

    def new_question(self) -> str:
        """A combination of template, topic, concern and situation (20 480 possible)."""
        rng = self._rng
        return rng.choice(_TEMPLATES).format(
            topic=rng.choice(_TOPICS),
            concern=rng.choice(_CONCERNS),
            situation=rng.choice(_SITUATIONS),
        )

    def next(self) -> tuple[str, bool]:
        """The next question and whether it is a repeated (popular) one."""
        if self._rng.random() < self.repeat_fraction:
            return self._rng.choice(POPULAR_QUESTIONS), True
        return self.new_question(), False
