"""The telemetry faults: the app answers as before while its signals lie, as a bad build's do.

They are declared with the others in ``sample_rag_app.pipeline.faults.FaultConfig`` (one
admin API, one settings prefix) and applied here, and only here, around the truthful
telemetry: ``FaultedTelemetry`` wraps the recorder, ``exposition`` the registry /metrics
serves. Each reads the faults in force at every report or scrape, so switching one on or
off takes effect at once:

- ``rename_latency_metric``: /metrics serves the latency histogram under another name;
- ``label_queries_by_user``: a counter with a ``user_id`` label, a new series per caller;
- ``lose_correlation_id``: the LLM and response lines are written without the request's
  context, so their ``correlation_id`` is null.

``errors_as_empty_answers`` is no telemetry fault: the pipeline's error handler swallows
the failure (``RagPipeline.answer``), so the telemetry records an answer and the
transport sends one, and neither knows the fault.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Final

import structlog
from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

from sample_rag_app.pipeline.errors import AnswerLevel
from sample_rag_app.pipeline.faults import RENAMED_LATENCY_METRIC, FaultConfig
from sample_rag_app.telemetry.metrics import RagMetrics
from sample_rag_app.telemetry.recorder import RagTelemetry

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


class FaultedTelemetry(RagTelemetry):
    """The recorder as the telemetry faults in force change what it records."""

    def __init__(
        self,
        metrics: RagMetrics | None,
        faults: FaultSource,
        per_user: PerUserQueries,
        *,
        logging_enabled: bool = True,
        log_questions: bool = False,
    ) -> None:
        super().__init__(metrics, logging_enabled=logging_enabled, log_questions=log_questions)
        self._faults = faults
        self._per_user = per_user

    def _context(self) -> AbstractContextManager[None]:
        """Under ``lose_correlation_id``: the request's context without its id (a code path
        that dropped it), so a line written inside says ``correlation_id: null``."""
        if self._faults().lose_correlation_id:
            return structlog.contextvars.bound_contextvars(correlation_id=None)
        return nullcontext()

    def llm_call_completed(self, **report: Any) -> None:
        with self._context():
            super().llm_call_completed(**report)

    def query_succeeded(
        self, *, seconds: float, correlation_id: str, cached: bool, level: AnswerLevel
    ) -> None:
        with self._context():
            super().query_succeeded(
                seconds=seconds, correlation_id=correlation_id, cached=cached, level=level
            )
        if self.metrics is not None and self._faults().label_queries_by_user:
            self._per_user.count(correlation_id)
