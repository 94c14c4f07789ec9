"""Three replicas of the app (`docker compose up -d --scale app=3`) on one private stack.

The tests run in order on that stack: discovery and spreading first, the exact request
count with the load generator stopped, a request traced to its replica, then one replica
killed. RagAppDown's `for` (1 minute, a learner's setting, not shortened for tests) sets
the pace of the last test.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import docker
import pytest
import requests
from docker.models.containers import Container

from lab.check.result import Status
from lab.check.runner import CheckOptions, run_checks
from lab.kit.clients import PrometheusClient
from lab.kit.clients.alert_sink import AlertSinkClient
from lab.kit.polling import poll_until
from lab.spec.rag import (
    APP_JOB,
    CORRELATION_HEADER,
    ERROR_RATE_PERCENT,
    P95_LATENCY,
    RAG_APP_DOWN,
    SERVED_BY_HEADER,
)
from tests.integration.conftest import Stack, start_stack

REPLICAS = 3
QUESTION = "How do replicas share the traffic? ({n})"

pytestmark = [pytest.mark.disruptive, pytest.mark.xdist_group("replicas")]


@dataclass(frozen=True)
class Replica:
    """One app container: its host name (X-Served-By) and its scrape target (instance)."""

    container: Container
    hostname: str
    instance: str


@pytest.fixture(scope="module")
def scaled() -> Iterator[Stack]:
    with start_stack(scale={"app": REPLICAS}) as stack:
        yield stack


def _containers(stack: Stack, service: str) -> list[Container]:
    labels = [
        f"com.docker.compose.project={stack.project}",
        f"com.docker.compose.service={service}",
    ]
    return list(docker.from_env().containers.list(filters={"label": labels}))


def _replicas(stack: Stack) -> list[Replica]:
    replicas = []
    for container in _containers(stack, "app"):
        networks = container.attrs["NetworkSettings"]["Networks"]
        (address,) = {network["IPAddress"] for network in networks.values()}
        hostname = container.attrs["Config"]["Hostname"]
        replicas.append(Replica(container, hostname, f"{address}:8000"))
    return replicas


def _per_instance(
    prometheus: PrometheusClient, expr: str, at: datetime | None = None
) -> dict[str, float]:
    return {s.labels["instance"]: s.value for s in prometheus.query(expr, at=at)}


def _scraped_since(prometheus: PrometheusClient, moment: datetime, count: int) -> bool:
    """True once `count` app targets are UP and each was scraped after `moment`."""
    targets = [t for t in prometheus.targets() if t.job == APP_JOB and t.is_up]
    return len(targets) == count and all(
        t.last_scrape is not None and t.last_scrape > moment for t in targets
    )


def _query(stack: Stack, n: int) -> requests.Response:
    """One query through the gateway on a connection of its own (so the gateway's turn
    moves on: it hands out replicas per connection)."""
    return requests.post(
        f"{stack.app_url}/query",
        json={"question": QUESTION.format(n=n)},
        headers={CORRELATION_HEADER: f"replicas-{n}", "Connection": "close"},
        timeout=15,
    )


def test_every_replica_is_discovered_up_and_gets_loadgen_traffic(scaled: Stack) -> None:
    """Prometheus finds the three replicas by DNS, all UP; check 1 counts 3 of 3; the load
    generator's requests reach every one of them."""
    prometheus = scaled.prometheus
    instances = {r.instance for r in _replicas(scaled)}
    assert len(instances) == REPLICAS

    def all_up() -> bool:
        targets = [t for t in prometheus.targets() if t.job == APP_JOB]
        return {t.instance for t in targets if t.is_up} == instances

    poll_until(all_up, timeout=30, describe="three rag-app targets UP")
    (result,) = run_checks(scaled.settings, CheckOptions(only=("scrape",)))
    assert result.status is Status.PASS, result.evidence
    assert result.data["replicas_up"] == REPLICAS
    spread = poll_until(
        lambda: (
            (c := _per_instance(prometheus, "rag_requests_total")).keys() == instances
            and all(v > 0 for v in c.values())
            and c
        ),
        timeout=60,
        describe="loadgen requests counted on every replica",
    )
    assert set(spread) == instances


def test_the_replicas_request_counters_sum_to_the_requests_sent(scaled: Stack) -> None:
    """With the load generator stopped, 60 queries through the gateway raise the sum of the
    three replicas' rag_requests_total by exactly 60, each replica taking a share."""
    prometheus = scaled.prometheus
    (loadgen,) = _containers(scaled, "loadgen")
    loadgen.stop(timeout=10)
    stopped = datetime.now(UTC)
    poll_until(
        lambda: _scraped_since(prometheus, stopped, REPLICAS),
        timeout=30,
        describe="a scrape of every replica after loadgen stopped",
    )
    before = _per_instance(prometheus, "rag_requests_total")
    sent = 60
    served_by = [_query(scaled, n).headers.get(SERVED_BY_HEADER) for n in range(sent)]
    done = datetime.now(UTC)
    poll_until(
        lambda: _scraped_since(prometheus, done, REPLICAS),
        timeout=30,
        describe="a scrape of every replica after the queries",
    )
    after = _per_instance(prometheus, "rag_requests_total")
    assert after.keys() == before.keys()
    assert sum(after.values()) - sum(before.values()) == sent
    assert all(after[i] > before[i] for i in before), (before, after)
    assert {r.hostname for r in _replicas(scaled)} == set(served_by)


def test_check_4_traces_a_request_to_the_replica_that_served_it(scaled: Stack) -> None:
    """The logs check follows X-Served-By into that replica's container logs and exemplars."""
    (result,) = run_checks(scaled.settings, CheckOptions(only=("logs",)))
    assert result.status is Status.PASS, result.evidence
    replica = result.data["replica"]
    assert replica in {r.hostname for r in _replicas(scaled)}
    assert f"docker logs of replica {replica}" in result.evidence[1]


def _one_series(prometheus: PrometheusClient, expr: str, at: datetime) -> float:
    samples = prometheus.query(expr, at=at)
    assert len(samples) == 1, (expr, samples)
    assert samples[0].labels == {}, samples[0].labels
    return samples[0].value


def _quantile(q: float, buckets: dict[float, float]) -> float:
    """histogram_quantile over cumulative bucket rates, as Prometheus interpolates."""
    bounds = sorted(buckets)
    rank = q * buckets[math.inf]
    lower, below = 0.0, 0.0
    for bound in bounds:
        if buckets[bound] >= rank:
            if bound == math.inf:
                return lower
            return lower + (bound - lower) * (rank - below) / (buckets[bound] - below)
        lower, below = bound, buckets[bound]
    raise AssertionError("no bucket holds the rank")


def test_a_killed_replica_fires_rag_app_down_for_it_while_the_others_serve(
    scaled: Stack,
) -> None:
    """`docker kill` of one replica: RagAppDown reaches the sink naming its instance, the
    other two answer every query meanwhile and keep their counts, and the error-rate and
    p95 panels still return one value, the one the per-replica series add up to."""
    prometheus = scaled.prometheus
    victim, *survivors = _replicas(scaled)
    before = _per_instance(prometheus, "rag_requests_total")
    killed = datetime.now(UTC)
    victim.container.kill()

    replies = [_query(scaled, 1000 + n) for n in range(12)]
    assert {r.headers[SERVED_BY_HEADER] for r in replies} == {s.hostname for s in survivors}
    assert all(r.status_code in (200, 502, 504) for r in replies), [r.text for r in replies]

    sink = AlertSinkClient(scaled.urls["alert-sink"])

    def rag_app_down() -> list[dict[str, object]]:
        return [
            alert
            for alert in sink.alerts(alertname=RAG_APP_DOWN.name, status="firing", since=killed)
            if alert["labels"].get("instance") == victim.instance
        ]

    (notified, *_) = poll_until(
        rag_app_down,
        timeout=150,
        interval=3,
        describe=f"RagAppDown for {victim.instance} at the sink",
    )
    assert victim.instance in str(notified["annotations"])
    others = {s.instance for s in survivors}
    assert not [
        a
        for a in sink.alerts(alertname=RAG_APP_DOWN.name, since=killed)
        if a["labels"].get("instance") in others
    ]

    after = _per_instance(prometheus, "rag_requests_total")
    assert all(after[s.instance] >= before[s.instance] + 1 for s in survivors), (before, after)

    # One moment for every query: rates move between two evaluations.
    now = datetime.now(UTC)
    errors = _per_instance(prometheus, "rate(rag_errors_total[5m])", now)
    total = _per_instance(prometheus, "rate(rag_requests_total[5m])", now)
    assert len(total) == REPLICAS  # the killed replica's samples are still in the window
    error_rate = _one_series(prometheus, ERROR_RATE_PERCENT, now)
    assert error_rate == pytest.approx(sum(errors.values()) / sum(total.values()) * 100)
    buckets: dict[float, float] = {}
    for sample in prometheus.query("rate(rag_query_duration_seconds_bucket[5m])", at=now):
        bound = float(sample.labels["le"])
        buckets[bound] = buckets.get(bound, 0.0) + sample.value
    assert _one_series(prometheus, P95_LATENCY, now) == pytest.approx(_quantile(0.95, buckets))
