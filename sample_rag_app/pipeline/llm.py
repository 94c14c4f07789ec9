"""LLM providers, the token counter and the price table.

``SimulatedLLM`` (the default) writes the answer from the retrieved passages, counts
tokens, sleeps a lognormal latency and obeys the provider rate limit, so it behaves
like a real provider under load without a network or an API key; a latency (added
latency included) longer than the call's timeout is a timeout. The fallback's secondary
model is a ``SimulatedLLM`` too, with its own name, latency and error rate.
``OpenAICompatibleLLM`` calls ``/v1/chat/completions`` of a real endpoint; it is used
only when both an API key and a base URL are configured.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import requests

from sample_rag_app.clock import Clock, SystemClock
from sample_rag_app.pipeline.corpus import Passage
from sample_rag_app.pipeline.errors import LLMError, LLMTimeoutError, RateLimitError
from sample_rag_app.pipeline.ratelimit import SlidingWindowRateLimiter

_TOKEN = re.compile(r"\w+|[^\w\s]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")

SYSTEM_PROMPT = (
    "You answer questions about running retrieval-augmented generation services. "
    "Answer only from the numbered context passages, cite them as [1], [2] and say "
    "that you do not know when the context does not contain the answer."
)


def count_tokens(text: str) -> int:
    """A simple deterministic tokenizer: every word and every punctuation mark is a token."""
    return len(_TOKEN.findall(text))


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """US dollars per 1000 prompt tokens and per 1000 completion tokens."""

    prompt_per_1k: float
    completion_per_1k: float


#: USD per 1000 tokens, as providers list them. Unknown models cost 0 (and say so in logs).
PRICE_TABLE: dict[str, ModelPrice] = {
    "gpt-4o-mini": ModelPrice(0.00015, 0.0006),
    "gpt-4o": ModelPrice(0.0025, 0.01),
    "gpt-4.1-mini": ModelPrice(0.0004, 0.0016),
    "gpt-4.1-nano": ModelPrice(0.0001, 0.0004),
    "gpt-4.1": ModelPrice(0.002, 0.008),
    "gpt-3.5-turbo": ModelPrice(0.0005, 0.0015),
}


def cost_usd(model: str, prompt_tokens: int, completion_tokens: int) -> float:
    """The price of one call from the price table (0 for a model the table does not list)."""
    price = PRICE_TABLE.get(model)
    if price is None:
        return 0.0
    return (
        prompt_tokens * price.prompt_per_1k + completion_tokens * price.completion_per_1k
    ) / 1000.0


def _cited_leads(passages: Sequence[Passage]) -> str:
    parts = []
    for number, passage in enumerate(passages[:3], 1):
        lead = _SENTENCE_END.split(passage.text.strip(), maxsplit=1)[0]
        parts.append(f"{lead} [{number}]")
    return " ".join(parts)


def extractive_answer(passages: Sequence[Passage]) -> str:
    """The last fallback: no model, just the lead sentences of the best passages, cited."""
    return "No model could answer; the most relevant passages say: " + _cited_leads(passages)


def build_context(passages: Sequence[Passage]) -> str:
    """The numbered context block of the prompt."""
    return "\n\n".join(f"[{i}] {p.title}\n{p.text}" for i, p in enumerate(passages, 1))


def build_user_prompt(question: str, passages: Sequence[Passage]) -> str:
    """The user message: the context passages, then the question."""
    return f"Context:\n{build_context(passages)}\n\nQuestion: {question}\nAnswer:"


def estimate_prompt_tokens(question: str, passages: Sequence[Passage]) -> int:
    """Tokens of the system and user messages: what the rate limiter counts up front."""
    return count_tokens(SYSTEM_PROMPT) + count_tokens(build_user_prompt(question, passages))


@dataclass(frozen=True, slots=True)
class Completion:
    """A model's answer and what it cost in tokens."""

    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int


class LLMProvider(Protocol):
    """What the pipeline needs from a model provider."""

    @property
    def name(self) -> str:
        """``simulated`` or ``openai``: the ``llm_provider`` label of rag_build_info."""
        ...

    @property
    def model(self) -> str:
        """The model name: the ``model`` label of the cost and token metrics."""
        ...

    def complete(
        self,
        question: str,
        passages: Sequence[Passage],
        *,
        timeout_seconds: float,
        added_latency_seconds: float = 0.0,
    ) -> Completion:
        """Answer ``question`` from ``passages`` within ``timeout_seconds``.

        ``added_latency_seconds`` (an injected fault) delays the answer. Raises an LLM,
        RateLimit or LLMTimeout error.
        """
        ...

    def headroom_percent(self) -> float:
        """Remaining rate-limit budget, 0..100."""
        ...


class SimulatedLLM:
    """A provider without a network: composes, counts, prices, waits and rate-limits."""

    name = "simulated"

    def __init__(
        self,
        *,
        model: str,
        limiter: SlidingWindowRateLimiter,
        rng: random.Random,
        latency_median_seconds: float = 0.18,
        latency_sigma: float = 0.35,
        latency_max_seconds: float = 3.0,
        error_rate: float = 0.0,
        clock: Clock | None = None,
    ) -> None:
        self._model = model
        self._limiter = limiter
        self._rng = rng
        self._median = latency_median_seconds
        self._sigma = latency_sigma
        self._max = latency_max_seconds
        self._error_rate = error_rate
        self._clock = clock or SystemClock()

    @property
    def model(self) -> str:
        return self._model

    def headroom_percent(self) -> float:
        return self._limiter.headroom_percent()

    def _latency(self) -> float:
        if self._median <= 0:
            return 0.0
        sample = self._rng.lognormvariate(math.log(self._median), self._sigma)
        return min(sample, self._max)

    @staticmethod
    def compose_answer(question: str, passages: Sequence[Passage]) -> str:
        """A deterministic extractive answer: the lead sentence of the best passages, cited."""
        if not passages:
            return "I do not know: the knowledge base has nothing on this question."
        titles = ", ".join(p.title for p in passages[:3])
        return f"From the context ({titles}): " + _cited_leads(passages)

    def complete(
        self,
        question: str,
        passages: Sequence[Passage],
        *,
        timeout_seconds: float,
        added_latency_seconds: float = 0.0,
    ) -> Completion:
        prompt_tokens = estimate_prompt_tokens(question, passages)
        self._limiter.acquire(prompt_tokens)
        if self._error_rate > 0 and self._rng.random() < self._error_rate:
            raise LLMError(f"{self._model} answered HTTP 500 (simulated error rate)")
        latency = self._latency() + added_latency_seconds
        if latency > timeout_seconds:
            self._clock.sleep(timeout_seconds)
            raise LLMTimeoutError(f"the model did not answer within {timeout_seconds:g} s")
        self._clock.sleep(latency)
        text = self.compose_answer(question, passages)
        completion_tokens = count_tokens(text)
        self._limiter.add_tokens(completion_tokens)
        return Completion(text, self._model, prompt_tokens, completion_tokens)


class OpenAICompatibleLLM:
    """Calls ``POST {base_url}/v1/chat/completions`` of an OpenAI-compatible endpoint.

    A local limiter with the configured limits guards the provider's own quota and
    supplies the headroom gauge.
    """

    name = "openai"

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        model: str,
        limiter: SlidingWindowRateLimiter,
        session: requests.Session | None = None,
        max_completion_tokens: int = 400,
        clock: Clock | None = None,
    ) -> None:
        base = base_url.rstrip("/")
        self.url = (
            f"{base}/chat/completions" if base.endswith("/v1") else f"{base}/v1/chat/completions"
        )
        self._api_key = api_key
        self._model = model
        self._limiter = limiter
        self._session = session or requests.Session()
        self._max_tokens = max_completion_tokens
        self._clock = clock or SystemClock()

    @property
    def model(self) -> str:
        return self._model

    def headroom_percent(self) -> float:
        return self._limiter.headroom_percent()

    def complete(
        self,
        question: str,
        passages: Sequence[Passage],
        *,
        timeout_seconds: float,
        added_latency_seconds: float = 0.0,
    ) -> Completion:
        user = build_user_prompt(question, passages)
        estimated_prompt_tokens = estimate_prompt_tokens(question, passages)
        self._limiter.acquire(estimated_prompt_tokens)
        if added_latency_seconds >= timeout_seconds:
            self._clock.sleep(timeout_seconds)
            raise LLMTimeoutError(f"the model did not answer within {timeout_seconds:g} s")
        self._clock.sleep(added_latency_seconds)
        timeout = timeout_seconds - added_latency_seconds
        payload = {
            "model": self._model,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": user},
            ],
            "temperature": 0.0,
            "max_tokens": self._max_tokens,
        }
        try:
            response = self._session.post(
                self.url,
                json=payload,
                headers={"Authorization": f"Bearer {self._api_key}"},
                timeout=timeout,
            )
        except requests.Timeout as exc:
            raise LLMTimeoutError(f"the model did not answer within {timeout_seconds:g} s") from exc
        except requests.RequestException as exc:
            raise LLMError(f"cannot reach the model endpoint: {type(exc).__name__}") from exc
        if response.status_code == 429:
            retry_after = _float_or(response.headers.get("retry-after"), 1.0)
            raise RateLimitError(
                "the provider rejected the call (429)", retry_after_seconds=retry_after
            )
        if response.status_code >= 400:
            raise LLMError(
                f"the model endpoint answered HTTP {response.status_code}",
                retryable=response.status_code >= 500,
            )
        try:
            body: Any = response.json()
            text = str(body["choices"][0]["message"]["content"] or "")
            usage = body.get("usage") or {}
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            raise LLMError("the model endpoint answered with an unexpected body") from exc
        prompt_tokens = int(usage.get("prompt_tokens") or estimated_prompt_tokens)
        completion_tokens = int(usage.get("completion_tokens") or count_tokens(text))
        self._limiter.add_tokens(
            completion_tokens + max(0, prompt_tokens - estimated_prompt_tokens)
        )
        return Completion(text, self._model, prompt_tokens, completion_tokens)


def _float_or(value: str | None, default: float) -> float:
    try:
        return float(value) if value is not None else default
    except ValueError:
        return default
