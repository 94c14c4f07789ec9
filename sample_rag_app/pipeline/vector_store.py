"""An exact in-memory vector index searched by cosine similarity."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

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
        self._matrix: npt.NDArray[np.float32] = np.zeros((0, embedder.dimensions), np.float32)
        self._ready = threading.Event()

    @property
    def ready(self) -> bool:
        """True once ``load`` has embedded the corpus."""
        return self._ready.is_set()

    def __len__(self) -> int:
        return len(self._passages)

    def load(self, passages: Sequence[Passage]) -> None:
        """Embed ``title + text`` of every passage and make the store searchable."""
        matrix = self._embedder.embed_many([f"{p.title}. {p.text}" for p in passages])
        self._passages, self._matrix = list(passages), matrix
        self._ready.set()

    def search(self, query: Vector, top_k: int) -> list[SearchResult]:
        """Return the ``top_k`` passages most similar to ``query``, best first.

        Ties are broken by corpus order, so the ranking is deterministic.
        """
        if not self.ready:
            raise VectorStoreUnavailableError("the vector store has not finished loading")
        if top_k <= 0 or not self._passages:
            return []
        scores = self._matrix @ query
        k = min(top_k, len(self._passages))
        # A stable sort on the negated scores keeps corpus order among equal scores.
        order = np.argsort(-scores, kind="stable")[:k]
        return [SearchResult(self._passages[int(i)], float(scores[int(i)])) for i in order]
