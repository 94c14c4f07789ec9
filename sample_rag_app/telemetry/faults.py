"""The telemetry faults: the app answers as before while its signals lie, as a bad build's do.

They are declared with the others in ``sample_rag_app.pipeline.faults.FaultConfig`` (one
admin API, one settings prefix) and read here at every scrape or log line, so switching
one on or off takes effect at once:

- ``rename_latency_metric``: /metrics serves the latency histogram under another name;
- ``label_queries_by_user``: a counter with a ``user_id`` label, a new series per caller;
- ``lose_correlation_id``: handled by ``recorder.RagTelemetry`` (its log lines).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from typing import Final

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

from sample_rag_app.pipeline.faults import RENAMED_LATENCY_METRIC, FaultConfig

LATENCY_METRIC: Final = "rag_query_duration_seconds"
PER_USER_METRIC: Final = "rag_user_queries"
#: The per-user counter stops growing here: the fault shows the growth, not kill the lab.
MAX_USERS: Final = 50_000

FaultSource = Callable[[], FaultConfig]


def user_of(correlation_id: str) -> str:
    """The caller's "user id" under the fault: every request a new anonymous session."""
    return "u-" + hashlib.sha256(correlation_id.encode()).hexdigest()[:10]


class PerUserQueries:
    """Query counts by user id while ``label_queries_by_user`` is on; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def count(self, correlation_id: str) -> None:
        user = user_of(correlation_id)
        with self._lock:
            if user in self._counts or len(self._counts) < MAX_USERS:
                self._counts[user] = self._counts.get(user, 0) + 1

    def family(self) -> CounterMetricFamily:
        family = CounterMetricFamily(
            PER_USER_METRIC, "Queries by the calling user.", labels=["user_id"]
        )
        with self._lock:
            counts = sorted(self._counts.items())
        for user, count in counts:
            family.add_metric([user], count)
        return family

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


def _renamed(family: Metric, name: str) -> Metric:
    renamed = Metric(name, family.documentation, family.type, family.unit)
    renamed.samples = [
        Sample(name + s.name[len(family.name) :], s.labels, s.value, s.timestamp, s.exemplar)
        for s in family.samples
    ]
    return renamed


class _FaultyCollector(Collector):
    def __init__(self, registry: CollectorRegistry, faults: FaultSource, users: PerUserQueries):
        self._registry = registry
        self._faults = faults
        self._users = users

    def collect(self) -> Iterator[Metric]:
        config = self._faults()
        for family in self._registry.collect():
            if config.rename_latency_metric and family.name == LATENCY_METRIC:
                family = _renamed(family, RENAMED_LATENCY_METRIC)
            yield family
        if config.label_queries_by_user:
            yield self._users.family()
        else:
            self._users.clear()  # the fault is over: its series go with it


def exposition(
    registry: CollectorRegistry, faults: FaultSource, users: PerUserQueries
) -> CollectorRegistry:
    """The registry /metrics serves: ``registry`` as the telemetry faults in force change it."""
    exposed = CollectorRegistry()
    exposed.register(_FaultyCollector(registry, faults, users))
    return exposed
