"""The provider driven by the official openai SDK, sync and async, over a real socket."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from typing import Any

import openai
import pytest
from conftest import RunningProvider

from sample_rag_app.services.provider.tokens import count_tokens

Serve = Callable[..., RunningProvider]
CHAT = "/v1/chat/completions"
MESSAGES: list[Any] = [
    {"role": "system", "content": "Answer from the context only."},
    {"role": "user", "content": "What does a circuit breaker do, in one sentence?"},
]
PROMPT_TOKENS = sum(count_tokens(m["content"]) for m in MESSAGES)


def sync_client(running: RunningProvider, **options: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=running.base_url, api_key="sk-test", **options)


def async_client(running: RunningProvider, **options: Any) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=running.base_url, api_key="sk-test", **options)


def test_a_completion_answers_with_usage_from_the_lab_tokenizer(serve: Serve) -> None:
    """The SDK parses the answer, and usage counts the prompt with the lab's tokenizer."""
    running = serve()
    completion = sync_client(running).chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES
    )
    text = completion.choices[0].message.content or ""
    assert text.startswith("A simulated answer from gpt-4o-mini")
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == PROMPT_TOKENS
    assert completion.usage.completion_tokens == count_tokens(text)
    assert completion.usage.total_tokens == PROMPT_TOKENS + count_tokens(text)


def test_the_async_client_gets_the_same_answer(serve: Serve) -> None:
    """The answer is deterministic: the async client reads what the sync one does."""
    running = serve()
    sync = sync_client(running).chat.completions.create(model="gpt-4o", messages=MESSAGES)

    async def ask() -> Any:
        async with async_client(running) as client:
            return await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    answer = asyncio.run(ask())
    assert answer.choices[0].message.content == sync.choices[0].message.content
    assert answer.usage == sync.usage


def test_max_tokens_cuts_the_answer_with_finish_reason_length(serve: Serve) -> None:
    """A limit below the answer's length cuts it there, as a provider does."""
    running = serve()
    completion = sync_client(running).chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, max_tokens=3
    )
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 3


def test_a_stream_joins_to_the_answer_and_ends_with_usage(serve: Serve) -> None:
    """SSE chunks joined are the non-streamed answer; include_usage adds a last chunk with
    no choices and the usage."""
    running = serve()
    client = sync_client(running)
    whole = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    assert len(chunks) > 3
    assert chunks[-1].choices == []
    assert chunks[-1].usage == whole.usage
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"


def test_an_async_stream_without_include_usage_has_no_usage_chunk(serve: Serve) -> None:
    """Usage in a stream only when asked for, as OpenAI does."""
    running = serve()

    async def stream() -> list[Any]:
        async with async_client(running) as client:
            events = await client.chat.completions.create(
                model="gpt-4o-mini", messages=MESSAGES, stream=True
            )
            return [chunk async for chunk in events]

    chunks = asyncio.run(stream())
    assert all(chunk.usage is None and chunk.choices for chunk in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks).startswith("A simulated")


def test_embeddings_are_unit_vectors_with_usage_sync_and_async(serve: Serve) -> None:
    """The SDK's default base64 encoding and the float one decode to the same unit vector."""
    running = serve()
    texts = ["retries and a fallback", "a circuit breaker"]
    sync = sync_client(running).embeddings.create(
        model="text-embedding-3-small", input=texts, dimensions=64
    )

    async def embed() -> Any:
        async with async_client(running) as client:
            return await client.embeddings.create(
                model="text-embedding-3-small", input=texts, dimensions=64, encoding_format="float"
            )

    floats = asyncio.run(embed())
    assert [len(d.embedding) for d in sync.data] == [64, 64]
    for a, b in zip(sync.data, floats.data, strict=True):
        assert a.embedding == pytest.approx(b.embedding, abs=1e-6)
        assert math.fsum(v * v for v in b.embedding) == pytest.approx(1.0)
    assert sync.usage.prompt_tokens == sum(count_tokens(t) for t in texts)


def test_models_lists_the_priced_and_the_embedding_models(serve: Serve) -> None:
    """GET /v1/models names what the provider answers."""
    names = {m.id for m in sync_client(serve()).models.list()}
    assert {"gpt-4o-mini", "gpt-4.1", "text-embedding-3-small"} <= names


def test_every_response_carries_the_rate_limit_headers(serve: Serve) -> None:
    """Success or failure, the six x-ratelimit-* headers are there; remaining counts down."""
    running = serve(requests_per_minute=50)
    client = sync_client(running, max_retries=0)
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES)
    names = [
        f"x-ratelimit-{w}-{k}"
        for w in ("limit", "remaining", "reset")
        for k in ("requests", "tokens")
    ]
    assert all(name in raw.headers for name in names)
    assert raw.headers["x-ratelimit-limit-requests"] == "50"
    assert raw.headers["x-ratelimit-remaining-requests"] == "49"
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, n=2)
    assert all(name in refused.value.response.headers for name in names)


def test_a_429_with_retry_after_is_honoured_by_the_sdks_own_retries(serve: Serve) -> None:
    """With the key's headroom squeezed to one request, the second call is refused with
    retry-after (a request refills in 3 s at 20 a minute); the SDK waits that long and its
    retry is answered: two 200s and one 429 on the provider's side."""
    running = serve(requests_per_minute=20)
    running.set_faults(rate_limit_consumed_percent=95)
    client = sync_client(running, max_retries=2)
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    started = time.monotonic()
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    waited = time.monotonic() - started
    assert running.calls(CHAT, 429) == 1
    assert running.calls(CHAT, 200) == 2
    assert waited >= 1.5  # the SDK's own first backoff is at most 0.5 s


def test_injected_429s_exhaust_max_retries_after_waiting_retry_after_each_time(
    serve: Serve,
) -> None:
    """max_retries=2 is three requests on the provider's side, spaced by its retry-after
    (1.2 s, more than the SDK's own backoff of at most 1 s per try), then RateLimitError."""
    running = serve(fault_retry_after_seconds=1.2)
    running.set_faults(rate_limit_error_rate=1.0)
    started = time.monotonic()
    with pytest.raises(openai.RateLimitError) as refused:
        sync_client(running, max_retries=2).chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES
        )
    assert running.calls(CHAT, 429) == 3
    assert time.monotonic() - started >= 2.4
    assert refused.value.code == "rate_limit_exceeded"
    assert refused.value.response.headers["retry-after"] == "2"


def test_added_latency_surfaces_as_the_sdks_timeout_error(serve: Serve) -> None:
    """A call slower than the client's timeout is APITimeoutError, sync and async."""
    running = serve()
    running.set_faults(added_latency_seconds=5)
    with pytest.raises(openai.APITimeoutError):
        sync_client(running, max_retries=0, timeout=0.3).chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES
        )

    async def ask() -> None:
        async with async_client(running, max_retries=0, timeout=0.3) as client:
            await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    with pytest.raises(openai.APITimeoutError):
        asyncio.run(ask())


def test_an_outage_surfaces_as_the_sdks_internal_server_error(serve: Serve) -> None:
    """During an outage every call is a 503, which the SDK raises as InternalServerError
    after its retries (all counted by the provider)."""
    running = serve()
    running.set_faults(llm_outage_seconds=60)
    with pytest.raises(openai.InternalServerError) as failed:
        sync_client(running, max_retries=1).chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES
        )
    assert failed.value.status_code == 503
    assert running.calls(CHAT, 503) == 2
    faults = running.provider.metrics.registry.get_sample_value(
        "provider_faults_injected_total", {"kind": "outage"}
    )
    assert faults == 2


def test_an_injected_error_is_openais_500_and_async_sees_it_too(serve: Serve) -> None:
    """llm_error_rate=1 fails every call with a 500 server_error body."""
    running = serve()
    running.set_faults(llm_error_rate=1.0)

    async def ask() -> None:
        async with async_client(running, max_retries=0) as client:
            await client.embeddings.create(model="text-embedding-3-small", input="x")

    with pytest.raises(openai.InternalServerError) as failed:
        asyncio.run(ask())
    assert failed.value.status_code == 500
    assert failed.value.body == {
        "message": "The server had an error while processing your request (injected error).",
        "type": "server_error",
        "param": None,
        "code": "server_error",
    }


@pytest.mark.parametrize(
    ("extra", "param", "code"),
    [
        (
            {"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]},
            "tools",
            "unsupported_parameter",
        ),
        ({"n": 2}, "n", "unsupported_value"),
        ({"max_tokens": 0}, "max_tokens", "invalid_value"),
    ],
)
def test_requests_outside_the_subset_are_a_400_naming_the_parameter(
    serve: Serve, extra: dict[str, Any], param: str, code: str
) -> None:
    """Tools, several choices and a nonsense limit are BadRequestError, never a 500."""
    client = sync_client(serve(), max_retries=0)
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, **extra)
    assert (refused.value.param, refused.value.code) == (param, code)
    assert refused.value.type == "invalid_request_error"


def test_an_image_part_is_a_400_naming_the_message(serve: Serve) -> None:
    """Content parts other than text (images) are outside the subset; text parts are in."""
    client = sync_client(serve(), max_retries=0)
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": [{"type": "text", "text": "what?"}, image]}],
        )
    assert refused.value.param == "messages[0].content"
    text_parts = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": [{"type": "text", "text": "what?"}]}],
    )
    assert text_parts.usage is not None
    assert text_parts.usage.prompt_tokens == 2


def test_an_unknown_model_is_openais_404_model_not_found(serve: Serve) -> None:
    """The SDK raises NotFoundError with the code a real provider sends."""
    with pytest.raises(openai.NotFoundError) as missing:
        sync_client(serve(), max_retries=0).chat.completions.create(
            model="gpt-9", messages=MESSAGES
        )
    assert missing.value.code == "model_not_found"
