"""Commands that change the app through its admin API refuse several replicas."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lab.kit.clients import ServiceUnreachable
from lab.kit.replicas import replica_count, several_replicas_refusal


@dataclass
class Sample:
    value: float


@dataclass
class Prometheus:
    """Answers `count(up{job=...})` with `count` (no series when it is None)."""

    count: int | None
    asked: str = ""

    def query(self, expr: str) -> list[Any]:
        self.asked = expr
        return [] if self.count is None else [Sample(float(self.count))]


def test_the_count_is_the_jobs_targets_and_none_is_zero() -> None:
    """count(up{job=...}) is the number of replicas; no series means none."""
    prometheus = Prometheus(3)
    assert replica_count(prometheus, "rag-app") == 3
    assert prometheus.asked == 'count(up{job="rag-app"})'
    assert replica_count(Prometheus(None), "rag-app") == 0


def test_several_replicas_are_refused_with_the_reason_and_the_way_back() -> None:
    """Three replicas refuse `lab drill`, naming the count, why and the command to scale
    back; one (or none, which the command itself then reports) is fine."""
    refusal = several_replicas_refusal(Prometheus(3), "rag-app", "lab drill")
    assert refusal is not None
    assert refusal.startswith("lab drill needs exactly one app replica")
    assert "scrapes 3" in refusal
    assert "reaches one replica only" in refusal
    assert "`docker compose up -d`" in refusal
    assert several_replicas_refusal(Prometheus(1), "rag-app", "lab drill") is None
    assert several_replicas_refusal(Prometheus(None), "rag-app", "lab drill") is None


class Unreachable:
    def query(self, expr: str) -> list[Any]:
        raise ServiceUnreachable("Prometheus is not reachable", compose_service="prometheus")


def test_an_unreachable_prometheus_leaves_the_command_to_report_it() -> None:
    """No answer about the replicas is no refusal: the command fails on its own terms."""
    assert several_replicas_refusal(Unreachable(), "rag-app", "lab drill") is None
