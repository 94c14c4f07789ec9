"""A local, deterministic text embedder: hashed word and character n-gram features.

No model download and no randomness: the same text gives the same vector on every
machine (the hash is CRC-32, not Python's per-process salted ``hash``). Vectors are
L2-normalised, so a dot product is the cosine similarity.

A text has a few dozen features among hundreds of dimensions, so a vector keeps only its
non-zero entries: plain Python does the arithmetic, and the app's image needs no numpy
(tens of megabytes).
"""

from __future__ import annotations

import itertools
import math
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class Vector:
    """A ``dimensions``-long vector held as its non-zero entries (index -> value)."""

    dimensions: int
    entries: Mapping[int, float]

    def __len__(self) -> int:
        return self.dimensions

    def dot(self, other: Vector) -> float:
        """The dot product: the cosine similarity of two unit vectors."""
        small, large = sorted((self.entries, other.entries), key=len)
        return sum(value * large.get(index, 0.0) for index, value in small.items())

    def norm(self) -> float:
        return math.sqrt(sum(value * value for value in self.entries.values()))


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
        # Sub-linear term frequency: a word repeated ten times is not ten times as topical.
        scaled = {i: math.copysign(math.log1p(abs(v)), v) for i, v in counts.items() if v}
        norm = Vector(self.dimensions, scaled).norm()
        if norm > 0.0:
            scaled = {index: value / norm for index, value in scaled.items()}
        return Vector(self.dimensions, scaled)

    def embed_many(self, texts: Sequence[str]) -> list[Vector]:
        """Embed several texts, in order."""
        return [self.embed(text) for text in texts]
