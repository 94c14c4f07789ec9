"""Three replicas of the app (`docker compose up -d --scale app=3`) on one private stack.

The tests run in order on that stack: discovery and spreading first, the exact request
count with the load generator stopped, a request traced to its replica, then one replica
killed. RagAppDown's `for` (1 minute, a learner's setting, not shortened for tests) sets
the pace of the last test.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import docker
import pytest
import requests
from docker.models.containers import Container

from lab.check.result import Status
from lab.check.runner import CheckOptions, run_checks
from lab.generate import haproxy
from lab.kit.clients import PrometheusClient, ServiceUnreachable
from lab.kit.clients.alert_sink import AlertSinkClient
from lab.kit.clients.app import AppClient
from lab.kit.polling import poll_until
from lab.spec import SPEC
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
    """One query through the gateway (HAProxy, round robin per request)."""
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


# The SIGKILL-mid-request test: requests held in flight on the replicas by a slow LLM call
# (an injected fault, under the app's 5 s LLM timeout so each would answer 200), one
# replica killed while they wait.
IN_FLIGHT = 50
SLOW_CALL_SECONDS = 3.5


@dataclass(frozen=True)
class Outcome:
    """What one client got: an HTTP status and JSON body, or a connection cut (no status)."""

    status: int | None
    body: dict[str, object] | None
    cut: str = ""


def _send(stack: Stack, n: int) -> Outcome:
    try:
        response = requests.post(
            f"{stack.app_url}/query",
            json={"question": f"Which replica answers in-flight request {n}?"},
            headers={CORRELATION_HEADER: f"in-flight-{n}", "Connection": "close"},
            timeout=60,
        )
    except requests.RequestException as exc:
        return Outcome(None, None, cut=type(exc).__name__)
    try:
        body = response.json()
    except ValueError:
        body = None
    return Outcome(response.status_code, body)


def _balancer_metric(stack: Stack, name: str) -> float:
    """One of the balancer's own series (its built-in exporter), summed over its labels."""
    (gateway,) = _containers(stack, SPEC.balancer.service)
    networks = gateway.attrs["NetworkSettings"]["Networks"]
    (address,) = {network["IPAddress"] for network in networks.values()}
    text = requests.get(
        f"http://{address}:{SPEC.balancer.metrics_port}{haproxy.METRICS_PATH}", timeout=5
    ).text
    values = [
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(f'{name}{{proxy="{SPEC.balancer.backend}"')
    ]
    assert values, f"no {name} in the balancer's metrics"
    return sum(values)


def test_a_replica_killed_mid_request_costs_no_client_its_answer(scaled: Stack) -> None:
    """50 requests in flight on the replicas, one replica SIGKILLed: HAProxy sends the
    requests the dead replica never answered to another one, so no client is cut without a
    status, and any that fails gets a JSON error in the app's shape."""
    victim, *survivors = _replicas(scaled)
    assert survivors, "the test needs a replica left to serve"
    for replica in (victim, *survivors):
        AppClient(f"http://{replica.instance}", admin_token=scaled.admin_token).set_faults(
            slow_call_rate=1.0, slow_call_seconds=SLOW_CALL_SECONDS
        )
    retries_before = _balancer_metric(scaled, "haproxy_backend_retry_warnings_total")
    # The faults stay: the next test removes every replica.
    with ThreadPoolExecutor(max_workers=IN_FLIGHT) as pool:
        futures = [pool.submit(_send, scaled, n) for n in range(IN_FLIGHT)]
        poll_until(
            lambda: _balancer_metric(scaled, "haproxy_backend_current_sessions") >= IN_FLIGHT,
            timeout=SLOW_CALL_SECONDS - 1,
            interval=0.1,
            describe=f"{IN_FLIGHT} requests in flight on the replicas",
        )
        victim.container.kill()
        outcomes = [future.result() for future in futures]
    retried = _balancer_metric(scaled, "haproxy_backend_retry_warnings_total") - retries_before
    statuses = Counter(o.status or f"cut ({o.cut})" for o in outcomes)
    print(
        f"{IN_FLIGHT} in flight, one replica of {1 + len(survivors)} killed: {dict(statuses)}, "
        f"{retried:.0f} retried by the balancer"
    )
    assert not [o for o in outcomes if o.status is None], statuses
    for outcome in outcomes:
        if outcome.status != 200:
            assert outcome.body is not None, statuses
            assert set(outcome.body) >= {"error", "message", "correlation_id"}, outcome.body
    assert retried >= 1, "the killed replica held requests: the balancer must have retried"


def test_no_replica_left_is_a_503_in_the_apps_json_shape(scaled: Stack) -> None:
    """With every replica gone, the balancer answers 503 `no_replica` as JSON carrying the
    request's correlation id, and `lab`'s client reads that as an app that is not running."""
    for replica in _replicas(scaled):
        replica.container.kill()

    def no_replica() -> list[requests.Response]:
        response = requests.get(
            f"{scaled.app_url}/readyz", headers={CORRELATION_HEADER: "none-left"}, timeout=5
        )
        # A list: a 503 Response is falsy itself.
        return [response] if response.status_code == 503 else []

    (response,) = poll_until(no_replica, timeout=30, describe="the balancer out of replicas")
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {
        "error": "no_replica",
        "message": "no replica of the app is ready to answer; retry shortly",
        "correlation_id": "none-left",
    }
    with pytest.raises(ServiceUnreachable, match="no replica of the app is running"):
        AppClient(scaled.app_url).metrics_text()
