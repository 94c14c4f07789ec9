"""The families of cases: what each proves about an alert, whatever its fixture's kind.

- boundary: quiet before the `for` duration, firing at it (with the exact labels and
  annotations), quiet just inside the threshold, and resolved once the value recovers.
  Change a threshold in the spec and the inputs move with it.
- absent: the alert's series missing altogether.
- replicas: an alert that aggregates over the app's replicas fed two (one carrying the
  job's share); a per-replica alert fed three (one stops answering, one disappears, one is
  replaced by a new one).
- state: a one-hot gauge (a circuit breaker's) whose unhealthy phase flaps between the
  unhealthy states; the alert must hold through it.
- always firing: the Watchdog.

A family reads a fixture only through `interface`; which families test a kind is the
kind's own choice (`fixtures`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lab.generate.promtool.interface import BoundaryFixture, Case, Fixture
from lab.generate.promtool.notation import (
    STEP_MINUTES,
    InputSeries,
    minutes,
    num,
    parse_labels,
    render_template,
)
from lab.spec.model import AbsentFixture, Alert, ReplicaFixture

# (eval minute, expected alerts) pairs of one test group.
Checks = list[tuple[int, list[Any]]]


def group(alert: Alert, series: list[InputSeries], checks: Checks) -> dict[str, Any]:
    return {
        "interval": f"{STEP_MINUTES}m",
        "input_series": series,
        "alert_rule_test": [
            {"eval_time": f"{t}m", "alertname": alert.name, "exp_alerts": exp} for t, exp in checks
        ],
    }


def expected(
    alert: Alert, runbook_base_url: str, labels: dict[str, str], value: float
) -> dict[str, Any]:
    """One firing alert as promtool must see it: labels and rendered annotations.

    Call it once per check: YAML would alias a shared object."""
    annotations = {
        key: render_template(text, labels, value)
        for key, text in alert.annotations(runbook_base_url).items()
    }
    return {"exp_labels": {**labels, **alert.rule_labels()}, "exp_annotations": annotations}


def _describe(alert: Alert, value: float) -> str:
    t = alert.threshold
    return t.unit.human(value) if t is not None else num(value)


def boundary_cases(alert: Alert, fixture: BoundaryFixture, runbook_base_url: str) -> list[Case]:
    """Pending, firing at `for`, quiet at or just inside the threshold, resolved."""
    name = alert.name
    probes = fixture.probes(alert)
    labels = fixture.labels()

    def fires(value: float) -> list[Any]:
        return [expected(alert, runbook_base_url, labels, value)]

    hold = minutes(alert.for_)
    fires_at = probes.warmup + hold
    horizon = fires_at + probes.settle + 5
    firing, quiet = probes.firing, probes.quiet
    firing_text = _describe(alert, firing.result)
    quiet_text = _describe(alert, quiet.result)
    t = alert.threshold
    bound = f"{t.op.words} {t.unit.human(t.value)}" if t else "in the firing state"

    out: list[Case] = []
    if hold > 0:
        out.append(
            (
                f"{name} stays pending while the value ({firing_text}) has been {bound}"
                f" for less than {alert.for_}",
                group(alert, fixture.series([(firing.value, horizon)]), [(fires_at - 1, [])]),
            )
        )
    out.append(
        (
            f"{name} fires once the value ({firing_text}) has been {bound} for {alert.for_}",
            group(
                alert,
                fixture.series([(firing.value, horizon)]),
                [(fires_at, fires(firing.result))],
            ),
        )
    )
    quiet_why = (
        f"exactly at the threshold ({quiet_text})"
        if t is not None and quiet.result == t.value
        else f"just inside the threshold ({quiet_text})"
        if t is not None
        else f"while healthy ({quiet_text})"
    )
    out.append(
        (
            f"{name} never fires {quiet_why}",
            group(alert, fixture.series([(quiet.value, horizon)]), [(horizon - 1, [])]),
        )
    )
    bad_steps = fires_at + 1
    recovered_at = bad_steps + probes.settle + 1
    out.append(
        (
            f"{name} resolves once the value is back to healthy"
            f" ({_describe(alert, probes.healthy) if t else num(probes.healthy)})",
            group(
                alert,
                fixture.series([(firing.value, bad_steps), (probes.healthy, recovered_at + 5)]),
                [(fires_at, fires(firing.result)), (recovered_at, [])],
            ),
        )
    )
    return out


def absent_cases(alert: Alert, absent: AbsentFixture, runbook_base_url: str) -> list[Case]:
    """Only an unrelated series: the alert fires after `for`, with absent()'s labels."""
    hold = minutes(alert.for_)
    labels = parse_labels(absent.result_labels)
    checks: Checks = (
        [(hold - 1, []), (hold, [expected(alert, runbook_base_url, labels, 1)])] if hold else []
    )
    series = [{"series": absent.other_series, "values": f"1x{hold + 5}"}]
    return [
        (
            f"{alert.name} fires when the series is absent for {alert.for_}",
            group(alert, series, checks),
        )
    ]


def two_replica_cases(
    alert: Alert, fixture: BoundaryFixture, other: Fixture, runbook_base_url: str
) -> list[Case]:
    """Two replicas with equal traffic, all the errors on one (`fixture`) and none on the
    `other`: the job's ratio is half of that replica's, so the alert fires once for the job
    when that half is past the threshold, and stays quiet when only the one replica is."""
    probes = fixture.probes(alert)
    labels = fixture.labels()
    hold = minutes(alert.for_)
    fires_at = probes.warmup + hold
    horizon = fires_at + probes.settle + 5

    def replicas(value: float, checks: Checks) -> dict[str, Any]:
        series = fixture.series([(2 * value, horizon)]) + other.series([(0.0, horizon)])
        return group(alert, series, checks)

    firing, quiet = probes.firing, probes.quiet
    return [
        (
            f"{alert.name} fires once, for the job, when one of two replicas fails"
            f" {_describe(alert, 2 * firing.result)} of its requests and the job"
            f" {_describe(alert, firing.result)}",
            replicas(
                firing.value,
                [(fires_at, [expected(alert, runbook_base_url, labels, firing.result)])],
            ),
        ),
        (
            f"{alert.name} never fires when one of two replicas fails"
            f" {_describe(alert, 2 * quiet.result)} of its requests but the job only"
            f" {_describe(alert, quiet.result)}",
            replicas(quiet.value, [(horizon - 1, [])]),
        ),
    ]


def replica_cases(alert: Alert, fixture: ReplicaFixture, runbook_base_url: str) -> list[Case]:
    """Three replicas; from minute 2 one of them (the last) misbehaves: stops answering,
    disappears from service discovery (its series ends in a staleness marker), or is
    replaced by a fourth at a new address."""
    hold = minutes(alert.for_)
    healthy, *_, last = fixture.instances[:3]
    new = fixture.instances[3]
    horizon = 2 + hold + 5
    steady = f"1x{horizon}"
    keep = [
        {"series": fixture.up(instance), "values": steady} for instance in fixture.instances[:2]
    ]
    named = {**parse_labels(fixture.job_labels), "instance": last}

    def replicas(series: list[InputSeries], checks: Checks) -> dict[str, Any]:
        return group(alert, keep + series, checks)

    # Minutes 0 and 1 up, a staleness marker at 2 (what Prometheus writes when service
    # discovery drops a target); the replacement (`_x2`: absent at 0 and 1) starts at 2.
    gone = "1x1 stale"
    return [
        (
            f"{alert.name} fires for the one replica of three that stops answering, by instance",
            replicas(
                [{"series": fixture.up(last), "values": f"1x1 0x{horizon - 1}"}],
                [(1 + hold, []), (2 + hold, [expected(alert, runbook_base_url, named, 0)])],
            ),
        ),
        (
            f"{alert.name} fires for a replica gone without a replacement (killed, stopped,"
            " scaled away), by instance",
            replicas(
                [{"series": fixture.up(last), "values": gone}],
                [(1 + hold, []), (2 + hold, [expected(alert, runbook_base_url, named, 1)])],
            ),
        ),
        (
            f"{alert.name} never fires for a replica replaced by a new one at a new address"
            f" (a recreate; {healthy} and the others keep running)",
            replicas(
                [
                    {"series": fixture.up(last), "values": gone},
                    {"series": fixture.up(new), "values": f"_x2 1x{horizon - 3}"},
                ],
                [(t, []) for t in range(2, horizon)],
            ),
        ),
    ]


# The levels a state family asks of its fixture: the state gauge out of its healthy state
# (stepping through the flapping cycle), and in it.
UNHEALTHY, HEALTHY = 1.0, 0.0


def state_cases(
    alert: Alert,
    fixture: Fixture,
    runbook_base_url: str,
    *,
    healthy: str,
    flapping: Sequence[str],
) -> list[Case]:
    """Pending, firing through the flapping, quiet for a blip shorter than `for`, resolved.

    `fixture.series` reads UNHEALTHY as the `flapping` cycle, one state per step."""
    name = alert.name
    labels = fixture.labels()
    hold = minutes(alert.for_)
    horizon = hold + 2 * len(flapping) + 5

    def firing() -> list[Any]:
        return [expected(alert, runbook_base_url, labels, 1)]

    def flaps(checks: Checks) -> dict[str, Any]:
        return group(alert, fixture.series([(UNHEALTHY, horizon)]), checks)

    def then_healthy(bad: int, checks: Checks) -> dict[str, Any]:
        return group(alert, fixture.series([(UNHEALTHY, bad), (HEALTHY, horizon - bad)]), checks)

    flips = " -> ".join([*flapping, flapping[0]])
    out: list[Case] = []
    if hold > 0:
        out.append(
            (
                f"{name} stays pending while the state ({flips}) has not been {healthy}"
                f" for {alert.for_} yet",
                flaps([(hold - 1, [])]),
            )
        )
    out.append(
        (
            f"{name} fires once the state has not been {healthy} for {alert.for_}, and holds"
            f" through every step of {flips}",
            flaps([(t, firing()) for t in range(hold, hold + 2 * len(flapping))]),
        )
    )
    out.append(
        (
            f"{name} never fires when the state leaves {healthy} for less than {alert.for_}",
            then_healthy(hold, [(t, []) for t in range(hold, hold + 2)]),
        )
    )
    out.append(
        (
            f"{name} resolves once the state is back to {healthy}",
            then_healthy(hold + 1, [(hold, firing()), (hold + 1, [])]),
        )
    )
    return out


def always_firing_cases(alert: Alert, fixture: Fixture, runbook_base_url: str) -> list[Case]:
    """Firing at the first evaluation and two hours later."""
    labels = fixture.labels()
    checks: Checks = [
        (0, [expected(alert, runbook_base_url, labels, 1)]),
        (120, [expected(alert, runbook_base_url, labels, 1)]),
    ]
    return [
        (
            f"{alert.name} fires from the first evaluation and never stops",
            group(alert, fixture.series([(1, 121)]), checks),
        )
    ]
