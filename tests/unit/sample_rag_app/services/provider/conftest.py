"""A real uvicorn serving the provider on a free loopback port, in a thread: the sync
OpenAI client needs a real socket (httpx's ASGI transport is async only), and a real
server is what the SDK's timeouts and retries meet in production."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn

from lab.kit.polling import poll_until
from sample_rag_app.services.provider import ProviderSettings, create_app
from sample_rag_app.services.provider.app import Provider
from sample_rag_app.services.provider.faults import ProviderFaults

ADMIN_TOKEN = "provider-test-token"


@dataclass
class RunningProvider:
    """A provider being served: its URL, its state, and an admin client."""

    url: str
    provider: Provider

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def set_faults(self, **change: float) -> dict[str, Any]:
        response = httpx.put(
            f"{self.url}/admin/faults",
            json=change,
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def calls(self, endpoint: str, status: int) -> float:
        """provider_calls_total of one endpoint and status, from the provider's registry."""
        value = self.provider.metrics.registry.get_sample_value(
            "provider_calls_total", {"endpoint": endpoint, "status": str(status)}
        )
        return value or 0.0


@pytest.fixture
def serve() -> Iterator[Callable[..., RunningProvider]]:
    """Start providers with the settings given (no latency, no faults unless asked);
    every one is stopped at the end of the test."""
    running: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(**overrides: Any) -> RunningProvider:
        fields: dict[str, Any] = {
            "latency_median_seconds": 0.0,
            "admin_token": ADMIN_TOKEN,
            "faults": ProviderFaults(llm_error_rate=0.0),
        } | overrides
        app = create_app(ProviderSettings(**fields))
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="off", log_config=None)
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        running.append((server, thread))
        poll_until(lambda: server.started, timeout=20, interval=0.02, describe="the provider")
        return RunningProvider(f"http://127.0.0.1:{port}", app.state.provider)

    yield start
    for server, thread in running:
        server.should_exit = True
        thread.join(timeout=10)
