"""The provider's HTTP API: the OpenAI subset under /v1, /admin/faults, /metrics, /healthz.

Every failure is OpenAI's error body ``{"error": {"message", "type", "param", "code"}}``,
so the official SDK raises the exception a real provider's answer would make it raise; a
request outside the subset (tools, image parts, n > 1) is a 400 naming the parameter.
Every /v1 response carries the six ``x-ratelimit-*`` headers, as OpenAI's do, so a client
can read its headroom from any answer. The handlers are async and sleep with asyncio: a
slow call (an injected latency) holds no thread.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import math
import random
import struct
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from itertools import count
from typing import Any, Literal, TypeVar

import structlog
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from sample_rag_app.services.provider.faults import ProviderFaultInjector, check_change
from sample_rag_app.services.provider.metrics import ProviderMetrics
from sample_rag_app.services.provider.ratelimit import RateLimiter
from sample_rag_app.services.provider.settings import ProviderSettings
from sample_rag_app.services.provider.tokens import (
    EMBEDDING_MODELS,
    PRICE_TABLE,
    count_tokens,
    split_tokens,
)

log = structlog.get_logger("sample_rag_app.services.provider")

#: The words of an answer before it is cut: a RAG answer's typical length.
ANSWER_MAX_TOKENS = 60


_M = TypeVar("_M", bound=BaseModel)


class OpenAIError(Exception):
    """A failure answered in OpenAI's shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = (
            status,
            message,
            type,
            param,
            code,
        )
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        body = {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }
        return JSONResponse(body, status_code=self.status, headers=self.headers)


class _Open(BaseModel):
    # The SDK sends many optional fields the subset ignores (temperature, user, seed...).
    model_config = ConfigDict(extra="allow")


class ChatMessage(_Open):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None


class StreamOptions(_Open):
    include_usage: bool = False


class ChatRequest(_Open):
    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    n: int | None = Field(None, ge=1)
    tools: list[Any] | None = None
    functions: list[Any] | None = None


class EmbeddingRequest(_Open):
    model: str
    input: str | list[str] = Field(min_length=1)
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(None, ge=1, le=3072)


def _param(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


async def _json(request: Request, max_bytes: int) -> Any:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise OpenAIError(413, f"the body is larger than {max_bytes} bytes", code="body_too_large")
    raw = await request.body()
    if len(raw) > max_bytes:
        raise OpenAIError(413, f"the body is larger than {max_bytes} bytes", code="body_too_large")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise OpenAIError(
            400, "the body is not valid JSON: send a JSON object", code="invalid_json"
        ) from None


def _parse(model: type[_M], body: Any) -> _M:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        param = _param(tuple(first["loc"])) or None
        raise OpenAIError(
            400, f"{param or 'body'}: {first['msg']}", param=param, code="invalid_value"
        ) from None


def _message_text(index: int, message: ChatMessage) -> str:
    """The text of a message; a content part other than text is outside the subset."""
    if message.content is None or isinstance(message.content, str):
        return message.content or ""
    texts = []
    for part in message.content:
        if part.get("type") != "text" or not isinstance(part.get("text"), str):
            raise OpenAIError(
                400,
                f"content part of type {part.get('type')!r} is not supported by this provider: "
                "send text only",
                param=f"messages[{index}].content",
                code="unsupported_value",
            )
        texts.append(part["text"])
    return "\n".join(texts)


def _refuse_unsupported(chat: ChatRequest) -> None:
    for name in ("tools", "functions"):
        if getattr(chat, name):
            raise OpenAIError(
                400,
                f"{name} are not supported by this provider: call without {name}",
                param=name,
                code="unsupported_parameter",
            )
    if chat.n is not None and chat.n > 1:
        raise OpenAIError(
            400,
            "n > 1 is not supported by this provider: ask for one choice",
            param="n",
            code="unsupported_value",
        )


def _known_model(model: str, known: dict[str, Any]) -> None:
    if model not in known:
        raise OpenAIError(
            404,
            f"The model `{model}` does not exist; models: {', '.join(known)}",
            param="model",
            code="model_not_found",
        )


def answer_text(model: str, question: str) -> str:
    """The deterministic answer of a model to the last user message."""
    head = "".join(split_tokens(" ".join(question.split()))[:ANSWER_MAX_TOKENS]).strip()
    return f"A simulated answer from {model} to: {head}"


def embedding(text: str, dimensions: int) -> list[float]:
    """A deterministic unit vector: each token hashed into one of `dimensions` places."""
    vector = [0.0] * dimensions
    for token in text.lower().split():
        digest = hashlib.blake2b(token.encode(), digest_size=8).digest()
        place = int.from_bytes(digest[:4], "big") % dimensions
        vector[place] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def _sse(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"


class Provider:
    """The state a call goes through: faults, rate limiter, metrics."""

    def __init__(self, settings: ProviderSettings, clock: Callable[[], float]) -> None:
        self.settings = settings
        self.faults = ProviderFaultInjector(settings.faults, random.Random(settings.seed), clock)
        self.limiter = RateLimiter(
            settings.requests_per_minute,
            settings.tokens_per_minute,
            consumed_elsewhere=lambda: self.faults.config.rate_limit_consumed_percent / 100,
            clock=clock,
        )
        self.metrics = ProviderMetrics()
        self._ids = count(1)

    def next_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids):012x}"

    async def call(self, tokens: int) -> dict[str, str]:
        """Put one call through the faults and the rate limit, wait its latency, and
        return its rate-limit headers; raise the OpenAIError a fault or the limit makes."""
        faults, metrics = self.faults, self.metrics
        if faults.outage():
            metrics.faults.labels("outage").inc()
            raise OpenAIError(
                503,
                "The server is overloaded or not ready yet (injected outage).",
                type="server_error",
                code="service_unavailable",
            )
        fault = faults.draw()
        if fault is not None:
            metrics.faults.labels(fault).inc()
        if fault == "rate_limited":
            wait = self.settings.fault_retry_after_seconds
            raise OpenAIError(
                429,
                f"Rate limit reached for requests (injected). Please try again in {wait:g}s.",
                type="requests",
                code="rate_limit_exceeded",
                headers=_retry_after(wait),
            )
        if fault == "llm_timeout":
            await asyncio.sleep(self.settings.timeout_hold_seconds)
            raise OpenAIError(
                504,
                "The model did not answer in time (injected timeout).",
                type="server_error",
                code="timeout",
            )
        if fault == "llm_error":
            raise OpenAIError(
                500,
                "The server had an error while processing your request (injected error).",
                type="server_error",
                code="server_error",
            )
        verdict = self.limiter.admit(tokens)
        if not verdict.admitted:
            wait = min(verdict.retry_after_seconds, 3600.0)
            raise OpenAIError(
                429,
                f"Rate limit reached (requests or tokens per minute). Please try again in "
                f"{wait:.3g}s.",
                type="requests",
                code="rate_limit_exceeded",
                headers=verdict.headers | _retry_after(wait),
            )
        added = faults.added_latency()
        if added > 0:
            metrics.faults.labels("latency").inc()
        settings = self.settings
        base = 0.0
        if settings.latency_median_seconds > 0:
            sample = faults.lognormal(settings.latency_median_seconds, settings.latency_sigma)
            base = min(sample, settings.latency_max_seconds)
        if base + added > 0:
            await asyncio.sleep(base + added)
        return verdict.headers

    def count_tokens(self, prompt: int, completion: int) -> None:
        self.metrics.tokens.labels("prompt").inc(prompt)
        if completion:
            self.metrics.tokens.labels("completion").inc(completion)
            self.limiter.add_tokens(completion)


def _retry_after(seconds: float) -> dict[str, str]:
    """Both spellings: `retry-after` in whole seconds, as OpenAI sends it, and
    `retry-after-ms`, which the official SDKs read first."""
    return {
        "retry-after": str(max(1, math.ceil(seconds))),
        "retry-after-ms": str(round(seconds * 1000)),
    }


def _chat_response(
    provider: Provider, chat: ChatRequest, text: str, finish: str, usage: dict[str, int]
) -> dict[str, Any]:
    return {
        "id": provider.next_id("chatcmpl"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": chat.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": finish,
            }
        ],
        "usage": usage,
    }


async def _stream(
    provider: Provider, chat: ChatRequest, pieces: list[str], finish: str, usage: dict[str, int]
) -> AsyncIterator[bytes]:
    ident, created = provider.next_id("chatcmpl"), int(time.time())

    def chunk(delta: dict[str, Any], finish_reason: str | None) -> dict[str, Any]:
        return {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": chat.model,
            "choices": [
                {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            ],
        }

    yield _sse(chunk({"role": "assistant", "content": ""}, None))
    for piece in pieces:
        yield _sse(chunk({"content": piece}, None))
    yield _sse(chunk({}, finish))
    if chat.stream_options is not None and chat.stream_options.include_usage:
        final = chunk({}, None) | {"choices": [], "usage": usage}
        yield _sse(final)
    yield b"data: [DONE]\n\n"


def create_app(
    settings: ProviderSettings | None = None, *, clock: Callable[[], float] = time.monotonic
) -> FastAPI:
    """The FastAPI app of one provider (its faults, limits and registry its own)."""
    settings = settings or ProviderSettings()
    provider = Provider(settings, clock)
    app = FastAPI(title="RAG lab provider (OpenAI-compatible subset)", version="1")
    app.state.provider = provider
    metrics = provider.metrics

    @app.middleware("http")
    async def account(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        path = request.url.path
        try:
            response = await call_next(request)
        except Exception:
            log.exception("unhandled_exception", path=path, method=request.method)
            response = OpenAIError(
                500, "The provider failed; try again.", type="server_error", code="internal"
            ).response()
        if path.startswith("/v1/"):
            if "x-ratelimit-limit-requests" not in response.headers:
                response.headers.update(provider.limiter.peek())
            endpoint = metrics.endpoint(path)
            metrics.calls.labels(endpoint, str(response.status_code)).inc()
            metrics.duration.labels(endpoint).observe(time.perf_counter() - started)
        return response

    @app.exception_handler(OpenAIError)
    async def openai_error(request: Request, exc: OpenAIError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = f"{request.method} {request.url.path}: {exc.detail}"
        return OpenAIError(exc.status_code, message, code=None).response()

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Response:
        chat = _parse(ChatRequest, await _json(request, settings.max_body_bytes))
        _refuse_unsupported(chat)
        texts = [_message_text(i, m) for i, m in enumerate(chat.messages)]
        _known_model(chat.model, PRICE_TABLE)
        prompt_tokens = sum(count_tokens(text) for text in texts)
        users = [t for t, m in zip(texts, chat.messages, strict=True) if m.role == "user"]
        headers = await provider.call(prompt_tokens)
        pieces = split_tokens(answer_text(chat.model, users[-1] if users else ""))
        limit = chat.max_completion_tokens or chat.max_tokens
        finish = "stop"
        if limit is not None and len(pieces) > limit:
            pieces, finish = pieces[:limit], "length"
        completion_tokens = count_tokens("".join(pieces))
        provider.count_tokens(prompt_tokens, completion_tokens)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        if chat.stream:
            return StreamingResponse(
                _stream(provider, chat, pieces, finish, usage),
                media_type="text/event-stream",
                headers=headers,
            )
        body = _chat_response(provider, chat, "".join(pieces), finish, usage)
        return JSONResponse(body, headers=headers)

    @app.post("/v1/embeddings")
    async def embeddings(request: Request) -> Response:
        asked = _parse(EmbeddingRequest, await _json(request, settings.max_body_bytes))
        _known_model(asked.model, EMBEDDING_MODELS)
        inputs = [asked.input] if isinstance(asked.input, str) else asked.input
        prompt_tokens = sum(count_tokens(text) for text in inputs)
        headers = await provider.call(prompt_tokens)
        provider.count_tokens(prompt_tokens, 0)
        dimensions = asked.dimensions or EMBEDDING_MODELS[asked.model]
        data = []
        for index, text in enumerate(inputs):
            vector = embedding(text, dimensions)
            encoded: list[float] | str = vector
            if asked.encoding_format == "base64":
                encoded = base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode()
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        body = {
            "object": "list",
            "data": data,
            "model": asked.model,
            "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
        }
        return JSONResponse(body, headers=headers)

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        names = [*PRICE_TABLE, *EMBEDDING_MODELS]
        return {
            "object": "list",
            "data": [
                {"id": name, "object": "model", "created": 0, "owned_by": "rag-lab"}
                for name in names
            ],
        }

    def require_admin(request: Request) -> None:
        token = settings.admin_token
        if token is None:
            raise OpenAIError(
                404,
                "the admin endpoints are disabled: set PROVIDER_ADMIN_TOKEN to enable them",
                code="admin_disabled",
            )
        scheme, _, supplied = request.headers.get("authorization", "").partition(" ")
        expected = token.get_secret_value().encode()
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            supplied.strip().encode(), expected
        ):
            raise OpenAIError(
                401,
                "a valid bearer token is required (Authorization: Bearer <PROVIDER_ADMIN_TOKEN>)",
                code="unauthorized",
                headers={"WWW-Authenticate": "Bearer"},
            )

    @app.get("/admin/faults")
    async def get_faults(request: Request) -> dict[str, Any]:
        require_admin(request)
        return provider.faults.status().model_dump()

    @app.put("/admin/faults")
    async def put_faults(request: Request) -> dict[str, Any]:
        require_admin(request)  # before the body is read: who asks comes first
        change, problems = check_change(await _json(request, settings.max_body_bytes))
        if problems:
            raise OpenAIError(422, "; ".join(problems), code="invalid_body")
        status = provider.faults.update(change).model_dump()
        log.warning("faults_updated", **status)
        return status

    @app.delete("/admin/faults")
    async def delete_faults(request: Request) -> dict[str, Any]:
        require_admin(request)
        status = provider.faults.reset().model_dump()
        log.warning("faults_reset", **status)
        return status

    @app.get("/metrics")
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
