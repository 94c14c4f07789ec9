"""An exact in-memory vector index searched by cosine similarity.

The passages' sparse vectors are kept as an inverted index (dimension -> the passages with
a non-zero value there), so a search touches only the query's few dimensions: exact dot
products at a fraction of the cost of comparing every passage.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from sample_rag_app.pipeline.corpus import Passage
from sample_rag_app.pipeline.embedder import HashingEmbedder, Vector
from sample_rag_app.pipeline.errors import VectorStoreUnavailableError


@dataclass(frozen=True, slots=True)
class SearchResult:
    """A passage and its cosine similarity to the query."""

    passage: Passage
    score: float


class InMemoryVectorStore:
    """Holds unit-length passage embeddings; ``search`` ranks them against a query vector."""

    def __init__(self, embedder: HashingEmbedder) -> None:
        self._embedder = embedder
        self._passages: list[Passage] = []
        self._postings: dict[int, list[tuple[int, float]]] = {}
        self._ready = threading.Event()

    @property
    def ready(self) -> bool:
        """True once ``load`` has embedded the corpus."""
        return self._ready.is_set()

    def __len__(self) -> int:
        return len(self._passages)

    def load(self, passages: Sequence[Passage]) -> None:
        """Embed ``title + text`` of every passage and make the store searchable."""
        vectors = self._embedder.embed_many([f"{p.title}. {p.text}" for p in passages])
        postings: dict[int, list[tuple[int, float]]] = {}
        for row, vector in enumerate(vectors):
            for index, value in vector.entries.items():
                postings.setdefault(index, []).append((row, value))
        self._passages, self._postings = list(passages), postings
        self._ready.set()

    def search(self, query: Vector, top_k: int) -> list[SearchResult]:
        """Return the ``top_k`` passages most similar to ``query``, best first.

        Ties are broken by corpus order, so the ranking is deterministic.
        """
        if not self.ready:
            raise VectorStoreUnavailableError("the vector store has not finished loading")
        if top_k <= 0 or not self._passages:
            return []
        scores = [0.0] * len(self._passages)
        for index, weight in query.entries.items():
            for row, value in self._postings.get(index, ()):
                scores[row] += weight * value
        # A stable sort on the negated scores keeps corpus order among equal scores.
        order = sorted(range(len(scores)), key=lambda i: -scores[i])[:top_k]
        return [SearchResult(self._passages[i], scores[i]) for i in order]
