"""Helpers shared by the sample app's unit tests (imported by conftest.py and tests)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

# Starlette's TestClient announces a future switch to httpx2; nothing to act on here.
# Filtered before the first import of the test client, which is where it is raised.
warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")

from fastapi.testclient import TestClient  # noqa: E402

from sample_rag_app.clock import VirtualClock  # noqa: E402
from sample_rag_app.settings import Settings  # noqa: E402

__all__ = [
    "ADMIN_TOKEN",
    "ClientFactory",
    "RecordingClock",
    "RecordingTelemetry",
    "TestClient",
    "fast_settings",
]

ADMIN_TOKEN = "test-admin-token"
ClientFactory = Callable[..., TestClient]


def fast_settings(**overrides: Any) -> Settings:
    """Settings for tests: no simulated latency, no random faults, a fixed seed; the
    faults given are set over that."""
    values: dict[str, Any] = {
        "simulated_latency_median_seconds": 0.0,
        "llm_timeout_seconds": 0.0,
        "random_seed": 1234,
    }
    values.update(overrides)
    values["faults"] = {"llm_error_rate": 0.0, **overrides.get("faults", {})}
    return Settings(**values)


class RecordingClock(VirtualClock):
    """A virtual clock that also keeps every sleep, in order (zero sleeps left out)."""

    def __init__(self, start: float = 1000.0) -> None:
        super().__init__(start)
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.sleeps.append(seconds)
        super().sleep(seconds)


class RecordingTelemetry:
    """Telemetry that records every report as (method name, keyword arguments)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        def record(**kwargs: Any) -> None:
            self.events.append((name, kwargs))

        return record

    def names(self) -> list[str]:
        """The names of the reports, in order."""
        return [name for name, _ in self.events]

    def of(self, name: str) -> list[dict[str, Any]]:
        """The arguments of every report called ``name``, in order."""
        return [kwargs for event, kwargs in self.events if event == name]
