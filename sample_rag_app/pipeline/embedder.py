"""A local, deterministic text embedder: hashed word and character n-gram features.

No model download and no randomness: the same text gives the same vector on every
machine (the hash is CRC-32, not Python's per-process salted ``hash``). Vectors are
L2-normalised, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import itertools
import math
import re
import zlib
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]

_WORD = re.compile(r"[a-z0-9]+")
# Words so common that they say nothing about a passage's topic.
_STOP_WORDS = frozenset(
    (
        "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "how",
        "i", "in", "is", "it", "its", "of", "on", "or", "that", "the", "their", "them", "then",
        "there", "these", "this", "to", "was", "what", "when", "where", "which", "who", "why",
        "will", "with", "you", "your",
    )
)  # fmt: skip


class HashingEmbedder:
    """Maps text to a ``dimensions``-long unit vector of signed, hashed features."""

    def __init__(self, dimensions: int = 512, *, char_ngram: int = 4) -> None:
        if dimensions < 2:
            raise ValueError("dimensions must be at least 2")
        self.dimensions = dimensions
        self._char_ngram = char_ngram

    def _features(self, text: str) -> Iterable[tuple[str, float]]:
        words = [w for w in _WORD.findall(text.lower()) if w not in _STOP_WORDS]
        for word in words:
            yield "w:" + word, 1.0
            padded = f"<{word}>"
            n = self._char_ngram
            if len(padded) > n:
                for i in range(len(padded) - n + 1):
                    yield "c:" + padded[i : i + n], 0.35
        for first, second in itertools.pairwise(words):
            yield f"b:{first} {second}", 0.5

    def embed(self, text: str) -> Vector:
        """Return the unit-length embedding of ``text`` (all zeros when it has no features)."""
        counts: dict[int, float] = {}
        for feature, weight in self._features(text):
            digest = zlib.crc32(feature.encode("utf-8"))
            index = digest % self.dimensions
            sign = 1.0 if (digest >> 31) & 1 else -1.0
            counts[index] = counts.get(index, 0.0) + sign * weight
        vector = np.zeros(self.dimensions, dtype=np.float32)
        for index, value in counts.items():
            # Sub-linear term frequency: a word repeated ten times is not ten times as topical.
            vector[index] = math.copysign(math.log1p(abs(value)), value)
        norm = float(np.linalg.norm(vector))
        if norm > 0.0:
            vector /= norm
        return vector

    def embed_many(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Embed several texts into a ``(len(texts), dimensions)`` matrix."""
        matrix = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            matrix[row] = self.embed(text)
        return matrix
