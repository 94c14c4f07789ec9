"""How many replicas of the app Prometheus scrapes, for the commands that need exactly one.

`lab drill` and `lab experiment` change the app through its admin API (faults, resilience
switches). That state lives in each replica's process, and through the gateway a call
reaches one replica: with three, a drill's fault would hit a third of the traffic and its
alert might never fire. Such a command refuses, saying why and how to go back to one.
"""

from __future__ import annotations

from typing import Any, Protocol

from lab.kit.clients import ServiceUnreachable


class Queries(Protocol):
    def query(self, expr: str) -> list[Any]: ...


def replica_count(prometheus: Queries, job: str) -> int:
    """The number of the job's scrape targets (its replicas), UP or not; 0 for none."""
    samples = prometheus.query(f'count(up{{job="{job}"}})')
    return int(samples[0].value) if samples else 0


def several_replicas_refusal(prometheus: Queries, job: str, command: str) -> str | None:
    """Why `command` cannot run on the lab as it is, or None when one replica (or none) runs,
    or when Prometheus cannot tell (unreachable: the command then reports what it misses)."""
    try:
        count = replica_count(prometheus, job)
    except ServiceUnreachable:
        return None
    if count <= 1:
        return None
    return (
        f"{command} needs exactly one app replica, and Prometheus scrapes {count}: it sets "
        "faults and resilience switches through the admin API, which reaches one replica "
        "only (each keeps its own); scale back first: `docker compose up -d` (one replica)"
    )
