"""A bounded response cache: least recently used eviction plus a time to live."""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")
CacheKey = tuple[str, int]

_PUNCTUATION = re.compile(r"[^\w\s]")
_WHITESPACE = re.compile(r"\s+")


def normalise_question(question: str) -> str:
    """Lowercase, strip punctuation and collapse whitespace: the question part of a key."""
    return _WHITESPACE.sub(" ", _PUNCTUATION.sub(" ", question.lower())).strip()


def cache_key(question: str, top_k: int) -> CacheKey:
    """The cache key of a query: its normalised question and its top_k."""
    return normalise_question(question), top_k


class ResponseCache(Generic[V]):
    """At most ``max_size`` entries, each valid for ``ttl_seconds``; thread-safe.

    ``max_size`` 0 disables the cache (every lookup misses, nothing is stored). An
    expired entry is not served by ``get`` but stays (until the LRU bound evicts it)
    so that ``get_stale`` can serve it when the model fails (stale-if-error).
    """

    def __init__(
        self, max_size: int, ttl_seconds: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if max_size < 0 or ttl_seconds <= 0:
            raise ValueError("max_size must be >= 0 and ttl_seconds > 0")
        self.max_size = max_size
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[CacheKey, tuple[float, V]] = OrderedDict()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def get(self, key: CacheKey) -> V | None:
        """The live value under ``key`` (now most recently used), or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires_at, value = entry
            if self._clock() >= expires_at:
                return None
            self._entries.move_to_end(key)
            return value

    def get_stale(self, key: CacheKey, stale_window_seconds: float) -> V | None:
        """The value under ``key`` if it expired less than ``stale_window_seconds`` ago.

        A live entry is returned too (it raced in since ``get`` missed).
        """
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or self._clock() >= entry[0] + stale_window_seconds:
                return None
            return entry[1]

    def put(self, key: CacheKey, value: V) -> None:
        """Store ``value``, evicting the least recently used entries beyond ``max_size``."""
        if self.max_size == 0:
            return
        with self._lock:
            self._entries[key] = (self._clock() + self.ttl_seconds, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._entries.clear()
