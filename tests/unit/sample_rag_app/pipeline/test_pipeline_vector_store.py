"""Cosine-similarity search over the in-memory vector store."""

from __future__ import annotations

import pytest

from sample_rag_app.pipeline.corpus import Passage, load_corpus
from sample_rag_app.pipeline.embedder import HashingEmbedder
from sample_rag_app.pipeline.errors import VectorStoreUnavailableError
from sample_rag_app.pipeline.vector_store import InMemoryVectorStore


@pytest.fixture(scope="module")
def store() -> InMemoryVectorStore:
    store = InMemoryVectorStore(HashingEmbedder(512))
    store.load(load_corpus())
    return store


@pytest.mark.parametrize(
    ("question", "expected_prefix"),
    [
        ("How do I measure the cache hit rate?", "cache-"),
        ("What does a circuit breaker do in the open state?", "resilience-"),
        ("Why is label cardinality dangerous for Prometheus?", "monitoring-"),
        ("How do I defend against prompt injection in retrieved documents?", "prompt-"),
    ],
)
def test_search_ranks_the_topical_passage_first(
    store: InMemoryVectorStore, question: str, expected_prefix: str
) -> None:
    """The best-ranked passage for a topical question comes from that topic."""
    results = store.search(HashingEmbedder(512).embed(question), 3)
    assert results[0].passage.id.startswith(expected_prefix), [r.passage.id for r in results]


def test_search_returns_top_k_in_descending_score_order(store: InMemoryVectorStore) -> None:
    """search returns exactly top_k results, best first, with scores in [-1, 1]."""
    results = store.search(HashingEmbedder(512).embed("retries with backoff and jitter"), 7)
    scores = [r.score for r in results]
    assert len(results) == 7
    assert scores == sorted(scores, reverse=True)
    assert all(-1.0 <= s <= 1.0 + 1e-6 for s in scores)


def test_top_k_larger_than_the_corpus_returns_every_passage() -> None:
    """Asking for more passages than exist returns them all."""
    store = InMemoryVectorStore(HashingEmbedder(32))
    store.load([Passage("a", "A", "alpha"), Passage("b", "B", "beta")])
    assert len(store.search(HashingEmbedder(32).embed("alpha"), 10)) == 2


def test_ties_keep_corpus_order() -> None:
    """Passages with equal scores are ranked in corpus order (deterministic)."""
    store = InMemoryVectorStore(HashingEmbedder(32))
    store.load([Passage("first", "", "same text"), Passage("second", "", "same text")])
    results = store.search(HashingEmbedder(32).embed("same text"), 2)
    assert [r.passage.id for r in results] == ["first", "second"]


def test_search_before_load_is_unavailable() -> None:
    """An unloaded store raises VectorStoreUnavailableError and reports not ready."""
    store = InMemoryVectorStore(HashingEmbedder(32))
    assert not store.ready
    with pytest.raises(VectorStoreUnavailableError):
        store.search(HashingEmbedder(32).embed("x"), 1)
