"""Run an experiment: the same traffic twice, resilience off then on, faults as profiled.

The runner talks to a `Target` (query; get, set and clear faults; get, set and reset
resilience), which `AppClient` is for the live lab, and keeps time with a `Clock`, so
the same code runs the app in-process on a virtual clock in seconds (the statistical
test, the trade-off bench). Whatever happens, the resilience configuration and faults
found at the start are put back.

Each request is counted client-side exactly: its status, the level that answered, its
latency on the runner's clock, its cost from the response. A `ServerSide` adds the
app's own counters over each arm (Prometheus on the live lab, /metrics in-process):
retries, answers per level and everybody's traffic, not only the experiment's.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from lab.baseline.model import Baseline
from lab.experiment.profiles import FaultEvent, Profile, Scale
from lab.experiment.traffic import Arrival, popular_questions, schedule
from lab.kit.clients.app import QueryReply
from lab.kit.clients.base import ServiceUnreachable

#: The arms, in the order they run: the course's "before", then "after".
ARMS: tuple[tuple[str, bool], ...] = (("off", False), ("on", True))
#: Fault fields the app reports but does not accept back (countdowns of timed faults).
_COUNTDOWN_SUFFIX = "_remaining_seconds"


class Clock(Protocol):
    """Monotonic seconds and a way to wait (the wall clock, or a virtual one)."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class Target(Protocol):
    """The app as the experiment drives it; `lab.kit.clients.app.AppClient` is one."""

    def query(self, question: str, *, correlation_id: str) -> QueryReply: ...

    def faults(self) -> dict[str, Any]: ...

    def set_faults(self, **faults: Any) -> dict[str, Any]: ...

    def clear_faults(self) -> dict[str, Any]: ...

    def resilience(self) -> dict[str, Any]: ...

    def set_resilience(self, **fields: Any) -> dict[str, Any]: ...


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
    saved_resilience = target.resilience()
    saved_faults = target.faults()
    arms: list[ArmRun] = []
    try:
        _prepare(target, profile, enabled=False)
        for question in popular_questions():
            _send(target, clock, Arrival(0.0, question, True), f"exp-{run_id}-warmup")
        for name, enabled in ARMS:
            progress(f"arm '{name}': resilience {'on' if enabled else 'off'}, {profile.name}")
            arms.append(
                _run_arm(
                    target,
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
    finally:
        _restore(target, saved_resilience, saved_faults)
        progress("restored the resilience configuration and faults found at the start")
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


def _prepare(target: Target, profile: Profile, *, enabled: bool) -> dict[str, Any]:
    target.clear_faults()
    if profile.faults:
        target.set_faults(**profile.faults)
    return target.set_resilience(enabled=enabled)


def _run_arm(
    target: Target,
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
    resilience = _prepare(target, profile, enabled=enabled)
    faults = target.faults()
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
            pending = _fire_due(target, pending, arrival.offset / scale.seconds, progress)
            slots.acquire()
            if concurrency == 1:
                send(arrival, index)
            else:
                pool.submit(send, arrival, index)
            if (index + 1) % max(1, scale.requests_per_arm // 4) == 0:
                progress(f"  {index + 1}/{scale.requests_per_arm} requests sent")
    seconds = clock.now() - start
    target.clear_faults()
    server_figures = finish() if finish else None
    outcomes.sort(key=lambda o: o.offset)
    return ArmRun(name, resilience, faults, started_at, seconds, outcomes, server_figures)


def _fire_due(
    target: Target,
    pending: list[FaultEvent],
    fraction: float,
    progress: Callable[[str], None],
) -> list[FaultEvent]:
    while pending and pending[0].at_fraction <= fraction:
        event = pending.pop(0)
        target.set_faults(**event.faults)
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


def restorable_faults(faults: Mapping[str, Any]) -> dict[str, Any]:
    """What `PUT /admin/faults` needs to bring back the faults `GET` showed.

    The countdowns are not fields a PUT takes: an outage or a latency spike that was
    running resumes for the time it had left.
    """
    timed = {"latency_spike_seconds", *(k for k in faults if k.endswith(_COUNTDOWN_SUFFIX))}
    body = {k: v for k, v in faults.items() if k not in timed}
    outage_left = float(faults.get("llm_outage_remaining_seconds") or 0.0)
    spike_left = float(faults.get("latency_spike_remaining_seconds") or 0.0)
    if outage_left > 0:
        body["llm_outage_seconds"] = outage_left
    if spike_left > 0:
        body["latency_spike_seconds"] = faults.get("latency_spike_seconds", 0.0)
        body["latency_spike_duration_seconds"] = spike_left
    return body


def _restore(target: Target, resilience: Mapping[str, Any], faults: Mapping[str, Any]) -> None:
    # Each step is attempted even when an earlier one fails; the first failure is raised.
    failures: list[Exception] = []
    steps: tuple[Callable[[], object], ...] = (
        lambda: target.set_resilience(**resilience),
        target.clear_faults,
        lambda: target.set_faults(**restorable_faults(faults)),
    )
    for step in steps:
        try:
            step()
        except Exception as exc:
            failures.append(exc)
    if failures:
        raise failures[0]
