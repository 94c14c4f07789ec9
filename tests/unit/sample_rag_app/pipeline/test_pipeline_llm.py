"""LLM providers: token counting, pricing, the simulated provider and the HTTP provider."""

from __future__ import annotations

import random
from typing import Any

import pytest
import requests
from rag_test_support import RecordingClock

from sample_rag_app.pipeline.corpus import Passage
from sample_rag_app.pipeline.errors import LLMError, LLMTimeoutError, RateLimitError
from sample_rag_app.pipeline.llm import (
    OpenAICompatibleLLM,
    SimulatedLLM,
    cost_usd,
    count_tokens,
    extractive_answer,
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


def test_the_secondary_model_is_priced_at_its_list_price() -> None:
    """gpt-4.1-nano, the fallback model, costs 0.10 / 0.40 USD per million tokens."""
    assert cost_usd("gpt-4.1-nano", 1_000_000, 1_000_000) == pytest.approx(0.5)
    assert cost_usd("gpt-4.1-nano", 1000, 1000) < cost_usd("gpt-4o-mini", 1000, 1000)


def test_extractive_answer_cites_the_lead_sentences_and_says_it_is_degraded() -> None:
    """The last fallback quotes the best passages' lead sentences, cited, without a model."""
    text = extractive_answer(PASSAGES)
    assert text.startswith("No model could answer")
    assert "Every call needs a timeout. [1]" in text
    assert "Retries use backoff. [2]" in text


def test_simulated_answer_cites_passages_and_counts_tokens() -> None:
    """The simulated answer quotes the lead sentences with [n] citations; tokens are counted."""
    completion = _simulated().complete("Why timeouts?", PASSAGES, timeout_seconds=5)
    assert "Every call needs a timeout. [1]" in completion.text
    assert "[2]" in completion.text
    assert completion.model == "gpt-4o-mini"
    assert completion.prompt_tokens > count_tokens(PASSAGES[0].text)
    assert completion.completion_tokens == count_tokens(completion.text)


def test_simulated_answer_without_passages_says_it_does_not_know() -> None:
    """With no passages the simulated model says it does not know."""
    assert "do not know" in _simulated().complete("anything", [], timeout_seconds=5).text


def test_simulated_latency_is_lognormal_and_capped() -> None:
    """The provider sleeps a positive lognormal latency, never more than the cap."""
    clock = RecordingClock()
    llm = _simulated(
        limiter=_limiter(rpm=1000),
        latency_median_seconds=0.2,
        latency_max_seconds=0.3,
        clock=clock,
    )
    for _ in range(200):
        llm.complete("q", PASSAGES, timeout_seconds=5)
    assert len(clock.sleeps) == 200
    assert all(0 < s <= 0.3 for s in clock.sleeps)
    assert len(set(clock.sleeps)) > 100


def test_simulated_latency_beyond_the_timeout_raises_timeout() -> None:
    """A latency longer than the timeout waits the timeout, then raises LLMTimeoutError."""
    clock = RecordingClock()
    llm = _simulated(latency_median_seconds=10, latency_sigma=0, latency_max_seconds=20,
                     clock=clock)  # fmt: skip
    with pytest.raises(LLMTimeoutError):
        llm.complete("q", PASSAGES, timeout_seconds=1.5)
    assert clock.sleeps == [1.5]


def test_added_latency_counts_towards_the_timeout() -> None:
    """Added latency is slept with the model's own; past the timeout it is a timeout."""
    clock = RecordingClock()
    llm = _simulated(latency_median_seconds=0.2, latency_sigma=0, clock=clock)
    llm.complete("q", PASSAGES, timeout_seconds=2, added_latency_seconds=1.0)
    assert clock.sleeps == [pytest.approx(1.2)]
    with pytest.raises(LLMTimeoutError):
        llm.complete("q", PASSAGES, timeout_seconds=2, added_latency_seconds=1.9)
    assert clock.sleeps[-1] == 2


def test_simulated_error_rate_fails_that_share_of_calls() -> None:
    """A simulated model with an error rate fails about that share of its calls (HTTP 500)."""
    llm = _simulated(limiter=_limiter(rpm=10_000, tpm=10**9), error_rate=0.25)
    failures: list[LLMError] = []
    for _ in range(2000):
        try:
            llm.complete("q", PASSAGES, timeout_seconds=5)
        except LLMError as error:
            failures.append(error)
    assert 400 < len(failures) < 600
    assert all(error.retryable for error in failures)


def test_simulated_provider_enforces_the_rate_limit() -> None:
    """Beyond the requests-per-minute limit the provider raises RateLimitError."""
    llm = _simulated(limiter=_limiter(rpm=2))
    llm.complete("q", PASSAGES, timeout_seconds=5)
    llm.complete("q", PASSAGES, timeout_seconds=5)
    with pytest.raises(RateLimitError):
        llm.complete("q", PASSAGES, timeout_seconds=5)
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
        base_url=base_url,
        api_key="k",
        model="gpt-4o",
        limiter=_limiter(),
        session=session,
        clock=RecordingClock(),
    )
    return llm, session


def test_openai_provider_posts_chat_completions_and_reads_usage() -> None:
    """The HTTP provider posts to /v1/chat/completions with the key and uses reported usage."""
    body = {
        "choices": [{"message": {"content": "An answer [1]"}}],
        "usage": {"prompt_tokens": 321, "completion_tokens": 12},
    }
    llm, session = _openai(FakeResponse(200, body))
    completion = llm.complete("q", PASSAGES, timeout_seconds=4)
    assert session.calls[0]["timeout"] == 4
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
    ("outcome", "error", "retryable"),
    [
        (FakeResponse(429, headers={"retry-after": "7"}), RateLimitError, True),
        (FakeResponse(500), LLMError, True),
        (FakeResponse(400), LLMError, False),
        (FakeResponse(200, ValueError("not json")), LLMError, True),
        (FakeResponse(200, {"choices": []}), LLMError, True),
        (requests.Timeout(), LLMTimeoutError, True),
        (requests.ConnectionError(), LLMError, True),
    ],
)
def test_openai_provider_maps_failures(
    outcome: Any, error: type[Exception], retryable: bool
) -> None:
    """429, 5xx, 4xx, bad bodies, timeouts and connection errors map to pipeline errors."""
    llm, _ = _openai(outcome)
    with pytest.raises(error) as info:
        llm.complete("q", PASSAGES, timeout_seconds=5)
    assert getattr(info.value, "retryable", None) is retryable


def test_openai_provider_spends_added_latency_out_of_the_timeout() -> None:
    """Added latency is waited first; the HTTP timeout gets what is left of the budget."""
    llm, session = _openai(FakeResponse(200, {"choices": [{"message": {"content": "x"}}]}))
    llm.complete("q", PASSAGES, timeout_seconds=5, added_latency_seconds=1.5)
    assert session.calls[0]["timeout"] == pytest.approx(3.5)
