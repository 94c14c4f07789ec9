"""One class per kind of fixture: how the alert's query is made to take a value, and which
families of cases (`cases`) test it. `KINDS` maps each of the spec's fixture types to its
class; nothing else in the generator knows the kinds.

Why the behaviour lives here and not on the spec's dataclasses: the spec (`lab.spec.model`)
says what an alert's query is made of (a gauge, a ratio of two counters, a histogram's
buckets), and every command reads it; turning that into promtool's input notation, traffic
per step and the probes around a threshold is this generator's business, which nothing else
needs. A new shape of alert therefore adds its data to the spec (a dataclass and its name
in `Fixture`: the spec must be able to say it) and its behaviour here (a class and a row in
`KINDS`), and touches no other part of the generator; a unit test fails while a spec
fixture type has no class, or two.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from lab.generate.promtool.cases import (
    always_firing_cases,
    boundary_cases,
    state_cases,
    two_replica_cases,
)
from lab.generate.promtool.interface import Case, Fixture, Probe, Probes
from lab.generate.promtool.notation import (
    REQUESTS_PER_STEP,
    InputSeries,
    Phases,
    counter_values,
    gauge_values,
    minutes,
    num,
    parse_labels,
    series_labels,
    with_instance,
)
from lab.spec.model import (
    Alert,
    AlwaysFiring,
    Comparison,
    GaugeFixture,
    HistogramFixture,
    RatioFixture,
    ShareFixture,
    StateFixture,
    Threshold,
    Unit,
)


def _tidy(value: float, unit: Unit, *, up: bool) -> float:
    """`value` rounded (away from the threshold) to a precision the unit prints exactly."""
    scale = {Unit.PERCENT: 100, Unit.RATIO: 10_000, Unit.COUNT: 1, Unit.SECONDS: 1000}[unit]
    scaled = round(value * scale, 6)
    return (math.ceil(scaled) if up else math.floor(scaled)) / scale


def _above(alert: Alert, kind: str) -> Threshold:
    threshold = alert.threshold
    if threshold is None or threshold.op is not Comparison.ABOVE:
        raise ValueError(f"{alert.name}: {kind} fixtures need an `above` threshold")
    return threshold


def _rate_probes(alert: Alert, kind: str, healthy: float, window: str) -> Probes:
    """Ratios of rates are not exact at the bound in floating point: step 5 % off it, to
    values the annotation prints without a rounding tie."""
    threshold = _above(alert, kind)
    firing = _tidy(threshold.value * 1.05, threshold.unit, up=True)
    quiet = _tidy(threshold.value * 0.95, threshold.unit, up=False)
    return Probes(
        firing=Probe(firing, firing),
        quiet=Probe(quiet, quiet),
        healthy=healthy,
        warmup=1,
        settle=minutes(window),
    )


@dataclass(frozen=True)
class Gauge:
    """The value is written directly into the series the query reads."""

    spec: GaugeFixture

    def series(self, phases: Phases) -> list[InputSeries]:
        return [{"series": self.spec.series, "values": gauge_values(phases)}]

    def labels(self) -> dict[str, str]:
        return series_labels(self.spec.series)

    def probes(self, alert: Alert) -> Probes:
        threshold = alert.threshold
        if self.spec.firing is not None:
            firing = self.spec.firing
        elif threshold is None:
            raise ValueError(f"{alert.name}: a gauge fixture without threshold needs `firing`")
        elif threshold.op is Comparison.ABOVE:
            firing = threshold.value * 1.5 or 1.0
        else:
            firing = threshold.value / 2
        if threshold is not None and threshold.breached_by(self.spec.healthy):
            raise ValueError(f"{alert.name}: the fixture's healthy value breaches the threshold")
        # Strict comparisons do not fire at the threshold itself: the exact boundary.
        quiet = threshold.value if threshold is not None else self.spec.healthy
        return Probes(
            firing=Probe(firing, firing),
            quiet=Probe(quiet, quiet),
            healthy=self.spec.healthy,
            warmup=0,
            settle=0,
        )

    def cases(self, alert: Alert, runbook_base_url: str) -> list[Case]:
        return boundary_cases(alert, self, runbook_base_url)


@dataclass(frozen=True)
class Ratio:
    """Errors and requests as two counters: the numerator grows by v / scale of the
    requests per step."""

    spec: RatioFixture

    def series(self, phases: Phases) -> list[InputSeries]:
        requests = [(REQUESTS_PER_STEP, n) for _v, n in phases]
        errors = [(REQUESTS_PER_STEP * v / self.spec.scale, n) for v, n in phases]
        return [
            {"series": self.spec.numerator, "values": counter_values(errors)},
            {"series": self.spec.denominator, "values": counter_values(requests)},
        ]

    def labels(self) -> dict[str, str]:
        if self.spec.result_labels is not None:
            return parse_labels(self.spec.result_labels)
        return series_labels(self.spec.numerator)

    def probes(self, alert: Alert) -> Probes:
        return _rate_probes(alert, "ratio", self.spec.healthy, self.spec.window)

    def replica(self, instance: str) -> Ratio:
        """The same counters of another replica."""
        return Ratio(
            replace(
                self.spec,
                numerator=with_instance(self.spec.numerator, instance),
                denominator=with_instance(self.spec.denominator, instance),
            )
        )

    def cases(self, alert: Alert, runbook_base_url: str) -> list[Case]:
        out = boundary_cases(alert, self, runbook_base_url)
        if self.spec.other_instance is not None:
            other = self.replica(self.spec.other_instance)
            out += two_replica_cases(alert, self, other, runbook_base_url)
        return out


@dataclass(frozen=True)
class Share:
    """A part inside its whole: each step's traffic split v to the part, 1 - v to the rest."""

    spec: ShareFixture

    def series(self, phases: Phases) -> list[InputSeries]:
        part = [(REQUESTS_PER_STEP * v, n) for v, n in phases]
        rest = [(REQUESTS_PER_STEP * (1 - v), n) for v, n in phases]
        return [
            {"series": self.spec.part, "values": counter_values(part)},
            {"series": self.spec.rest, "values": counter_values(rest)},
        ]

    def labels(self) -> dict[str, str]:
        return parse_labels(self.spec.result_labels)

    def probes(self, alert: Alert) -> Probes:
        return _rate_probes(alert, "ratio", self.spec.healthy, self.spec.window)

    def cases(self, alert: Alert, runbook_base_url: str) -> list[Case]:
        return boundary_cases(alert, self, runbook_base_url)


@dataclass(frozen=True)
class Histogram:
    """Every observation of a step in the one bucket that holds the value, so the quantile
    is that bucket's lower bound plus q of its width, as Prometheus interpolates."""

    spec: HistogramFixture

    def _bucket(self, value: float) -> tuple[float, float]:
        """The (lower, upper] bucket that contains `value`."""
        lower = 0.0
        for upper in self.spec.buckets:
            if value <= upper:
                return lower, upper
            lower = upper
        raise ValueError(f"{value} is beyond the last bucket")

    def _result(self, value: float) -> float:
        lower, upper = self._bucket(value)
        return lower + self.spec.quantile * (upper - lower)

    def series(self, phases: Phases) -> list[InputSeries]:
        spec = self.spec
        out = []
        bounds = [*(num(b) if b != int(b) else f"{b:.1f}" for b in spec.buckets), "+Inf"]
        for bound_text, bound in zip(bounds, [*spec.buckets, float("inf")], strict=True):
            incs = [
                (REQUESTS_PER_STEP if self._bucket(v)[1] <= bound else 0.0, n) for v, n in phases
            ]
            out.append(
                {
                    "series": f'{spec.metric}_bucket{{{spec.labels}, le="{bound_text}"}}',
                    "values": counter_values(incs),
                }
            )
        return out

    def labels(self) -> dict[str, str]:
        return parse_labels(self.spec.result_labels or self.spec.labels)

    def probes(self, alert: Alert) -> Probes:
        threshold = _above(alert, "histogram")
        buckets = self.spec.buckets
        # Just inside: the bucket that ends at or below the threshold; just past: the first
        # bucket whose interpolated quantile lies above it.
        below = [b for b in buckets if b <= threshold.value]
        if not below:
            raise ValueError(f"{alert.name}: no bucket ends below the threshold")
        quiet = below[-1]
        above = [b for b in buckets if b > threshold.value and self._result(b) > threshold.value]
        if not above:
            raise ValueError(f"{alert.name}: no bucket lies above the threshold")
        firing = above[0]
        if threshold.breached_by(self._result(self.spec.healthy_bucket)):
            raise ValueError(f"{alert.name}: the fixture's healthy bucket breaches the threshold")
        return Probes(
            firing=Probe(firing, self._result(firing)),
            quiet=Probe(quiet, self._result(quiet)),
            healthy=self.spec.healthy_bucket,
            warmup=1,
            settle=minutes(self.spec.window),
        )

    def cases(self, alert: Alert, runbook_base_url: str) -> list[Case]:
        return boundary_cases(alert, self, runbook_base_url)


@dataclass(frozen=True)
class State:
    """A one-hot state gauge: one series per state, the current one at 1. Unhealthy steps
    walk the flapping cycle by the clock (step i is cycle[i % len])."""

    spec: StateFixture

    def series(self, phases: Phases) -> list[InputSeries]:
        spec = self.spec
        steps: list[str] = []
        for level, n in phases:
            for _ in range(n):
                unhealthy = spec.flapping[len(steps) % len(spec.flapping)]
                steps.append(unhealthy if level else spec.healthy)
        return [
            {
                "series": spec.selector(state),
                "values": " ".join("1" if now == state else "0" for now in steps),
            }
            for state in spec.states
        ]

    def labels(self) -> dict[str, str]:
        return series_labels(self.spec.series)

    def cases(self, alert: Alert, runbook_base_url: str) -> list[Case]:
        return state_cases(
            alert,
            self,
            runbook_base_url,
            healthy=self.spec.healthy,
            flapping=self.spec.flapping,
        )


@dataclass(frozen=True)
class Always:
    """No condition to meet: any series gives the test its input."""

    spec: AlwaysFiring

    def series(self, phases: Phases) -> list[InputSeries]:
        return [{"series": 'up{job="prometheus"}', "values": gauge_values(phases)}]

    def labels(self) -> dict[str, str]:
        return {}

    def cases(self, alert: Alert, runbook_base_url: str) -> list[Case]:
        return always_firing_cases(alert, self, runbook_base_url)


# The spec's fixture types (`lab.spec.model.Fixture`), each with its one class.
KINDS: dict[type[object], Callable[[Any], Fixture]] = {
    GaugeFixture: Gauge,
    RatioFixture: Ratio,
    ShareFixture: Share,
    HistogramFixture: Histogram,
    StateFixture: State,
    AlwaysFiring: Always,
}


def fixture_for(alert: Alert) -> Fixture:
    kind = KINDS.get(type(alert.fixture))
    if kind is None:
        raise ValueError(
            f"{alert.name}: no fixture kind for {type(alert.fixture).__name__};"
            " add its class to KINDS in lab/generate/promtool/fixtures.py"
        )
    return kind(alert.fixture)
