"""The provider's own /metrics, in a registry of its own: the provider-side truth.

Every label set is bounded: `endpoint` is one of the routes (or `other`), `status` one of
the few codes the provider answers, `kind` one of the fault kinds or `prompt`/`completion`.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from sample_rag_app.services.provider.faults import FAULT_KINDS

ENDPOINTS = ("/v1/chat/completions", "/v1/embeddings", "/v1/models", "other")


class ProviderMetrics:
    """Calls by endpoint and status, faults injected by kind, tokens by kind."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.calls = Counter(
            "provider_calls",
            "Calls to the OpenAI-compatible API, by endpoint and HTTP status.",
            ["endpoint", "status"],
            registry=self.registry,
        )
        self.faults = Counter(
            "provider_faults_injected",
            "Faults the provider injected, by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.tokens = Counter(
            "provider_tokens",
            "Tokens counted in answered calls, by kind (prompt or completion).",
            ["kind"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "provider_call_duration_seconds",
            "Time to the response headers of an API call (a stream's first byte), by endpoint.",
            ["endpoint"],
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        for fault in FAULT_KINDS:
            self.faults.labels(fault)
        for kind in ("prompt", "completion"):
            self.tokens.labels(kind)

    @staticmethod
    def endpoint(path: str) -> str:
        return path if path in ENDPOINTS else "other"
