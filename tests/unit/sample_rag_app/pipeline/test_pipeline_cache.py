"""The bounded response cache: key normalisation, LRU eviction, TTL and stale entries."""

from __future__ import annotations

import pytest

from sample_rag_app.pipeline.cache import ResponseCache, cache_key, normalise_question


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_normalisation_ignores_case_punctuation_and_whitespace() -> None:
    """Questions differing only in case, punctuation or spacing share a key."""
    assert normalise_question("  How does   a Cache work?! ") == "how does a cache work"
    assert cache_key("What is RAG?", 4) == cache_key("what is  rag", 4)


def test_top_k_is_part_of_the_key() -> None:
    """The same question with another top_k is another entry."""
    assert cache_key("What is RAG?", 4) != cache_key("What is RAG?", 5)


def test_get_returns_what_put_stored() -> None:
    """A stored value is returned until it expires; a missing key returns None."""
    cache: ResponseCache[str] = ResponseCache(2, 60, clock=FakeClock())
    cache.put(("q", 4), "answer")
    assert cache.get(("q", 4)) == "answer"
    assert cache.get(("other", 4)) is None


def test_least_recently_used_entry_is_evicted_first() -> None:
    """Beyond max_size, the least recently read entry is evicted, not the oldest written."""
    cache: ResponseCache[str] = ResponseCache(2, 60, clock=FakeClock())
    cache.put(("a", 1), "A")
    cache.put(("b", 1), "B")
    assert cache.get(("a", 1)) == "A"  # a is now most recently used
    cache.put(("c", 1), "C")
    assert cache.get(("b", 1)) is None
    assert cache.get(("a", 1)) == "A"
    assert cache.get(("c", 1)) == "C"
    assert len(cache) == 2


def test_entries_expire_after_the_ttl() -> None:
    """An entry is served before its TTL elapses and not once it has."""
    clock = FakeClock()
    cache: ResponseCache[str] = ResponseCache(10, 30, clock=clock)
    cache.put(("q", 1), "A")
    clock.now += 29.9
    assert cache.get(("q", 1)) == "A"
    clock.now += 0.1
    assert cache.get(("q", 1)) is None


def test_expired_entries_stay_available_as_stale_within_the_window() -> None:
    """get_stale serves an expired entry until the stale window past its TTL has passed."""
    clock = FakeClock()
    cache: ResponseCache[str] = ResponseCache(10, 30, clock=clock)
    cache.put(("q", 1), "A")
    clock.now += 30 + 59.9
    assert cache.get(("q", 1)) is None
    assert cache.get_stale(("q", 1), 60) == "A"
    clock.now += 0.1
    assert cache.get_stale(("q", 1), 60) is None
    assert cache.get_stale(("other", 1), 60) is None


def test_size_zero_disables_the_cache() -> None:
    """max_size 0 stores nothing."""
    cache: ResponseCache[str] = ResponseCache(0, 30)
    cache.put(("q", 1), "A")
    assert cache.get(("q", 1)) is None


def test_invalid_bounds_are_rejected() -> None:
    """A negative size or a non-positive TTL raises ValueError."""
    with pytest.raises(ValueError, match="max_size"):
        ResponseCache(-1, 30)
    with pytest.raises(ValueError, match="ttl"):
        ResponseCache(1, 0)
