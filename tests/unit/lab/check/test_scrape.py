"""Check 1 against canned app and Prometheus answers: each broken link fails with its fix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import responses

from lab.check import scrape
from lab.check.result import Status
from lab.kit.context import LabContext
from lab.kit.settings import LabSettings

APP = "http://app.test:8000"
PROM = "http://prometheus.test:9090"

METRICS = "".join(
    f"# TYPE {name} counter\n{name}_total 1\n"
    for name in sorted(scrape.REQUIRED_METRIC_FAMILIES - {"rag_query_duration_seconds"})
    if name != "rag_rate_limit_headroom_percent"
) + (
    "# TYPE rag_rate_limit_headroom_percent gauge\nrag_rate_limit_headroom_percent 80\n"
    "# TYPE rag_query_duration_seconds histogram\n"
    'rag_query_duration_seconds_bucket{le="+Inf"} 1\n'
    "rag_query_duration_seconds_count 1\nrag_query_duration_seconds_sum 0.2\n"
)


def context() -> LabContext:
    settings = LabSettings(app_url=APP, prometheus_url=PROM, http_timeout_seconds=0.5)
    return LabContext.from_settings(settings)


def target(
    health: str = "up", age: float = 5, interval: str = "15s", instance: str = "172.18.0.4:8000"
) -> dict[str, object]:
    last = (datetime.now(UTC) - timedelta(seconds=age)).isoformat().replace("+00:00", "Z")
    return {
        "labels": {"job": "rag-app", "instance": instance},
        "scrapeUrl": f"http://{instance}/metrics",
        "health": health,
        "lastScrape": last,
        "lastError": "" if health == "up" else "connection refused",
        "scrapeInterval": interval,
    }


def targets(*replicas: dict[str, object], **one: Any) -> dict[str, object]:
    """The targets answer: the replicas given, else one built from `one`."""
    active = list(replicas) or [target(**one)]
    return {"status": "success", "data": {"activeTargets": active, "droppedTargets": []}}


def down_or_gone(*instances: str) -> dict[str, object]:
    """Prometheus's answer to RagAppDown's condition: these instances down or gone."""
    result = [
        {"metric": {"job": "rag-app", "instance": i}, "value": [1.7e9, "1"]} for i in instances
    ]
    return {"status": "success", "data": {"resultType": "vector", "result": result}}


def jobs(*names: str) -> dict[str, object]:
    """Prometheus's answer to `count by (job) (...rag_requests_total...)`."""
    result = [{"metric": {"job": name}, "value": [0, "1"]} for name in names]
    return {"status": "success", "data": {"resultType": "vector", "result": result}}


@responses.activate
def test_passes_when_target_up_and_recent() -> None:
    """A parseable /metrics and an UP target scraped 5 s ago every 15 s pass."""
    responses.get(f"{APP}/metrics", body=METRICS)
    responses.get(f"{PROM}/api/v1/targets", json=targets())
    responses.get(f"{PROM}/api/v1/query", json=down_or_gone())
    responses.get(f"{PROM}/api/v1/query", json=jobs("rag-app"))
    result = scrape.run(context())
    assert result.status is Status.PASS, result.evidence
    assert result.data["scrape_interval_seconds"] == 15
    assert "✓ 1 of 1 rag-app replica(s) UP (discovered by DNS), none gone" in result.evidence


@responses.activate
def test_cardinality_guard_fails_a_family_with_too_many_series() -> None:
    """A rag_* family past the series limit fails, naming it and its series count."""
    per_user = "# TYPE rag_user_queries counter\n" + "".join(
        f'rag_user_queries_total{{user_id="u{i}"}} 1\n'
        for i in range(scrape.MAX_SERIES_PER_FAMILY + 1)
    )
    responses.get(f"{APP}/metrics", body=METRICS + per_user)
    result = scrape.run(context())
    assert result.status is Status.FAIL
    assert result.data["family"] == "rag_user_queries"
    assert result.data["series"] == scrape.MAX_SERIES_PER_FAMILY + 1


@responses.activate
def test_one_job_guard_fails_when_two_jobs_scrape_the_app() -> None:
    """The app's series arriving through two jobs fail the check, naming both."""
    responses.get(f"{APP}/metrics", body=METRICS)
    responses.get(f"{PROM}/api/v1/targets", json=targets())
    responses.get(f"{PROM}/api/v1/query", json=jobs("rag-app", "rag-app-canary"))
    result = scrape.run(context())
    assert result.status is Status.FAIL
    assert result.data["jobs"] == ["rag-app", "rag-app-canary"]


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        ({"health": "down"}, "is DOWN: connection refused"),
        ({"age": 45}, "last scraped 45s ago"),
        ({"interval": "1m"}, "scraped every 1m"),
    ],
)
@responses.activate
def test_fails_on_each_broken_link(broken: dict[str, Any], expected: str) -> None:
    """A DOWN target, a stale scrape or a slow interval each fail with a fix."""
    responses.get(f"{APP}/metrics", body=METRICS)
    responses.get(f"{PROM}/api/v1/targets", json=targets(**broken))
    responses.get(f"{PROM}/api/v1/query", json=down_or_gone())
    result = scrape.run(context())
    assert result.status is Status.FAIL
    assert expected in result.evidence[-1]
    assert result.fix


@responses.activate
def test_missing_families_are_named() -> None:
    """/metrics without the rag_* families fails and names what is missing."""
    responses.get(f"{APP}/metrics", body="# TYPE up gauge\nup 1\n")
    result = scrape.run(context())
    assert result.status is Status.FAIL
    assert "rag_errors" in result.evidence[-1]


def test_an_app_that_is_not_running_fails_with_how_to_start_it() -> None:
    """No app listening is a failure that says `docker compose up -d app`, never a pass."""
    settings = LabSettings(app_url="http://127.0.0.1:9", http_timeout_seconds=0.5)
    result = scrape.run(LabContext.from_settings(settings))
    assert result.status is Status.FAIL
    assert "docker compose up -d app" in (result.fix or "")


@responses.activate
def test_every_replica_must_be_up_and_the_down_ones_are_named() -> None:
    """Three replicas, one DOWN: the check fails with 1 of 3 and names that instance."""
    responses.get(f"{APP}/metrics", body=METRICS)
    replicas = [target(instance=f"172.18.0.{i}:8000") for i in (4, 5)]
    replicas.append(target(health="down", instance="172.18.0.6:8000"))
    responses.get(f"{PROM}/api/v1/targets", json=targets(*replicas))
    result = scrape.run(context())
    assert result.status is Status.FAIL
    assert "1 of 3 rag-app replica(s) not UP: 172.18.0.6:8000 is DOWN" in result.evidence[-1]
    assert result.data["replicas_down"] == ["172.18.0.6:8000"]


@responses.activate
def test_a_replica_gone_without_replacement_is_named() -> None:
    """A replica killed (gone from discovery) fails the check under its instance, as
    RagAppDown's condition reports it; the two still running are counted."""
    responses.get(f"{APP}/metrics", body=METRICS)
    replicas = [target(instance=f"172.18.0.{i}:8000") for i in (4, 5)]
    responses.get(f"{PROM}/api/v1/targets", json=targets(*replicas))
    responses.get(f"{PROM}/api/v1/query", json=down_or_gone("172.18.0.6:8000"))
    result = scrape.run(context())
    assert result.status is Status.FAIL
    assert "gone without a replacement: 172.18.0.6:8000" in result.evidence[-1]
    assert "2 UP" in result.evidence[-1]
    assert "--scale app=N" in (result.fix or "")
    query = responses.calls[-1].request.url or ""
    assert "max_over_time" in query


@responses.activate
def test_three_replicas_up_pass_with_each_named() -> None:
    """Three UP replicas pass: 3 of 3, and one evidence line per target."""
    responses.get(f"{APP}/metrics", body=METRICS)
    replicas = [target(instance=f"172.18.0.{i}:8000") for i in (4, 5, 6)]
    responses.get(f"{PROM}/api/v1/targets", json=targets(*replicas))
    responses.get(f"{PROM}/api/v1/query", json=down_or_gone())
    result = scrape.run(context())
    assert result.status is Status.PASS, result.evidence
    assert result.data["replicas_up"] == 3
    assert sum("UP, last scrape" in line for line in result.evidence) == 3


def learner_context(scrape_job: str | None = None) -> LabContext:
    from lab.kit.target import Target

    learner = Target(own_stack=False, app_url=APP, prometheus_url=PROM, scrape_job=scrape_job)
    return LabContext.from_settings(LabSettings(http_timeout_seconds=0.5), target=learner)


def learner_target(job: str) -> dict[str, object]:
    scraped = target()
    scraped["labels"] = {"job": job, "instance": "rag-app:8000"}
    return scraped


@responses.activate
def test_a_learners_job_is_the_one_exporting_rag_requests_total() -> None:
    """No job configured: the one job with rag_requests_total is the app's, and the replica
    and one-job checks are asked about it (no rag_build_info needed)."""
    responses.get(f"{APP}/metrics", body=METRICS)
    responses.get(f"{PROM}/api/v1/query", json=jobs("rag_pipeline"))
    responses.get(f"{PROM}/api/v1/targets", json=targets(learner_target("rag_pipeline")))
    responses.get(f"{PROM}/api/v1/query", json=down_or_gone())
    responses.get(f"{PROM}/api/v1/query", json=jobs("rag_pipeline"))
    result = scrape.run(learner_context())
    assert result.status is Status.PASS, result.evidence
    assert result.data["job"] == "rag_pipeline"
    queries = [
        c.request.url or "" for c in responses.calls if "/api/v1/query" in (c.request.url or "")
    ]
    assert all("rag_build_info" not in q for q in queries)
    assert "rag_pipeline" in queries[1]  # the replica-gone query is built from the job


@responses.activate
def test_a_configured_job_prometheus_lacks_names_the_learners_config_file() -> None:
    """The target's job missing from Prometheus: the fix names the learner's prometheus.yml
    as Prometheus loaded it, not the lab's."""
    responses.get(f"{APP}/metrics", body=METRICS)
    responses.get(f"{PROM}/api/v1/targets", json=targets(learner_target("rag_app")))
    responses.get(
        f"{PROM}/api/v1/status/flags",
        json={"status": "success", "data": {"config.file": "/etc/prometheus/prometheus.yml"}},
    )
    result = scrape.run(learner_context("rag_pipeline"))
    assert result.status is Status.FAIL
    assert "no active target with job='rag_pipeline'" in result.evidence[-1]
    assert "/etc/prometheus/prometheus.yml" in (result.fix or "")
    assert "to prometheus/prometheus.yml" not in (result.fix or "")
