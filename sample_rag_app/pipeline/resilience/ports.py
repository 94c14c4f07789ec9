"""What the resilience layer reports (a part of the pipeline's telemetry port)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, Protocol

from sample_rag_app.pipeline.errors import ErrorType
from sample_rag_app.pipeline.resilience.config import Mechanism

Dependency = Literal["llm", "vector_store"]
BreakerState = Literal["closed", "open", "half_open"]


class ResilienceTelemetry(Protocol):
    """The resilience layer's reports. Durations are in seconds."""

    def retry_scheduled(
        self, *, service: Dependency, attempt: int, wait_seconds: float, error_type: ErrorType
    ) -> None:
        """Attempt ``attempt`` (2 or more) of a call will run after ``wait_seconds``."""

    def retry_budget_exhausted(self, *, service: Dependency) -> None:
        """A retry was refused because the retry budget is spent."""

    def circuit_state_changed(
        self,
        *,
        service: Dependency,
        previous: BreakerState,
        state: BreakerState,
        correlation_id: str,
    ) -> None:
        """A breaker changed state during the request ``correlation_id`` (may be "")."""

    def admission_changed(self, *, inflight: int, queued: int) -> None:
        """LLM calls in flight and requests waiting for a slot, after a change."""

    def request_shed(self) -> None:
        """Admission control refused a request (it fails as ``overloaded``)."""

    def llm_call_paced(self, *, seconds: float) -> None:
        """An LLM call waited ``seconds`` for room under the provider's rate limit."""

    def resilience_configured(self, *, in_effect: Mapping[Mechanism, bool]) -> None:
        """The mechanisms in effect (master switch and own switch) after a change."""
