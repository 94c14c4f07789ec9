"""LLM providers: token counting, pricing, the simulated provider and the HTTP provider."""

from __future__ import annotations

import random
from typing import Any

import pytest
import requests

from sample_rag_app.pipeline.corpus import Passage
from sample_rag_app.pipeline.errors import LLMError, LLMTimeoutError, RateLimitError
from sample_rag_app.pipeline.llm import (
    OpenAICompatibleLLM,
    SimulatedLLM,
    cost_usd,
    count_tokens,
)
from sample_rag_app.pipeline.ratelimit import SlidingWindowRateLimiter

PASSAGES = [
    Passage("p1", "Timeouts", "Every call needs a timeout. Without one workers hang."),
    Passage("p2", "Retries", "Retries use backoff. They also need a budget."),
]


def _limiter(rpm: int = 100, tpm: int = 100_000) -> SlidingWindowRateLimiter:
    return SlidingWindowRateLimiter(rpm, tpm, clock=lambda: 0.0)


def _simulated(**kwargs: Any) -> SimulatedLLM:
    values: dict[str, Any] = {
        "model": "gpt-4o-mini",
        "limiter": _limiter(),
        "rng": random.Random(1),
        "latency_median_seconds": 0.0,
    }
    values.update(kwargs)
    return SimulatedLLM(**values)


def test_count_tokens_counts_words_and_punctuation() -> None:
    """Every word and every punctuation mark is one token."""
    assert count_tokens("Hello, world!") == 4
    assert count_tokens("") == 0


def test_cost_uses_the_price_table_per_1000_tokens() -> None:
    """gpt-4o-mini costs 0.00015 USD per 1k prompt and 0.0006 per 1k completion tokens."""
    assert cost_usd("gpt-4o-mini", 1000, 1000) == pytest.approx(0.00075)
    assert cost_usd("no-such-model", 1000, 1000) == 0.0


def test_simulated_answer_cites_passages_and_counts_tokens() -> None:
    """The simulated answer quotes the lead sentences with [n] citations; tokens are counted."""
    completion = _simulated().complete("Why timeouts?", PASSAGES)
    assert "Every call needs a timeout. [1]" in completion.text
    assert "[2]" in completion.text
    assert completion.model == "gpt-4o-mini"
    assert completion.prompt_tokens > count_tokens(PASSAGES[0].text)
    assert completion.completion_tokens == count_tokens(completion.text)


def test_simulated_answer_without_passages_says_it_does_not_know() -> None:
    """With no passages the simulated model says it does not know."""
    assert "do not know" in _simulated().complete("anything", []).text


def test_simulated_latency_is_lognormal_and_capped() -> None:
    """The provider sleeps a positive lognormal latency, never more than the cap."""
    sleeps: list[float] = []
    llm = _simulated(
        limiter=_limiter(rpm=1000),
        latency_median_seconds=0.2,
        latency_max_seconds=0.3,
        timeout_seconds=5,
        sleep=sleeps.append,
    )
    for _ in range(200):
        llm.complete("q", PASSAGES)
    assert all(0 < s <= 0.3 for s in sleeps)
    assert len(set(sleeps)) > 100


def test_simulated_latency_beyond_the_timeout_raises_timeout() -> None:
    """A latency longer than the timeout waits the timeout, then raises LLMTimeoutError."""
    sleeps: list[float] = []
    llm = _simulated(latency_median_seconds=10, latency_sigma=0, timeout_seconds=1.5,
                     latency_max_seconds=20, sleep=sleeps.append)  # fmt: skip
    with pytest.raises(LLMTimeoutError):
        llm.complete("q", PASSAGES)
    assert sleeps == [1.5]


def test_simulated_provider_enforces_the_rate_limit() -> None:
    """Beyond the requests-per-minute limit the provider raises RateLimitError."""
    llm = _simulated(limiter=_limiter(rpm=2))
    llm.complete("q", PASSAGES)
    llm.complete("q", PASSAGES)
    with pytest.raises(RateLimitError):
        llm.complete("q", PASSAGES)
    assert llm.headroom_percent() == 0.0


class FakeResponse:
    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None):
        self.status_code = status
        self._body = body
        self.headers = headers or {}

    def json(self) -> Any:
        if isinstance(self._body, Exception):
            raise self._body
        return self._body


class FakeSession(requests.Session):
    def __init__(self, outcome: FakeResponse | Exception) -> None:
        super().__init__()
        self.outcome = outcome
        self.calls: list[dict[str, Any]] = []

    def post(self, url: str | bytes, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        self.calls.append({"url": url, **kwargs})
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


def _openai(outcome: FakeResponse | Exception, base_url: str = "http://llm.test") -> Any:
    session = FakeSession(outcome)
    llm = OpenAICompatibleLLM(
        base_url=base_url, api_key="k", model="gpt-4o", limiter=_limiter(), session=session
    )
    return llm, session


def test_openai_provider_posts_chat_completions_and_reads_usage() -> None:
    """The HTTP provider posts to /v1/chat/completions with the key and uses reported usage."""
    body = {
        "choices": [{"message": {"content": "An answer [1]"}}],
        "usage": {"prompt_tokens": 321, "completion_tokens": 12},
    }
    llm, session = _openai(FakeResponse(200, body))
    completion = llm.complete("q", PASSAGES)
    assert session.calls[0]["url"] == "http://llm.test/v1/chat/completions"
    assert session.calls[0]["headers"]["Authorization"] == "Bearer k"
    assert session.calls[0]["json"]["model"] == "gpt-4o"
    assert (completion.text, completion.prompt_tokens, completion.completion_tokens) == (
        "An answer [1]", 321, 12,
    )  # fmt: skip


def test_openai_base_url_ending_in_v1_is_not_doubled() -> None:
    """A base URL that already ends in /v1 gets only /chat/completions appended."""
    llm, _ = _openai(FakeResponse(200, {}), base_url="https://api.example/v1/")
    assert llm.url == "https://api.example/v1/chat/completions"


@pytest.mark.parametrize(
    ("outcome", "error"),
    [
        (FakeResponse(429, headers={"retry-after": "7"}), RateLimitError),
        (FakeResponse(500), LLMError),
        (FakeResponse(200, ValueError("not json")), LLMError),
        (FakeResponse(200, {"choices": []}), LLMError),
        (requests.Timeout(), LLMTimeoutError),
        (requests.ConnectionError(), LLMError),
    ],
)
def test_openai_provider_maps_failures(outcome: Any, error: type[Exception]) -> None:
    """429, 5xx, bad bodies, timeouts and connection errors map to the pipeline's errors."""
    llm, _ = _openai(outcome)
    with pytest.raises(error):
        llm.complete("q", PASSAGES)
