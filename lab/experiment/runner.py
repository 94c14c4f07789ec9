"""Run an experiment: the same traffic twice, resilience off then on, faults as profiled.

The runner talks to a `Target` (query, and the admin API a fault session drives), which
`AppClient` is for the live lab, and keeps time with a `Clock`, so the same code runs
the app in-process on a virtual clock in seconds (the statistical test, the trade-off
bench). It changes faults and resilience through a `lab.kit.fault_session.FaultSession`:
whatever happens, the resilience configuration and faults found at the start are put
back.

Each request is counted client-side exactly: its status, the level that answered, its
latency on the runner's clock, its cost from the response. A `ServerSide` adds the
app's own counters over each arm (Prometheus on the live lab, /metrics in-process):
retries, answers per level and everybody's traffic, not only the experiment's.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from lab.baseline.model import Baseline
from lab.experiment.profiles import FaultEvent, Profile, Scale
from lab.experiment.traffic import Arrival, popular_questions, schedule
from lab.kit.clients.app import QueryReply
from lab.kit.clients.base import ServiceUnreachable
from lab.kit.fault_session import FaultAdmin, FaultSession

#: The arms, in the order they run: the course's "before", then "after".
ARMS: tuple[tuple[str, bool], ...] = (("off", False), ("on", True))


class Clock(Protocol):
    """Monotonic seconds and a way to wait (the wall clock, or a virtual one)."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class Target(FaultAdmin, Protocol):
    """The app as the experiment drives it; `lab.kit.clients.app.AppClient` is one."""

    def query(self, question: str, *, correlation_id: str) -> QueryReply: ...


class ServerSide(Protocol):
    """The app's own counters over an arm: `begin_arm` returns the call that ends it."""

    description: str

    def begin_arm(self, arm: str) -> Callable[[], Baseline | None]: ...


@dataclass(frozen=True)
class Outcome:
    """One request as the client saw it. `status` 0: no HTTP answer (timeout, refused)."""

    offset: float
    status: int
    answer_level: str | None
    error: str | None
    latency_seconds: float
    cost_usd: float
    repeated: bool

    @property
    def is_error(self) -> bool:
        """The course's definition: a 5xx, or no answer at all (a degraded answer counts)."""
        return self.status == 0 or self.status >= 500


@dataclass(frozen=True)
class ArmRun:
    """One arm: the configuration it ran with and every request's outcome."""

    name: str
    resilience: dict[str, Any]
    faults: dict[str, Any]
    started_at: str
    seconds: float
    outcomes: list[Outcome]
    server: Baseline | None = None


@dataclass(frozen=True)
class ExperimentRun:
    """Both arms and what made them comparable: profile, scale, seed, run id."""

    profile: Profile
    scale: Scale
    seed: int
    run_id: str
    arms: list[ArmRun]
    server_source: str | None
    events: list[dict[str, Any]] = field(default_factory=list)


def run_experiment(
    target: Target,
    profile: Profile,
    scale: Scale,
    *,
    clock: Clock,
    seed: int = 2024,
    run_id: str | None = None,
    server: ServerSide | None = None,
    concurrency: int = 1,
    progress: Callable[[str], None] = lambda line: None,
) -> ExperimentRun:
    """Run both arms; the starting resilience config and faults are restored on any exit.

    `concurrency` 1 sends sequentially (deterministic on a virtual clock); more sends
    from a thread pool so a slow answer does not delay the next arrival (the live lab).
    """
    run_id = run_id or uuid.uuid4().hex[:8]
    arms: list[ArmRun] = []
    with FaultSession(
        target,
        on_restored=lambda: progress(
            "restored the resilience configuration and faults found at the start"
        ),
    ) as session:
        _prepare(session, profile, enabled=False)
        for question in popular_questions():
            _send(target, clock, Arrival(0.0, question, True), f"exp-{run_id}-warmup")
        for name, enabled in ARMS:
            progress(f"arm '{name}': resilience {'on' if enabled else 'off'}, {profile.name}")
            arms.append(
                _run_arm(
                    target,
                    session,
                    profile,
                    scale,
                    name=name,
                    enabled=enabled,
                    clock=clock,
                    seed=seed,
                    run_id=run_id,
                    server=server,
                    concurrency=concurrency,
                    progress=progress,
                )
            )
    return ExperimentRun(
        profile=profile,
        scale=scale,
        seed=seed,
        run_id=run_id,
        arms=arms,
        server_source=server.description if server else None,
        events=[
            {
                "what": e.what,
                "at_seconds": e.at_fraction * scale.seconds,
                "lasts_seconds": e.lasts_seconds,
                "faults": dict(e.faults),
            }
            for e in profile.events
        ],
    )


def _prepare(session: FaultSession, profile: Profile, *, enabled: bool) -> dict[str, Any]:
    session.clear_faults()
    if profile.faults:
        session.set_faults(**profile.faults)
    return session.set_resilience(enabled=enabled)


def _run_arm(
    target: Target,
    session: FaultSession,
    profile: Profile,
    scale: Scale,
    *,
    name: str,
    enabled: bool,
    clock: Clock,
    seed: int,
    run_id: str,
    server: ServerSide | None,
    concurrency: int,
    progress: Callable[[str], None],
) -> ArmRun:
    resilience = _prepare(session, profile, enabled=enabled)
    faults = session.faults()
    finish = server.begin_arm(name) if server else None
    started_at = datetime.now(UTC).isoformat()
    start = clock.now()
    pending = sorted(profile.events, key=lambda e: e.at_fraction)
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    slots = threading.BoundedSemaphore(concurrency)

    def send(arrival: Arrival, index: int) -> None:
        try:
            outcome = _send(target, clock, arrival, f"exp-{run_id}-{name}-{index}")
        finally:
            slots.release()
        with lock:
            outcomes.append(outcome)

    arrivals = schedule(
        seed=seed,
        requests=scale.requests_per_arm,
        rate_per_second=scale.rate_per_second,
        tag=f"experiment {run_id} arm {name}",
    )
    with ThreadPoolExecutor(max(1, concurrency), thread_name_prefix="experiment") as pool:
        for index, arrival in enumerate(arrivals):
            delay = start + arrival.offset - clock.now()
            if delay > 0:
                clock.sleep(delay)
            pending = _fire_due(session, pending, arrival.offset / scale.seconds, progress)
            slots.acquire()
            if concurrency == 1:
                send(arrival, index)
            else:
                pool.submit(send, arrival, index)
            if (index + 1) % max(1, scale.requests_per_arm // 4) == 0:
                progress(f"  {index + 1}/{scale.requests_per_arm} requests sent")
    seconds = clock.now() - start
    session.clear_faults()
    server_figures = finish() if finish else None
    outcomes.sort(key=lambda o: o.offset)
    return ArmRun(name, resilience, faults, started_at, seconds, outcomes, server_figures)


def _fire_due(
    session: FaultSession,
    pending: list[FaultEvent],
    fraction: float,
    progress: Callable[[str], None],
) -> list[FaultEvent]:
    while pending and pending[0].at_fraction <= fraction:
        event = pending.pop(0)
        session.set_faults(**event.faults)
        progress(f"  {event.what} for {event.lasts_seconds:g} s")
    return pending


def _send(target: Target, clock: Clock, arrival: Arrival, correlation_id: str) -> Outcome:
    start = clock.now()
    try:
        reply = target.query(arrival.question, correlation_id=correlation_id)
    except ServiceUnreachable as exc:
        return Outcome(
            arrival.offset, 0, None, type(exc).__name__, clock.now() - start, 0.0, arrival.repeated
        )
    latency = clock.now() - start
    body = reply.body
    if reply.status_code == 200:
        return Outcome(
            arrival.offset,
            200,
            str(body.get("answer_level") or ("cache" if body.get("cached") else "primary")),
            None,
            latency,
            float(body.get("cost_usd") or 0.0),
            arrival.repeated,
        )
    return Outcome(
        arrival.offset,
        reply.status_code,
        None,
        str(body.get("error", "unknown")),
        latency,
        0.0,
        arrival.repeated,
    )
