"""Fixtures of the sample app's unit tests: fast settings, a fresh registry, a test client."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from rag_test_support import ClientFactory, TestClient, fast_settings

from sample_rag_app.main import create_app


@pytest.fixture
def registry() -> CollectorRegistry:
    """A fresh registry per test (never the global one)."""
    return CollectorRegistry()


@pytest.fixture
def make_client(registry: CollectorRegistry) -> Iterator[ClientFactory]:
    """Build a started app (lifespan run, corpus embedded) from settings overrides."""
    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        app = create_app(fast_settings(**overrides), registry, rng=random.Random(7))
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: ClientFactory) -> TestClient:
    """A started app with the default (fast) test settings."""
    return make_client()
