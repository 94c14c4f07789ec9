"""The provider: a simulated LLM provider as an OpenAI-compatible service beside the app.

It answers a subset of OpenAI's API (`POST /v1/chat/completions`, streamed or not, `POST
/v1/embeddings`, `GET /v1/models`) with `usage` token counts from the lab's tokenizer,
OpenAI's error bodies and OpenAI's rate-limit behaviour (429 with `retry-after`, the
`x-ratelimit-*` headers), under the course's fault model, switched through a
token-protected admin API. Any app that speaks OpenAI, through the official SDK or not,
meets the course's faults by pointing `OPENAI_BASE_URL` at it. Its `/metrics` tells the
provider-side truth: calls by status, faults injected, tokens.
Run it with `python -m sample_rag_app.services.provider`.

Why not one of the PyPI mocks (read from their wheels, December 2026):

- llmock 0.2.2 has the right surface (OpenAI-shaped routes, `x-ratelimit-*` headers, a
  real quota) but draws its injected errors from the global, unseeded `random.random()`,
  has no outage or latency-spike window and no slow-call tail, and brings typer, pyyaml
  and python-multipart into the runtime image: the lab's runs must be reproducible from a
  seed, and its fault model is the course's, not llmock's.
- mocklimit 0.6.0 is a rate-limit mock for any OpenAPI document: its randomness is a
  `random.SystemRandom()` (no seed at all), it has no error rate, outage or latency fault,
  and it needs loguru, jsonref and pyyaml.
- errorworks 0.2.0 is listed on PyPI but no distribution of it could be downloaded here,
  so it could not be read; its summary ("composable chaos-testing services for various
  pipelines") promises no OpenAI surface.

So the provider is the lab's own, a few hundred lines on FastAPI, with the fault model
mirrored from the in-process simulator's (`faults.py` says how they are kept equal).
"""

from sample_rag_app.services.provider.app import create_app
from sample_rag_app.services.provider.settings import ProviderSettings

__all__ = ["ProviderSettings", "create_app"]
